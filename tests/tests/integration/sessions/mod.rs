//! Sessions, driven through the real router: the cookie, the current user
//! a session gives, what an unknown, expired or forged one gives, and the
//! store's life across restarts. Logging in, out and changing a password
//! are in the submodules; `#[login_required]` is in `guards`, CSRF in
//! `csrf`.

mod login;
mod logout;
mod password_change;

use std::str::FromStr;

use auth_tests::{Backend, TestDb, User, app, client::Client, fresh_auth, fresh_auth_with};
use http::{StatusCode, header};
use tower_sessions::{SessionStore, session::Id};

/// An app of the test router with two users: alice (`alice-password`,
/// with an email) and bob (`bob-password`).
pub(crate) async fn setup(backend: Backend) -> (auth::Auth<User>, Client, TestDb) {
    let (auth, db) = backend.auth::<User>(auth::Settings::default()).await;
    auth.users()
        .create_user("alice", "alice@example.com", Some("alice-password"))
        .await
        .unwrap();
    auth.users()
        .create_user("bob", "", Some("bob-password"))
        .await
        .unwrap();
    let client = Client::new(app::router(&auth));
    (auth, client, db)
}

/// How many sessions the store holds.
pub(crate) async fn session_count(auth: &auth::Auth<User>) -> u64 {
    auth::testing::session_count(auth).await.unwrap()
}

/// "Welcome, alice!" or "Welcome, Guest!".
pub(crate) async fn whoami(client: &mut Client) -> String {
    client.get("/").await.body
}

/// A new client of the same app that presents `session_id` as its cookie.
pub(crate) fn client_with_cookie(like: &Client, session_id: &str) -> Client {
    let mut other = Client::new(like.router());
    other.jar.insert("sessionid".into(), session_id.into());
    other
}

#[tokio::test]
async fn session_cookie_settings_are_applied() {
    let settings = auth::Settings {
        session_expire_at_browser_close: true,
        session_cookie_secure: true,
        session_cookie_name: "sid".into(),
        ..Default::default()
    };
    let auth = fresh_auth_with::<User>(settings).await;
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let mut client = Client::new(app::router(&auth));
    let page = client.log_in("/login/", "alice", "pw").await;
    let cookie = page.set_cookie("sid").expect("a session cookie named sid");
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "{cookie}"
    );
    assert!(cookie.contains("Secure"), "{cookie}");
}

/// `__Host-` cookie names (ASVS 3.3.1) work end to end: the login sets
/// both cookies with `Secure`, `Path=/` and no `Domain`, as browsers
/// demand of the prefix, and the next request is logged in.
#[tokio::test]
async fn host_prefixed_cookie_names_work_end_to_end() {
    let settings = auth::Settings {
        session_cookie_secure: true,
        csrf_cookie_secure: true,
        session_cookie_name: "__Host-sessionid".into(),
        csrf_cookie_name: "__Host-csrftoken".into(),
        ..Default::default()
    };
    let auth = fresh_auth_with::<User>(settings).await;
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let mut client = Client::new(app::router(&auth));
    let form = client.get("/login/").await;
    let csrf = form
        .set_cookie("__Host-csrftoken")
        .expect("the CSRF cookie");
    let page = client.log_in("/login/", "alice", "pw").await;
    assert_eq!(page.status, http::StatusCode::SEE_OTHER, "{}", page.body);
    let session = page
        .set_cookie("__Host-sessionid")
        .expect("the session cookie");
    for cookie in [&csrf, &session] {
        let attributes: Vec<&str> = cookie.split(';').map(str::trim).collect();
        assert!(attributes.contains(&"Secure"), "{cookie}");
        assert!(attributes.contains(&"Path=/"), "{cookie}");
        assert!(!cookie.to_ascii_lowercase().contains("domain="), "{cookie}");
    }
    assert!(!client.jar.contains_key("sessionid") && !client.jar.contains_key("csrftoken"));
    assert_eq!(client.get("/").await.body, "Welcome, alice!");
    let logout = client.post_with_csrf("/logout/", &[]).await;
    assert!(logout.status.is_redirection() || logout.status.is_success());
    assert_eq!(client.get("/").await.body, "Welcome, Guest!");
}

#[tokio::test]
async fn debug_output_never_shows_the_session_id() {
    let auth = fresh_auth::<User>().await;
    let app = app::routes(&auth)
        .route(
            "/debug/",
            axum::routing::post(|session: auth::Session| async move {
                session.insert("k", "v").await.unwrap();
                format!("{session:?}")
            }),
        )
        .layer(auth.layer());
    let mut client = Client::new(app);
    let page = client.post_with_csrf("/debug/", &[]).await;
    let id = client.jar["sessionid"].clone();
    let page2 = client.post_with_csrf("/debug/", &[]).await;
    for shown in [page.body, page2.body] {
        assert!(shown.starts_with("Session"), "{shown}");
        assert!(!shown.contains(&id), "{shown}");
    }
}

