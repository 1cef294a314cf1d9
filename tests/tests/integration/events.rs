//! Auth events: every decision reaches the app's hooks and the audit log
//! (`auth_event`), on every backend; a hook that panics or hangs changes
//! nothing for the request; `events` prints them.

use std::{
    sync::{Arc, Mutex},
    time::{Duration, Instant},
};

use auth::audit::EventFilter;
use auth::events::{EndedBy, Event, EventKind};
use auth_tests::{Backend, TestDb, User, app, client::Client};
use http::StatusCode;

auth::auth_urls! {
    mod urls;
    login: "/login/" => LoginView,
    logout: "/logout/" => LogoutView { next_page: "/" },
    password_change: "/password-change/" => PasswordChangeView,
    password_change_done: "/password-change/done/" => PasswordChangeDoneView,
    reset: "/reset/" => PasswordResetView,
    reset_done: "/reset/done/" => PasswordResetDoneView,
    reset_confirm: "/reset/<uidb64>/<token>/" => PasswordResetConfirmView,
    reset_complete: "/reset/complete/" => PasswordResetCompleteView,
    sessions: "/sessions/" => SessionListView,
    reauthenticate: "/reauthenticate/" => ReauthenticateView,
}

fn settings() -> auth::Settings {
    auth::Settings {
        login_redirect_url: Some("/".into()),
        allowed_hosts: vec!["testserver".into()],
        email_backend: auth::EmailBackendKind::Memory,
        login_failure_limit: 3,
        cache_max_staleness: Duration::from_millis(200),
        ..Default::default()
    }
}

/// The events the hooks received, in order.
type Seen = Arc<Mutex<Vec<Arc<Event>>>>;

async fn instance(db: &TestDb, seen: &Seen) -> auth::Auth<User> {
    let seen = seen.clone();
    db.builder::<User>(settings())
        .urls(urls::URLCONF)
        .on_event(move |event| {
            let seen = seen.clone();
            async move { seen.lock().unwrap().push(event) }
        })
        .build()
        .await
        .expect("builds")
}

fn client(auth: &auth::Auth<User>) -> Client {
    Client::new(urls::router().merge(app::routes(auth)).layer(auth.layer()))
}

async fn kinds(auth: &auth::Auth<User>, username: &str) -> Vec<EventKind> {
    let filter = EventFilter {
        username: Some(username.into()),
        ..Default::default()
    };
    let mut kinds: Vec<EventKind> = auth
        .events()
        .list(&filter)
        .await
        .unwrap()
        .into_iter()
        .map(|event| event.kind)
        .collect();
    kinds.reverse();
    kinds
}

