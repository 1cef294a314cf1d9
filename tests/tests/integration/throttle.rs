//! Login throttling: failures counted per username and per client address
//! in the store the sessions use, shared by every instance, with a lockout
//! that ends by itself.

use std::time::Duration;

use auth_tests::{TestDb, User, client::Client};
use http::{Request, StatusCode, header};

auth::auth_urls! {
    login: "/accounts/login/" => LoginView { next_page: "/" },
}

const LOCKED: &str = "Too many failed login attempts. Try again later.";

fn settings(window: Duration) -> auth::Settings {
    auth::Settings {
        login_failure_limit: 3,
        login_failure_limit_per_ip: 5,
        login_failure_window: window,
        trusted_proxy_header: Some("x-forwarded-for".into()),
        ..Default::default()
    }
}

/// An instance of the app on `db`.
async fn instance(db: &TestDb, window: Duration) -> (auth::Auth<User>, Client) {
    let auth = db.auth::<User>(settings(window)).await;
    let app = auth_tests::app::routes(&auth)
        .merge(urls::router())
        .layer(auth.layer());
    (auth, Client::new(app))
}

/// A login through the built-in view from `ip`.
async fn attempt(
    client: &mut Client,
    ip: &str,
    username: &str,
    password: &str,
) -> (StatusCode, String) {
    let token = client.csrf_token().await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs([
            ("username", username),
            ("password", password),
            ("csrfmiddlewaretoken", &token),
        ])
        .finish();
    let page = client
        .send(
            Request::post(urls::LOGIN)
                .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                .header("x-forwarded-for", ip)
                .body(body.into())
                .unwrap(),
        )
        .await;
    (page.status, page.body)
}

auth_tests::backend_tests! {
    async fn a_username_is_locked_after_the_limit_across_instances(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut a) = instance(&db, Duration::from_secs(900)).await;
        auth.create_user("alice", "", Some("alice-password")).await.unwrap();
        let (_other, mut b) = instance(&db, Duration::from_secs(900)).await;

        // Two failures on A, one success on B: the success clears the count.
        for _ in 0..2 {
            assert_eq!(attempt(&mut a, "203.0.113.1", "alice", "wrong").await.0, StatusCode::OK);
        }
        assert_eq!(
            attempt(&mut b, "203.0.113.1", "alice", "alice-password").await.0,
            StatusCode::SEE_OTHER
        );
        // Three failures, spread over both instances and addresses...
        assert_eq!(attempt(&mut a, "203.0.113.2", "alice", "wrong").await.0, StatusCode::OK);
        assert_eq!(attempt(&mut b, "203.0.113.3", "alice", "wrong").await.0, StatusCode::OK);
        assert_eq!(attempt(&mut a, "203.0.113.4", "alice", "wrong").await.0, StatusCode::OK);
        // ...lock alice on both, even with the right password.
        for client in [&mut a, &mut b] {
            let (status, body) = attempt(client, "203.0.113.5", "alice", "alice-password").await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert!(body.contains(LOCKED), "{body}");
            assert!(body.contains("name=\"username\""), "the form is shown again");
        }
        // Other users are not affected.
        auth.create_user("bob", "", Some("bob-password")).await.unwrap();
        assert_eq!(
            attempt(&mut b, "203.0.113.6", "bob", "bob-password").await.0,
            StatusCode::SEE_OTHER
        );
    }

    async fn a_client_address_is_locked_after_its_limit(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.create_user("carol", "", Some("carol-password")).await.unwrap();
        for i in 0..5 {
            let (status, _) = attempt(&mut client, "198.51.100.7", &format!("guess{i}"), "x").await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, body) = attempt(&mut client, "198.51.100.7", "carol", "carol-password").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert_eq!(
            attempt(&mut client, "198.51.100.8", "carol", "carol-password").await.0,
            StatusCode::SEE_OTHER,
            "another address is not locked"
        );
    }

    async fn a_lockout_ends_when_the_window_passes(backend: Backend) {
        let db = backend.database().await;
        // Two seconds: MySQL keeps failure times to the second, which can
        // shorten a window by up to one.
        let (auth, mut client) = instance(&db, Duration::from_secs(2)).await;
        auth.create_user("dave", "", Some("dave-password")).await.unwrap();
        for _ in 0..3 {
            attempt(&mut client, "192.0.2.1", "dave", "wrong").await;
        }
        // Attempts during the lockout do not extend it.
        assert_eq!(
            attempt(&mut client, "192.0.2.1", "dave", "dave-password").await.0,
            StatusCode::TOO_MANY_REQUESTS
        );
        tokio::time::sleep(Duration::from_millis(2100)).await;
        assert_eq!(
            attempt(&mut client, "192.0.2.1", "dave", "dave-password").await.0,
            StatusCode::SEE_OTHER
        );
    }

    async fn custom_login_views_get_the_same_protection(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.create_user("erin", "", Some("erin-password")).await.unwrap();
        // The test app's /login/ calls Auth::authenticate and auth::login.
        for _ in 0..3 {
            let page = client
                .post_with_csrf("/login/", &[("username", "erin"), ("password", "wrong")])
                .await;
            assert_eq!(page.body, "Invalid credentials");
        }
        let page = client
            .post_with_csrf("/login/", &[("username", "erin"), ("password", "erin-password")])
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS);
        assert!(page.body.contains(LOCKED), "{}", page.body);
        assert!(
            matches!(
                auth.authenticate("erin", "erin-password").await,
                Err(auth::Error::Throttled)
            ),
            "outside a request too"
        );
    }
}

#[test]
fn the_settings_read_the_environment() {
    let vars = [
        ("AUTH_LOGIN_FAILURE_LIMIT", "5"),
        ("AUTH_LOGIN_FAILURE_LIMIT_PER_IP", "50"),
        ("AUTH_LOGIN_FAILURE_WINDOW", "60"),
        ("AUTH_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
    ];
    let settings = auth::Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    assert_eq!(settings.login_failure_limit, 5);
    assert_eq!(settings.login_failure_limit_per_ip, 50);
    assert_eq!(settings.login_failure_window, Duration::from_secs(60));
    assert_eq!(
        settings.trusted_proxy_header.as_deref(),
        Some("X-Forwarded-For")
    );
    let defaults = auth::Settings::default();
    assert_eq!(
        (
            defaults.login_failure_limit,
            defaults.login_failure_limit_per_ip
        ),
        (10, 100)
    );
    assert_eq!(defaults.login_failure_window, Duration::from_secs(900));
}
