//! The system checks (`auth::checks`), one test per mistake that used to
//! compile and then fail silently: the mistake made here, in this test
//! binary, and the check id or message asserted. (The binary holds other
//! modules' guards too, so each test looks for its own handler.)

use auth::checks::{Report, Scope, run_checks};
use auth_tests::{User, client::Client, fresh_auth_with};
use axum::{Router, routing::get};
use http::StatusCode;

auth::permissions! {
    pub mod wiki_perms;
    wiki: edit_page = "Can edit pages";
}

auth::permissions! {
    pub mod forgotten_perms;
    forgotten: archive_page = "Can archive pages";
}

auth::auth_urls! {
    pub mod wiki_urls;
    login: "/accounts/login/" => LoginView,
    logout: "/accounts/logout/" => LogoutView,
}

/// The mistake: the right shape, a name never declared.
#[auth::permission_required("wiki.edit_pages")]
async fn misspelt() {}

/// Declared and given to the builder: no finding.
#[auth::permission_required(wiki_perms::wiki::EDIT_PAGE)]
async fn declared() {}

/// Declared, but the block is not given to the builder.
#[auth::permission_required(forgotten_perms::forgotten::ARCHIVE_PAGE)]
async fn forgotten() {}

/// The mistake: a login URL no declared route serves.
#[auth::login_required(login_url = "/accounts/signin/")]
async fn signin_typo() {}

/// The declared login URL: no finding.
#[auth::login_required(login_url = wiki_urls::LOGIN)]
async fn declared_login() {}

async fn wiki(settings: auth::Settings) -> auth::Auth<User> {
    let settings = auth::Settings {
        login_redirect_url: Some("/".into()),
        ..settings
    };
    auth::Auth::<User>::builder()
        .database_url(auth_tests::sqlite_url())
        .settings(auth::Settings {
            secret_key: Some(auth_tests::TEST_SECRET.into()),
            ..settings
        })
        .urls(wiki_urls::URLCONF)
        .permissions(wiki_perms::ALL)
        .build()
        .await
        .unwrap()
}

/// The findings about one handler of this module.
fn about<'a>(report: &'a Report, handler: &str) -> Vec<&'a auth::checks::CheckMessage> {
    let obj = format!("{}::{handler}", module_path!());
    report
        .messages
        .iter()
        .filter(|m| m.obj.as_deref() == Some(obj.as_str()))
        .collect()
}

#[tokio::test]
async fn an_undeclared_permission_in_a_guard_is_an_error_with_the_likely_fix() {
    let auth = wiki(auth::Settings::default()).await;
    let report = run_checks(&auth, Scope::check(false));
    let found = about(&report, "misspelt");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].id, "auth.E001");
    assert!(found[0].is_error());
    assert!(found[0].msg.contains("wiki.edit_pages"), "{}", found[0]);
    assert_eq!(
        found[0].hint.as_deref(),
        Some("did you mean wiki.edit_page?")
    );
    assert!(about(&report, "declared").is_empty(), "{report}");
    // `check` exits non-zero on it.
    assert!(report.has_errors());
    let _ = (misspelt, declared);
}

#[tokio::test]
async fn a_permission_block_not_given_to_the_builder_names_the_fix() {
    let auth = wiki(auth::Settings::default()).await;
    let report = run_checks(&auth, Scope::check(false));
    let found = about(&report, "forgotten");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].id, "auth.E001");
    assert!(
        found[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains(".permissions(forgotten_perms::ALL)")),
        "{}",
        found[0]
    );
    let block = format!("{}::forgotten_perms", module_path!());
    let warning = report
        .messages
        .iter()
        .find(|m| m.obj.as_deref() == Some(block.as_str()))
        .expect("the block is reported");
    assert_eq!(warning.id, "auth.W001");
    // And granting it says what to do instead of only "does not exist".
    let user = auth
        .users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let refused = auth
        .permissions()
        .grant(&user, "forgotten.archive_page")
        .await
        .unwrap_err()
        .to_string();
    assert!(
        refused.starts_with("Permission forgotten.archive_page does not exist. It is declared in ")
            && refused.contains("add `.permissions(forgotten_perms::ALL)` to `Auth::builder()`"),
        "{refused}"
    );
    let _ = forgotten;
}

