//! Shared test fixtures: user models and a fresh database per test.
#![allow(dead_code)]

pub mod app;
pub mod backend;
pub mod client;
pub mod proxy;

#[allow(unused_imports)]
pub use backend::Backend;

/// The secret key tests use.
pub const TEST_SECRET: &str = "test-secret-key-that-is-long-enough-0123456789";

use std::sync::atomic::{AtomicUsize, Ordering};

/// The seed's user model.
#[derive(Clone, Debug, auth::AuthUser)]
#[auth(table = "accounts_user")]
pub struct User {
    #[auth(base)]
    pub base: auth::AbstractUser,
    pub bio: String,
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

/// An `Auth` on a fresh database, tables created.
pub async fn fresh_auth<U: auth::AuthUser>() -> auth::Auth<U> {
    fresh_auth_with(auth::Settings::default()).await
}

/// As [`fresh_auth`], with settings.
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
