//! The built-in views mounted by `auth_urls!` with their default templates.

use auth_tests::{User, client::Client, fresh_auth_with};
use http::{Request, StatusCode, header};

auth::auth_urls! {
    login: "/accounts/login/" => LoginView { redirect_authenticated_user: true },
    plain_login: "/plain-login/" => LoginView { next_page: "/after/" },
    logout: "/accounts/logout/" => LogoutView,
    logout_home: "/logout-home/" => LogoutView { next_page: "/" },
    password_change: "/accounts/password_change/" => PasswordChangeView,
    password_change_done: "/accounts/password_change/done/" => PasswordChangeDoneView,
}

#[auth::login_required(login_url = urls::PLAIN_LOGIN)]
async fn guarded() -> &'static str {
    "guarded"
}

async fn setup(settings: auth::Settings) -> Client {
    let auth = fresh_auth_with::<User>(settings).await;
    auth.users()
        .create_user("alice", "alice@example.com", Some("wonderland-42"))
        .await
        .unwrap();
    let app = urls::router()
        .route("/guarded/", axum::routing::get(guarded))
        .route(
            "/csrf/",
            axum::routing::get(|s: auth::Session| async move { s.csrf_token() }),
        )
        .layer(auth.layer());
    Client::new(app)
}

/// Each built-in view answers the methods its `Allow` lists, and any other
/// with 405 and that list (unsafe methods carry a valid CSRF token, so the
/// CSRF check is not what answers).
#[tokio::test]
async fn each_view_answers_405_with_its_allow_list_to_other_methods() {
    let mut client = setup(auth::Settings::default()).await;
    let token = client.csrf_token().await;
    for (url, allowed) in [
        (urls::LOGIN, "GET, HEAD, POST, PUT"),
        (urls::LOGOUT, "POST, OPTIONS"),
        (urls::PASSWORD_CHANGE, "GET, HEAD, POST"),
        (urls::PASSWORD_CHANGE_DONE, "GET, HEAD"),
    ] {
        for method in ["GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"] {
            let req = Request::builder()
                .method(method)
                .uri(url)
                .header("X-CSRFToken", &token)
                .body(axum::body::Body::empty())
                .unwrap();
            let page = client.send(req).await;
            if allowed.split(", ").any(|m| m == method) {
                assert_ne!(
                    page.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {url}"
                );
            } else {
                assert_eq!(
                    page.status,
                    StatusCode::METHOD_NOT_ALLOWED,
                    "{method} {url}"
                );
                assert_eq!(page.headers[header::ALLOW], allowed, "{method} {url}");
            }
        }
    }
}

#[test]
fn urls_are_named_and_reversible() {
    assert_eq!(urls::LOGIN, "/accounts/login/");
    assert_eq!(
        urls::reverse("password_change_done"),
        Some("/accounts/password_change/done/")
    );
    assert_eq!(urls::reverse("nope"), None);
    assert_eq!(urls::ALL.len(), 6);
}

#[tokio::test]
async fn default_templates_render_accessible_forms() {
    let mut client = setup(auth::Settings::default()).await;
    let page = client.get(urls::LOGIN).await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("<label for=\"id_username\">Username:</label>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("autocomplete=\"current-password\""));
    assert!(page.body.contains("maxlength=\"150\""));
}

#[tokio::test]
async fn login_options_are_applied() {
    let mut client = setup(auth::Settings::default()).await;
    let page = client
        .log_in(urls::PLAIN_LOGIN, "alice", "wonderland-42")
        .await;
    assert_eq!(page.location(), Some("/after/"), "next_page");

    // redirect_authenticated_user sends a logged-in user on.
    let page = client.get(urls::LOGIN).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(page.location(), Some("/accounts/profile/"));
    let page = client.get("/accounts/login/?next=/custom_next/").await;
    assert_eq!(page.location(), Some("/custom_next/"));
}

#[tokio::test]
async fn login_falls_back_to_login_redirect_url() {
    let settings = auth::Settings {
        login_redirect_url: Some("/custom/".into()),
        ..Default::default()
    };
    let mut client = setup(settings).await;
    let page = client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    assert_eq!(page.location(), Some("/custom/"));
}

#[tokio::test]
async fn a_login_redirect_loop_is_an_error_not_a_redirect() {
    let settings = auth::Settings {
        login_redirect_url: Some(urls::LOGIN.into()),
        ..Default::default()
    };
    let mut client = setup(settings).await;
    client
        .log_in(urls::PLAIN_LOGIN, "alice", "wonderland-42")
        .await;
    let page = client.get(urls::LOGIN).await;
    // A misconfiguration (Django raises ValueError): a server error page
    // that says nothing internal, and no redirect to follow forever.
    assert_eq!(
        page.status,
        StatusCode::INTERNAL_SERVER_ERROR,
        "{}",
        page.body
    );
    assert!(
        page.body.contains("Something went wrong on our side."),
        "{}",
        page.body
    );
    assert!(page.location().is_none());
}

