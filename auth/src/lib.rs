//! Django-grade session authentication for axum, declared with macros.
//!
//! Derive a user model, and you get its SeaORM entity and table, argon2id
//! password hashing, `authenticate`, and management commands:
//!
//! ```no_run
//! #[derive(Clone, Debug, auth::AuthUser)]
//! #[auth(table = "accounts_user")]
//! pub struct User {
//!     #[auth(base)]
//!     pub base: auth::AbstractUser,
//!     pub bio: String,
//!     pub birth_date: Option<auth::Date>,
//! }
//!
//! # async fn run() -> auth::Result<()> {
//! let auth = auth::Auth::<User>::builder()
//!     .database_url("sqlite://auth.db?mode=rwc")
//!     .build()
//!     .await?; // connects and creates missing tables
//! let alice = auth.create_user("alice", "alice@example.com", Some("correct horse")).await?;
//! assert_eq!(alice.username, "alice"); // Deref to the base fields
//! assert!(auth.authenticate("alice", "correct horse").await?.is_some());
//! # Ok(()) }
//! ```

#![warn(missing_docs)]

mod auth;
mod cache;
pub mod cli;
pub mod csrf;
mod error;
pub mod extract;
pub mod layer;
pub mod password;
pub mod redirect;
pub mod schema;
pub mod secret;
pub mod session;
pub mod settings;
mod templates;
pub mod user;
pub mod views;

#[doc(hidden)]
pub mod __private;

/// The README's example, compiled as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

pub use crate::auth::{
    Auth, AuthBuilder, DEFAULT_DATABASE_URL, connect, normalize_email, normalize_username,
};
pub use error::{Error, Result};
pub use extract::{CurrentUser, LoginRequired};
pub use layer::{AuthLayer, LoginRequiredLayer};
pub use session::{Session, login, logout, update_session_auth_hash};
pub use settings::Settings;
pub use templates::{TemplateField, Templates};
pub use user::{AbstractUser, AuthUser};

/// The query parameter that carries the page to return to after login.
pub const REDIRECT_FIELD_NAME: &str = "next";

/// SeaORM, re-exported so apps can query the generated entities without
/// depending on it directly (and always with the same version).
pub use sea_orm;

/// minijinja, re-exported for template contexts (`auth::minijinja::context!`).
pub use minijinja;

/// Derives a user model: see the crate documentation.
pub use auth_macros::AuthUser;

/// Requires a logged-in user for a handler: see the macro's documentation.
pub use auth_macros::login_required;

/// Declares the auth routes and named URLs: see the macro's documentation.
pub use auth_macros::auth_urls;

/// A calendar date (a column type for custom user fields).
pub type Date = time::Date;
/// A point in time with a UTC offset (a column type for custom user fields).
pub type DateTime = time::OffsetDateTime;
/// A UUID (a column type for custom user fields).
pub type Uuid = uuid::Uuid;
