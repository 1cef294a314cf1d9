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
//!     #[auth(default = "")]
//!     pub bio: String,
//!     pub birth_date: Option<auth::Date>,
//! }
//!
//! # async fn run() -> auth::Result<()> {
//! let auth = auth::Auth::<User>::builder()
//!     .database_url("sqlite://auth.db?mode=rwc")
//!     .build()
//!     .await?; // connects and creates missing tables
//! let alice = auth.users().create_user("alice", "alice@example.com", Some("correct horse")).await?;
//! assert_eq!(alice.username, "alice"); // Deref to the base fields
//! assert!(auth.authenticate("alice", "correct horse").await?.is_some());
//! # Ok(()) }
//! ```
//!
//! # The public API
//!
//! - The app: [`Auth`] (built by [`AuthBuilder`]: settings, database,
//!   URLs, templates), [`Settings`], [`Error`]; [`checks`] (Django's
//!   `manage.py check`); [`cli`] (the management commands, feature `cli`).
//! - Users: [`AuthUser`] (derived), [`AbstractUser`], [`Users`]
//!   (`auth.users()`), [`Backend`], [`ModelBackend`].
//! - Requests: [`AuthLayer`] (`auth.layer()`) and its [`AuthService`];
//!   [`Session`] and the primitives [`authenticate`],
//!   [`stage_login`], [`login`], [`logout`], [`update_session_auth_hash`];
//!   [`CurrentUser`], [`UserPermissions`], [`Templates`]; the guards
//!   [`login_required`], [`permission_required`], [`user_passes_test`],
//!   [`reauth_required`] and their layers; [`auth_urls!`], [`views`].
//! - Permissions: [`permissions!`], [`Permission`], [`PermissionAdmin`]
//!   (`auth.permissions()`).
//! - [`password`] (hashers, validators), [`mail`], [`events`] (Django's
//!   signals), [`redirect`] (safe `next` URLs).
//! - The feature apps, each under its feature: `mfa` (two-factor login
//!   and passkeys), `sessions` (`user-sessions`), `audit`.
//!
//! The README maps each piece of Django to the file that has it here.

#![warn(missing_docs, unreachable_pub)]

mod app;
mod apps;
#[cfg(feature = "audit")]
pub mod audit;
#[cfg(feature = "cli")]
pub mod cli;
mod csrf;
pub mod events;
mod forms;
mod guards;
mod http;
mod kernel;
mod login;
pub mod mail;
#[cfg(feature = "mfa")]
pub mod mfa;
mod middleware;
#[cfg(feature = "notify")]
mod notify;
pub mod password;
mod permissions;
#[cfg(feature = "prometheus")]
mod prometheus;
mod session;
mod settings;
mod templates;
mod throttle;
mod tokens;
mod urls;
mod user;
#[cfg(feature = "user-sessions")]
mod usersessions;
pub mod views;

/// The README's example, compiled as a doctest so it stays true.
#[cfg(doctest)]
#[doc = include_str!("../../README.md")]
pub struct ReadmeDoctests;

pub use app::backends::{Backend, ModelBackend};
pub use app::builder::{AuthBuilder, DEFAULT_DATABASE_URL};
pub use app::checks;
pub use app::shutdown::shutdown_signal;
#[cfg(feature = "test-util")]
pub use app::testing;
pub use app::{Auth, PermissionAdmin, Users};
pub use guards::login_required::LoginRequiredLayer;
pub use guards::permission_required::PermissionRequiredLayer;
pub use guards::reauth_required::ReauthRequiredLayer;
pub use guards::user_passes_test::UserPassesTestLayer;
pub use http::redirect;
pub use kernel::error::{Error, Result, SettingsError, ValidationError};
pub use kernel::migration::Migration;
pub use login::request::CurrentUser;
pub use login::{
    LoginStage, Session, authenticate, login, logout, stage_login, update_session_auth_hash,
};
pub use mail::Mail;
pub use middleware::{AuthLayer, AuthService};
pub use permissions::{Permission, PermissionName, UserPermissions};
pub use settings::{
    EmailBackendKind, MaxSessionsPolicy, RememberMe, SameSite, Settings, UnknownValue,
};
pub use templates::Templates;
pub use urls::{Route, Urls};
pub use user::{AbstractUser, AuthUser, normalize_email, validate_username};

/// What generated code needs, so user crates need no direct dependency on
/// these crates. Not a public API.
#[doc(hidden)]
pub mod __private {
    pub use axum;
    pub use http;
    pub use inventory;
    pub use minijinja;
    pub use sea_orm;
    pub use time;
    pub use uuid;

    pub use crate::__auth_base_columns as base_columns;
    pub use crate::__auth_views as views;
    pub use crate::guards::login_required::{LoginRedirect, LoginRequired, LoginUrl, require_user};
    pub use crate::guards::permission_required::{PermissionCheck, PermissionRequired};
    pub use crate::guards::reauth_required::{ReauthPolicy, ReauthRequired};
    pub use crate::guards::user_passes_test::{
        AnyUser, AsyncVerdict, TestFuture, UserPassesTest, UserTest, Verdict, outcome,
        user_for_test,
    };
    pub use crate::kernel::registry::{GuardDeclaration, UrlsDeclaration};
    pub use crate::permissions::declared::PermissionsDeclaration;
    pub use crate::templates::TemplateField;
    pub use crate::user::codegen::{stub, today};
    pub use crate::user::columns;
    pub use crate::user::{BaseColumn, FieldKind, FromInput, ModelField, ModelMeta};
    pub use auth_macros::{auth_urls_with_views, derive_auth_user_with_columns};
}

