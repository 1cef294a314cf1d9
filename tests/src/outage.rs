//! An app whose database or Redis is reached through a [`Proxy`] a test
//! can cut and restore, with a client logged in as alice.

use std::time::Duration;

use crate::{
    Backend, TestDb, User, app,
    client::Client,
    proxy::{Proxy, target, via},
};

/// Which service the proxy stands in front of.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Service {
    /// The database.
    Database,
    /// Redis (the backend must keep sessions in Redis).
    Redis,
}

/// The app, its proxy and a logged-in client.
pub struct Outage {
    /// The app.
    pub auth: auth::Auth<User>,
    /// A client logged in as alice.
    pub client: Client,
    /// The proxy to cut.
    pub proxy: Proxy,
    _db: TestDb,
}

/// One-second timeouts, a 200 ms cache staleness bound, no background
/// cleanup.
pub fn quick_timeouts() -> auth::Settings {
    auth::Settings {
        database_timeout: Duration::from_secs(1),
        cache_max_staleness: Duration::from_millis(200),
        session_cleanup_interval: None,
        ..Default::default()
    }
}

impl Outage {
    /// Builds the app with `service` behind a proxy and logs alice in.
    pub async fn start(backend: Backend, service: Service) -> Self {
        let db = backend.database().await;
        let mut settings = quick_timeouts();
        let (proxy, builder) = match service {
            Service::Database => {
                let proxy = Proxy::start(target(&db.url)).await;
                let builder = db
                    .builder::<User>(settings)
                    .database_url(via(&db.url, proxy.addr));
                (proxy, builder)
            }
            Service::Redis => {
                let (url, prefix) = db.redis.clone().expect("a backend with Redis");
                settings.session_redis_key_prefix = prefix;
                let proxy = Proxy::start(target(&url)).await;
                let builder = db
                    .builder::<User>(settings)
                    .redis_url(via(&url, proxy.addr));
                (proxy, builder)
            }
        };
        let auth = builder.build().await.expect("the app builds");
        auth.users()
            .create_user("alice", "", Some("alice-password"))
            .await
            .unwrap();
        let mut client = Client::new(app::router(&auth));
        client
            .post_with_csrf(
                "/login/",
                &[("username", "alice"), ("password", "alice-password")],
            )
            .await;
        assert_eq!(client.get("/").await.body, "Welcome, alice!");
        Outage {
            auth,
            client,
            proxy,
            _db: db,
        }
    }

    /// GETs `uri` until it answers `status` (within the staleness bound
    /// and the database timeout, with a wide margin), each answer within 15 s.
    pub async fn eventually_status(&mut self, uri: &str, status: http::StatusCode) {
        let deadline = std::time::Instant::now() + Duration::from_secs(8);
        loop {
            let page = tokio::time::timeout(Duration::from_secs(15), self.client.get(uri))
                .await
                .expect("no hang");
            if page.status == status {
                return;
            }
            assert!(
                std::time::Instant::now() < deadline,
                "{uri} still answers {}: {}",
                page.status,
                page.body
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Polls `uri` until its body is `expected`, for at most ten seconds.
    pub async fn eventually(&mut self, uri: &str, expected: &str) {
        for _ in 0..50 {
            if self.client.get(uri).await.body == expected {
                return;
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
        panic!("{uri} never answered {expected:?}");
    }
}