#[tokio::test]
async fn logout_renders_logged_out_or_redirects() {
    let mut client = setup(auth::Settings::default()).await;
    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let token = client.get("/csrf/").await.body;
    let page = client
        .post(urls::LOGOUT, &[("csrfmiddlewaretoken", token.as_str())])
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(page.body.contains("Logged out"));
    assert!(
        page.headers
            .get(header::CACHE_CONTROL)
            .unwrap()
            .to_str()
            .unwrap()
            .contains("no-store")
    );

    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let token = client.get("/csrf/").await.body;
    let page = client
        .post(
            "/accounts/logout/?next=/accounts/login/",
            &[("csrfmiddlewaretoken", token.as_str())],
        )
        .await;
    assert_eq!(page.location(), Some("/accounts/login/"));

    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let token = client.get("/csrf/").await.body;
    let page = client
        .post(
            "/accounts/logout/?next=http://evil.com/",
            &[("csrfmiddlewaretoken", token.as_str())],
        )
        .await;
    assert_eq!(
        page.location(),
        Some("/accounts/logout/"),
        "unsafe next falls back to the path"
    );

    let token = client.get("/csrf/").await.body;
    let page = client
        .post(
            "/logout-home/?next=https://evil/",
            &[("csrfmiddlewaretoken", token.as_str())],
        )
        .await;
    assert_eq!(page.location(), Some("/"), "next_page");
    let options = client
        .send(
            http::Request::options(urls::LOGOUT)
                .body(axum::body::Body::empty())
                .unwrap(),
        )
        .await;
    assert_eq!(options.headers.get(header::ALLOW).unwrap(), "POST, OPTIONS");
}

#[tokio::test]
async fn logout_redirect_url_setting_is_used() {
    let settings = auth::Settings {
        logout_redirect_url: Some("/custom/".into()),
        ..Default::default()
    };
    let mut client = setup(settings).await;
    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let token = client.get("/csrf/").await.body;
    let page = client
        .post(
            "/accounts/logout/?next=https://evil/",
            &[("csrfmiddlewaretoken", token.as_str())],
        )
        .await;
    assert_eq!(page.location(), Some("/custom/"));
}

#[tokio::test]
async fn password_views_send_anonymous_users_to_the_declared_login() {
    let mut client = setup(auth::Settings::default()).await;
    let page = client.get(urls::PASSWORD_CHANGE).await;
    assert_eq!(
        page.location(),
        Some("/accounts/login/?next=/accounts/password_change/")
    );
    let page = client.get("/guarded/").await;
    assert_eq!(
        page.location(),
        Some("/plain-login/?next=/guarded/"),
        "a const from auth_urls! as login_url"
    );
    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let page = client.get(urls::PASSWORD_CHANGE).await;
    assert_eq!(page.status, StatusCode::OK);
    for name in ["old_password", "new_password1", "new_password2"] {
        assert!(page.body.contains(&format!("name=\"{name}\"")), "{name}");
    }
    assert!(
        page.body
            .contains("Your password must contain at least 8 characters."),
        "help texts"
    );
}

#[tokio::test]
async fn a_templates_directory_overrides_the_defaults_by_name() {
    let dir =
        std::env::temp_dir().join(format!("auth-templates-{}", auth::Uuid::new_v4().simple()));
    std::fs::create_dir_all(dir.join("registration")).unwrap();
    std::fs::write(
        dir.join("registration/login.html"),
        "<p>Custom login for {{ user.username or 'nobody' }}</p>{{ csrf_input }}{% for f in form.fields %}[{{ f.name }}]{% endfor %}",
    )
    .unwrap();
    let settings = auth::Settings {
        secret_key: Some(auth_tests::TEST_SECRET.into()),
        ..Default::default()
    };
    let auth = auth::Auth::<User>::builder()
        .database_url(auth_tests::sqlite_url())
        .settings(settings)
        .templates_dir(&dir)
        .build()
        .await
        .unwrap();
    let mut client = Client::new(urls::router().layer(auth.layer()));
    let page = client.get(urls::LOGIN).await;
    assert!(
        page.body.starts_with("<p>Custom login for nobody</p>"),
        "{}",
        page.body
    );
    assert!(page.body.contains("[username][password]"), "{}", page.body);
    assert!(page.input_value("csrfmiddlewaretoken").is_some());
    std::fs::remove_dir_all(dir).ok();
}

