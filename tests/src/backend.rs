//! Which database (and session store) a test runs against. SQLite always
//! runs; PostgreSQL, MySQL/MariaDB and Redis run when their
//! `AUTH_TEST_*_URL` variable is set, and are skipped with a printed reason
//! otherwise. Every test gets its own schema or database, dropped at the end
//! (also when the test fails).

use auth::sea_orm::{ConnectionTrait, Database};

/// The PostgreSQL server tests may create schemas on.
pub const POSTGRES_ENV: &str = "AUTH_TEST_POSTGRES_URL";
/// The MySQL or MariaDB server tests may create databases on.
pub const MYSQL_ENV: &str = "AUTH_TEST_MYSQL_URL";
/// The Redis server tests may store sessions on (under a prefix of their own).
pub const REDIS_ENV: &str = "AUTH_TEST_REDIS_URL";
/// A Redis Cluster (a `redis-cluster://` URL), as `.ci/redis-topologies`
/// starts.
pub const REDIS_CLUSTER_ENV: &str = "AUTH_TEST_REDIS_CLUSTER_URL";
/// A primary behind Sentinel (a `redis-sentinel://` URL), as
/// `.ci/redis-topologies` starts.
pub const REDIS_SENTINEL_ENV: &str = "AUTH_TEST_REDIS_SENTINEL_URL";

/// Where a test's data lives.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    /// A SQLite file.
    Sqlite,
    /// SQLite with the in-process session and user cache off
    /// (`AUTH_CACHE=off`): every read goes to the database.
    SqliteUncached,
    /// A schema of its own on PostgreSQL.
    Postgres,
    /// A database of its own on MySQL or MariaDB.
    Mysql,
    /// PostgreSQL for users, Redis for sessions.
    PostgresRedis,
    /// PostgreSQL for users, sessions on a Redis Cluster.
    PostgresRedisCluster,
    /// PostgreSQL for users, sessions on a primary found through Sentinel.
    PostgresRedisSentinel,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Backend {
    /// The backend of a test function's name (`sqlite`, `sqlite_uncached`,
    /// `postgres`, `mysql`, `postgres_redis`, `postgres_redis_cluster`,
    /// `postgres_redis_sentinel`).
    pub fn named(name: &str) -> Self {
        match name {
            "sqlite" => Backend::Sqlite,
            "sqlite_uncached" => Backend::SqliteUncached,
            "postgres" => Backend::Postgres,
            "mysql" => Backend::Mysql,
            "postgres_redis" => Backend::PostgresRedis,
            "postgres_redis_cluster" => Backend::PostgresRedisCluster,
            "postgres_redis_sentinel" => Backend::PostgresRedisSentinel,
            other => panic!("no backend named {other}"),
        }
    }

    /// Whether this backend can run here; prints why not.
    pub fn available(self) -> bool {
        let missing: Vec<&str> = match self {
            Backend::Sqlite | Backend::SqliteUncached => vec![],
            Backend::Postgres => vec![POSTGRES_ENV],
            Backend::Mysql => vec![MYSQL_ENV],
            Backend::PostgresRedis => vec![POSTGRES_ENV, REDIS_ENV],
            Backend::PostgresRedisCluster => vec![POSTGRES_ENV, REDIS_CLUSTER_ENV],
            Backend::PostgresRedisSentinel => vec![POSTGRES_ENV, REDIS_SENTINEL_ENV],
        }
        .into_iter()
        .filter(|name| env(name).is_none())
        .collect();
        if !missing.is_empty() {
            // Straight to stderr, past the test harness' capture, so the
            // reason shows in a normal `cargo test` run.
            use std::io::Write as _;
            let _ = writeln!(
                std::io::stderr(),
                "skipped on {self:?}: {} not set",
                missing.join(" and ")
            );
        }
        missing.is_empty()
    }

    /// A fresh, empty database for one test.
    pub async fn database(self) -> TestDb {
        match self {
            Backend::Sqlite | Backend::SqliteUncached => TestDb {
                url: crate::sqlite_url(),
                redis: None,
                cache: self != Backend::SqliteUncached,
                drop: None,
            },
            Backend::Postgres
            | Backend::PostgresRedis
            | Backend::PostgresRedisCluster
            | Backend::PostgresRedisSentinel => {
                let admin = env(POSTGRES_ENV).expect("checked by available()");
                let schema = format!("auth_t_{}", auth::Uuid::new_v4().simple());
                let db = Database::connect(&admin)
                    .await
                    .expect("PostgreSQL reachable");
                db.execute_unprepared(&format!("CREATE SCHEMA {schema}"))
                    .await
                    .unwrap();
                db.close().await.ok();
                let separator = if admin.contains('?') { '&' } else { '?' };
                let url = format!("{admin}{separator}options=-c%20search_path%3D{schema}");
                let redis = self.redis_env().map(|variable| {
                    (
                        env(variable).expect("checked by available()"),
                        format!("{schema}:"),
                    )
                });
                TestDb {
                    url,
                    redis,
                    cache: true,
                    drop: Some((admin, format!("DROP SCHEMA IF EXISTS {schema} CASCADE"))),
                }
            }
            Backend::Mysql => {
                let admin = env(MYSQL_ENV).expect("checked by available()");
                let name = format!("auth_t_{}", auth::Uuid::new_v4().simple());
                let db = Database::connect(&admin).await.expect("MySQL reachable");
                db.execute_unprepared(&format!("CREATE DATABASE {name}"))
                    .await
                    .unwrap();
                db.close().await.ok();
                let base = admin.rsplit_once('/').map(|(b, _)| b).unwrap_or(&admin);
                TestDb {
                    url: format!("{base}/{name}"),
                    redis: None,
                    cache: true,
                    drop: Some((admin, format!("DROP DATABASE IF EXISTS {name}"))),
                }
            }
        }
    }

    /// The variable naming this backend's Redis, if sessions go to Redis.
    pub fn redis_env(self) -> Option<&'static str> {
        match self {
            Backend::PostgresRedis => Some(REDIS_ENV),
            Backend::PostgresRedisCluster => Some(REDIS_CLUSTER_ENV),
            Backend::PostgresRedisSentinel => Some(REDIS_SENTINEL_ENV),
            _ => None,
        }
    }

    /// An `Auth` on a fresh database of this backend.
    pub async fn auth<U: auth::AuthUser>(
        self,
        settings: auth::Settings,
    ) -> (auth::Auth<U>, TestDb) {
        let db = self.database().await;
        let auth = db.auth(settings).await;
        (auth, db)
    }
}

