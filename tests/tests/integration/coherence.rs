//! The coherent cache (on by default): every race between a read filling
//! the cache and a write invalidating it, made deterministic with the
//! cache's read/fill barrier, on one instance and across two; and writers
//! the process does not see (another instance's CLI, an administrator's
//! SQL), honoured within `AUTH_CACHE_MAX_STALENESS`.

use std::time::{Duration, Instant};

use auth::sea_orm::ConnectionTrait;
use auth_tests::{TestDb, User, app, client::Client};
use http::StatusCode;

const STALENESS: Duration = Duration::from_millis(200);

fn settings() -> auth::Settings {
    auth::Settings {
        cache_max_staleness: STALENESS,
        ..Default::default()
    }
}

async fn instance(db: &TestDb) -> auth::Auth<User> {
    db.auth::<User>(settings()).await
}

async fn logged_in(auth: &auth::Auth<User>, username: &str) -> Client {
    let mut client = Client::new(app::router(auth));
    let page = client.log_in("/login/", username, "pw").await;
    assert_eq!(page.status, StatusCode::SEE_OTHER, "{}", page.body);
    assert_eq!(whoami(&mut client).await, format!("Welcome, {username}!"));
    client
}

async fn whoami(client: &mut Client) -> String {
    client.get("/").await.body
}