/// Waits until the hooks saw `count` events.
async fn hooks_saw(seen: &Seen, count: usize) -> Vec<EventKind> {
    let deadline = Instant::now() + Duration::from_secs(5);
    loop {
        let kinds: Vec<EventKind> = seen.lock().unwrap().iter().map(|e| e.kind).collect();
        if kinds.len() >= count || Instant::now() > deadline {
            return kinds;
        }
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn logins_failures_lockouts_changes_and_logouts_are_logged(backend: Backend) {
        let db = backend.database().await;
        let seen = Seen::default();
        let auth = instance(&db, &seen).await;
        auth.users().create_user("alice", "alice@example.com", Some("old-password-1")).await.unwrap();
        let mut browser = client(&auth);

        let page = browser.log_in("/login/", "alice", "wrong").await;
        assert_eq!(page.status, StatusCode::OK);
        let page = browser.log_in("/login/", "alice", "old-password-1").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let page = browser
            .submit_form(
                "/password-change/",
                &[
                    ("old_password", "old-password-1"),
                    ("new_password1", "new-password-2"),
                    ("new_password2", "new-password-2"),
                ],
            )
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        let page = browser.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        for _ in 0..3 {
            browser.log_in("/login/", "alice", "wrong").await;
        }
        let page = browser.log_in("/login/", "alice", "new-password-2").await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);

        let expected = [
            EventKind::UserLoginFailed,
            EventKind::UserLoggedIn,
            EventKind::PasswordChanged,
            EventKind::UserLoggedOut,
            EventKind::UserLoginFailed,
            EventKind::UserLoginFailed,
            EventKind::UserLoginFailed,
            EventKind::LoginLockedOut,
        ];
        assert_eq!(kinds(&auth, "alice").await, expected);
        assert_eq!(hooks_saw(&seen, expected.len()).await, expected);

        let logged = auth.events().list(&EventFilter::default()).await.unwrap();
        let login = logged.iter().find(|e| e.kind == EventKind::UserLoggedIn).unwrap();
        assert_eq!(login.backend, "auth.ModelBackend");
        assert!(login.user_id.is_some());
        let failure = logged.iter().find(|e| e.kind == EventKind::UserLoginFailed).unwrap();
        assert_eq!((failure.user_id, failure.username.as_str()), (None, "alice"));
        assert_eq!(failure.kind.outcome(), "failure");
        // The password is never part of an event.
        assert!(!format!("{logged:?}").contains("wrong"));
    }

    async fn a_reset_and_ended_sessions_are_logged(backend: Backend) {
        let db = backend.database().await;
        let seen = Seen::default();
        let auth = instance(&db, &seen).await;
        let other = instance(&db, &Seen::default()).await;
        auth.users().create_user("alice", "alice@example.com", Some("pw-123456")).await.unwrap();

        // One session ends another's, served by another instance.
        let mut here = client(&auth);
        here.log_in("/login/", "alice", "pw-123456").await;
        let mut there = client(&other);
        there.log_in("/login/", "alice", "pw-123456").await;
        let list = here.get("/sessions/").await;
        let handle = list.input_value("session").expect("the other session's form");
        let page = here.post_with_csrf("/sessions/", &[("session", &handle)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);

        let page = here.post_with_csrf("/reset/", &[("email", "alice@example.com")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        auth::testing::mail_idle(&auth).await;
        let outbox = auth.mail().outbox().unwrap();
        let body = &outbox[0].body;
        let start = body.find("http://testserver").unwrap() + "http://testserver".len();
        let link = body[start..].split_whitespace().next().unwrap().to_owned();
        let form = here.get(&link).await.location().unwrap().to_owned();
        let page = here
            .submit_form(&form, &[("new_password1", "pw-reset-789"), ("new_password2", "pw-reset-789")])
            .await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

        let ended: Vec<Event> = auth
            .events()
            .list(&EventFilter { kinds: vec![EventKind::SessionEnded], ..Default::default() })
            .await
            .unwrap();
        assert_eq!(ended.len(), 1);
        assert_eq!(ended[0].ended_by, Some(EndedBy::User));
        assert_eq!(ended[0].session, handle[..8]);
        let mut kinds = kinds(&auth, "alice").await;
        kinds.retain(|kind| *kind != EventKind::UserLoggedIn);
        assert_eq!(kinds, [EventKind::PasswordResetRequested, EventKind::PasswordResetCompleted]);
    }

    async fn a_hook_that_panics_or_hangs_changes_nothing_for_the_request(backend: Backend) {
        let db = backend.database().await;
        let auth = db
            .builder::<User>(settings())
            .urls(urls::URLCONF)
            .on_event(|event| async move {
                if event.kind == EventKind::UserLoggedIn {
                    panic!("a broken hook");
                }
            })
            .on_event(|_| async { tokio::time::sleep(Duration::from_secs(3600)).await })
            .build()
            .await
            .unwrap();
        auth.users().create_user("alice", "", Some("pw-123456")).await.unwrap();
        let mut browser = client(&auth);
        let started = Instant::now();
        let page = browser.log_in("/login/", "alice", "pw-123456").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(browser.get("/").await.body, "Welcome, alice!");
        assert!(started.elapsed() < Duration::from_secs(5), "{:?}", started.elapsed());
        assert_eq!(kinds(&auth, "alice").await, [EventKind::UserLoggedIn]);
    }
}

#[tokio::test]
async fn the_log_can_be_off_and_events_prints_and_prunes() {
    let db = Backend::Sqlite.database().await;
    let off = db
        .builder::<User>(auth::Settings {
            event_log: false,
            ..settings()
        })
        .urls(urls::URLCONF)
        .build()
        .await
        .unwrap();
    off.users()
        .create_user("alice", "", Some("pw-123456"))
        .await
        .unwrap();
    client(&off).log_in("/login/", "alice", "wrong").await;
    assert!(
        off.events()
            .list(&EventFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
    drop(off);

    let auth = instance(&db, &Seen::default()).await;
    let mut browser = client(&auth);
    browser.log_in("/login/", "alice", "wrong").await;
    browser.log_in("/login/", "alice", "pw-123456").await;
    let run = |args: &'static [&'static str]| {
        let auth = auth.clone();
        async move {
            let mut out = Vec::new();
            struct NoPrompt;
            impl auth::cli::Prompt for NoPrompt {
                fn line(&mut self, _: &str) -> std::io::Result<String> {
                    Err(std::io::ErrorKind::UnexpectedEof.into())
                }
                fn password(&mut self, _: &str) -> std::io::Result<String> {
                    Err(std::io::ErrorKind::UnexpectedEof.into())
                }
                fn is_interactive(&self) -> bool {
                    false
                }
            }
            auth::cli::call_command(&auth, args.iter().copied(), &mut NoPrompt, &mut out)
                .await
                .unwrap();
            String::from_utf8(out).unwrap()
        }
    };
    let out = run(&["events", "alice"]).await;
    let lines: Vec<&str> = out.lines().collect();
    assert_eq!(lines.len(), 2, "{out}");
    assert!(
        lines[0].contains("user_logged_in") && lines[0].contains("via auth.ModelBackend"),
        "{out}"
    );
    assert!(
        lines[1].contains("user_login_failed") && lines[1].contains("failure"),
        "{out}"
    );
    let out = run(&["events", "--kind", "user_login_failed", "--json"]).await;
    let json: serde_json::Value = serde_json::from_str(out.trim()).unwrap();
    assert_eq!(json["kind"], "user_login_failed");
    assert_eq!(json["username"], "alice");
    assert_eq!(run(&["events", "--since", "1h", "nobody"]).await, "");

    assert_eq!(run(&["clearevents"]).await, "Deleted 0 old event(s).\n");
    auth::testing::advance_clock(&auth, 91 * 86_400);
    assert_eq!(run(&["clearevents"]).await, "Deleted 2 old event(s).\n");
    assert!(
        auth.events()
            .list(&EventFilter::default())
            .await
            .unwrap()
            .is_empty()
    );
}

/// A login from `agent` through `auth`'s login page.
async fn log_in_from(auth: &auth::Auth<User>, agent: &str, password: &str) {
    let mut browser = client(auth);
    let form = browser.get("/login/").await;
    let token = form.input_value("csrfmiddlewaretoken").unwrap();
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", "alice"),
            ("password", password),
        ])
        .finish();
    let req = http::Request::post("/login/")
        .header(http::header::USER_AGENT, agent)
        .header(
            http::header::CONTENT_TYPE,
            "application/x-www-form-urlencoded",
        )
        .body(axum::body::Body::from(body))
        .unwrap();
    let page = browser.send(req).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
}

/// The subjects of the messages sent so far.
async fn subjects(auth: &auth::Auth<User>) -> Vec<String> {
    auth::testing::mail_idle(auth).await;
    auth.mail()
        .outbox()
        .unwrap()
        .iter()
        .map(|message| format!("{} -> {}", message.subject, message.to.join(",")))
        .collect()
}

auth_tests::backend_tests! {
    backends: [sqlite, postgres, mysql];

    async fn security_emails_on_a_new_device_a_password_change_and_an_email_change(backend: Backend) {
        let db = backend.database().await;
        let settings = auth::Settings {
            notify_password_change: true,
            notify_email_change: true,
            notify_new_device: true,
            ..settings()
        };
        let auth = db.builder::<User>(settings).urls(urls::URLCONF).build().await.unwrap();
        auth.users().create_user("alice", "alice@example.com", Some("pw-123456")).await.unwrap();
        const LAPTOP: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
        const PHONE: &str = "Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X) AppleWebKit/605.1.15 \
                             (KHTML, like Gecko) Version/17.0 Mobile/15E148 Safari/604.1";
        log_in_from(&auth, LAPTOP, "pw-123456").await;
        log_in_from(&auth, LAPTOP, "pw-123456").await;
        assert!(subjects(&auth).await.is_empty(), "the first device, then a known one");
        log_in_from(&auth, PHONE, "pw-123456").await;
        assert_eq!(subjects(&auth).await, ["A new sign-in to your account -> alice@example.com"]);
        let body = &auth.mail().outbox().unwrap()[0].body;
        assert!(body.contains("Safari on iOS") || body.contains("iPhone"), "{body}");
        // 91 days later the laptop is new again.
        auth::testing::advance_clock(&auth, 91 * 86_400);
        log_in_from(&auth, LAPTOP, "pw-123456").await;
        assert_eq!(subjects(&auth).await.len(), 2);

        let mut alice = auth.users().get_by_username("alice").await.unwrap().unwrap();
        auth.users().set_password(&mut alice, "pw-changed-1").await.unwrap();
        alice.base.email = "alice@new.example".into();
        auth.users().save(alice).await.unwrap();
        let mut sent = subjects(&auth).await.split_off(2);
        sent.sort();
        assert_eq!(
            sent,
            [
                "The email address of your account was changed -> alice@example.com",
                "Your password was changed -> alice@example.com",
            ]
        );
    }
}

#[tokio::test]
async fn security_emails_are_off_by_default() {
    let db = Backend::Sqlite.database().await;
    let auth = instance(&db, &Seen::default()).await;
    auth.users()
        .create_user("alice", "alice@example.com", Some("pw-123456"))
        .await
        .unwrap();
    log_in_from(&auth, "one", "pw-123456").await;
    log_in_from(&auth, "two", "pw-123456").await;
    let mut alice = auth
        .users()
        .get_by_username("alice")
        .await
        .unwrap()
        .unwrap();
    auth.users()
        .set_password(&mut alice, "pw-changed-1")
        .await
        .unwrap();
    assert!(subjects(&auth).await.is_empty());
}

#[tokio::test]
async fn the_metrics_route_serves_the_counters_behind_its_token() {
    let db = Backend::Sqlite.database().await;
    let with_token = auth::Settings {
        metrics_token: Some("scrape-token-123".into()),
        ..settings()
    };
    let auth = db
        .builder::<User>(with_token)
        .urls(urls::URLCONF)
        .build()
        .await
        .unwrap();
    auth.users()
        .create_user("alice", "", Some("pw-123456"))
        .await
        .unwrap();
    let app = urls::router()
        .merge(app::routes(&auth))
        .layer(auth.layer())
        .merge(auth.metrics_router("/metrics"));
    let mut browser = Client::new(app);
    browser.log_in("/login/", "alice", "wrong").await;
    browser.log_in("/login/", "alice", "pw-123456").await;
    browser.get("/").await;

    let scrape = |token: &'static str| {
        http::Request::get("/metrics")
            .header(http::header::AUTHORIZATION, format!("Bearer {token}"))
            .body(axum::body::Body::empty())
            .unwrap()
    };
    assert_eq!(
        browser.send(scrape("wrong")).await.status,
        StatusCode::UNAUTHORIZED
    );
    assert_eq!(
        browser.get("/metrics").await.status,
        StatusCode::UNAUTHORIZED
    );
    let page = browser.send(scrape("scrape-token-123")).await;
    assert_eq!(page.status, StatusCode::OK);
    for line in [
        "auth_logins_total{outcome=\"success\"}",
        "auth_logins_total{outcome=\"failure\"}",
        "auth_events_total{kind=\"user_logged_in\"}",
        "auth_cache_hits_total{cache=\"session\"}",
        "auth_password_hash_seconds",
    ] {
        assert!(page.body.contains(line), "{line} in {}", page.body);
    }

    // Without the setting the route does not exist.
    let closed = db
        .builder::<User>(settings())
        .urls(urls::URLCONF)
        .build()
        .await
        .unwrap();
    let mut client = Client::new(closed.metrics_router("/metrics"));
    assert_eq!(
        client.send(scrape("anything")).await.status,
        StatusCode::NOT_FOUND
    );
}

/// Every event is logged once under `auth::event` with the same fields,
/// a hook runs inside a span with them, and each guard decision that
/// answers instead of the view is logged under `auth::decision`.
#[tokio::test]
async fn events_and_decisions_are_traced_with_uniform_fields() {
    let db = Backend::Sqlite.database().await;
    let auth = db
        .builder::<User>(settings())
        .urls(urls::URLCONF)
        .on_event(|event| async move {
            tracing::info!(target: "app", "hook saw {}", event.kind.as_str());
        })
        .build()
        .await
        .expect("builds");
    auth.users()
        .create_user("alice", "alice@example.com", Some("old-password-1"))
        .await
        .unwrap();
    let (_guard, logs) = crate::logs::captured(tracing::Level::DEBUG);
    let mut browser = client(&auth);
    browser.log_in("/login/", "alice", "wrong").await;
    browser.log_in("/login/", "alice", "old-password-1").await;
    let mut anonymous = client(&auth);
    assert_eq!(
        anonymous.get("/profile/").await.status,
        StatusCode::SEE_OTHER
    );
    let forged = anonymous
        .post("/ping/", &[("csrfmiddlewaretoken", "forged")])
        .await;
    assert_eq!(forged.status, StatusCode::FORBIDDEN);
    tokio::time::sleep(Duration::from_millis(100)).await;
    let text = crate::logs::text(&logs);
    let line = |needle: &str| {
        text.lines()
            .find(|line| line.contains(needle))
            .unwrap_or_else(|| panic!("no line with {needle} in:\n{text}"))
            .to_owned()
    };
    let failed = line("kind=\"user_login_failed\"");
    assert!(failed.starts_with(|c: char| c.is_ascii_digit()), "{failed}");
    for field in [
        " WARN auth::event",
        "outcome=\"failure\"",
        "username=alice",
        "client=",
        "backend=",
    ] {
        assert!(failed.contains(field), "{field} in {failed}");
    }
    let logged_in = line("kind=\"user_logged_in\"");
    for field in [" INFO auth::event", "outcome=\"success\"", "user_id=1"] {
        assert!(logged_in.contains(field), "{field} in {logged_in}");
    }
    let hook = line("hook saw user_logged_in");
    assert!(
        hook.contains("auth_event{kind=\"user_logged_in\" outcome=\"success\""),
        "the hook runs in the event's span: {hook}"
    );
    let redirect = line("decision=\"login_required\"");
    assert!(redirect.contains("DEBUG auth::decision") && redirect.contains("outcome=\"redirect\""));
    let csrf = line("decision=\"csrf\"");
    assert!(
        csrf.contains("WARN auth::decision") && csrf.contains("outcome=\"denied\""),
        "{csrf}"
    );
}
