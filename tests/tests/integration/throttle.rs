//! Login throttling: attempts counted before the password is checked, per
//! username and address, per username and per address, in the store the
//! sessions use, shared by every instance, with a lockout that ends by
//! itself and never locks the owner out from elsewhere.

use std::time::Duration;

use auth_tests::{TestDb, User, client::Client};
use http::{Request, StatusCode, header};

auth::auth_urls! {
    login: "/accounts/login/" => LoginView { next_page: "/" },
    password_change: "/accounts/password/" => PasswordChangeView { success_url: "/" },
}

const LOCKED: &str = "Too many failed login attempts. Try again later.";

/// The login throttle's device cookie (`AUTH_DEVICE_COOKIE_NAME`).
const DEVICE_COOKIE: &str = "authdevice";

fn settings(window: Duration) -> auth::Settings {
    auth::Settings {
        login_failure_limit: 3,
        login_failure_limit_per_user: 5,
        login_failure_limit_per_ip: 6,
        login_failure_window: window,
        trusted_proxy_header: Some("x-forwarded-for".into()),
        ..Default::default()
    }
}

/// An instance of the app on `db`.
async fn instance_with(db: &TestDb, settings: auth::Settings) -> (auth::Auth<User>, Client) {
    let auth = db.auth::<User>(settings).await;
    let app = auth_tests::app::routes(&auth)
        .merge(urls::router())
        .layer(auth.layer());
    (auth, Client::new(app))
}

async fn instance(db: &TestDb, window: Duration) -> (auth::Auth<User>, Client) {
    instance_with(db, settings(window)).await
}

/// A POST of `fields` through the built-in views from `ip`.
async fn post_from(
    client: &mut Client,
    ip: &str,
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    post_forwarded(client, &[ip], path, fields).await
}

/// A POST of `fields` with these `X-Forwarded-For` lines.
async fn post_forwarded(
    client: &mut Client,
    lines: &[&str],
    path: &str,
    fields: &[(&str, &str)],
) -> (StatusCode, String) {
    let token = client.csrf_token().await;
    let body = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(fields)
        .append_pair("csrfmiddlewaretoken", &token)
        .finish();
    let mut request =
        Request::post(path).header(header::CONTENT_TYPE, "application/x-www-form-urlencoded");
    for line in lines {
        request = request.header("x-forwarded-for", *line);
    }
    let page = client.send(request.body(body.into()).unwrap()).await;
    (page.status, page.body)
}

/// A login through the built-in view from `ip`, as a browser that never
/// logged in there (no device cookie: see `device_cookies_*` for those).
async fn attempt(
    client: &mut Client,
    ip: &str,
    username: &str,
    password: &str,
) -> (StatusCode, String) {
    client.jar.remove(DEVICE_COOKIE);
    post_from(
        client,
        ip,
        urls::LOGIN,
        &[("username", username), ("password", password)],
    )
    .await
}

/// Every hash both instances computed.
fn hashes(instances: &[&auth::Auth<User>]) -> u64 {
    instances
        .iter()
        .map(|a| auth::testing::hash_computations(a))
        .sum()
}