/// Waits (without a fixed sleep) until `auth` took an invalidation after
/// `before`: a notification from elsewhere arrived.
async fn notified(auth: &auth::Auth<User>, before: u64) {
    let deadline = Instant::now() + STALENESS * 2 + Duration::from_secs(5);
    while auth::testing::cache_invalidations(auth) <= before {
        assert!(Instant::now() < deadline, "no change notification arrived");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

/// Polls until `client` is anonymous; returns how long that took.
async fn anonymous_within_bound(client: &mut Client, started: Instant) -> Duration {
    let deadline = started + STALENESS * 2 + Duration::from_secs(3);
    loop {
        let body = whoami(client).await;
        if body == "Welcome, Guest!" {
            return started.elapsed();
        }
        assert!(Instant::now() < deadline, "still {body:?}");
        tokio::time::sleep(Duration::from_millis(10)).await;
    }
}

/// An administrator's connection, not the app's.
async fn admin_sql(db: &TestDb, sql: &str) {
    let connection = auth::sea_orm::Database::connect(&db.url).await.unwrap();
    connection.execute_unprepared(sql).await.unwrap();
    connection.close().await.unwrap();
}

auth_tests::backend_tests! {
    backends: [sqlite, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel];

    /// A read of the user that began before a deactivation cannot put the
    /// active user back in the cache.
    async fn a_read_racing_a_deactivation_cannot_revive_the_user(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let client = logged_in(&auth, "alice").await;
        auth::testing::forget_cached(&auth);
        let gate = auth::testing::user_cache_gate(&auth).expect("the cache is on");
        gate.arm();
        let mut reader = Client::new(app::router(&auth));
        reader.jar = client.jar.clone();
        let read = tokio::spawn(async move { whoami(&mut reader).await });
        gate.paused().await; // read the active user, not yet cached
        let mut alice = auth.users().get_by_username("alice").await.unwrap().unwrap();
        alice.is_active = false;
        auth.users().save(alice).await.unwrap();
        gate.release();
        read.await.unwrap();
        let mut after = Client::new(app::router(&auth));
        after.jar = client.jar.clone();
        assert_eq!(whoami(&mut after).await, "Welcome, Guest!");
    }

    /// A cached session whose expiry date passed is refused, not served.
    async fn a_cached_session_past_its_expiry_is_refused(backend: Backend) {
        use tower_sessions::SessionStore as _;
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        let store = auth::testing::session_store(&auth);
        let id = client.jar["sessionid"].parse().unwrap();
        let mut record = store.load(&id).await.unwrap().expect("the session");
        record.expiry_date = time::OffsetDateTime::now_utc() - time::Duration::seconds(1);
        store.save(&record).await.unwrap();
        assert_eq!(whoami(&mut client).await, "Welcome, Guest!");
    }

    /// Instance B reads alice's user row; meanwhile her password changes on
    /// instance A; B's fill, older than the change, is dropped, and B's
    /// session of alice ends.
    async fn another_instances_read_racing_a_password_change_is_dropped(backend: Backend) {
        let db = backend.database().await;
        let a = instance(&db).await;
        let b = instance(&db).await;
        a.users().create_user("alice", "", Some("pw")).await.unwrap();
        let _on_a = logged_in(&a, "alice").await;
        let on_b = logged_in(&b, "alice").await;
        auth::testing::forget_cached(&b);
        let gate = auth::testing::user_cache_gate(&b).expect("the cache is on");
        gate.arm();
        let mut reader = Client::new(app::router(&b));
        reader.jar = on_b.jar.clone();
        let read = tokio::spawn(async move { whoami(&mut reader).await });
        gate.paused().await;
        let before = auth::testing::cache_invalidations(&b);
        let mut alice = a.users().get_by_username("alice").await.unwrap().unwrap();
        a.users().set_password(&mut alice, "new-pw").await.unwrap();
        notified(&b, before).await;
        gate.release();
        read.await.unwrap();
        let mut after = Client::new(app::router(&b));
        after.jar = on_b.jar.clone();
        assert_eq!(whoami(&mut after).await, "Welcome, Guest!");
    }

    /// Instance B reads a session; meanwhile it is logged out on instance
    /// A; B's fill is dropped and the session stays dead on B.
    async fn another_instances_read_racing_a_logout_is_dropped(backend: Backend) {
        let db = backend.database().await;
        let a = instance(&db).await;
        let b = instance(&db).await;
        a.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut on_a = logged_in(&a, "alice").await;
        let cookie = on_a.jar["sessionid"].clone();
        let mut on_b = Client::new(app::router(&b));
        on_b.jar = on_a.jar.clone();
        assert_eq!(whoami(&mut on_b).await, "Welcome, alice!", "the session is shared");
        auth::testing::forget_cached(&b);
        let gate = auth::testing::session_cache_gate(&b).expect("the cache is on");
        gate.arm();
        let mut reader = Client::new(app::router(&b));
        reader.jar.insert("sessionid".into(), cookie.clone());
        let read = tokio::spawn(async move { whoami(&mut reader).await });
        gate.paused().await;
        let before = auth::testing::cache_invalidations(&b);
        let page = on_a.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        notified(&b, before).await;
        gate.release();
        read.await.unwrap();
        let mut replay = Client::new(app::router(&b));
        replay.jar.insert("sessionid".into(), cookie);
        assert_eq!(whoami(&mut replay).await, "Welcome, Guest!");
    }

    /// Instance A saves a session (the cart changes) while instance B
    /// logs it out: B's invalidation lands between A's write and A's cache
    /// fill, and wins: the session stays dead on A.
    async fn a_save_racing_a_logout_elsewhere_cannot_bring_the_session_back(backend: Backend) {
        let db = backend.database().await;
        let a = instance(&db).await;
        let b = instance(&db).await;
        a.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut on_a = logged_in(&a, "alice").await;
        let mut on_b = Client::new(app::router(&b));
        on_b.jar = on_a.jar.clone();
        let token = on_a.csrf_token().await;
        let gate = auth::testing::session_cache_gate(&a).expect("the cache is on");
        gate.arm();
        let mut saver = Client::new(app::router(&a));
        saver.jar = on_a.jar.clone();
        let save = tokio::spawn(async move {
            saver.post("/cart/", &[("item", "book"), ("csrfmiddlewaretoken", &token)]).await
        });
        gate.paused().await; // written, not yet cached
        let before = auth::testing::cache_invalidations(&a);
        let page = on_b.post_with_csrf("/logout/", &[]).await;
        assert_eq!(page.status, StatusCode::SEE_OTHER);
        notified(&a, before).await;
        gate.release();
        assert_eq!(save.await.unwrap().body, "added");
        assert_eq!(whoami(&mut on_a).await, "Welcome, Guest!");
        assert_eq!(on_a.get("/cart/").await.body, "", "the cart went with the session");
    }

    /// An administrator deactivates alice in SQL: her cached session ends
    /// within the bound.
    async fn a_deactivation_in_sql_is_honoured_within_the_bound(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        let started = Instant::now();
        admin_sql(&db, "UPDATE accounts_user SET is_active = false WHERE username = 'alice'").await;
        let took = anonymous_within_bound(&mut client, started).await;
        eprintln!("deactivation in SQL seen after {took:?} on {backend:?}");
    }

    /// `changepassword` run from another process (here another instance's
    /// CLI): alice's cached session ends within the bound.
    async fn a_password_change_from_the_cli_is_honoured_within_the_bound(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        let cli = instance(&db).await;
        let started = Instant::now();
        let mut out = Vec::new();
        let mut answers = Answers(vec!["Str0ng-new-pass", "Str0ng-new-pass"]);
        auth::cli::call_command(&cli, ["changepassword", "alice"], &mut answers, &mut out)
            .await
            .unwrap();
        let took = anonymous_within_bound(&mut client, started).await;
        eprintln!("CLI changepassword seen after {took:?} on {backend:?}");
    }

    /// Sessions deleted by another process (a cron `clearsessions` after
    /// they expired, an administrator emptying the table): gone within the
    /// bound.
    async fn sessions_cleared_elsewhere_end_within_the_bound(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        let other = instance(&db).await;
        let started = Instant::now();
        auth::testing::clear_sessions(&other).await.unwrap();
        let took = anonymous_within_bound(&mut client, started).await;
        eprintln!("sessions cleared elsewhere seen after {took:?} on {backend:?}");
    }

    /// A cron `clearsessions` deletes sessions an administrator expired in
    /// SQL: the expiry and the deletion both reach the cache.
    #[backends(sqlite, postgres, mysql)]
    async fn the_cli_clearsessions_is_honoured_within_the_bound(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        let past = "2001-01-01 00:00:00";
        let started = Instant::now();
        admin_sql(&db, &format!("UPDATE auth_session SET expire_date = '{past}'")).await;
        let cli = instance(&db).await;
        let mut out = Vec::new();
        auth::cli::call_command(&cli, ["clearsessions"], &mut Answers(vec![]), &mut out).await.unwrap();
        assert_eq!(String::from_utf8(out).unwrap(), "Deleted 1 expired session(s).\n");
        let took = anonymous_within_bound(&mut client, started).await;
        eprintln!("clearsessions seen after {took:?} on {backend:?}");
    }

    /// A burst of 20,000 changes (an administrator's bulk delete of
    /// sessions) does not hold back the change right after it: a
    /// deactivation is still seen within the bound.
    #[backends(sqlite, mysql)]
    async fn a_burst_of_changes_does_not_delay_the_next_one(backend: Backend) {
        let db = backend.database().await;
        let staleness = Duration::from_millis(500);
        let auth = db.auth::<User>(auth::Settings { cache_max_staleness: staleness, ..Default::default() }).await;
        auth.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut client = logged_in(&auth, "alice").await;
        // The login's own changes are read before the burst.
        tokio::time::sleep(staleness * 2).await;
        assert_eq!(whoami(&mut client).await, "Welcome, alice!");
        let connection = auth::sea_orm::Database::connect(&db.url).await.unwrap();
        for _ in 0..20 {
            let rows: Vec<String> = (0..1000)
                .map(|_| format!("('{}', '{{}}', '2001-01-01 00:00:00')", tower_sessions::session::Id::default()))
                .collect();
            connection
                .execute_unprepared(&format!(
                    "INSERT INTO auth_session (session_key, session_data, expire_date) VALUES {}",
                    rows.join(", ")
                ))
                .await
                .unwrap();
        }
        connection
            .execute_unprepared("DELETE FROM auth_session WHERE expire_date < '2002-01-01'")
            .await
            .unwrap();
        connection
            .execute_unprepared("UPDATE accounts_user SET is_active = false WHERE username = 'alice'")
            .await
            .unwrap();
        let started = Instant::now();
        connection.close().await.unwrap();
        let took = anonymous_within_bound(&mut client, started).await;
        assert!(took <= staleness * 2, "seen after {took:?}, bound {staleness:?}");
    }

    /// Logouts on one instance reach the other's cache whichever server
    /// holds the session: 24 sessions land on every primary of a cluster.
    async fn logouts_elsewhere_reach_the_cache_from_every_server(backend: Backend) {
        let db = backend.database().await;
        let a = instance(&db).await;
        let b = instance(&db).await;
        a.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut sessions = Vec::new();
        for _ in 0..24 {
            let on_a = logged_in(&a, "alice").await;
            let mut on_b = Client::new(app::router(&b));
            on_b.jar = on_a.jar.clone();
            assert_eq!(whoami(&mut on_b).await, "Welcome, alice!");
            sessions.push((on_a, on_b));
        }
        let started = Instant::now();
        for (_, on_b) in &mut sessions {
            assert_eq!(on_b.post_with_csrf("/logout/", &[]).await.status, StatusCode::SEE_OTHER);
        }
        for (on_a, _) in &mut sessions {
            let took = anonymous_within_bound(on_a, started).await;
            assert!(took <= STALENESS * 2, "a logout on B seen on A after {took:?}");
        }
    }

    /// A key prefix with a hash tag of its own (`{app}:`) puts every
    /// session on one slot: the cache tracks that primary alone, goes
    /// live, and hears a logout made elsewhere.
    #[backends(postgres_redis, postgres_redis_cluster)]
    async fn a_hash_tagged_prefix_keeps_the_cache_coherent(backend: Backend) {
        let db = backend.database().await;
        let (_, prefix) = db.redis.clone().expect("sessions in Redis");
        let tagged = auth::Settings {
            session_redis_key_prefix: format!("{{{}}}", prefix.trim_end_matches(':')),
            secret_key: Some(auth_tests::TEST_SECRET.into()),
            ..settings()
        };
        let a = db.builder::<User>(settings()).settings(tagged.clone()).build().await.unwrap();
        let b = db.builder::<User>(settings()).settings(tagged).build().await.unwrap();
        assert_eq!(auth::testing::cache_live(&a), (Some(true), Some(true)));
        a.users().create_user("alice", "", Some("pw")).await.unwrap();
        let mut on_a = logged_in(&a, "alice").await;
        let mut on_b = Client::new(app::router(&b));
        on_b.jar = on_a.jar.clone();
        let started = Instant::now();
        assert_eq!(on_b.post_with_csrf("/logout/", &[]).await.status, StatusCode::SEE_OTHER);
        let took = anonymous_within_bound(&mut on_a, started).await;
        assert!(took <= STALENESS * 2, "a logout on B seen on A after {took:?}");
        auth::testing::clear_sessions(&a).await.unwrap();
    }

    /// A notification channel that goes silent without closing (a NAT
    /// that stops forwarding): the heartbeat notices, the cache turns
    /// off, and a logout or a password change on another instance is
    /// honoured within twice the bound; when the channel is back, so is
    /// the cache.
    #[backends(postgres, postgres_redis)]
    async fn a_silent_notification_channel_turns_the_cache_off(backend: Backend) {
        use auth_tests::proxy::{Proxy, target, via};
        let db = backend.database().await;
        let database = Proxy::start(target(&db.url)).await;
        let mut builder = db.builder::<User>(settings()).database_url(via(&db.url, database.addr));
        let redis = match &db.redis {
            Some((url, _)) => {
                let proxy = Proxy::start(target(url)).await;
                builder = builder.redis_url(via(url, proxy.addr));
                Some(proxy)
            }
            None => None,
        };
        let silence = |on: bool| {
            for (proxy, pattern) in [(Some(&database), &b"LISTEN"[..]), (redis.as_ref(), b"TRACKING")] {
                match (proxy, on) {
                    (Some(proxy), true) => proxy.stall(pattern),
                    (Some(proxy), false) => proxy.unstall(),
                    (None, _) => {}
                }
            }
        };
        let a = builder.build().await.unwrap();
        let b = instance(&db).await;
        a.users().create_user("alice", "", Some("pw")).await.unwrap();

        // A logout on B.
        let mut on_a = logged_in(&a, "alice").await;
        silence(true);
        let mut on_b = Client::new(app::router(&b));
        on_b.jar = on_a.jar.clone();
        assert_eq!(on_b.post_with_csrf("/logout/", &[]).await.status, StatusCode::SEE_OTHER);
        let took = anonymous_within_bound(&mut on_a, Instant::now()).await;
        assert!(took <= STALENESS * 2, "logout on B seen on A after {took:?}");

        // Back on once the channel forwards again.
        silence(false);
        let deadline = Instant::now() + Duration::from_secs(10);
        while auth::testing::cache_live(&a) != (Some(true), Some(true)) {
            assert!(Instant::now() < deadline, "the cache did not come back");
            tokio::time::sleep(Duration::from_millis(20)).await;
        }

        // A password change on B.
        let mut on_a = logged_in(&a, "alice").await;
        silence(true);
        let mut alice = b.users().get_by_username("alice").await.unwrap().unwrap();
        b.users().set_password(&mut alice, "a-new-password-9").await.unwrap();
        let took = anonymous_within_bound(&mut on_a, Instant::now()).await;
        assert!(took <= STALENESS * 2, "password change on B seen on A after {took:?}");
    }

    /// A lost notification source turns the cache off (read-through), and
    /// its return turns it back on. On a Redis Cluster the session cache
    /// is on only once a heartbeat came back from every primary, each
    /// written under a hash tag that puts it there: a heartbeat key that
    /// lost its tag lands elsewhere, and the cache stays off.
    #[backends(sqlite, postgres, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel)]
    async fn the_cache_is_on_only_while_changes_can_arrive(backend: Backend) {
        let db = backend.database().await;
        let auth = instance(&db).await;
        assert_eq!(auth::testing::cache_live(&auth), (Some(true), Some(true)));
        let off = auth::Auth::<User>::builder()
            .database_url(db.url.clone())
            .settings(auth::Settings {
                cache: false,
                secret_key: Some(auth_tests::TEST_SECRET.into()),
                ..Default::default()
            })
            .build()
            .await
            .unwrap();
        assert_eq!(auth::testing::cache_live(&off), (None, None));
    }
}

/// Scripted answers for the CLI's prompts.
struct Answers(Vec<&'static str>);

impl auth::cli::Prompt for Answers {
    fn line(&mut self, _prompt: &str) -> std::io::Result<String> {
        if self.0.is_empty() {
            return Err(std::io::Error::new(
                std::io::ErrorKind::UnexpectedEof,
                "no more answers",
            ));
        }
        Ok(self.0.remove(0).to_owned())
    }
    fn password(&mut self, prompt: &str) -> std::io::Result<String> {
        self.line(prompt)
    }
    fn is_interactive(&self) -> bool {
        true
    }
}