#[tokio::test]
async fn a_login_url_no_declared_route_serves_is_a_warning() {
    let auth = wiki(auth::Settings::default()).await;
    let report = run_checks(&auth, Scope::check(false));
    let found = about(&report, "signin_typo");
    assert_eq!(found.len(), 1, "{report}");
    assert_eq!(found[0].id, "auth.W002");
    assert!(found[0].msg.contains("/accounts/signin/"), "{}", found[0]);
    assert!(
        found[0]
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("/accounts/login/")),
        "{}",
        found[0]
    );
    assert!(about(&report, "declared_login").is_empty(), "{report}");
    // The same for the setting.
    let auth = wiki(auth::Settings {
        login_url: Some("/accounts/signin/".into()),
        ..Default::default()
    })
    .await;
    assert!(run_checks(&auth, Scope::check(false)).contains("auth.W003"));
    // Silenced by id, and counted.
    let auth = wiki(auth::Settings {
        silenced_system_checks: vec!["auth.W002".into()],
        ..Default::default()
    })
    .await;
    let report = run_checks(&auth, Scope::check(false));
    assert!(about(&report, "signin_typo").is_empty(), "{report}");
    assert!(report.silenced >= 1);
    let _ = (signin_typo, declared_login);
}

#[tokio::test]
async fn the_deploy_checks_name_the_production_settings() {
    let auth = fresh_auth_with::<User>(auth::Settings {
        secret_key: Some("short-but-long-enough-for-the-minimum-0".into()),
        ..Default::default()
    })
    .await;
    let ids = |report: Report| -> Vec<&'static str> {
        let mut ids: Vec<_> = report
            .messages
            .iter()
            .filter(|m| m.obj.as_deref().is_some_and(|o| o.starts_with("AUTH_")))
            .map(|m| m.id)
            .collect();
        ids.sort_unstable();
        ids
    };
    assert_eq!(ids(run_checks(&auth, Scope::check(false))), ["auth.W004"]);
    assert_eq!(
        ids(run_checks(&auth, Scope::check(true))),
        [
            "auth.W004",
            "auth.W006",
            "auth.W007",
            "auth.W008",
            "auth.W009"
        ]
    );
    let printed = run_checks(&auth, Scope::check(true)).to_string();
    // (This binary's other guards add errors, which come first.)
    assert!(printed.starts_with("System check identified some issues:\n\nERRORS:\n"));
    assert!(printed.contains("\n\nWARNINGS:\n"), "{printed}");
    assert!(printed.ends_with(" issues (0 silenced)."), "{printed}");
    assert!(
        printed.contains(
            "AUTH_SESSION_COOKIE_SECURE: (auth.W007) AUTH_SESSION_COOKIE_SECURE off: the \
             session cookie is also sent over plain HTTP\n\tHINT: behind HTTPS, set \
             AUTH_SESSION_COOKIE_SECURE=true"
        ),
        "{printed}"
    );
}

#[tokio::test]
async fn a_layer_added_before_the_routes_says_so() {
    let auth = wiki(auth::Settings::default()).await;
    // The mistake: the layer first, the auth URLs merged after it.
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .layer(auth.layer())
        .merge(wiki_urls::router());
    let (_guard, logs) = crate::logs::captured(tracing::Level::INFO);
    let page = Client::new(app).get(wiki_urls::LOGIN).await;
    assert_eq!(page.status, StatusCode::INTERNAL_SERVER_ERROR);
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("call `.layer(auth.layer())` last, after every `.route(..)`, `.merge(..)`"),
        "{logs}"
    );
}