auth_tests::backend_tests! {
    /// 60 wrong passwords for one user released at once, over two
    /// instances: the count is taken before the hash, so at most the limit
    /// of them reach the hasher.
    async fn a_burst_of_wrong_passwords_reaches_the_hasher_at_most_the_limit(backend: Backend) {
        let db = backend.database().await;
        let limit = 10;
        // The defaults' shape: the username + address limit binds.
        let settings = auth::Settings {
            login_failure_limit: limit,
            login_failure_limit_per_user: 100,
            login_failure_limit_per_ip: 100,
            ..settings(Duration::from_secs(900))
        };
        let (a, mut client_a) = instance_with(&db, settings.clone()).await;
        let (b, mut client_b) = instance_with(&db, settings).await;
        a.users().create_user("alice", "", Some("alice-password")).await.unwrap();
        let token = client_a.csrf_token().await;
        let jar = client_a.jar.clone();
        client_b.jar = jar.clone();
        let before = hashes(&[&a, &b]);
        let attempts = (0..60).map(|i| {
            let mut client = Client::new(if i % 2 == 0 { client_a.router() } else { client_b.router() });
            client.jar = jar.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([("username", "alice"), ("password", "wrong"), ("csrfmiddlewaretoken", &token)])
                    .finish();
                client
                    .send(
                        Request::post(urls::LOGIN)
                            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                            .header("x-forwarded-for", "203.0.113.50")
                            .body(body.into())
                            .unwrap(),
                    )
                    .await
                    .status
            })
        });
        let mut statuses = std::collections::BTreeMap::<u16, u32>::new();
        for attempt in attempts.collect::<Vec<_>>() {
            *statuses.entry(attempt.await.unwrap().as_u16()).or_default() += 1;
        }
        let hashed = hashes(&[&a, &b]) - before;
        assert!(hashed <= u64::from(limit), "{hashed} guesses reached the hasher: {statuses:?}");
        assert!(statuses.keys().all(|s| [200, 429, 503].contains(s)), "{statuses:?}");
        assert!(statuses.get(&200).copied().unwrap_or(0) <= limit, "{statuses:?}");
        assert!(statuses.get(&429).copied().unwrap_or(0) >= 60 - limit - statuses.get(&503).copied().unwrap_or(0), "{statuses:?}");
        // Locked now, even with the right password, on both instances.
        for client in [&mut client_a, &mut client_b] {
            let (status, body) = attempt(client, "203.0.113.50", "alice", "alice-password").await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{statuses:?} {hashed} {body}");
        }
    }

    /// Right passwords for one user at once (96), over two instances and
    /// two addresses: every one logs in. The counters they share are counted
    /// and released concurrently; none of it may deadlock or fail.
    async fn concurrent_logins_of_one_user_all_succeed(backend: Backend) {
        let db = backend.database().await;
        let settings = auth::Settings {
            login_failure_limit: 100,
            login_failure_limit_per_user: 100,
            login_failure_limit_per_ip: 100,
            ..settings(Duration::from_secs(900))
        };
        let (a, client_a) = instance_with(&db, settings.clone()).await;
        let (_b, client_b) = instance_with(&db, settings).await;
        a.users().create_user("carol", "", Some("carol-password")).await.unwrap();
        let mut client_a = client_a;
        let token = client_a.csrf_token().await;
        let jar = client_a.jar.clone();
        let logins = (0..96).map(|i| {
            let mut client = Client::new(if i % 2 == 0 { client_a.router() } else { client_b.router() });
            client.jar = jar.clone();
            let token = token.clone();
            let address = if i % 3 == 0 { "203.0.113.60" } else { "203.0.113.61" };
            tokio::spawn(async move {
                let body = form_urlencoded::Serializer::new(String::new())
                    .extend_pairs([("username", "carol"), ("password", "carol-password"), ("csrfmiddlewaretoken", &token)])
                    .finish();
                let page = client
                    .send(
                        Request::post(urls::LOGIN)
                            .header(header::CONTENT_TYPE, "application/x-www-form-urlencoded")
                            .header("x-forwarded-for", address)
                            .body(body.into())
                            .unwrap(),
                    )
                    .await;
                (page.status, page.body)
            })
        });
        for login in logins.collect::<Vec<_>>() {
            let (status, body) = login.await.unwrap();
            assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        }
    }

    /// Item 15: 20 correct logins of one user from one address at the
    /// same moment, with a limit of 3 per username and address: attempts
    /// whose slots are held by attempts still in flight wait for them,
    /// so every one logs in (before, most got 429).
    async fn correct_logins_at_once_wait_for_slots_instead_of_a_429(backend: Backend) {
        let db = backend.database().await;
        let (a, mut client_a) = instance(&db, Duration::from_secs(900)).await;
        let (_b, client_b) = instance(&db, Duration::from_secs(900)).await;
        a.users().create_user("ivan", "", Some("ivan-password")).await.unwrap();
        let token = client_a.csrf_token().await;
        let jar = client_a.jar.clone();
        let logins = (0..20).map(|i| {
            let mut client = Client::new(if i % 2 == 0 { client_a.router() } else { client_b.router() });
            client.jar = jar.clone();
            let token = token.clone();
            tokio::spawn(async move {
                let fields = [("username", "ivan"), ("password", "ivan-password"), ("csrfmiddlewaretoken", &token)];
                post_from(&mut client, "203.0.113.80", urls::LOGIN, &fields).await
            })
        });
        let mut statuses = Vec::new();
        for login in logins.collect::<Vec<_>>() {
            statuses.push(login.await.unwrap().0);
        }
        assert!(statuses.iter().all(|s| *s == StatusCode::SEE_OTHER), "{statuses:?}");
        // And wrong ones still stop at the limit.
        for _ in 0..3 {
            assert_eq!(attempt(&mut client_a, "203.0.113.80", "ivan", "x").await.0, StatusCode::OK);
        }
        let (status, _) = attempt(&mut client_a, "203.0.113.80", "ivan", "ivan-password").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }

    /// Item 16 (OWASP's device cookies): guessing spread over addresses
    /// locks the username for every browser but the owner's, whose device
    /// cookie counts on its own.
    async fn device_cookies_keep_the_owner_in_during_distributed_guessing(backend: Backend) {
        let db = backend.database().await;
        let limits = auth::Settings {
            login_failure_limit: 5,
            login_failure_limit_per_user: 20,
            login_failure_limit_per_ip: 100,
            ..settings(Duration::from_secs(900))
        };
        let (auth, mut owner) = instance_with(&db, limits).await;
        auth.users().create_user("judy", "", Some("judy-password")).await.unwrap();
        let (status, _) = post_from(&mut owner, "192.0.2.1", urls::LOGIN, &[("username", "judy"), ("password", "judy-password")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER);
        assert!(owner.jar.contains_key(DEVICE_COOKIE), "a device cookie");
        owner.jar.remove("sessionid");
        // 4 addresses × 5 failures: the per-user limit of 20.
        let mut guesser = Client::new(owner.router());
        for ip in ["198.51.100.1", "198.51.100.2", "198.51.100.3", "198.51.100.4"] {
            for _ in 0..5 {
                assert_eq!(attempt(&mut guesser, ip, "judy", "guess").await.0, StatusCode::OK);
            }
        }
        let (status, _) = attempt(&mut guesser, "192.0.2.99", "judy", "judy-password").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "locked for browsers without a cookie");
        // The owner, from a fresh address, with the cookie: in.
        let (status, body) = post_from(&mut owner, "192.0.2.99", urls::LOGIN, &[("username", "judy"), ("password", "judy-password")]).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "{body}");
        // The cookie is good for its username only, and its own failures
        // lock that device.
        owner.jar.remove("sessionid");
        for _ in 0..5 {
            let (status, _) = post_from(&mut owner, "192.0.2.99", urls::LOGIN, &[("username", "judy"), ("password", "oops")]).await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = post_from(&mut owner, "192.0.2.99", urls::LOGIN, &[("username", "judy"), ("password", "judy-password")]).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
    }

    /// Item 17: behind a trusted proxy, requests without its header (or
    /// with a garbled one) share one `unknown` address: they cannot
    /// escape the per-address limit by leaving it out.
    async fn a_missing_proxy_header_counts_as_one_address(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("kate", "", Some("kate-password")).await.unwrap();
        for i in 0..6 {
            let lines: &[&str] = if i % 2 == 0 { &[] } else { &["not an address"] };
            let username = format!("guess{i}");
            let fields = [("username", username.as_str()), ("password", "x")];
            let (status, _) = post_forwarded(&mut client, lines, urls::LOGIN, &fields).await;
            assert_eq!(status, StatusCode::OK);
        }
        let fields = [("username", "kate"), ("password", "kate-password")];
        let (status, _) = post_forwarded(&mut client, &[], urls::LOGIN, &fields).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the shared unknown address is locked");
        let (status, _) = post_forwarded(&mut client, &["192.0.2.33"], urls::LOGIN, &fields).await;
        assert_eq!(status, StatusCode::SEE_OTHER, "a real address is not");
        let report = auth::checks::run_checks(&auth, auth::checks::Scope::check(false));
        assert!(report.to_string().contains("auth.W013"), "{report}");
    }

    /// Failures from one address lock that address out for that user,
    /// not the owner elsewhere.
    async fn the_owner_is_not_locked_out_by_failures_from_another_address(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut a) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("bob", "", Some("bob-password")).await.unwrap();
        let (_other, mut b) = instance(&db, Duration::from_secs(900)).await;
        for _ in 0..3 {
            assert_eq!(attempt(&mut a, "198.51.100.66", "bob", "wrong").await.0, StatusCode::OK);
        }
        let (status, body) = attempt(&mut a, "198.51.100.66", "bob", "bob-password").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "the attacker's address is locked");
        assert!(body.contains(LOCKED), "{body}");
        assert!(body.contains("name=\"username\""), "the form is shown again");
        // The owner, from elsewhere, on either instance.
        assert_eq!(
            attempt(&mut b, "192.0.2.10", "bob", "bob-password").await.0,
            StatusCode::SEE_OTHER
        );
    }

    /// A success clears its username + address counter and gives back its
    /// own slot on the other two: a wrong password then the right one,
    /// over and over from one address, is never locked out, although the
    /// failures alone stay counted (4 of the per-user limit's 5).
    async fn a_success_clears_its_counter_and_gives_back_its_slots(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("erin", "", Some("erin-password")).await.unwrap();
        for round in 1..=4 {
            let (status, body) = attempt(&mut client, "198.51.100.70", "erin", "wrong").await;
            assert_eq!(status, StatusCode::OK, "round {round}: {body}");
            let (status, body) = attempt(&mut client, "198.51.100.70", "erin", "erin-password").await;
            assert_eq!(status, StatusCode::SEE_OTHER, "round {round}: {body}");
        }
        // The failures were kept: one more from elsewhere reaches the
        // per-user limit, and the next attempt is refused.
        assert_eq!(attempt(&mut client, "192.0.2.71", "erin", "wrong").await.0, StatusCode::OK);
        let (status, body) = attempt(&mut client, "192.0.2.72", "erin", "erin-password").await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
    }

    /// Failures spread over addresses and instances lock the username at
    /// the per-user limit.
    async fn a_username_is_locked_after_its_limit_across_addresses_and_instances(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut a) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("alice", "", Some("alice-password")).await.unwrap();
        let (_other, mut b) = instance(&db, Duration::from_secs(900)).await;

        // Two failures from one address, then that address logs in: the
        // success clears that address's count, not the per-user one.
        for _ in 0..2 {
            assert_eq!(attempt(&mut a, "203.0.113.1", "alice", "wrong").await.0, StatusCode::OK);
        }
        assert_eq!(
            attempt(&mut b, "203.0.113.1", "alice", "alice-password").await.0,
            StatusCode::SEE_OTHER
        );
        // Three more, each from another address, over both instances:
        // five for alice in the window.
        for (on_b, ip) in [(false, "203.0.113.2"), (true, "203.0.113.3"), (false, "203.0.113.4")] {
            let client = if on_b { &mut b } else { &mut a };
            assert_eq!(attempt(client, ip, "alice", "wrong").await.0, StatusCode::OK);
        }
        // Locked on both, from any address, even with the right password.
        for client in [&mut a, &mut b] {
            let (status, body) = attempt(client, "203.0.113.5", "alice", "alice-password").await;
            assert_eq!(status, StatusCode::TOO_MANY_REQUESTS);
            assert!(body.contains(LOCKED), "{body}");
        }
        // Other users are not affected.
        auth.users().create_user("bob", "", Some("bob-password")).await.unwrap();
        assert_eq!(
            attempt(&mut b, "203.0.113.6", "bob", "bob-password").await.0,
            StatusCode::SEE_OTHER
        );
    }

    async fn a_client_address_is_locked_after_its_limit(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("carol", "", Some("carol-password")).await.unwrap();
        for i in 0..6 {
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

    /// An IPv6 host owns a /64: its addresses count as one.
    async fn ipv6_clients_count_by_their_64(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("dora", "", Some("dora-password")).await.unwrap();
        for host in ["2001:db8:7:7::1", "2001:db8:7:7::2", "2001:db8:7:7:ffff::3"] {
            assert_eq!(attempt(&mut client, host, "dora", "wrong").await.0, StatusCode::OK);
        }
        assert_eq!(
            attempt(&mut client, "2001:db8:7:7:abcd::9", "dora", "dora-password").await.0,
            StatusCode::TOO_MANY_REQUESTS,
            "the same /64"
        );
        assert_eq!(
            attempt(&mut client, "2001:db8:7:8::1", "dora", "dora-password").await.0,
            StatusCode::SEE_OTHER,
            "another /64"
        );
    }

    /// Behind a proxy that adds its own `X-Forwarded-For` line, the
    /// client's forged line does not change the address counted: guesses
    /// at many usernames reach the per-address limit.
    async fn every_line_of_the_proxy_header_counts(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("fred", "", Some("fred-password")).await.unwrap();
        let proxy_line = "192.0.2.77";
        for i in 0..6 {
            let (forged, username) = (format!("10.9.9.{i}"), format!("guess{i}"));
            let (status, _) = post_forwarded(
                &mut client,
                &[&forged, proxy_line],
                urls::LOGIN,
                &[("username", &username), ("password", "wrong")],
            )
            .await;
            assert_eq!(status, StatusCode::OK);
        }
        let (status, _) = post_forwarded(
            &mut client,
            &["10.9.9.200", proxy_line],
            urls::LOGIN,
            &[("username", "fred"), ("password", "fred-password")],
        )
        .await;
        assert_eq!(
            status,
            StatusCode::TOO_MANY_REQUESTS,
            "all from {proxy_line}, whatever the first line says"
        );
    }

    async fn a_lockout_ends_when_the_window_passes(backend: Backend) {
        let db = backend.database().await;
        // Two seconds: MySQL keeps attempt times to the second, which can
        // shorten a window by up to one.
        let (auth, mut client) = instance(&db, Duration::from_secs(2)).await;
        auth.users().create_user("dave", "", Some("dave-password")).await.unwrap();
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
        auth.users().create_user("erin", "", Some("erin-password")).await.unwrap();
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

    /// On a hijacked session the password-change form's old password is
    /// no oracle: its failures count as logins do, and past the limit it
    /// answers 429 without checking.
    async fn the_old_password_of_the_change_form_is_throttled(backend: Backend) {
        let db = backend.database().await;
        let (auth, mut client) = instance(&db, Duration::from_secs(900)).await;
        auth.users().create_user("gina", "", Some("gina-password")).await.unwrap();
        assert_eq!(attempt(&mut client, "192.0.2.9", "gina", "gina-password").await.0, StatusCode::SEE_OTHER);
        let change = |old: &'static str| [("old_password", old), ("new_password1", "new-pass-7781"), ("new_password2", "new-pass-7781")];
        for _ in 0..3 {
            let (status, body) = post_from(&mut client, "192.0.2.9", urls::PASSWORD_CHANGE, &change("wrong")).await;
            assert_eq!(status, StatusCode::OK);
            assert!(body.contains("Your old password was entered incorrectly"), "{body}");
        }
        let hashed = auth::testing::hash_computations(&auth);
        let (status, body) = post_from(&mut client, "192.0.2.9", urls::PASSWORD_CHANGE, &change("gina-password")).await;
        assert_eq!(status, StatusCode::TOO_MANY_REQUESTS, "{body}");
        assert!(body.contains(LOCKED), "{body}");
        assert_eq!(auth::testing::hash_computations(&auth), hashed, "refused without a hash");
        assert!(
            auth.authenticate("gina", "gina-password").await.unwrap().is_some(),
            "the password did not change"
        );
    }

    /// A counter in Redis always has its expiry, even when the key
    /// expires between the moment it is looked at and the increment (the
    /// proxy holds the increment while the window passes).
    #[backends(postgres_redis)]
    async fn redis_counters_never_lose_their_expiry(backend: Backend) {
        use auth_tests::proxy::{Proxy, target, via};
        let db = backend.database().await;
        let (redis_url, prefix) = db.redis.clone().unwrap();
        let proxy = Proxy::start(target(&redis_url)).await;
        let settings = auth::Settings {
            session_redis_key_prefix: prefix.clone(),
            ..settings(Duration::from_secs(1))
        };
        let auth = db.builder::<User>(settings).redis_url(via(&redis_url, proxy.addr)).build().await.unwrap();
        auth.users().create_user("hank", "", Some("hank-password")).await.unwrap();
        assert!(auth.authenticate("hank", "wrong").await.unwrap().is_none());
        // The second failure's increment waits while the counters expire.
        let hold = proxy.hold(b"INCR");
        let second = tokio::spawn({
            let auth = auth.clone();
            async move { auth.authenticate("hank", "wrong").await }
        });
        tokio::time::timeout(Duration::from_secs(5), hold.held()).await.expect("an increment");
        tokio::time::sleep(Duration::from_millis(1300)).await;
        hold.release();
        assert!(second.await.unwrap().unwrap().is_none());
        let keys = redis_keys(&redis_url, &format!("{prefix}throttle:*")).await;
        assert!(!keys.is_empty());
        for key in keys {
            let ttl = redis_ttl(&redis_url, &key).await;
            assert!(ttl >= 0, "{key} has no expiry (TTL {ttl})");
        }
    }
}

/// The keys matching `pattern` (`KEYS`; a test's own prefix).
async fn redis_keys(url: &str, pattern: &str) -> Vec<String> {
    redis_command(url, &["KEYS", pattern]).await
}

/// `TTL key`.
async fn redis_ttl(url: &str, key: &str) -> i64 {
    let reply = redis_command(url, &["TTL", key]).await;
    reply[0].parse().unwrap()
}

/// One command over a raw connection (RESP2): the reply's values.
async fn redis_command(url: &str, args: &[&str]) -> Vec<String> {
    use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
    let mut stream = tokio::net::TcpStream::connect(auth_tests::proxy::target(url))
        .await
        .unwrap();
    let mut request = format!("*{}\r\n", args.len());
    for arg in args {
        request.push_str(&format!("${}\r\n{arg}\r\n", arg.len()));
    }
    stream.write_all(request.as_bytes()).await.unwrap();
    let mut reader = BufReader::new(stream);
    let mut line = String::new();
    reader.read_line(&mut line).await.unwrap();
    let line = line.trim_end().to_owned();
    match line.as_bytes()[0] {
        b':' | b'+' => vec![line[1..].to_owned()],
        b'*' => {
            let count: i64 = line[1..].parse().unwrap();
            let mut values = Vec::new();
            for _ in 0..count.max(0) {
                let mut header = String::new();
                reader.read_line(&mut header).await.unwrap();
                let mut value = String::new();
                reader.read_line(&mut value).await.unwrap();
                values.push(value.trim_end().to_owned());
            }
            values
        }
        _ => panic!("unexpected reply {line}"),
    }
}

#[test]
fn the_settings_read_the_environment() {
    let vars = [
        ("AUTH_LOGIN_FAILURE_LIMIT", "5"),
        ("AUTH_LOGIN_FAILURE_LIMIT_PER_USER", "40"),
        ("AUTH_LOGIN_FAILURE_LIMIT_PER_IP", "50"),
        ("AUTH_LOGIN_FAILURE_WINDOW", "60"),
        ("AUTH_TRUSTED_PROXY_HEADER", "X-Forwarded-For"),
        ("AUTH_TRUSTED_PROXY_COUNT", "2"),
    ];
    let settings = auth::Settings::from_lookup(|name| {
        vars.iter()
            .find(|(k, _)| *k == name)
            .map(|(_, v)| v.to_string())
    })
    .unwrap();
    assert_eq!(settings.login_failure_limit, 5);
    assert_eq!(settings.login_failure_limit_per_user, 40);
    assert_eq!(settings.login_failure_limit_per_ip, 50);
    assert_eq!(settings.login_failure_window, Duration::from_secs(60));
    assert_eq!(
        settings.trusted_proxy_header.as_deref(),
        Some("X-Forwarded-For")
    );
    assert_eq!(settings.trusted_proxy_count, 2);
    let defaults = auth::Settings::default();
    assert_eq!(
        (
            defaults.login_failure_limit,
            defaults.login_failure_limit_per_user,
            defaults.login_failure_limit_per_ip
        ),
        (10, 100, 100)
    );
    assert_eq!(defaults.login_failure_window, Duration::from_secs(900));
    assert_eq!(defaults.trusted_proxy_count, 1);
}
