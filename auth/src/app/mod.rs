//! [`Auth`]: one app's authentication system for user model `U` (its
//! database, settings, secret keys, hasher, templates, session store and
//! authentication backends) and the operations on users.
//!
//! `Auth<U>` is a typed handle on [`Core`], the type-erased state that the
//! request layer and the built-in views share; every operation has one
//! implementation, on the core, which both go through.

pub(crate) mod builder;
pub(crate) mod clock;
pub(crate) mod error;
pub(crate) mod schema;
#[doc(hidden)]
pub mod testing;

use std::{future::Future, marker::PhantomData, pin::Pin, sync::Arc};

use sea_orm::{DatabaseConnection, DbErr};

use crate::{
    DateTime, Error, Result, Settings, ValidationError,
    app::clock::Clock,
    mail::{EmailMessage, Mailer},
    password::validation::{Validators, validate_password},
    password::{Check, Hasher},
    permissions::tables::{self, Link, Links},
    permissions::{PermissionName, UserPermissions},
    session::coherence::UserCache,
    session::db::DbStore,
    session::store::DynStore,
    settings::secret::SaltedMac,
    templates::engine::Engine,
    throttle::Throttle,
    tokens::TokenGenerator,
    user::{
        self, AbstractUser, AuthUser, LoadedUser, downcast, normalize_email, normalize_username,
    },
};

pub(crate) type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The authentication system for user model `U`: its database, settings,
/// password hasher, session store and authentication backends. Cheap to
/// clone. Build it with [`Auth::builder`].
pub struct Auth<U> {
    pub(crate) core: Arc<Core>,
    _user: PhantomData<fn() -> U>,
}

impl<U> Clone for Auth<U> {
    fn clone(&self) -> Self {
        Auth::from_core(self.core.clone())
    }
}

impl<U> std::fmt::Debug for Auth<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("backend", &self.core.db.get_database_backend())
            .finish_non_exhaustive()
    }
}

/// The queries and backends of one user model, behind a trait object so
/// the request layer and the views serve any model without being generic.
/// Implemented in `backend.rs`.
pub(crate) trait UserModel: Send + Sync {
    /// Django's `authenticate`: each backend in order; the user and the
    /// name of the backend that accepted it.
    fn authenticate<'a>(
        &'a self,
        core: &'a Arc<Core>,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<(LoadedUser, &'static str)>>>;
    /// Django's `backend.get_user(id)` for the backend named in a session;
    /// `None` when that backend is no longer configured.
    fn get_user<'a>(
        &'a self,
        core: &'a Arc<Core>,
        backend: &'a str,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>>>;
    /// The name of the first backend (what [`login`](crate::login) records).
    fn first_backend(&self) -> &'static str;
    /// The row with this id.
    fn find_by_id<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>>;
    /// The users a password-reset request for `email` goes to.
    fn find_for_password_reset<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        email: &'a str,
    ) -> BoxFuture<'a, Result<Vec<LoadedUser>, DbErr>>;
    /// Writes the password column of user `id`.
    fn update_password<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>>;
    /// Writes the `last_login` column of user `id`.
    fn update_last_login<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        when: DateTime,
    ) -> BoxFuture<'a, Result<(), DbErr>>;
    /// Creates the user table if missing.
    fn migrate<'a>(&'a self, db: &'a DatabaseConnection) -> BoxFuture<'a, Result<(), DbErr>>;
    /// The user's permissions from every backend (one query each).
    fn permissions<'a>(
        &'a self,
        core: &'a Arc<Core>,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<UserPermissions>>;
}

