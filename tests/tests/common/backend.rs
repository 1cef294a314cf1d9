//! Which database (and session store) a test runs against. SQLite always
//! runs; PostgreSQL, MySQL/MariaDB and Redis run when their
//! `AUTH_TEST_*_URL` variable is set, and are skipped with a printed reason
//! otherwise. Every test gets its own schema or database, dropped at the end
//! (also when the test fails).

use auth::sea_orm::{ConnectionTrait, Database};

pub const POSTGRES_ENV: &str = "AUTH_TEST_POSTGRES_URL";
pub const MYSQL_ENV: &str = "AUTH_TEST_MYSQL_URL";
pub const REDIS_ENV: &str = "AUTH_TEST_REDIS_URL";

#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Backend {
    Sqlite,
    /// SQLite with the in-process session and user cache on.
    SqliteCached,
    Postgres,
    Mysql,
    /// PostgreSQL for users, Redis for sessions.
    PostgresRedis,
}

fn env(name: &str) -> Option<String> {
    std::env::var(name).ok().filter(|v| !v.is_empty())
}

impl Backend {
    /// Whether this backend can run here; prints why not.
    pub fn available(self) -> bool {
        let missing: Vec<&str> = match self {
            Backend::Sqlite | Backend::SqliteCached => vec![],
            Backend::Postgres => vec![POSTGRES_ENV],
            Backend::Mysql => vec![MYSQL_ENV],
            Backend::PostgresRedis => vec![POSTGRES_ENV, REDIS_ENV],
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
            Backend::Sqlite | Backend::SqliteCached => TestDb {
                url: super::sqlite_url(),
                redis: None,
                cache: self == Backend::SqliteCached,
                drop: None,
            },
            Backend::Postgres | Backend::PostgresRedis => {
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
                let redis = (self == Backend::PostgresRedis).then(|| {
                    (
                        env(REDIS_ENV).expect("checked by available()"),
                        format!("{schema}:"),
                    )
                });
                TestDb {
                    url,
                    redis,
                    cache: false,
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
                    cache: false,
                    drop: Some((admin, format!("DROP DATABASE IF EXISTS {name}"))),
                }
            }
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
            settings.secret_key = Some(super::TEST_SECRET.into());
        }
        let mut builder = auth::Auth::<U>::builder().database_url(self.url.clone());
        if self.cache {
            settings.cache_ttl = std::time::Duration::from_secs(60);
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
                    let timeout = std::time::Duration::from_secs(5);
                    if let Ok(store) =
                        auth::session::redis::RedisStore::connect(&url, prefix, timeout).await
                    {
                        let _ = store.clear_all().await;
                    }
                }
            });
        });
        let _ = cleanup.join();
    }
}

/// Runs each listed `async fn(Backend)` on every backend, as separate tests
/// in modules `sqlite`, `postgres`, `mysql` and `postgres_redis`.
#[macro_export]
macro_rules! on_every_backend {
    ($($test:ident),* $(,)?) => {
        $crate::on_backends!(sqlite: Sqlite, postgres: Postgres, mysql: Mysql, postgres_redis: PostgresRedis; [$($test),*]);
    };
}

/// As [`on_every_backend`], on the listed backends:
/// `on_backends!(sqlite: Sqlite, postgres: Postgres; [test_a, test_b])`.
#[macro_export]
macro_rules! on_backends {
    ($($module:ident: $backend:ident),*; $tests:tt) => {
        $( $crate::backend_module!($module, $backend, $tests); )*
    };
}

/// One module of tests on one backend.
#[macro_export]
macro_rules! backend_module {
    ($module:ident, $backend:ident, [$($test:ident),* $(,)?]) => {
        mod $module {
            $(
                #[tokio::test]
                async fn $test() {
                    let backend = $crate::common::backend::Backend::$backend;
                    if backend.available() {
                        super::$test(backend).await;
                    }
                }
            )*
        }
    };
}