#[tokio::test]
async fn works_over_a_real_socket_with_a_cookie_jar() {
    let (auth, _, _db) = setup(Backend::Sqlite).await;
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let server = tokio::spawn(axum::serve(listener, app::router(&auth)).into_future());
    let http = reqwest::Client::builder()
        .cookie_store(true)
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap();
    let base = format!("http://{addr}");
    let token = http
        .get(format!("{base}/csrf/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = http
        .post(format!("{base}/login/"))
        .form(&[
            ("username", "alice"),
            ("password", "alice-password"),
            ("csrfmiddlewaretoken", &token),
        ])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let profile = http.get(format!("{base}/profile/")).send().await.unwrap();
    assert_eq!(profile.status(), StatusCode::OK);
    assert_eq!(profile.text().await.unwrap(), "profile of alice ()");
    let token = http
        .get(format!("{base}/csrf/"))
        .send()
        .await
        .unwrap()
        .text()
        .await
        .unwrap();
    let response = http
        .post(format!("{base}/logout/"))
        .form(&[("csrfmiddlewaretoken", &token)])
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), StatusCode::SEE_OTHER);
    let profile = http.get(format!("{base}/profile/")).send().await.unwrap();
    assert_eq!(profile.status(), StatusCode::SEE_OTHER);
    server.abort();
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn inactive_and_deleted_users_are_anonymous(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        client.log_in("/login/", "alice", "alice-password").await;
        let mut alice = auth.users().get_by_username("alice").await.unwrap().unwrap();
        alice.is_active = false;
        let alice = auth.users().save(alice).await.unwrap();
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
        assert_eq!(client.get("/profile/").await.status, StatusCode::SEE_OTHER);

        let mut alice = alice;
        alice.is_active = true;
        let alice = auth.users().save(alice).await.unwrap();
        assert_eq!(
            whoami(&mut client).await,
            "Welcome, Guest!",
            "stricter than Django: deactivation ended the session, reactivation does not revive it"
        );

        auth.users().delete(alice).await.unwrap();
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
    }

    async fn garbage_cookies_are_anonymous_and_create_nothing(backend: Backend) {
        let (auth, client, _db) = setup(backend).await;
        let long = "A".repeat(10 * 1024);
        for value in [
            "garbage",
            "",
            "AAAAAAAAAAAAAAAAAAAAAA",
            "%00%ff",
            "\"quoted\"",
            long.as_str(),
            "x;y=z",
        ] {
            let mut c = client_with_cookie(&client, value);
            for uri in ["/", "/profile/", "/cart/"] {
                let page = c.get(uri).await;
                assert!(
                    !page.status.is_server_error(),
                    "{value:.20}: {uri} gave {}",
                    page.status
                );
            }
            assert_eq!(whoami(&mut c).await, "Welcome, Guest!");
        }
        assert_eq!(
            session_count(&auth).await,
            0,
            "unknown keys create no rows"
        );
    }

    async fn an_expired_session_is_anonymous_and_cleared(backend: Backend) {
        let (auth, mut client, db) = setup(backend).await;
        client.log_in("/login/", "alice", "alice-password").await;
        let id = Id::from_str(&client.jar["sessionid"]).unwrap();
        let store = auth::testing::session_store(&auth);
        let mut record = store.load(&id).await.unwrap().unwrap();
        record.expiry_date = auth::DateTime::now_utc() - time::Duration::seconds(1);
        // Redis may drop the expired key at once, which `save` reports.
        let _ = store.save(&record).await;
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
        if db.redis.is_none() {
            assert_eq!(auth.clear_expired_sessions().await.unwrap(), 1);
        }
        assert_eq!(session_count(&auth).await, 0);
    }

    async fn authenticated_pages_are_private_to_the_user(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        let anonymous = client.get("/").await;
        assert_eq!(
            anonymous
                .headers
                .get(header::VARY)
                .map(|v| v.to_str().unwrap()),
            Some("Cookie")
        );
        client.log_in("/login/", "alice", "alice-password").await;
        let page = client.get("/").await;
        assert_eq!(
            page.headers
                .get(header::CACHE_CONTROL)
                .map(|v| v.to_str().unwrap()),
            Some("private")
        );
        assert_eq!(
            page.headers.get(header::VARY).map(|v| v.to_str().unwrap()),
            Some("Cookie")
        );
        // Routes that never look at the user are left alone.
        assert!(
            client
                .get("/ping/")
                .await
                .headers
                .get(header::VARY)
                .is_none()
        );
    }

    #[backends(sqlite, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel)]
    async fn requests_that_do_not_ask_for_the_user_never_touch_the_database(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        client.log_in("/login/", "alice", "alice-password").await;
        auth.db().clone().close().await.unwrap();
        let page = client.get("/ping/").await;
        assert_eq!((page.status, page.body.as_str()), (StatusCode::OK, "pong"));
        let page = client.get("/").await;
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
        assert!(page.body.contains("Service unavailable"), "{}", page.body);
        let page = client.get("/profile/").await;
        assert_eq!(page.status, StatusCode::SERVICE_UNAVAILABLE);
    }

    #[backends(sqlite)]
    async fn cached_requests_skip_the_database(backend: Backend) {
        // A long staleness bound: the change log is not polled again
        // during the test (a failed poll would rightly turn the cache off).
        let db = backend.database().await;
        let auth = db
            .auth::<User>(auth::Settings {
                cache_max_staleness: std::time::Duration::from_secs(120),
                ..Default::default()
            })
            .await;
        auth.users().create_user("alice", "alice@example.com", Some("alice-password"))
            .await
            .unwrap();
        let mut client = Client::new(app::router(&auth));
        client.log_in("/login/", "alice", "alice-password").await;
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
        auth.db().clone().close().await.unwrap();
        assert_eq!(
            whoami(&mut client).await,
            "Welcome, alice!",
            "served from memory"
        );
    }

    async fn sessions_survive_a_restart(backend: Backend) {
        let db = backend.database().await;
        let first = db.auth::<User>(auth::Settings::default()).await;
        first
            .users()
            .create_user("alice", "", Some("alice-password"))
            .await
            .unwrap();
        let mut client = Client::new(app::router(&first));
        client.log_in("/login/", "alice", "alice-password").await;
        let cookie = client.jar["sessionid"].clone();
        first.db().clone().close().await.unwrap();
        drop(first);

        let restarted = db.auth::<User>(auth::Settings::default()).await;
        let mut client = client_with_cookie(&Client::new(app::router(&restarted)), &cookie);
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
    }
}