/// What every request of one app shares: the type-erased state behind
/// [`Auth`].
pub(crate) struct Core {
    pub(crate) db: DatabaseConnection,
    pub(crate) settings: Settings,
    /// The security headers, parsed once.
    pub(crate) security_headers: crate::http::security::SecurityHeaders,
    /// The session auth hash's HMAC, keyed once.
    pub(crate) session_mac: SaltedMac,
    /// Session auth hashes by password hash (see `Core::session_hash`).
    pub(crate) session_hashes: std::sync::Mutex<std::collections::HashMap<String, Arc<str>>>,
    pub(crate) hasher: Hasher,
    pub(crate) validators: Validators,
    pub(crate) templates: Engine,
    pub(crate) model: Box<dyn UserModel>,
    /// Users by id, when `settings.cache` is on.
    pub(crate) users: Option<UserCache>,
    /// The session table in this database (created by `migrate` even when
    /// sessions live in Redis).
    pub(crate) session_table: DbStore,
    /// Where sessions live.
    pub(crate) sessions: DynStore,
    /// Failed-login counts, next to the sessions.
    pub(crate) throttle: Arc<Throttle>,
    /// The user model's group and permission link tables.
    pub(crate) links: Links,
    /// The permissions `migrate` makes sure exist: the user model's four
    /// defaults and the app's declared ones, `(app_label, codename, name)`.
    pub(crate) declared_permissions: Vec<(String, String, String)>,
    /// How many times the model backend loaded permissions (a test hook:
    /// one per request however many checks).
    pub(crate) permission_loads: std::sync::atomic::AtomicU64,
    /// Where email goes.
    pub(crate) mailer: Mailer,
    /// Password-reset tokens.
    pub(crate) reset_tokens: TokenGenerator,
    /// The time tokens are made and checked at.
    pub(crate) clock: Clock,
    /// Password-reset messages being rendered and sent off the request
    /// path: a bounded number at a time (a flood drops the excess).
    pub(crate) mail_slots: Arc<tokio::sync::Semaphore>,
    /// Background tasks (expired-session cleanup, cache change watchers),
    /// stopped with the core.
    pub(crate) tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Core {
    fn drop(&mut self) {
        let tasks = self
            .tasks
            .get_mut()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        for task in tasks.drain(..) {
            task.abort();
        }
    }
}

/// The outcome of checking a password against a stored hash.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Verified {
    /// Wrong password (or an unusable hash).
    No,
    /// Right password; the stored hash is current.
    Yes,
    /// Right password; the outdated hash was replaced by this one.
    Upgraded(String),
}

impl Core {
    /// The session auth hash of a stored password hash (Django's
    /// `get_session_auth_hash`), computed once per password hash: every
    /// logged-in request compares against it, and an HMAC per request is
    /// most of what a cached request would otherwise cost.
    pub(crate) fn session_hash(&self, password_hash: &str) -> Arc<str> {
        let mut memo = self
            .session_hashes
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if let Some(hash) = memo.get(password_hash) {
            return hash.clone();
        }
        let hash: Arc<str> = self.session_mac.hex(password_hash.as_bytes()).into();
        if memo.len() >= self.settings.cache_max_entries.max(1) {
            memo.clear();
        }
        memo.insert(password_hash.to_owned(), hash.clone());
        hash
    }

    /// Bounds a database call by `settings.database_timeout`.
    pub(crate) async fn with_timeout<T>(
        &self,
        fut: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.settings.database_timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// The user with this id: from the cache when fresh, else the database.
    pub(crate) async fn find_user(&self, id: i64) -> Result<Option<LoadedUser>> {
        let load = self.with_timeout(self.model.find_by_id(&self.db, id));
        match &self.users {
            Some(cache) => cache.get_or_load(id, load).await,
            None => load.await,
        }
    }

    /// Drops cached permissions after a change to them: `user`'s, or
    /// everyone's (a group's permissions changed). Nothing is cached across
    /// requests yet; this is where a cache hears of changes.
    /// Drops a cached user after a write to its row.
    pub(crate) fn forget_user(&self, id: i64) {
        if let Some(cache) = &self.users {
            cache.remove(&id);
        }
    }

    /// Checks `raw` against `user`'s stored hash (on the blocking pool);
    /// on a match with an outdated hash, stores a fresh one.
    pub(crate) async fn check_password(&self, user: &AbstractUser, raw: &str) -> Result<Verified> {
        match self.hasher.check_async(raw, &user.password).await? {
            Check::Mismatch => Ok(Verified::No),
            Check::Match {
                needs_upgrade: false,
            } => Ok(Verified::Yes),
            Check::Match {
                needs_upgrade: true,
            } => Ok(Verified::Upgraded(self.set_password(user.id, raw).await?)),
        }
    }

    /// Hashes `raw` (on the blocking pool) and stores it as user `id`'s
    /// password; returns the new hash.
    pub(crate) async fn set_password(&self, id: i64, raw: &str) -> Result<String> {
        let hash = self.hasher.make_async(raw).await?;
        let updated = self
            .with_timeout(self.model.update_password(&self.db, id, &hash))
            .await;
        self.forget_user(id);
        updated?;
        Ok(hash)
    }

    /// Records a login time for user `id`.
    pub(crate) async fn touch_last_login(&self, id: i64, when: DateTime) -> Result<()> {
        let updated = self
            .with_timeout(self.model.update_last_login(&self.db, id, when))
            .await;
        self.forget_user(id);
        updated
    }
}

impl<U> Auth<U> {
    /// The typed handle on a core.
    pub(crate) fn from_core(core: Arc<Core>) -> Self {
        Auth {
            core,
            _user: PhantomData,
        }
    }
}

impl<U: AuthUser> Auth<U> {
    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.core.db
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.core.settings
    }