#[tokio::test]
async fn behind_a_tls_proxy_next_and_origin_must_be_https() {
    let settings = auth::Settings {
        secure_proxy_ssl_header: Some(("X-Forwarded-Proto".into(), "https".into())),
        ..Default::default()
    };
    let mut client = setup(settings).await;
    let attempt = |next: &'static str, origin: &'static str| {
        let form = format!(
            "username=alice&password=wonderland-42&next={}",
            form_urlencoded::byte_serialize(next.as_bytes()).collect::<String>()
        );
        (form, origin)
    };
    for (next, origin, expected) in [
        ("http://testserver/x", "https://testserver", Some("/after/")),
        (
            "https://testserver/x",
            "https://testserver",
            Some("https://testserver/x"),
        ),
        ("/y/", "http://testserver", None),
    ] {
        let token = client.get("/csrf/").await.body;
        let (form, origin) = attempt(next, origin);
        let request = http::Request::post(urls::PLAIN_LOGIN)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .header("X-Forwarded-Proto", "https")
            .header(header::ORIGIN, origin)
            .header("X-CSRFToken", token)
            .body(axum::body::Body::from(form))
            .unwrap();
        let page = client.send(request).await;
        match expected {
            Some(location) => assert_eq!(page.location(), Some(location), "{next}"),
            None => assert_eq!(
                page.status,
                StatusCode::FORBIDDEN,
                "an http origin on an https request"
            ),
        }
    }
}

/// A form that fails must not change the stored hash: checking the old
/// password must not upgrade an outdated hash (which would change this
/// session's auth hash and log the user out on the next request).
#[tokio::test]
async fn a_failed_password_change_keeps_the_session_even_with_an_outdated_hash() {
    let db = auth_tests::Backend::Sqlite.database().await;
    let weak = auth::Settings {
        password_hasher_memory_kib: 8,
        password_hasher_iterations: 1,
        ..Default::default()
    };
    let before = db.auth::<User>(weak).await;
    before
        .users()
        .create_user("alice", "", Some("wonderland-42"))
        .await
        .unwrap();
    let app = |auth: &auth::Auth<User>| {
        urls::router()
            .route("/", axum::routing::get(auth_tests::app::home))
            .layer(auth.layer())
    };
    let mut client = Client::new(app(&before));
    assert_eq!(
        client
            .log_in(urls::PLAIN_LOGIN, "alice", "wonderland-42")
            .await
            .status,
        StatusCode::SEE_OTHER
    );
    // The site moves to stronger hashing; alice's stored hash is outdated.
    let after = db.auth::<User>(auth::Settings::default()).await;
    let jar = client.jar.clone();
    let mut client = Client::new(app(&after));
    client.jar = jar;
    assert_eq!(client.get("/").await.body, "Welcome, alice!");
    let stored = after
        .users()
        .get_by_username("alice")
        .await
        .unwrap()
        .unwrap()
        .password
        .clone();

    let form = client.get(urls::PASSWORD_CHANGE).await;
    let token = form.input_value("csrfmiddlewaretoken").unwrap();
    let page = client
        .post(
            urls::PASSWORD_CHANGE,
            &[
                ("csrfmiddlewaretoken", token.as_str()),
                ("old_password", "wonderland-42"),
                ("new_password1", "a-new-password-1"),
                ("new_password2", "a-different-one-2"),
            ],
        )
        .await;
    assert_eq!(
        page.status,
        StatusCode::OK,
        "the form comes back with errors"
    );
    assert_eq!(
        after
            .users()
            .get_by_username("alice")
            .await
            .unwrap()
            .unwrap()
            .password,
        stored,
        "the stored hash is unchanged"
    );
    assert_eq!(
        client.get("/").await.body,
        "Welcome, alice!",
        "still logged in"
    );
}

#[tokio::test]
async fn a_missing_templates_directory_is_an_error_naming_the_absolute_path() {
    let err = auth::Auth::<User>::builder()
        .database_url(auth_tests::sqlite_url())
        .settings(auth::Settings {
            secret_key: Some(auth_tests::TEST_SECRET.into()),
            ..Default::default()
        })
        .templates_dir("no-such-templates-dir")
        .build()
        .await
        .unwrap_err()
        .to_string();
    let absolute = std::env::current_dir()
        .unwrap()
        .join("no-such-templates-dir");
    assert!(err.contains(&absolute.display().to_string()), "{err}");
    assert!(err.contains("CARGO_MANIFEST_DIR"), "{err}");
}