/// A database made for one test; dropped with it.
pub struct TestDb {
    /// The database URL.
    pub url: String,
    /// Redis URL and key prefix, when sessions go to Redis.
    pub redis: Option<(String, String)>,
    /// Whether the in-process cache is on.
    pub cache: bool,
    drop: Option<(String, String)>,
}

impl TestDb {
    /// An `Auth` on this database (a second call gives a second app
    /// instance on the same data).
    pub async fn auth<U: auth::AuthUser>(&self, settings: auth::Settings) -> auth::Auth<U> {
        self.builder(settings)
            .build()
            .await
            .expect("auth builds on a fresh database")
    }

    /// The builder `auth` uses, to adjust before building.
    pub fn builder<U: auth::AuthUser>(&self, mut settings: auth::Settings) -> auth::AuthBuilder<U> {
        if settings.secret_key.is_none() {
            settings.secret_key = Some(crate::TEST_SECRET.into());
        }
        let mut builder = auth::Auth::<U>::builder().database_url(self.url.clone());
        if !self.cache {
            settings.cache = false;
        }
        if let Some((url, prefix)) = &self.redis {
            settings.session_redis_key_prefix = prefix.clone();
            builder = builder.redis_url(url.clone());
        }
        builder.settings(settings)
    }
}

impl Drop for TestDb {
    fn drop(&mut self) {
        let redis = self.redis.take();
        let Some((admin, statement)) = self.drop.take() else {
            return;
        };
        // Drop runs inside the test's runtime: clean up on a thread of our own.
        let cleanup = std::thread::spawn(move || {
            let runtime = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .unwrap();
            runtime.block_on(async {
                if let Ok(db) = Database::connect(&admin).await {
                    let _ = db.execute_unprepared(&statement).await;
                    let _ = db.close().await;
                }
                if let Some((url, prefix)) = redis {
                    let settings = auth::Settings {
                        secret_key: Some(crate::TEST_SECRET.into()),
                        session_redis_key_prefix: prefix,
                        session_cleanup_interval: None,
                        ..Default::default()
                    };
                    let built = auth::Auth::<crate::User>::builder()
                        .database_url(crate::sqlite_url())
                        .redis_url(url)
                        .settings(settings)
                        .build()
                        .await;
                    if let Ok(auth) = built {
                        let _ = auth::testing::clear_sessions(&auth).await;
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}