    /// The password hasher.
    pub fn hasher(&self) -> &Hasher {
        &self.core.hasher
    }

    /// The password validators.
    pub fn password_validators(&self) -> &Validators {
        &self.core.validators
    }

    /// Runs the password validators for `user` (Django's `validate_password`).
    pub fn validate_password(
        &self,
        password: &str,
        user: Option<&AbstractUser>,
    ) -> std::result::Result<(), Vec<ValidationError>> {
        validate_password(password, user, self.password_validators())
    }

    /// Creates the tables if missing (users, sessions, groups and
    /// permissions) and inserts the declared permissions that are missing
    /// (Django's `migrate`).
    pub async fn migrate(&self) -> Result<()> {
        self.core.model.migrate(self.db()).await?;
        self.core.session_table.migrate().await?;
        crate::throttle::migrate(self.db()).await?;
        tables::migrate(self.db(), &self.core.links).await?;
        tables::insert_missing(self.db(), &self.core.declared_permissions).await?;
        Ok(())
    }

    /// Deletes expired sessions (Django's `clearsessions`); returns how many.
    pub async fn clear_expired_sessions(&self) -> Result<u64> {
        self.core.sessions.clear_expired().await
    }

    /// Renders a template with exactly `context` (no request: no `user` or
    /// CSRF token unless given), for emails, error pages or benchmarks.
    pub fn render_template(&self, name: &str, context: minijinja::Value) -> Result<String> {
        self.core.templates.render(name, context)
    }