#[tokio::test]
async fn nesting_the_auth_urls_says_to_declare_a_prefix() {
    let auth = wiki(auth::Settings::default()).await;
    // The mistake: Django's include(), written as axum's nest.
    let app = Router::new()
        .nest("/wiki", wiki_urls::router())
        .layer(auth.layer());
    let (_guard, logs) = crate::logs::captured(tracing::Level::INFO);
    let page = Client::new(app).get("/wiki/accounts/login/").await;
    assert_eq!(page.status, StatusCode::OK);
    let logs = String::from_utf8(logs.lock().unwrap().clone()).unwrap();
    assert!(
        logs.contains("declare `prefix = \"/wiki\";` in auth_urls!"),
        "{logs}"
    );
}

/// Item 19: an app served without the client's address (no
/// `ConnectInfo`, no proxy header) is told at its first request, and
/// `check` reports it from then on; an activity resolution that would end
/// busy sessions is an error.
#[tokio::test]
async fn serving_without_the_client_address_is_reported() {
    let auth = wiki(auth::Settings::default()).await;
    let ids = |report: &Report| report.messages.iter().map(|m| m.id).collect::<Vec<_>>();
    assert!(!ids(&run_checks(&auth, Scope::check(false))).contains(&"auth.W012"));
    let app = Router::new()
        .route("/", get(|| async { "home" }))
        .layer(auth.layer());
    let mut client = Client::new(app);
    assert_eq!(client.get("/").await.status, StatusCode::OK);
    let report = run_checks(&auth, Scope::check(false));
    let found = report
        .messages
        .iter()
        .find(|m| m.id == "auth.W012")
        .expect("reported after a request without an address");
    assert!(
        found
            .hint
            .as_deref()
            .is_some_and(|h| h.contains("into_make_service_with_connect_info")),
        "{found}"
    );
}

#[tokio::test]
async fn an_activity_resolution_that_ends_busy_sessions_is_an_error() {
    let settings = auth::Settings {
        session_idle_timeout: Some(std::time::Duration::from_secs(60)),
        session_activity_resolution: Some(std::time::Duration::from_secs(60)),
        ..Default::default()
    };
    let auth = wiki(settings.clone()).await;
    let report = run_checks(&auth, Scope::check(false));
    assert!(
        report
            .messages
            .iter()
            .any(|m| m.id == "auth.E008" && m.is_error()),
        "{report}"
    );
    let derived = auth::Settings {
        session_activity_resolution: None,
        ..settings
    };
    assert_eq!(
        derived.activity_resolution(),
        std::time::Duration::from_secs(6)
    );
    let auth = wiki(derived).await;
    let report = run_checks(&auth, Scope::check(false));
    assert!(
        !report.messages.iter().any(|m| m.id == "auth.E008"),
        "{report}"
    );
}