/// `AUTH_PWNED_PASSWORDS_FILE`: a breached password is refused by the
/// password change form with the breach message; a file that is not there
/// stops the start.
#[tokio::test]
async fn a_breached_password_list_refuses_listed_passwords() {
    use sha1::Digest;
    let dir = std::env::temp_dir().join(format!("pwned-{}", auth::Uuid::new_v4().simple()));
    std::fs::create_dir_all(&dir).unwrap();
    let path = dir.join("pwned.txt");
    let mut hashes: Vec<String> = ["breached-but-long-1", "another-leaked-pass"]
        .iter()
        .map(|p| hex::encode_upper(sha1::Sha1::digest(p.as_bytes())))
        .collect();
    hashes.sort();
    let lines: Vec<String> = hashes.iter().map(|h| format!("{h}:12")).collect();
    std::fs::write(&path, lines.join("\r\n") + "\r\n").unwrap();

    let settings = auth::Settings {
        pwned_passwords_file: Some(path.clone()),
        ..Default::default()
    };
    let mut client = setup(settings).await;
    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let page = client
        .submit_form(
            urls::PASSWORD_CHANGE,
            &[
                ("old_password", "wonderland-42"),
                ("new_password1", "breached-but-long-1"),
                ("new_password2", "breached-but-long-1"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::OK);
    assert!(
        page.body
            .contains("This password has appeared in a data breach"),
        "{}",
        page.body
    );
    let page = client
        .submit_form(
            urls::PASSWORD_CHANGE,
            &[
                ("old_password", "wonderland-42"),
                ("new_password1", "not-in-any-list-9"),
                ("new_password2", "not-in-any-list-9"),
            ],
        )
        .await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);

    let missing = auth::Settings {
        pwned_passwords_file: Some(dir.join("absent.txt")),
        ..Default::default()
    };
    let db = auth_tests::Backend::Sqlite.database().await;
    let Err(err) = db.builder::<User>(missing).build().await else {
        panic!("a missing breached-password list must stop the start");
    };
    assert!(
        err.to_string().contains("AUTH_PWNED_PASSWORDS_FILE"),
        "{err}"
    );
    std::fs::remove_dir_all(&dir).unwrap();
}

/// Every render through `Templates` gets `user`, `perms`, `csrf_token` and
/// `csrf_input` (one token for both, the input printed as markup), the
/// user's extra fields by name, and the handler's own names win over the
/// added ones.
#[tokio::test]
async fn every_render_gets_the_request_values_and_the_handlers_names_win() {
    let settings = auth::Settings {
        secret_key: Some(auth_tests::TEST_SECRET.into()),
        ..Default::default()
    };
    let auth = auth::Auth::<User>::builder()
        .database_url(auth_tests::sqlite_url())
        .settings(settings)
        .template(
            "values.html",
            "{{ user.is_authenticated }}|{{ user.username }}|{{ user.bio }}|{{ user.nothing }}|\
             {{ perms.accounts.view_report }}|{{ title }}|{{ csrf_input }}|{{ csrf_token }}",
        )
        .template("shadowed.html", "{{ user }}|{{ csrf_token }}")
        .build()
        .await
        .unwrap();
    let mut alice = auth
        .users()
        .create_user("alice", "alice@example.com", Some("wonderland-42"))
        .await
        .unwrap();
    alice.bio = "Curious <girl>".into();
    auth.users().save(alice).await.unwrap();
    let app = urls::router()
        .route(
            "/values/",
            axum::routing::get(|templates: auth::Templates| async move {
                templates
                    .render("values.html", auth::minijinja::context! { title => "T" })
                    .await
            }),
        )
        .route(
            "/shadowed/",
            axum::routing::get(|templates: auth::Templates| async move {
                templates
                    .render(
                        "shadowed.html",
                        auth::minijinja::context! { user => "mine", csrf_token => "theirs" },
                    )
                    .await
            }),
        )
        .layer(auth.layer());
    let mut client = Client::new(app);

    let check = |body: &str, authenticated: &str, username: &str, bio: &str| {
        let fields: Vec<&str> = body.split('|').collect();
        assert_eq!(fields.len(), 8, "{body}");
        assert_eq!(
            &fields[..6],
            [authenticated, username, bio, "", "False", "T"],
            "{body}"
        );
        let input = fields[6]
            .strip_prefix("<input type=\"hidden\" name=\"csrfmiddlewaretoken\" value=\"")
            .and_then(|rest| rest.strip_suffix("\">"))
            .unwrap_or_else(|| panic!("the input, as markup: {body}"));
        assert_eq!(input.len(), 64, "{body}");
        assert_eq!(input, fields[7], "one token per render: {body}");
    };
    let page = client.get("/values/").await;
    assert_eq!(page.status, StatusCode::OK);
    check(&page.body, "False", "", "");
    assert!(
        page.set_cookie("csrftoken").is_some(),
        "printing a token sets the cookie"
    );

    client.log_in(urls::LOGIN, "alice", "wonderland-42").await;
    let page = client.get("/values/").await;
    check(&page.body, "True", "alice", "Curious &lt;girl&gt;");

    let page = client.get("/shadowed/").await;
    assert_eq!(page.body, "mine|theirs");
}