    /// Checks credentials with each authentication backend in turn (Django's
    /// `authenticate`); by default the model backend alone, see
    /// [`ModelBackend`](crate::ModelBackend). Inside a request, the backend
    /// that accepted the user is remembered, and [`login`](crate::login)
    /// stores it in the session, as Django's `user.backend`.
    ///
    /// With the model backend, the username is stripped and NFKC-normalised,
    /// then matched exactly (case-sensitive). Unknown users, wrong passwords
    /// and inactive users all give `None`, and each of those costs one
    /// password hash so timing does not reveal which. A successful check
    /// against an outdated hash stores a fresh one.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<U>> {
        let found = self
            .core
            .model
            .authenticate(&self.core, username, password)
            .await?;
        Ok(found.and_then(|(user, _backend)| downcast::<U>(user)))
    }

    /// Finds a user by exact username.
    pub async fn get_by_username(&self, username: &str) -> Result<Option<U>> {
        self.core
            .with_timeout(user::find_by_username::<U>(self.db(), username))
            .await
    }

    /// Finds a user by id.
    pub async fn get_by_id(&self, id: i64) -> Result<Option<U>> {
        Ok(self.core.find_user(id).await?.and_then(downcast::<U>))
    }

    /// Creates an active, non-staff user (Django's `create_user`): the
    /// username is normalised, the email's domain lowercased, and a `None`
    /// password stored as unusable.
    pub async fn create_user(
        &self,
        username: &str,
        email: &str,
        password: Option<&str>,
    ) -> Result<U> {
        self.create(username, email, password, |_| ()).await
    }

    /// Creates an active staff superuser (Django's `create_superuser`).
    pub async fn create_superuser(
        &self,
        username: &str,
        email: &str,
        password: Option<&str>,
    ) -> Result<U> {
        self.create(username, email, password, |base| {
            base.is_staff = true;
            base.is_superuser = true;
        })
        .await
    }

    async fn create(
        &self,
        username: &str,
        email: &str,
        password: Option<&str>,
        adjust: impl FnOnce(&mut AbstractUser),
    ) -> Result<U> {
        let mut user = self.new_user(username, email, password).await?;
        adjust(user.base_mut());
        self.insert_user(user).await
    }

    /// An unsaved active user as `create_user` makes it: username
    /// normalised (refused when empty), email domain lowercased, password
    /// hashed or unusable, extra fields at their defaults.
    pub(crate) async fn new_user(
        &self,
        username: &str,
        email: &str,
        password: Option<&str>,
    ) -> Result<U> {
        let username = normalize_username(username);
        if username.is_empty() {
            return Err(Error::Invalid("The given username must be set".into()));
        }
        let mut base = AbstractUser::new(username);
        base.email = normalize_email(email);
        if let Some(raw) = password {
            base.password = self.hasher().make_async(raw).await?;
        }
        Ok(U::from_base(base))
    }

    /// Hashes `raw` into an unsaved user's password field.
    pub(crate) async fn set_password_unsaved(&self, user: &mut U, raw: &str) -> Result<()> {
        user.base_mut().password = self.hasher().make_async(raw).await?;
        Ok(())
    }

    /// Whether another user already has `user`'s value of the unique extra
    /// field `name`.
    pub(crate) async fn extra_taken(&self, user: &U, name: &str) -> Result<bool> {
        use sea_orm::{EntityTrait, QueryFilter};
        let Some(condition) = user.extra_taken(name) else {
            return Ok(false);
        };
        let found = self
            .core
            .with_timeout(U::Entity::find().filter(condition).one(self.db()))
            .await?;
        Ok(found.is_some())
    }

    /// Inserts a user built by hand (its `id` must be 0).
    pub async fn insert_user(&self, user: U) -> Result<U> {
        self.core.with_timeout(user::insert(self.db(), user)).await
    }

    /// Writes every column of an existing user.
    pub async fn save_user(&self, user: U) -> Result<U> {
        let id = user.id;
        let saved = self.core.with_timeout(user::update(self.db(), user)).await;
        self.core.forget_user(id);
        saved
    }

    /// Deletes a user (its sessions become anonymous on their next request).
    pub async fn delete_user(&self, user: U) -> Result<()> {
        let id = user.id;
        let deleted = self
            .core
            .with_timeout(user::delete::<U>(self.db(), id))
            .await;
        self.core.forget_user(id);
        deleted
    }

    /// Hashes `raw` on a blocking thread, stores it on `user` and saves the
    /// password column. Every session of the user made with the old password
    /// stops being valid.
    pub async fn set_password(&self, user: &mut U, raw: &str) -> Result<()> {
        let hash = self.core.set_password(user.id, raw).await?;
        user.base_mut().password = hash;
        Ok(())
    }

    /// Checks `raw` against `user`'s stored hash (on a blocking thread),
    /// upgrading an outdated hash on success.
    pub async fn check_password(&self, user: &mut U, raw: &str) -> Result<bool> {
        Ok(match self.core.check_password(user.base(), raw).await? {
            Verified::No => false,
            Verified::Yes => true,
            Verified::Upgraded(hash) => {
                user.base_mut().password = hash;
                true
            }
        })
    }

    /// Records a login time.
    pub async fn touch_last_login(&self, user: &mut U) -> Result<()> {
        let now = DateTime::now_utc();
        self.core.touch_last_login(user.id, now).await?;
        user.base_mut().last_login = Some(now);
        Ok(())
    }
}

/// Email and password-reset tokens.
impl<U: AuthUser> Auth<U> {
    /// Sends `message` with the configured backend (Django's `send_mail`).
    pub async fn send_mail(&self, message: &EmailMessage) -> Result<()> {
        self.core.mailer.send(message).await
    }

