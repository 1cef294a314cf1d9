//! What the integration tests share: user models, a fresh database per test
//! on every backend, an in-process client with a cookie jar, a small app
//! built on the primitives, a cuttable TCP proxy for outage tests, and
//! [`backend_tests!`], which runs one test body on every backend.

pub mod app;
pub mod backend;
pub mod client;
pub mod outage;
pub mod proxy;
pub mod redis_topology;

use std::sync::atomic::{AtomicUsize, Ordering};

pub use backend::{Backend, TestDb};

/// The secret key tests use.
pub const TEST_SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";

/// The seed's user model.
#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "accounts_user")]
pub struct User {
    /// Username, password and the other standard fields.
    #[auth(base)]
    pub base: auth::AbstractUser,
    /// Free text, empty by default.
    #[auth(default = "")]
    pub bio: String,
    /// Optional.
    pub birth_date: Option<auth::Date>,
}

/// A fresh, empty SQLite database file in the temp directory.
pub fn sqlite_url() -> String {
    static COUNTER: AtomicUsize = AtomicUsize::new(0);
    let dir = std::env::temp_dir().join("auth-tests");
    std::fs::create_dir_all(&dir).expect("temp dir");
    let name = format!(
        "{}-{}-{}.db",
        std::process::id(),
        COUNTER.fetch_add(1, Ordering::Relaxed),
        auth::Uuid::new_v4().simple()
    );
    let path = dir.join(name);
    format!("sqlite://{}?mode=rwc", path.display())
}

/// An `Auth` on a fresh SQLite database, tables created.
pub async fn fresh_auth<U: auth::AuthUser>() -> auth::Auth<U> {
    fresh_auth_with(auth::Settings::default()).await
}

/// As [`fresh_auth`], with settings (the test secret key unless one is set).
pub async fn fresh_auth_with<U: auth::AuthUser>(mut settings: auth::Settings) -> auth::Auth<U> {
    if settings.secret_key.is_none() {
        settings.secret_key = Some(TEST_SECRET.into());
    }
    auth::Auth::<U>::builder()
        .database_url(sqlite_url())
        .settings(settings)
        .build()
        .await
        .expect("auth builds on a fresh SQLite database")
}

/// Declares async tests that run on several backends. Each test is written
/// once, as `async fn name(backend: Backend)`, and becomes a module `name`
/// with one `#[tokio::test]` per backend (`name::sqlite`,
/// `name::postgres`, …). A backend whose server the build did not see
/// (its `AUTH_TEST_*_URL` unset) is compiled as `#[ignore]` with the
/// variable to set, so `cargo test` counts it as ignored, not passed; one
/// whose variable is gone at run time prints why and returns.
///
/// The backends are `sqlite`, `postgres`, `mysql`, `postgres_redis`,
/// `postgres_redis_cluster` and `postgres_redis_sentinel` by default; a
/// block can start with `backends: [..];` to change the default, and a
/// test can say `#[backends(..)]` (after its doc comment) to choose its
/// own.
///
/// ```ignore
/// auth_tests::backend_tests! {
///     async fn logs_in(backend: Backend) { /* … */ }
///
///     #[backends(postgres, mysql)]
///     async fn survives_an_outage(backend: Backend) { /* … */ }
/// }
/// ```
#[macro_export]
macro_rules! backend_tests {
    (@each [$($default:ident),+]) => {};
    (@each [$($default:ident),+]
        $(#[doc = $doc:literal])*
        #[backends($($backend:ident),+ $(,)?)]
        $(#[$meta:meta])*
        async fn $name:ident($arg:ident: Backend) $body:block
        $($rest:tt)*
    ) => {
        $crate::backend_tests!(@one [$($backend),+] $(#[doc = $doc])* $(#[$meta])* $name $arg $body);
        $crate::backend_tests!(@each [$($default),+] $($rest)*);
    };
    (@each [$($default:ident),+]
        $(#[$meta:meta])*
        async fn $name:ident($arg:ident: Backend) $body:block
        $($rest:tt)*
    ) => {
        $crate::backend_tests!(@one [$($default),+] $(#[$meta])* $name $arg $body);
        $crate::backend_tests!(@each [$($default),+] $($rest)*);
    };
    (@one [$($backend:ident),+] $(#[$meta:meta])* $name:ident $arg:ident $body:block) => {
        $(#[$meta])*
        async fn $name($arg: $crate::Backend) $body

        mod $name {
            $( $crate::backend_tests!(@case $backend $name); )+
        }
    };
    // One test per backend, ignored when the build saw no server for it
    // (the cfgs come from this crate's build script).
    (@case postgres $name:ident) => {
        $crate::backend_tests!(@run postgres $name
            #[cfg_attr(not(auth_test_postgres), ignore = "AUTH_TEST_POSTGRES_URL is not set")]);
    };
    (@case mysql $name:ident) => {
        $crate::backend_tests!(@run mysql $name
            #[cfg_attr(not(auth_test_mysql), ignore = "AUTH_TEST_MYSQL_URL is not set")]);
    };
    (@case postgres_redis $name:ident) => {
        $crate::backend_tests!(@run postgres_redis $name
            #[cfg_attr(
                not(all(auth_test_postgres, auth_test_redis)),
                ignore = "AUTH_TEST_POSTGRES_URL and AUTH_TEST_REDIS_URL are not both set"
            )]);
    };
    (@case postgres_redis_cluster $name:ident) => {
        $crate::backend_tests!(@run postgres_redis_cluster $name
            #[cfg_attr(
                not(all(auth_test_postgres, auth_test_redis_cluster)),
                ignore = "AUTH_TEST_POSTGRES_URL and AUTH_TEST_REDIS_CLUSTER_URL are not both set"
            )]);
    };
    (@case postgres_redis_sentinel $name:ident) => {
        $crate::backend_tests!(@run postgres_redis_sentinel $name
            #[cfg_attr(
                not(all(auth_test_postgres, auth_test_redis_sentinel)),
                ignore = "AUTH_TEST_POSTGRES_URL and AUTH_TEST_REDIS_SENTINEL_URL are not both set"
            )]);
    };
    (@case $backend:ident $name:ident) => {
        $crate::backend_tests!(@run $backend $name);
    };
    (@run $backend:ident $name:ident $(#[$attr:meta])*) => {
        #[tokio::test]
        $(#[$attr])*
        async fn $backend() {
            let backend = $crate::Backend::named(stringify!($backend));
            if backend.available() {
                super::$name(backend).await;
            }
        }
    };
    (backends: [$($default:ident),+ $(,)?]; $($tests:tt)*) => {
        $crate::backend_tests!(@each [$($default),+] $($tests)*);
    };
    ($($tests:tt)*) => {
        $crate::backend_tests!(@each [sqlite, postgres, mysql, postgres_redis, postgres_redis_cluster, postgres_redis_sentinel] $($tests)*);
    };
}