/// Cookie prefixes (ASVS 3.3.1, 3.3.3): a name with `__Secure-` or
/// `__Host-` is refused at start without what browsers demand of it (they
/// would drop the cookie and nobody could log in), whatever the case of
/// the prefix, for each cookie whose name the settings choose.
#[tokio::test]
async fn a_cookie_prefix_browsers_would_refuse_stops_the_start() {
    let refused = |settings: auth::Settings| async move {
        let built = auth::Auth::<User>::builder()
            .database_url(auth_tests::sqlite_url())
            .settings(auth::Settings {
                secret_key: Some(auth_tests::TEST_SECRET.into()),
                ..settings
            })
            .build()
            .await;
        match built {
            Err(auth::Error::Config(message)) => Some(message),
            Err(other) => panic!("another error: {other}"),
            Ok(_) => None,
        }
    };
    let secure = || auth::Settings {
        session_cookie_secure: true,
        csrf_cookie_secure: true,
        ..Default::default()
    };
    let cases = [
        (
            auth::Settings {
                session_cookie_name: "__Host-sessionid".into(),
                ..Default::default()
            },
            "AUTH_SESSION_COOKIE_SECURE=true",
        ),
        (
            auth::Settings {
                session_cookie_name: "__host-sessionid".into(),
                session_cookie_path: "/app/".into(),
                ..secure()
            },
            "AUTH_SESSION_COOKIE_PATH=/",
        ),
        (
            auth::Settings {
                session_cookie_name: "__Host-sessionid".into(),
                session_cookie_domain: Some("example.com".into()),
                ..secure()
            },
            "AUTH_SESSION_COOKIE_DOMAIN unset",
        ),
        (
            auth::Settings {
                csrf_cookie_name: "__Secure-csrftoken".into(),
                session_cookie_secure: true,
                ..Default::default()
            },
            "AUTH_CSRF_COOKIE_SECURE=true",
        ),
        (
            auth::Settings {
                device_cookie_name: "__Host-device".into(),
                csrf_cookie_secure: true,
                ..Default::default()
            },
            "AUTH_SESSION_COOKIE_SECURE=true",
        ),
    ];
    for (settings, fix) in cases {
        let message = refused(settings).await.expect("refused");
        assert!(message.contains("(auth.E010)"), "{message}");
        assert!(message.contains(fix), "{fix} in {message}");
    }
    // What the prefixes demand, given: the app starts.
    let fine = auth::Settings {
        session_cookie_name: "__Host-sessionid".into(),
        csrf_cookie_name: "__Host-csrftoken".into(),
        device_cookie_name: "__Host-authdevice".into(),
        ..secure()
    };
    assert_eq!(refused(fine).await, None);
    let domain_wide = auth::Settings {
        session_cookie_name: "__Secure-sessionid".into(),
        session_cookie_domain: Some("example.com".into()),
        session_cookie_path: "/app/".into(),
        ..secure()
    };
    assert_eq!(refused(domain_wide).await, None);
}

/// `check --deploy` recommends the `__Host-` prefix for Secure cookies
/// (`auth.W014`), and stops once they have it.
#[tokio::test]
async fn the_deploy_check_recommends_host_prefixed_cookies() {
    let w014 = |report: &Report| -> Vec<String> {
        report
            .messages
            .iter()
            .filter(|m| m.id == "auth.W014")
            .map(|m| {
                format!(
                    "{}: {}",
                    m.obj.as_deref().unwrap_or("?"),
                    m.hint.as_deref().unwrap_or("")
                )
            })
            .collect()
    };
    let secure = auth::Settings {
        session_cookie_secure: true,
        csrf_cookie_secure: true,
        ..Default::default()
    };
    let auth = fresh_auth_with::<User>(secure.clone()).await;
    assert!(
        w014(&run_checks(&auth, Scope::check(false))).is_empty(),
        "only with --deploy"
    );
    assert_eq!(
        w014(&run_checks(&auth, Scope::check(true))),
        [
            "AUTH_SESSION_COOKIE_NAME: set AUTH_SESSION_COOKIE_NAME=__Host-sessionid",
            "AUTH_CSRF_COOKIE_NAME: set AUTH_CSRF_COOKIE_NAME=__Host-csrftoken"
        ]
    );
    // Not Secure: W007/W008 say so; no prefix advice yet.
    let plain = fresh_auth_with::<User>(auth::Settings::default()).await;
    assert!(w014(&run_checks(&plain, Scope::check(true))).is_empty());
    // A domain-wide session cookie can have only __Secure-.
    let wide = fresh_auth_with::<User>(auth::Settings {
        session_cookie_domain: Some("example.com".into()),
        ..secure.clone()
    })
    .await;
    assert_eq!(
        w014(&run_checks(&wide, Scope::check(true)))[0],
        "AUTH_SESSION_COOKIE_NAME: set AUTH_SESSION_COOKIE_NAME=__Secure-sessionid"
    );
    let prefixed = fresh_auth_with::<User>(auth::Settings {
        session_cookie_name: "__Host-sessionid".into(),
        csrf_cookie_name: "__Host-csrftoken".into(),
        ..secure
    })
    .await;
    assert!(w014(&run_checks(&prefixed, Scope::check(true))).is_empty());
}