/// The sessions a user is logged in on, which they can see and end
/// (OWASP ASVS 7.5.2), and an administrator can end
/// ([`Auth::sessions`]): [`list`](sessions::list),
/// [`end`](sessions::end), [`end_all_other`](sessions::end_all_other).
/// The built-in [`SessionListView`](sessions::SessionListView) is a page
/// on top of them.
///
/// Each logged-in session records when it logged in, when it was last
/// seen (written at most once per `AUTH_SESSION_ACTIVITY_RESOLUTION`),
/// the client's address and user agent, and how it logged in. Sessions are
/// named by a handle ([`UserSession::key`](sessions::UserSession::key)),
/// a digest of the session key: a list never shows the keys themselves.
#[cfg(feature = "user-sessions")]
pub mod sessions {
    pub use crate::usersessions::{
        SessionAdmin, SessionListView, UserSession, end, end_all_other, list,
    };
}

/// The feature apps this build has (Django's `INSTALLED_APPS`): with
/// the views' chain below, the one place the crate names them; the
/// builder installs them through their extension points
/// (`apps::FeatureApp`), in this order.
pub(crate) const INSTALLED_APPS: &[&apps::FeatureApp] = &[
    #[cfg(feature = "user-sessions")]
    &crate::usersessions::APP,
    #[cfg(feature = "audit")]
    &crate::audit::APP,
    #[cfg(feature = "notify")]
    &crate::notify::APP,
    #[cfg(feature = "mfa")]
    &crate::mfa::APP,
    #[cfg(feature = "passkeys")]
    &crate::mfa::PASSKEYS_APP,
];

/// The installed feature apps' management commands, which
/// [`Management`](crate::cli::Management) lists next to the built-in ones.
#[cfg(feature = "cli")]
pub(crate) fn feature_commands<U: AuthUser>() -> Vec<crate::cli::support::FeatureCommand<U>> {
    #[cfg_attr(
        not(any(feature = "user-sessions", feature = "audit", feature = "mfa")),
        allow(unused_mut)
    )]
    let mut commands = Vec::new();
    #[cfg(feature = "user-sessions")]
    commands.extend(crate::usersessions::cli::commands());
    #[cfg(feature = "audit")]
    commands.extend(crate::audit::cli::commands());
    #[cfg(feature = "mfa")]
    commands.extend(crate::mfa::cli::commands());
    commands
}

// The chained table of views `auth_urls!` reads (`__private::views!`):
// the core's views (`views/table.rs`), then each feature app's link in
// order, then the callback with them all. A feature this build lacks has
// a link here that names its views as needing it, so `auth_urls!` can say
// which feature to turn on.

#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_after_core {
    ($callback:path, [$($args:tt)*], $($views:tt)*) => {
        $crate::__auth_views_mfa! { $crate::__auth_views_after_mfa { $callback, [$($args)*], $($views)* } }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_after_mfa {
    ($callback:path, [$($args:tt)*], $($views:tt)*) => {
        $crate::__auth_views_passkeys! { $crate::__auth_views_after_passkeys { $callback, [$($args)*], $($views)* } }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_after_passkeys {
    ($callback:path, [$($args:tt)*], $($views:tt)*) => {
        $crate::__auth_views_user_sessions! { $crate::__auth_views_done { $callback, [$($args)*], $($views)* } }
    };
}

#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_done {
    ($callback:path, [$($args:tt)*], $($views:tt)*) => {
        $callback! { $($args)* $($views)* }
    };
}

#[cfg(not(feature = "mfa"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_mfa {
    ($callback:path { $($prefix:tt)* }) => {
        $callback! {
            $($prefix)*
            MfaAuthenticateView needs_feature("mfa");
            MfaIndexView needs_feature("mfa");
            TotpActivateView needs_feature("mfa");
            TotpDeactivateView needs_feature("mfa");
            RecoveryCodesView needs_feature("mfa");
        }
    };
}

#[cfg(not(feature = "passkeys"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_passkeys {
    ($callback:path { $($prefix:tt)* }) => {
        $callback! {
            $($prefix)*
            PasskeysView needs_feature("passkeys");
        }
    };
}

#[cfg(not(feature = "user-sessions"))]
#[doc(hidden)]
#[macro_export]
macro_rules! __auth_views_user_sessions {
    ($callback:path { $($prefix:tt)* }) => {
        $callback! {
            $($prefix)*
            SessionListView needs_feature("user-sessions");
        }
    };
}

pub use urls::REDIRECT_FIELD_NAME;

/// SeaORM, re-exported so apps can query the generated entities without
/// depending on it directly (and always with the same version).
pub use sea_orm;

/// minijinja, re-exported for template contexts (`auth::minijinja::context!`).
pub use minijinja;

/// tower-sessions' session type and store contract (`Session`,
/// `SessionStore`, `Record`), re-exported: [`Session`] derefs to its
/// `Session`, and [`AuthBuilder::session_store`] takes any of its stores.
pub use tower_sessions;

/// clap, re-exported: app commands
/// ([`Management::command`](cli::Management::command)) are clap commands
/// (feature `cli`).
#[cfg(feature = "cli")]
pub use clap;

pub use auth_macros::AuthUser;

pub use auth_macros::{
    auth_urls, login_required, permission_required, permissions, reauth_required, user_passes_test,
};

pub use kernel::{Date, DateTime, Uuid};
