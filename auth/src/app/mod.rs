//! The composition root. [`Auth`]: one app's authentication system for
//! user model `U`, the handle a request handler, a command or a test
//! holds, around [`Shared`] (`apps.rs`), what every request of the app
//! shares; the builder; the handles (`users.rs`, `permissions.rs`); the
//! system-check runner and the core's checks; shutdown.
//!
//! `Auth<U>` keeps what code outside the built-in views needs: the user
//! manager ([`Auth::users`], Django's `User.objects`), group and permission
//! administration ([`Auth::permissions`]), `authenticate` outside a
//! request, email, reset tokens and the layer. Everything else is reached
//! through those handles.

pub(crate) mod backends;
pub(crate) mod builder;
pub mod checks;
pub(crate) mod permissions;
pub(crate) mod shutdown;
#[doc(hidden)]
#[cfg(feature = "test-util")]
pub mod testing;
pub(crate) mod users;

use std::{marker::PhantomData, sync::Arc};

use sea_orm::DatabaseConnection;

pub(crate) use crate::apps::Shared;
pub use permissions::PermissionAdmin;
pub use users::Users;

use crate::{
    kernel::error::Result,
    kernel::{database, migration::Migration},
    mail::Mail,
    password::Hasher,
    settings::Settings,
    user::{AuthUser, erased::downcast},
};
/// The authentication system for user model `U`: its database, settings,
/// password hasher, session store and authentication backends. Cheap to
/// clone. Build it with [`Auth::builder`].
pub struct Auth<U> {
    pub(crate) shared: Arc<Shared>,
    _user: PhantomData<fn() -> U>,
}

impl<U> Clone for Auth<U> {
    fn clone(&self) -> Self {
        Auth::from_shared(self.shared.clone())
    }
}

impl<U> std::fmt::Debug for Auth<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("backend", &self.shared.db.conn().get_database_backend())
            .finish_non_exhaustive()
    }
}

impl<U> Auth<U> {
    /// The typed handle on an app's shared state.
    pub(crate) fn from_shared(shared: Arc<Shared>) -> Self {
        Auth {
            shared,
            _user: PhantomData,
        }
    }
}

impl<U: AuthUser> Auth<U> {
    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        self.shared.db.conn()
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.shared.settings
    }

    /// Where anonymous users are sent: `settings.login_url` if set, else
    /// the path of the `LoginView` the app declared with `auth_urls!` and
    /// gave the builder (`.urls(urls::URLCONF)`), else Django's
    /// `/accounts/login/`.
    pub fn login_url(&self) -> &str {
        self.shared.login_url()
    }

    /// The users (Django's `User.objects`): find, create, save, delete,
    /// set and check passwords.
    pub fn users(&self) -> Users<'_, U> {
        Users::new(&self.shared)
    }

    /// Groups and permissions (Django's `PermissionsMixin` and the
    /// admin's group and permission editing).
    pub fn permissions(&self) -> PermissionAdmin<'_, U> {
        PermissionAdmin::new(&self.shared)
    }

    /// Checks credentials with each authentication backend in turn,
    /// outside a request (Django's `authenticate(request=None, …)`):
    /// attempts count against the username (and `unknown` for the
    /// address). In a handler use [`auth::authenticate`](crate::authenticate),
    /// which counts the client's address and remembers the backend for
    /// [`login`](crate::login).
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<U>> {
        let found = self
            .shared
            .authenticate(crate::apps::Attempt::default(), username, password)
            .await?;
        Ok(found.and_then(|(user, _backend)| downcast::<U>(user)))
    }

    /// The password hasher (the configured one, bounded).
    pub fn hasher(&self) -> &Hasher {
        &self.shared.hasher
    }

    /// Creates the tables if missing (users, sessions, groups and
    /// permissions, throttle counters) and inserts the declared
    /// permissions that are missing (Django's `migrate`); what it did.
    /// With the builder's default, the build already ran it, and
    /// [`Migration`] then includes what that run did.
    pub async fn migrate(&self) -> Result<Migration> {
        let shared = &self.shared;
        let db = &shared.db;
        let before = db.run(database::table_names(db.conn())).await?;
        shared.users.migrate().await?;
        shared.sessions.migrate().await?;
        shared.throttle.migrate().await?;
        for migrate in shared.apps.iter().filter_map(|app| app.migrate) {
            db.run(migrate(db.conn())).await?;
        }
        let added_permissions = shared.permissions.migrate(db).await?;
        let mut created_tables: Vec<String> = db
            .run(database::table_names(db.conn()))
            .await?
            .into_iter()
            .filter(|table| !before.contains(table))
            .collect();
        created_tables.sort();
        let now = Migration {
            created_tables,
            added_permissions,
        };
        let mut built = shared
            .migrated
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let done = std::mem::take(&mut *built).then(now);
        Ok(done)
    }

    /// Deletes expired sessions (Django's `clearsessions`); returns how many.
    pub async fn clear_expired_sessions(&self) -> Result<u64> {
        self.shared.sessions.clear_expired().await
    }

    /// The configured email backend (Django's `send_mail`, and
    /// `mail.outbox` with the `memory` backend).
    pub fn mail(&self) -> &Mail {
        &self.shared.mail
    }

    /// A password-reset token for `user`, as Django's
    /// `default_token_generator.make_token` makes it.
    pub fn make_password_reset_token(&self, user: &U) -> String {
        self.shared
            .reset_tokens
            .make_token(user.base(), self.shared.clock.now())
    }

    /// Whether `token` is a live password-reset token for `user` (Django's
    /// `check_token`): made for the user as they are now, with the current
    /// or a fallback secret key, within `password_reset_timeout`, in its
    /// canonical form.
    pub fn check_password_reset_token(&self, user: &U, token: &str) -> bool {
        self.shared
            .reset_tokens
            .check_token(user.base(), token, self.shared.clock.now())
    }

    /// Renders a template with exactly `context` (no request: no `user` or
    /// CSRF token unless given), for emails, error pages or benchmarks.
    pub fn render_template(&self, name: &str, context: minijinja::Value) -> Result<String> {
        self.shared.templates.render(name, context)
    }
}