    /// The messages the `memory` email backend kept (Django's
    /// `mail.outbox`); `None` with another backend.
    pub fn outbox(&self) -> Option<Vec<EmailMessage>> {
        self.core.mailer.outbox()
    }

    /// A password-reset token for `user`, as Django's
    /// `default_token_generator.make_token` makes it.
    pub fn make_password_reset_token(&self, user: &U) -> String {
        self.core
            .reset_tokens
            .make_token(user.base(), self.core.clock.now())
    }

    /// Whether `token` is a live password-reset token for `user` (Django's
    /// `check_token`): made for the user as they are now, with the current
    /// or a fallback secret key, within `password_reset_timeout`.
    pub fn check_password_reset_token(&self, user: &U, token: &str) -> bool {
        self.core
            .reset_tokens
            .check_token(user.base(), token, self.core.clock.now())
    }
}

/// Groups and permissions (Django's `PermissionsMixin` and the admin's
/// group and permission editing).
impl<U: AuthUser> Auth<U> {
    /// `user`'s permissions, loaded in one query (Django's
    /// `get_all_permissions` and friends; within a request, prefer the
    /// [`UserPermissions`] extractor, loaded once per request).
    pub async fn permissions(&self, user: &U) -> Result<UserPermissions> {
        let loaded: LoadedUser = Arc::new(user.clone());
        self.core.model.permissions(&self.core, &loaded).await
    }

    /// Whether `user` has `perm` (Django's `user.has_perm`).
    pub async fn has_perm(&self, user: &U, perm: impl PermissionName) -> Result<bool> {
        Ok(self.permissions(user).await?.has_perm(perm))
    }

    /// Every permission that exists, as `(app_label, codename, name)`,
    /// sorted.
    pub async fn all_permissions(&self) -> Result<Vec<(String, String, String)>> {
        self.core
            .with_timeout(tables::all_permissions(self.db()))
            .await
    }

    /// Creates group `name` (an error when it exists).
    pub async fn create_group(&self, name: &str) -> Result<()> {
        tables::create_group(self.db(), name).await.map(|_| ())
    }

    /// Deletes group `name`: its members lose what it gave them; whether
    /// it existed.
    pub async fn delete_group(&self, name: &str) -> Result<bool> {
        self.core
            .with_timeout(tables::delete_group(self.db(), name))
            .await
    }

    /// Grants `perm` to group `group`; whether it was new.
    pub async fn grant_group(&self, group: &str, perm: impl PermissionName) -> Result<bool> {
        let db = self.db();
        let group = tables::group_id(db, group).await?;
        let perm = tables::permission_id(db, &perm.permission_name()).await?;
        let added = tables::link(db, &self.core.links, Link::GroupPermission, group, perm).await?;
        Ok(added)
    }

    /// Puts `user` in group `group`; whether it was new.
    pub async fn add_to_group(&self, user: &U, group: &str) -> Result<bool> {
        let db = self.db();
        let group = tables::group_id(db, group).await?;
        let added = tables::link(db, &self.core.links, Link::UserGroup, user.id, group).await?;
        Ok(added)
    }

    /// Takes `user` out of group `group`; whether they were in it.
    pub async fn remove_from_group(&self, user: &U, group: &str) -> Result<bool> {
        let db = self.db();
        let group = tables::group_id(db, group).await?;
        let removed = tables::unlink(db, &self.core.links, Link::UserGroup, user.id, group).await?;
        Ok(removed)
    }

    /// Grants `perm` to `user` directly; whether it was new.
    pub async fn grant(&self, user: &U, perm: impl PermissionName) -> Result<bool> {
        let db = self.db();
        let perm = tables::permission_id(db, &perm.permission_name()).await?;
        let added = tables::link(db, &self.core.links, Link::UserPermission, user.id, perm).await?;
        Ok(added)
    }

    /// Takes `perm` back from `user` (what they have through groups stays);
    /// whether they had it directly.
    pub async fn revoke(&self, user: &U, perm: impl PermissionName) -> Result<bool> {
        let db = self.db();
        let perm = tables::permission_id(db, &perm.permission_name()).await?;
        let removed =
            tables::unlink(db, &self.core.links, Link::UserPermission, user.id, perm).await?;
        Ok(removed)
    }
}
