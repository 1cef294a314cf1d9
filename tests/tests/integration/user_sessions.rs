//! The sessions a user can see and end (`SessionListView`,
//! `auth::sessions`, `auth.sessions()`), their lifetime (idle and absolute
//! timeouts, remember me, the cap per user) and re-authentication
//! (`ReauthenticateView`, `#[reauth_required]`), on every backend.

use std::time::{Duration, Instant};

use auth_tests::{Backend, TestDb, User, app, client::Client};
use axum::body::Body;
use http::{Request, StatusCode, header};

auth::auth_urls! {
    login: "/login/" => LoginView,
    logout: "/logout/" => LogoutView { next_page: "/" },
    sessions: "/sessions/" => SessionListView,
    reauthenticate: "/reauthenticate/" => ReauthenticateView,
}

const FIREFOX: &str = "Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0";
const CHROME: &str = "Mozilla/5.0 (Windows NT 10.0; Win64; x64) AppleWebKit/537.36 \
                      (KHTML, like Gecko) Chrome/131.0.0.0 Safari/537.36";

#[auth::reauth_required(max_age = 60)]
async fn sensitive() -> &'static str {
    "sensitive"
}

fn settings() -> auth::Settings {
    auth::Settings {
        login_redirect_url: Some("/".into()),
        cache_max_staleness: Duration::from_millis(200),
        ..Default::default()
    }
}

/// The routes, without the auth layer.
fn routes() -> axum::Router {
    urls::router()
        .route("/", axum::routing::get(app::home))
        .route("/private/", axum::routing::get(app::private))
        .route("/sensitive/", axum::routing::get(sensitive))
        .route(
            "/csrf/",
            axum::routing::get(|s: auth::Session| async move { s.csrf_token() }),
        )
        .route("/strip-metadata/", axum::routing::post(strip_metadata))
}

/// Removes the session's metadata, as a session logged in before the
/// registry existed has none.
async fn strip_metadata(session: auth::Session) -> auth::Result<&'static str> {
    session
        .remove_value(auth::testing::SESSION_METADATA_KEY)
        .await?;
    Ok("stripped")
}

fn router(auth: &auth::Auth<User>) -> axum::Router {
    routes().layer(auth.layer())
}

async fn instance(db: &TestDb, settings: auth::Settings) -> auth::Auth<User> {
    db.builder::<User>(settings)
        .urls(urls::URLCONF)
        .build()
        .await
        .expect("builds")
}

/// An app on a fresh database with alice and bob (password `pw`).
async fn setup(backend: Backend, settings: auth::Settings) -> (auth::Auth<User>, TestDb) {
    let db = backend.database().await;
    let auth = instance(&db, settings).await;
    for name in ["alice", "bob"] {
        auth.users()
            .create_user(name, "", Some("pw"))
            .await
            .unwrap();
    }
    (auth, db)
}

/// A client that sends `agent` as its `User-Agent`.
struct Browser {
    client: Client,
    agent: &'static str,
}

