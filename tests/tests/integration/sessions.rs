//! Sessions, login/logout, the current user, `#[login_required]` and CSRF,
//! driven through the real router.

use std::{str::FromStr, sync::Arc};

use auth_tests::{
    Backend, TestDb, User, app,
    client::{Client, Page},
    fresh_auth, fresh_auth_with,
};
use http::{Request, StatusCode, header};
use tower_sessions::{SessionStore, session::Id};

/// Django's default `LOGIN_URL`, set explicitly: left unset, `login_url`
/// follows the last `auth_urls!` router built in the process, and other
/// modules of this test binary build routers with other login paths.
fn settings() -> auth::Settings {
    auth::Settings {
        login_url: Some("/accounts/login/".into()),
        ..Default::default()
    }
}

async fn setup(backend: Backend) -> (auth::Auth<User>, Client, TestDb) {
    let (auth, db) = backend.auth::<User>(settings()).await;
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
async fn session_count(auth: &auth::Auth<User>) -> u64 {
    auth::testing::session_count(auth).await.unwrap()
}

async fn login(client: &mut Client, username: &str, password: &str) -> Page {
    client
        .post_with_csrf("/login/", &[("username", username), ("password", password)])
        .await
}

async fn whoami(client: &mut Client) -> String {
    client.get("/").await.body
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
    let page = login(&mut client, "alice", "pw").await;
    let cookie = page.set_cookie("sid").expect("a session cookie named sid");
    assert!(
        !cookie.contains("Max-Age") && !cookie.contains("Expires"),
        "{cookie}"
    );
    assert!(cookie.contains("Secure"), "{cookie}");
}

fn client_with_cookie(like: &Client, session_id: &str) -> Client {
    let mut other = Client::new(like_router(like));
    other.jar.insert("sessionid".into(), session_id.into());
    other
}

fn like_router(client: &Client) -> axum::Router {
    client.router()
}

/// Signals between a test and [`slow_write`]: loaded, then release.
#[derive(Default)]
struct Gates {
    loaded: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

/// Loads the session, waits, then writes to it.
async fn slow_write(
    axum::extract::State(gates): axum::extract::State<Arc<Gates>>,
    session: auth::Session,
) -> auth::Result<&'static str> {
    session.get::<String>("cart").await?;
    gates.loaded.notify_one();
    gates.release.notified().await;
    session.insert("cart", "late write").await?;
    Ok("written")
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
async fn login_required_layer_guards_whole_routers() {
    let auth = fresh_auth_with::<User>(settings()).await;
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let app = app::routes(&auth)
        .route("/reports/", axum::routing::get(|| async { "reports" }))
        .route("/static/app.css", axum::routing::get(|| async { "css" }))
        .route(
            "/accounts/login/",
            axum::routing::get(|| async { "login page" }),
        )
        .layer(
            auth::LoginRequiredLayer::new()
                .exempt("/")
                .exempt("/csrf/")
                .exempt("/login/")
                .exempt_prefix("/static/"),
        );
    let mut client = Client::new(app.layer(auth.layer()));
    assert_eq!(client.get("/").await.body, "Welcome, Guest!");
    assert_eq!(client.get("/static/app.css").await.body, "css");
    assert_eq!(client.get("/accounts/login/").await.body, "login page");
    let page = client.get("/reports/?q=1").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        Some("/accounts/login/?next=/reports/%3Fq%3D1")
    );
    login(&mut client, "alice", "pw").await;
    assert_eq!(client.get("/reports/").await.body, "reports");
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
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis];

    async fn login_sets_a_django_style_session_cookie(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        let page = login(&mut client, "alice", "alice-password").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/profile/"));
        let cookie = page.set_cookie("sessionid").expect("a session cookie");
        for attribute in ["HttpOnly", "SameSite=Lax", "Path=/", "Max-Age=1209600"] {
            assert!(
                cookie.contains(attribute),
                "{attribute} missing in {cookie}"
            );
        }
        assert!(!cookie.contains("Secure"), "{cookie}");
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
        let profile = client.get("/profile/").await;
        assert_eq!(
            (profile.status, profile.body.as_str()),
            (StatusCode::OK, "profile of alice ()")
        );
    }

    async fn failed_logins_create_no_session(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        let page = login(&mut client, "alice", "wrong").await;
        assert_eq!(page.body, "Invalid credentials");
        assert!(page.set_cookie("sessionid").is_none());
        assert_eq!(session_count(&auth).await, 0);
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
    }

    async fn login_rotates_the_session_id_and_keeps_anonymous_data(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        client.post_with_csrf("/cart/", &[("item", "apples")]).await;
        let anonymous_id = client.jar["sessionid"].clone();

        login(&mut client, "alice", "alice-password").await;
        let logged_in_id = client.jar["sessionid"].clone();
        assert_ne!(anonymous_id, logged_in_id);
        assert_eq!(
            client.get("/cart/").await.body,
            "apples",
            "data carries over"
        );

        // The old id is dead.
        let mut attacker = client_with_cookie(&client, &anonymous_id);
        assert_eq!(attacker.get("/cart/").await.body, "");
        assert_eq!(whoami(&mut attacker).await, "Welcome, Guest!");

        // A repeated login of the same user rotates too (stricter than Django).
        login(&mut client, "alice", "alice-password").await;
        assert_ne!(client.jar["sessionid"], logged_in_id);
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
    }

    async fn another_user_logging_in_drops_the_first_users_data(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        login(&mut client, "alice", "alice-password").await;
        client
            .post_with_csrf("/cart/", &[("item", "alice's secret")])
            .await;
        let page = login(&mut client, "bob", "bob-password").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(whoami(&mut client).await, "Welcome, bob!");
        assert_eq!(client.get("/cart/").await.body, "", "alice's data is gone");
    }

    /// Session fixation, every branch of `login`: whatever the session held
    /// before (nothing, an anonymous session, the same user, another user,
    /// a stale auth hash), the login answers with a new id, and the old id,
    /// replayed, is anonymous.
    async fn every_login_issues_a_new_id_and_kills_the_old_one(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        let check = async |client: &mut Client, username: &str, password: &str, branch: &str| {
            let old = client.jar.get("sessionid").cloned();
            let page = login(client, username, password).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{branch}");
            let issued = page
                .set_cookie("sessionid")
                .and_then(|c| c.split(';').next().map(str::to_owned))
                .and_then(|c| c.split_once('=').map(|(_, v)| v.to_owned()))
                .unwrap_or_else(|| panic!("{branch}: the login sets a session cookie"));
            assert_eq!(whoami(client).await, format!("Welcome, {username}!"), "{branch}");
            if let Some(old) = old {
                assert_ne!(issued, old, "{branch}: the id changes");
                let mut replay = client_with_cookie(client, &old);
                assert_eq!(
                    whoami(&mut replay).await,
                    "Welcome, Guest!",
                    "{branch}: the old id is dead"
                );
            }
        };
        check(&mut client, "alice", "alice-password", "no session").await;
        let mut anonymous = Client::new(client.router());
        anonymous.post_with_csrf("/cart/", &[("item", "apples")]).await;
        assert!(anonymous.jar.contains_key("sessionid"));
        check(&mut anonymous, "alice", "alice-password", "anonymous session").await;
        check(&mut client, "alice", "alice-password", "same user").await;
        check(&mut client, "bob", "bob-password", "another user").await;
        // Bob's password changes elsewhere: this session's hash is stale.
        let mut bob = auth.users().get_by_username("bob").await.unwrap().unwrap();
        auth.users().set_password(&mut bob, "bob-new-password").await.unwrap();
        check(&mut client, "bob", "bob-new-password", "stale auth hash").await;
    }

    /// A request that read the session before a logout must not put it
    /// back into the cache after the logout deleted it.
    #[backends(sqlite, postgres, mysql, postgres_redis)]
    async fn a_read_racing_a_logout_cannot_bring_the_session_back(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        login(&mut client, "alice", "alice-password").await;
        let cookie = client.jar["sessionid"].clone();
        auth::testing::forget_cached(&auth);
        let gate = auth::testing::session_cache_gate(&auth).expect("the cache is on");
        gate.arm();
        let mut reader = client_with_cookie(&client, &cookie);
        let read = tokio::spawn(async move { whoami(&mut reader).await });
        gate.paused().await; // the reader has the session, not yet cached
        let page = client.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        gate.release();
        read.await.unwrap();
        let mut replay = client_with_cookie(&client, &cookie);
        assert_eq!(whoami(&mut replay).await, "Welcome, Guest!");
    }

    /// A request that read the user before a password change must not put
    /// the old password hash back into the cache (which would revive the
    /// other sessions the change ended).
    #[backends(sqlite, postgres, mysql, postgres_redis)]
    async fn a_read_racing_a_password_change_cannot_revive_old_sessions(backend: Backend) {
        let (auth, mut a, _db) = setup(backend).await;
        let mut b = Client::new(app::router(&auth));
        login(&mut a, "alice", "alice-password").await;
        login(&mut b, "alice", "alice-password").await;
        auth::testing::forget_cached(&auth);
        let gate = auth::testing::user_cache_gate(&auth).expect("the cache is on");
        gate.arm();
        let b_cookie = b.jar["sessionid"].clone();
        let read = tokio::spawn(async move { whoami(&mut b).await });
        gate.paused().await; // b has read alice with her old hash
        let page = a
            .post_with_csrf("/password/", &[("password", "new-password")])
            .await;
        assert_eq!(page.body, "changed");
        gate.release();
        read.await.unwrap();
        let mut b = client_with_cookie(&a, &b_cookie);
        assert_eq!(whoami(&mut b).await, "Welcome, Guest!");
        assert_eq!(whoami(&mut a).await, "Welcome, alice!");
    }

    async fn logout_kills_the_session_server_side(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        login(&mut client, "alice", "alice-password").await;
        let old_id = client.jar["sessionid"].clone();
        assert_eq!(session_count(&auth).await, 1);

        let page = client.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let removal = page.set_cookie("sessionid").expect("the cookie is removed");
        assert!(removal.contains("Max-Age=0"), "{removal}");
        assert!(!client.jar.contains_key("sessionid"));
        assert_eq!(session_count(&auth).await, 0, "the row is deleted");

        // Replaying the old cookie is anonymous.
        let mut replay = client_with_cookie(&client, &old_id);
        assert_eq!(whoami(&mut replay).await, "Welcome, Guest!");
        assert_eq!(replay.get("/profile/").await.status, StatusCode::SEE_OTHER);
    }

    async fn a_logout_elsewhere_is_not_undone_by_a_concurrent_write(backend: Backend) {
        let (auth, mut tab_one, _db) = setup(backend).await;
        login(&mut tab_one, "alice", "alice-password").await;
        let gates = Arc::new(Gates::default());
        let router = axum::Router::new()
            .route("/slow/", axum::routing::get(slow_write))
            .with_state(gates.clone())
            .merge(app::routes(&auth))
            .layer(auth.layer());
        let mut tab_one = {
            let mut c = Client::new(router.clone());
            c.jar = tab_one.jar.clone();
            c
        };
        let mut tab_two = Client::new(router);
        tab_two.jar = tab_one.jar.clone();

        let slow = tokio::spawn(async move { tab_two.get("/slow/").await });
        gates.loaded.notified().await;
        let page = tab_one.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        gates.release.notify_one();
        let page = slow.await.unwrap();
        assert_eq!(page.status, StatusCode::BAD_REQUEST, "{}", page.body);
        assert!(page.body.contains("Session interrupted"), "{}", page.body);
        assert_eq!(
            session_count(&auth).await,
            0,
            "the logged-out session stays dead"
        );
    }

    async fn password_change_keeps_this_session_and_kills_the_others(backend: Backend) {
        let (auth, mut a, _db) = setup(backend).await;
        let mut b = Client::new(app::router(&auth));
        login(&mut a, "alice", "alice-password").await;
        login(&mut b, "alice", "alice-password").await;
        let a_before = a.jar["sessionid"].clone();

        let page = a
            .post_with_csrf("/password/", &[("password", "new-password")])
            .await;
        assert_eq!(page.body, "changed");
        assert_ne!(a.jar["sessionid"], a_before, "the session id changes");
        assert_eq!(whoami(&mut a).await, "Welcome, alice!");

        let page = b.get("/profile/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/login/?next=/profile/"));
        assert!(
            page.set_cookie("sessionid")
                .is_some_and(|c| c.contains("Max-Age=0")),
            "b's cookie is deleted"
        );
        assert_eq!(whoami(&mut b).await, "Welcome, Guest!");

        assert!(
            auth.authenticate("alice", "alice-password")
                .await
                .unwrap()
                .is_none()
        );
        assert!(
            auth.authenticate("alice", "new-password")
                .await
                .unwrap()
                .is_some()
        );
    }

    async fn a_tampered_auth_hash_flushes_the_session(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        login(&mut client, "alice", "alice-password").await;
        let id = Id::from_str(&client.jar["sessionid"]).unwrap();
        let store = auth::testing::session_store(&auth);
        let mut record = store.load(&id).await.unwrap().unwrap();
        record
            .data
            .insert("_auth_user_hash".into(), "0".repeat(64).into());
        store.save(&record).await.unwrap();

        let page = client.get("/profile/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(
            page.set_cookie("sessionid")
                .is_some_and(|c| c.contains("Max-Age=0"))
        );
        assert_eq!(session_count(&auth).await, 0, "the session is flushed");
    }

    async fn inactive_and_deleted_users_are_anonymous(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        login(&mut client, "alice", "alice-password").await;
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
            "Welcome, alice!",
            "not flushed: reactivation restores it"
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

    async fn an_unknown_session_on_a_protected_page_deletes_the_cookie(backend: Backend) {
        let (_auth, client, _db) = setup(backend).await;
        let mut c = client_with_cookie(&client, "AAAAAAAAAAAAAAAAAAAAAA");
        let page = c.get("/profile/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert!(
            page.set_cookie("sessionid")
                .is_some_and(|v| v.contains("Max-Age=0"))
        );
        // A page that does not touch the session sends no cookie at all.
        let mut c = client_with_cookie(&client, "AAAAAAAAAAAAAAAAAAAAAA");
        assert!(c.get("/ping/").await.set_cookie("sessionid").is_none());
    }

    async fn login_required_redirects_with_an_encoded_next(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        let cases = [
            ("/profile/", "/login/?next=/profile/"),
            (
                "/profile/?a=1&b=x+y",
                "/login/?next=/profile/%3Fa%3D1%26b%3Dx%2By",
            ),
            ("/private/", "/accounts/login/?next=/private/"),
            ("/custom/", "/custom-login/?goto=/custom/"),
        ];
        for (uri, location) in cases {
            let page = client.get(uri).await;
            assert_eq!(page.status, StatusCode::SEE_OTHER, "{uri}");
            assert_eq!(page.location(), Some(location), "{uri}");
        }
        login(&mut client, "alice", "alice-password").await;
        assert_eq!(client.get("/private/").await.body, "private for alice");
        assert_eq!(client.get("/custom/").await.body, "custom");
    }

    async fn csrf_protects_unsafe_methods(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        // No cookie at all.
        let page = client.post("/ping/", &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(
            page.body
                .contains("CSRF verification failed. Request aborted."),
            "{}",
            page.body
        );
        assert!(page.body.contains("CSRF cookie not set."));

        let token = client.csrf_token().await;
        assert_eq!(token.len(), 64);
        let secret = client.jar["csrftoken"].clone();
        assert_eq!(secret.len(), 32);
        assert!(!token.contains(&secret), "the page never shows the secret");

        let missing = client.post("/ping/", &[]).await;
        assert_eq!(missing.status, StatusCode::FORBIDDEN);
        assert!(missing.body.contains("CSRF token missing."));
        let forged = "a".repeat(64);
        let page = client
            .post("/ping/", &[("csrfmiddlewaretoken", &forged)])
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("CSRF token incorrect."));
        let page = client
            .post("/ping/", &[("csrfmiddlewaretoken", "short")])
            .await;
        assert!(page.body.contains("incorrect length"));

        assert_eq!(
            client
                .post("/ping/", &[("csrfmiddlewaretoken", &token)])
                .await
                .status,
            StatusCode::OK
        );
        let via_header = Request::post("/ping/")
            .header("X-CSRFToken", &token)
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(client.send(via_header).await.status, StatusCode::OK);
        for method in ["PUT", "PATCH", "DELETE"] {
            let req = Request::builder()
                .method(method)
                .uri("/ping/")
                .body(axum::body::Body::empty())
                .unwrap();
            assert_eq!(
                client.send(req).await.status,
                StatusCode::FORBIDDEN,
                "{method}"
            );
        }

        // A cross-site origin is refused even with a good token.
        let cross = Request::post("/ping/")
            .header("X-CSRFToken", &token)
            .header(header::ORIGIN, "https://evil.example")
            .body(axum::body::Body::empty())
            .unwrap();
        let page = client.send(cross).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("Origin checking failed"));
        let same = Request::post("/ping/")
            .header("X-CSRFToken", &token)
            .header(header::ORIGIN, "http://testserver")
            .body(axum::body::Body::empty())
            .unwrap();
        assert_eq!(client.send(same).await.status, StatusCode::OK);
    }

    async fn a_failed_csrf_check_logs_nobody_in(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        client.csrf_token().await;
        let page = client
            .post(
                "/login/",
                &[("username", "alice"), ("password", "alice-password")],
            )
            .await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert_eq!(session_count(&auth).await, 0);
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
    }

    async fn login_rotates_the_csrf_secret(backend: Backend) {
        let (_auth, mut client, _db) = setup(backend).await;
        let planted = client.csrf_token().await;
        let before = client.jar["csrftoken"].clone();
        let page = client
            .post(
                "/login/",
                &[
                    ("username", "alice"),
                    ("password", "alice-password"),
                    ("csrfmiddlewaretoken", &planted),
                ],
            )
            .await;
        let cookie = page.set_cookie("csrftoken").expect("a new CSRF cookie");
        assert!(
            cookie.contains("Max-Age=31449600") && cookie.contains("SameSite=Lax"),
            "{cookie}"
        );
        assert_ne!(client.jar["csrftoken"], before);
        let page = client
            .post("/ping/", &[("csrfmiddlewaretoken", &planted)])
            .await;
        assert_eq!(
            page.status,
            StatusCode::FORBIDDEN,
            "the planted token is useless now"
        );
    }

    async fn an_expired_session_is_anonymous_and_cleared(backend: Backend) {
        let (auth, mut client, db) = setup(backend).await;
        login(&mut client, "alice", "alice-password").await;
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

    async fn secret_rotation_keeps_sessions_only_with_a_fallback(backend: Backend) {
        let db = backend.database().await;
        let build = |secret: &str, fallbacks: Vec<String>| {
            let settings = auth::Settings {
                secret_key: Some(secret.into()),
                secret_key_fallbacks: fallbacks,
                ..Default::default()
            };
            let db = &db;
            async move { Ok::<_, ()>(db.auth::<User>(settings).await) }
        };
        let old = "old-secret-key-old-secret-key-old-secret-key".to_owned();
        let new = "new-secret-key-new-secret-key-new-secret-key".to_owned();
        let first = build(&old, vec![]).await.unwrap();
        first.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = Client::new(app::router(&first));
        login(&mut client, "alice", "pw").await;
        let id_before = client.jar["sessionid"].clone();

        let rotated = build(&new, vec![old.clone()]).await.unwrap();
        let mut same = client_with_cookie(&Client::new(app::router(&rotated)), &id_before);
        assert_eq!(whoami(&mut same).await, "Welcome, alice!");
        assert_ne!(
            same.jar["sessionid"], id_before,
            "the session moves to a new id under the new key"
        );
        let id_after = same.jar["sessionid"].clone();

        let no_fallback = build(&new, vec![]).await.unwrap();
        let mut later = client_with_cookie(&Client::new(app::router(&no_fallback)), &id_after);
        assert_eq!(
            whoami(&mut later).await,
            "Welcome, alice!",
            "re-stored under the new key"
        );
        let mut stale = client_with_cookie(
            &Client::new(app::router(&build(&"x".repeat(40), vec![]).await.unwrap())),
            &id_after,
        );
        assert_eq!(
            whoami(&mut stale).await,
            "Welcome, Guest!",
            "no key matches: logged out"
        );
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
        login(&mut client, "alice", "alice-password").await;
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

    #[backends(sqlite, postgres, mysql, postgres_redis)]
    async fn requests_that_do_not_ask_for_the_user_never_touch_the_database(backend: Backend) {
        let (auth, mut client, _db) = setup(backend).await;
        login(&mut client, "alice", "alice-password").await;
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
        login(&mut client, "alice", "alice-password").await;
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
        login(&mut client, "alice", "alice-password").await;
        let cookie = client.jar["sessionid"].clone();
        first.db().clone().close().await.unwrap();
        drop(first);

        let restarted = db.auth::<User>(auth::Settings::default()).await;
        let mut client = client_with_cookie(&Client::new(app::router(&restarted)), &cookie);
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
    }
}