impl Browser {
    async fn logged_in(auth: &auth::Auth<User>, username: &str, agent: &'static str) -> Browser {
        let mut browser = Browser {
            client: Client::new(router(auth)),
            agent,
        };
        let page = browser.log_in(username, &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        browser
    }

    async fn log_in(&mut self, username: &str, extra: &[(&str, &str)]) -> auth_tests::client::Page {
        let form = self.get("/login/").await;
        let token = form.input_value("csrfmiddlewaretoken").unwrap();
        let mut fields = vec![
            ("csrfmiddlewaretoken", token.as_str()),
            ("username", username),
            ("password", "pw"),
        ];
        fields.extend_from_slice(extra);
        self.post("/login/", &fields).await
    }

    async fn get(&mut self, uri: &str) -> auth_tests::client::Page {
        let req = Request::get(uri)
            .header(header::USER_AGENT, self.agent)
            .body(Body::empty())
            .unwrap();
        self.client.send(req).await
    }

    async fn post(&mut self, uri: &str, fields: &[(&str, &str)]) -> auth_tests::client::Page {
        let body = form_urlencoded::Serializer::new(String::new())
            .extend_pairs(fields)
            .finish();
        let req = Request::post(uri)
            .header(header::USER_AGENT, self.agent)
            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
            .body(Body::from(body))
            .unwrap();
        self.client.send(req).await
    }

    /// POSTs `fields` with a CSRF token.
    async fn post_with_csrf(
        &mut self,
        uri: &str,
        fields: &[(&str, &str)],
    ) -> auth_tests::client::Page {
        let token = self.get("/csrf/").await.body;
        let mut all = fields.to_vec();
        all.push(("csrfmiddlewaretoken", &token));
        self.post(uri, &all).await
    }

    async fn whoami(&mut self) -> String {
        self.get("/").await.body
    }
}

/// The handles of the "End session" forms on the session list.
fn end_handles(page: &str) -> Vec<String> {
    page.split("name=\"session\" value=\"")
        .skip(1)
        .map(|rest| rest[..rest.find('"').unwrap()].to_owned())
        .collect()
}

async fn user_id(auth: &auth::Auth<User>, name: &str) -> i64 {
    auth.users()
        .get_by_username(name)
        .await
        .unwrap()
        .unwrap()
        .id
}

auth_tests::backend_tests! {
    backends: [sqlite, sqlite_uncached, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    async fn users_see_their_sessions_and_end_one(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut firefox = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let mut chrome = Browser::logged_in(&auth, "alice", CHROME).await;
        let mut bobs = Browser::logged_in(&auth, "bob", FIREFOX).await;

        let page = firefox.get("/sessions/").await;
        assert_eq!(page.status, StatusCode::OK);
        assert!(page.body.contains("Firefox on Linux"), "{}", page.body);
        assert!(page.body.contains("Chrome on Windows 10"), "{}", page.body);
        assert_eq!(page.body.matches("(this session)").count(), 1);
        assert!(page.body.contains("Log out all other sessions"));
        let handles = end_handles(&page.body);
        assert_eq!(handles.len(), 1, "one other session: {}", page.body);
        let cookie = &firefox.client.jar["sessionid"];
        assert!(!page.body.contains(cookie.as_str()), "the page never shows session keys");

        let ended = firefox.post_with_csrf("/sessions/", &[("session", &handles[0])]).await;
        assert_eq!(ended.status, StatusCode::SEE_OTHER);
        assert_eq!(ended.location(), Some("/sessions/"));
        assert_eq!(chrome.whoami().await, "Welcome, Guest!");
        assert_eq!(firefox.whoami().await, "Welcome, alice!");
        assert_eq!(bobs.whoami().await, "Welcome, bob!");
        let left = auth.sessions().list_for(user_id(&auth, "alice").await).await.unwrap();
        assert_eq!(left.len(), 1);
        assert_eq!(left[0].device, "Firefox on Linux");
    }

    async fn a_session_that_is_not_theirs_is_a_404(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let mut bob = Browser::logged_in(&auth, "bob", CHROME).await;
        let bobs = auth.sessions().list_for(user_id(&auth, "bob").await).await.unwrap();
        assert_eq!(bobs.len(), 1);
        let bob_cookie = bob.client.jar["sessionid"].clone();
        for key in [bobs[0].key.as_str(), bob_cookie.as_str(), "nonsense", "0123456789abcdef0123456789abcdef"] {
            let page = alice.post_with_csrf("/sessions/", &[("session", key)]).await;
            assert_eq!(page.status, StatusCode::NOT_FOUND, "{key}");
        }
        assert_eq!(bob.whoami().await, "Welcome, bob!");
        // The API says the same.
        assert_eq!(auth.sessions().list_for(user_id(&auth, "bob").await).await.unwrap().len(), 1);
    }

    async fn log_out_all_other_sessions_keeps_this_one(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut here = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let mut others = Vec::new();
        for _ in 0..3 {
            others.push(Browser::logged_in(&auth, "alice", CHROME).await);
        }
        let page = here.post_with_csrf("/sessions/", &[("action", "end_all_other")]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        for other in &mut others {
            assert_eq!(other.whoami().await, "Welcome, Guest!");
        }
        assert_eq!(here.whoami().await, "Welcome, alice!");
        let page = here.get("/sessions/").await;
        assert!(end_handles(&page.body).is_empty());
        assert!(!page.body.contains("Log out all other sessions"));
    }

    async fn ending_sessions_needs_a_recent_authentication(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut here = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let mut other = Browser::logged_in(&auth, "alice", CHROME).await;
        auth::testing::advance_clock(&auth, 301);
        let list = here.get("/sessions/").await;
        assert_eq!(list.status, StatusCode::OK, "listing needs no re-authentication");
        let handle = end_handles(&list.body).remove(0);
        let page = here.post_with_csrf("/sessions/", &[("session", &handle)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/reauthenticate/?next=/sessions/"));
        assert_eq!(other.whoami().await, "Welcome, alice!", "not replayed");

        let form = here.get("/reauthenticate/?next=/sessions/").await;
        assert_eq!(form.status, StatusCode::OK);
        assert!(form.body.contains("name=\"password\""));
        let token = form.input_value("csrfmiddlewaretoken").unwrap();
        let wrong = here
            .post("/reauthenticate/", &[("csrfmiddlewaretoken", &token), ("next", "/sessions/"), ("password", "nope")])
            .await;
        assert_eq!(wrong.status, StatusCode::OK);
        assert!(wrong.body.contains(auth::testing::REAUTH_INCORRECT), "{}", wrong.body);
        let right = here
            .post("/reauthenticate/", &[("csrfmiddlewaretoken", &token), ("next", "/sessions/"), ("password", "pw")])
            .await;
        assert_eq!(right.status, StatusCode::SEE_OTHER);
        assert_eq!(right.location(), Some("/sessions/"));
        let page = here.post_with_csrf("/sessions/", &[("session", &handle)]).await;
        assert_eq!(page.location(), Some("/sessions/"));
        assert_eq!(other.whoami().await, "Welcome, Guest!");
    }

    async fn reauth_required_sends_stale_logins_to_the_password_prompt(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut anonymous = Browser { client: Client::new(router(&auth)), agent: FIREFOX };
        let page = anonymous.get("/sensitive/").await;
        assert_eq!(page.location(), Some("/login/?next=/sensitive/"));

        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        assert_eq!(alice.get("/sensitive/").await.body, "sensitive", "the login counts");
        auth::testing::advance_clock(&auth, 61);
        let page = alice.get("/sensitive/?tab=2").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        assert_eq!(page.location(), Some("/reauthenticate/?next=/sensitive/%3Ftab%3D2"));
        let form = alice.get("/reauthenticate/?next=/sensitive/%3Ftab%3D2").await;
        let token = form.input_value("csrfmiddlewaretoken").unwrap();
        let next = form.input_value("next").unwrap();
        assert_eq!(next, "/sensitive/?tab=2");
        let done = alice
            .post("/reauthenticate/", &[("csrfmiddlewaretoken", &token), ("next", &next), ("password", "pw")])
            .await;
        assert_eq!(done.location(), Some("/sensitive/?tab=2"));
        assert_eq!(alice.get("/sensitive/").await.body, "sensitive");
        // An unsafe `next` is ignored.
        let evil = alice
            .post("/reauthenticate/", &[("csrfmiddlewaretoken", &token), ("next", "https://evil.example/"), ("password", "pw")])
            .await;
        assert_eq!(evil.location(), Some("/"));
    }

    /// A stolen session cannot guess the password at the re-authentication
    /// prompt faster than at the login page.
    async fn re_authentication_is_throttled_like_logins(backend: Backend) {
        let settings = auth::Settings {
            login_failure_limit: 2,
            ..settings()
        };
        let (auth, _db) = setup(backend, settings).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let form = alice.get("/reauthenticate/").await;
        let token = form.input_value("csrfmiddlewaretoken").unwrap();
        for _ in 0..2 {
            let page = alice
                .post("/reauthenticate/", &[("csrfmiddlewaretoken", &token), ("password", "guess")])
                .await;
            assert_eq!(page.status, StatusCode::OK);
        }
        let page = alice
            .post("/reauthenticate/", &[("csrfmiddlewaretoken", &token), ("password", "pw")])
            .await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "refused without checking");
        let mut login = Browser { client: Client::new(router(&auth)), agent: FIREFOX };
        let page = login.log_in("alice", &[]).await;
        assert_eq!(page.status, StatusCode::TOO_MANY_REQUESTS, "the same counters as logins");
    }

    async fn an_idle_session_expires_and_the_login_page_says_so_once(backend: Backend) {
        let settings = auth::Settings {
            session_idle_timeout: Some(Duration::from_secs(30 * 60)),
            ..settings()
        };
        let (auth, _db) = setup(backend, settings).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        auth::testing::advance_clock(&auth, 29 * 60);
        assert_eq!(alice.whoami().await, "Welcome, alice!", "active within the timeout");
        auth::testing::advance_clock(&auth, 29 * 60);
        assert_eq!(alice.whoami().await, "Welcome, alice!", "the last request reset it");
        auth::testing::advance_clock(&auth, 31 * 60);
        let page = alice.get("/private/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let login = page.location().unwrap().to_owned();
        assert!(login.starts_with("/login/"), "{login}");
        let page = alice.get(&login).await;
        assert!(page.body.contains(auth::testing::SESSION_EXPIRED), "{}", page.body);
        let again = alice.get(&login).await;
        assert!(!again.body.contains(auth::testing::SESSION_EXPIRED), "once");
        let alice_id = user_id(&auth, "alice").await;
        assert!(auth.sessions().list_for(alice_id).await.unwrap().is_empty(), "deleted");
    }

    /// Item 13: with an idle timeout of 3 s, a session used every second
    /// lives on; left alone, it ends within the timeout. "Last seen" is
    /// written at least once per tenth of the timeout (every request
    /// here), not once a minute.
    async fn a_busy_session_outlives_a_short_idle_timeout(backend: Backend) {
        let settings = auth::Settings {
            session_idle_timeout: Some(Duration::from_secs(3)),
            ..settings()
        };
        let (auth, _db) = setup(backend, settings).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        for second in 1..=10 {
            auth::testing::advance_clock(&auth, 1);
            assert_eq!(alice.whoami().await, "Welcome, alice!", "second {second}");
        }
        auth::testing::advance_clock(&auth, 4);
        assert_eq!(alice.whoami().await, "Welcome, Guest!", "idle past the timeout");
    }

    /// Item 12 (ASVS 7.2.4): a re-authentication issues a new session id;
    /// the old one stops working.
    async fn re_authentication_cycles_the_session_id(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let before = alice.client.jar.get("sessionid").cloned().unwrap();
        auth::testing::advance_clock(&auth, 61);
        let form = alice.get("/reauthenticate/").await;
        let token = form.input_value("csrfmiddlewaretoken").unwrap();
        let done = alice
            .post("/reauthenticate/", &[("csrfmiddlewaretoken", &token), ("password", "pw")])
            .await;
        assert_eq!(done.status, StatusCode::SEE_OTHER, "{}", done.body);
        let after = alice.client.jar.get("sessionid").cloned().unwrap();
        assert_ne!(before, after, "a new session id");
        assert_eq!(alice.get("/sensitive/").await.body, "sensitive");
        let mut old = Browser { client: Client::new(router(&auth)), agent: FIREFOX };
        old.client.jar.insert("sessionid".into(), before);
        assert_eq!(old.whoami().await, "Welcome, Guest!", "the old id is dead");
    }

    /// Item 14: a logged-in session without metadata (made before the
    /// registry existed) is not "just authenticated": re-authentication
    /// is due.
    async fn a_session_without_metadata_must_re_authenticate(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let page = alice.post_with_csrf("/strip-metadata/", &[]).await;
        assert_eq!(page.body, "stripped");
        auth::testing::forget_cached(&auth);
        assert_eq!(alice.whoami().await, "Welcome, alice!", "still logged in");
        let page = alice.get("/sensitive/").await;
        assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
        assert_eq!(page.location(), Some("/reauthenticate/?next=/sensitive/"));
    }

    async fn an_active_session_dies_at_the_absolute_timeout(backend: Backend) {
        let settings = auth::Settings {
            session_idle_timeout: Some(Duration::from_secs(30 * 60)),
            session_absolute_timeout: Some(Duration::from_secs(2 * 3600)),
            ..settings()
        };
        let (auth, _db) = setup(backend, settings).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let mut alive = 0;
        for _ in 0..(2 * 60 + 5) {
            auth::testing::advance_clock(&auth, 60);
            if alice.whoami().await != "Welcome, alice!" {
                break;
            }
            alive += 1;
        }
        // Until the absolute timeout, give or take the second the test's
        // own requests take on the real clock.
        assert!((2 * 60 - 1..=2 * 60).contains(&alive), "alive for {alive} minutes");
    }

    async fn remember_me_decides_the_cookies_lifetime(backend: Backend) {
        let settings = auth::Settings {
            session_remember: auth::RememberMe::Ask,
            ..settings()
        };
        let (auth, _db) = setup(backend, settings).await;
        let mut browser = Browser { client: Client::new(router(&auth)), agent: FIREFOX };
        let form = browser.get("/login/").await;
        assert!(form.body.contains("type=\"checkbox\" name=\"remember\""), "{}", form.body);
        let page = browser.log_in("alice", &[]).await;
        let cookie = page.set_cookie("sessionid").unwrap();
        assert!(!cookie.contains("Max-Age") && !cookie.contains("Expires"), "{cookie}");
        // Later saves keep it a browser-session cookie.
        auth::testing::advance_clock(&auth, 120);
        let page = browser.get("/").await;
        if let Some(cookie) = page.set_cookie("sessionid") {
            assert!(!cookie.contains("Max-Age"), "{cookie}");
        }
        // Twelve idle hours end it on the server.
        auth::testing::advance_clock(&auth, 12 * 3600 + 1);
        assert_eq!(browser.whoami().await, "Welcome, Guest!");

        let mut remembered = Browser { client: Client::new(router(&auth)), agent: FIREFOX };
        let page = remembered.log_in("alice", &[("remember", "on")]).await;
        let cookie = page.set_cookie("sessionid").unwrap();
        assert!(cookie.contains("Max-Age=1209600"), "{cookie}");
    }

    async fn the_cap_ends_the_least_recently_active_session(backend: Backend) {
        let settings = auth::Settings {
            session_max_per_user: Some(2),
            ..settings()
        };
        let (auth, _db) = setup(backend, settings).await;
        let mut first = Browser::logged_in(&auth, "alice", FIREFOX).await;
        auth::testing::advance_clock(&auth, 120);
        let mut second = Browser::logged_in(&auth, "alice", CHROME).await;
        auth::testing::advance_clock(&auth, 120);
        assert_eq!(first.whoami().await, "Welcome, alice!"); // now the most recent
        auth::testing::advance_clock(&auth, 120);
        let mut third = Browser::logged_in(&auth, "alice", FIREFOX).await;
        assert_eq!(second.whoami().await, "Welcome, Guest!");
        assert_eq!(first.whoami().await, "Welcome, alice!");
        assert_eq!(third.whoami().await, "Welcome, alice!");
    }

    async fn the_cap_can_refuse_the_login(backend: Backend) {
        let settings = auth::Settings {
            session_max_per_user: Some(1),
            session_max_policy: auth::MaxSessionsPolicy::Refuse,
            ..settings()
        };
        let (auth, _db) = setup(backend, settings).await;
        let mut first = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let mut second = Browser { client: Client::new(router(&auth)), agent: CHROME };
        let page = second.log_in("alice", &[]).await;
        assert_eq!(page.status, StatusCode::FORBIDDEN);
        assert!(page.body.contains("too many devices"), "{}", page.body);
        assert_eq!(second.whoami().await, "Welcome, Guest!");
        assert_eq!(first.whoami().await, "Welcome, alice!");
    }

    async fn deactivating_or_deleting_a_user_ends_their_sessions(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut alice = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let mut bob = Browser::logged_in(&auth, "bob", FIREFOX).await;
        let alice_id = user_id(&auth, "alice").await;
        let mut user = auth.users().get_by_id(alice_id).await.unwrap().unwrap();
        user.base.is_active = false;
        auth.users().save(user).await.unwrap();
        assert!(auth.sessions().list_for(alice_id).await.unwrap().is_empty());
        assert_eq!(alice.whoami().await, "Welcome, Guest!");

        let bob_id = user_id(&auth, "bob").await;
        let user = auth.users().get_by_id(bob_id).await.unwrap().unwrap();
        auth.users().delete(user).await.unwrap();
        assert!(auth.sessions().list_for(bob_id).await.unwrap().is_empty());
        assert_eq!(bob.whoami().await, "Welcome, Guest!");
    }

    async fn an_administrator_ends_every_session_of_a_user(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut browsers = Vec::new();
        for agent in [FIREFOX, CHROME] {
            browsers.push(Browser::logged_in(&auth, "alice", agent).await);
        }
        let mut bob = Browser::logged_in(&auth, "bob", FIREFOX).await;
        let alice_id = user_id(&auth, "alice").await;
        assert_eq!(auth.sessions().end_all_for(alice_id).await.unwrap(), 2);
        for browser in &mut browsers {
            assert_eq!(browser.whoami().await, "Welcome, Guest!");
        }
        assert_eq!(bob.whoami().await, "Welcome, bob!");
    }

    /// ASVS 7.4.5: every session of every user ends at once, on every
    /// store, and the audit log says an administrator did it.
    async fn an_administrator_ends_every_session_of_every_user(backend: Backend) {
        let (auth, _db) = setup(backend, settings()).await;
        let mut browsers = vec![
            Browser::logged_in(&auth, "alice", FIREFOX).await,
            Browser::logged_in(&auth, "alice", CHROME).await,
            Browser::logged_in(&auth, "bob", FIREFOX).await,
        ];
        let ended = auth.sessions().end_all().await.unwrap();
        assert!(ended >= 3, "{ended}");
        for browser in &mut browsers {
            assert_eq!(browser.whoami().await, "Welcome, Guest!");
        }
        assert!(auth.sessions().list_for(user_id(&auth, "alice").await).await.unwrap().is_empty());
        let filter = auth::audit::EventFilter {
            kinds: vec![auth::events::EventKind::SessionEnded],
            ..Default::default()
        };
        let events = auth.events().list(&filter).await.unwrap();
        assert!(
            events.iter().any(|e| e.session == "all"
                && e.user_id.is_none()
                && e.ended_by == Some(auth::events::EndedBy::Admin)),
            "{events:?}"
        );
        // A new login afterwards works as before.
        let mut again = Browser::logged_in(&auth, "alice", FIREFOX).await;
        assert_eq!(again.whoami().await, "Welcome, alice!");
    }

    #[backends(sqlite, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel)]
    async fn a_session_ended_on_one_instance_is_dead_on_another_within_the_bound(backend: Backend) {
        let db = backend.database().await;
        let a = instance(&db, settings()).await;
        let b = instance(&db, settings()).await;
        a.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut here = Browser::logged_in(&a, "alice", FIREFOX).await;
        let mut there = Browser::logged_in(&a, "alice", CHROME).await;
        // The second browser's requests go to instance B, which caches it.
        there.client = {
            let mut client = Client::new(router(&b));
            client.jar = there.client.jar.clone();
            client
        };
        assert_eq!(there.whoami().await, "Welcome, alice!");
        let handle = end_handles(&here.get("/sessions/").await.body).remove(0);
        let started = Instant::now();
        let page = here.post_with_csrf("/sessions/", &[("session", &handle)]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        let deadline = started + Duration::from_millis(400) + Duration::from_secs(3);
        loop {
            let body = there.whoami().await;
            if body == "Welcome, Guest!" {
                break;
            }
            assert!(Instant::now() < deadline, "still {body:?} on B");
            tokio::time::sleep(Duration::from_millis(10)).await;
        }
        let took = started.elapsed();
        assert!(took <= Duration::from_millis(400) + Duration::from_millis(600), "took {took:?}");
    }
}

#[tokio::test]
async fn a_session_list_without_a_reauthenticate_view_fails_the_checks() {
    auth::auth_urls! {
        pub mod lonely;
        login: "/login/" => LoginView,
        sessions: "/sessions/" => SessionListView,
    }
    let auth = auth_tests::fresh_auth_with::<User>(settings()).await;
    let _ = auth;
    let db = Backend::Sqlite.database().await;
    let auth = db
        .builder::<User>(settings())
        .urls(lonely::URLCONF)
        .build()
        .await
        .unwrap();
    let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(false));
    assert!(report.contains("auth.E005"), "{report}");
    let complete = instance(&db, settings()).await;
    let report = auth::checks::run_checks(&complete, auth::checks::Scope::check(false));
    assert!(!report.contains("auth.E005"), "{report}");
}

auth_tests::backend_tests! {
    backends: [sqlite, postgres, mysql];

    /// A session table made before the registry (Django's three columns)
    /// gains the indexed `user_id` column, and the registry works on it.
    async fn migrate_adds_the_user_column_to_an_older_session_table(backend: Backend) {
        use auth::sea_orm::{ConnectionTrait, Database, DbBackend};
        let db = backend.database().await;
        let conn = Database::connect(&db.url).await.unwrap();
        let timestamp = match conn.get_database_backend() {
            DbBackend::Postgres => "timestamp with time zone",
            DbBackend::MySql => "timestamp",
            _ => "timestamp_with_timezone_text",
        };
        conn.execute_unprepared(&format!(
            "CREATE TABLE auth_session (session_key varchar(40) NOT NULL PRIMARY KEY, \
             session_data text NOT NULL, expire_date {timestamp} NOT NULL)"
        ))
        .await
        .unwrap();
        conn.close().await.unwrap();
        let auth = instance(&db, settings()).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut one = Browser::logged_in(&auth, "alice", FIREFOX).await;
        let _two = Browser::logged_in(&auth, "alice", CHROME).await;
        let alice = user_id(&auth, "alice").await;
        assert_eq!(auth.sessions().list_for(alice).await.unwrap().len(), 2);
        assert_eq!(one.whoami().await, "Welcome, alice!");
        // A second start finds the column and leaves it.
        let again = instance(&db, settings()).await;
        assert_eq!(again.sessions().list_for(alice).await.unwrap().len(), 2);
    }
}

#[tokio::test]
async fn the_layer_guards_a_whole_router() {
    let db = Backend::Sqlite.database().await;
    let auth = instance(&db, settings()).await;
    auth.users()
        .create_user("alice", "", Some("pw"))
        .await
        .unwrap();
    let admin = axum::Router::new()
        .route(
            "/admin/",
            axum::routing::get(|| async { "admin" }).post(|| async { "posted" }),
        )
        .layer(auth::ReauthRequiredLayer::new().max_age(Duration::from_secs(30)));
    let app = routes().merge(admin).layer(auth.layer());
    let mut alice = Browser {
        client: Client::new(app),
        agent: FIREFOX,
    };
    let page = alice.get("/admin/").await;
    assert_eq!(page.location(), Some("/login/?next=/admin/"));
    alice.log_in("alice", &[]).await;
    assert_eq!(alice.get("/admin/").await.body, "admin");
    auth::testing::advance_clock(&auth, 31);
    let page = alice.get("/admin/").await;
    assert_eq!(page.location(), Some("/reauthenticate/?next=/admin/"));
    // An unsafe request goes back to the page that holds its form.
    let token = alice.get("/csrf/").await.body;
    let body = format!("csrfmiddlewaretoken={token}");
    let req = Request::post("/admin/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::REFERER, "http://testserver/settings/?tab=1")
        .body(Body::from(body))
        .unwrap();
    let page = alice.client.send(req).await;
    assert_eq!(page.status, StatusCode::SEE_OTHER);
    assert_eq!(
        page.location(),
        Some("/reauthenticate/?next=/settings/%3Ftab%3D1")
    );
    // A Referer on another site is not a place to return to.
    let token = alice.get("/csrf/").await.body;
    let req = Request::post("/admin/")
        .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
        .header(header::REFERER, "https://evil.example/form/")
        .header(header::ORIGIN, "http://testserver")
        .body(Body::from(format!("csrfmiddlewaretoken={token}")))
        .unwrap();
    let page = alice.client.send(req).await;
    assert_eq!(page.location(), Some("/reauthenticate/?next=/admin/"));
}
