//! [`Auth`]: the database, settings and hasher for one user model, and the
//! operations on users (authenticate, create, change password).

use std::{marker::PhantomData, path::PathBuf, sync::Arc, time::Duration};

use sea_orm::{
    ConnectOptions, Database, DatabaseConnection,
    sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous},
};

use tower_sessions::ExpiredDeletion;

use crate::{
    DateTime, Error, Result, Settings,
    cache::{CachedStore, TtlMap},
    layer::{AuthLayer, DynStore},
    password::{
        Hasher,
        validation::{Validators, default_validators},
    },
    secret::SecretKeys,
    session::{
        redis::RedisStore,
        request::{LoadedUser, LoadedUserExt, Ops, Shared},
        store::DbStore,
    },
    templates::Engine,
    user::{self, AbstractUser, AuthUser},
};

/// The default database: a SQLite file in the working directory, created on
/// first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://auth.db?mode=rwc";

/// The authentication system for user model `U`: its database, settings and
/// password hasher. Cheap to clone.
pub struct Auth<U> {
    pub(crate) inner: Arc<Inner>,
    _user: PhantomData<fn() -> U>,
}

pub(crate) struct Inner {
    /// What the request layer shares: database, settings, keys, hasher,
    /// validators, templates and the user model's queries.
    pub(crate) shared: Arc<Shared>,
    pub(crate) store: DbStore,
    /// Where sessions live: `store`, or Redis.
    pub(crate) sessions: DynStore,
    /// The expired-session cleanup task, stopped when `Auth` is dropped.
    cleanup: Option<tokio::task::JoinHandle<()>>,
}

impl Drop for Inner {
    fn drop(&mut self) {
        if let Some(task) = self.cleanup.take() {
            task.abort();
        }
    }
}

impl<U> Clone for Auth<U> {
    fn clone(&self) -> Self {
        Auth {
            inner: self.inner.clone(),
            _user: PhantomData,
        }
    }
}

impl<U> std::fmt::Debug for Auth<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Auth")
            .field("backend", &self.inner.shared.db.get_database_backend())
            .finish_non_exhaustive()
    }
}

/// Builds an [`Auth`]: see [`Auth::builder`].
pub struct AuthBuilder<U> {
    database_url: Option<String>,
    connection: Option<DatabaseConnection>,
    settings: Option<Settings>,
    migrate: bool,
    validators: Option<Validators>,
    redis_url: Option<String>,
    templates_dir: Option<PathBuf>,
    templates: Vec<(String, String)>,
    _user: PhantomData<fn() -> U>,
}

impl<U> std::fmt::Debug for AuthBuilder<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AuthBuilder")
            .field("database_url", &self.database_url)
            .field("templates_dir", &self.templates_dir)
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser> AuthBuilder<U> {
    /// The database to connect to (default: `DATABASE_URL` from the
    /// environment, else [`DEFAULT_DATABASE_URL`]).
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// Use an existing connection instead of a URL.
    pub fn connection(mut self, db: DatabaseConnection) -> Self {
        self.connection = Some(db);
        self
    }

    /// The settings (default: [`Settings::from_env`]).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// The password validators (default: Django's four, see
    /// [`default_validators`](crate::password::validation::default_validators)).
    pub fn password_validators(mut self, validators: Validators) -> Self {
        self.validators = Some(validators);
        self
    }

    /// Keep sessions in Redis instead of the database (default: `REDIS_URL`
    /// from the environment, if set), so several app instances share them.
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    /// A directory of templates that override the built-in ones by name
    /// (`registration/login.html`, …) and hold the app's own.
    pub fn templates_dir(mut self, dir: impl Into<PathBuf>) -> Self {
        self.templates_dir = Some(dir.into());
        self
    }

    /// A template given in code (for example with `include_str!`); it wins
    /// over the directory and the built-in ones.
    pub fn template(mut self, name: impl Into<String>, source: impl Into<String>) -> Self {
        self.templates.push((name.into(), source.into()));
        self
    }

    /// Whether `build` creates missing tables (default: true, like running
    /// `migrate` at start).
    pub fn migrate(mut self, migrate: bool) -> Self {
        self.migrate = migrate;
        self
    }

    /// Connects, and creates missing tables unless told not to.
    pub async fn build(self) -> Result<Auth<U>> {
        let settings = match self.settings {
            Some(settings) => settings,
            None => Settings::from_env().map_err(|e| Error::Config(e.to_string()))?,
        };
        let hasher = settings
            .hasher()
            .map_err(|e| Error::Config(e.to_string()))?;
        let secrets = SecretKeys::from_settings(&settings)?;
        let db = match self.connection {
            Some(db) => db,
            None => {
                let url = self
                    .database_url
                    .or_else(|| std::env::var("DATABASE_URL").ok())
                    .unwrap_or_else(|| DEFAULT_DATABASE_URL.to_owned());
                connect(&url, &settings).await?
            }
        };
        let settings = Arc::new(settings);
        let store = DbStore::new(db.clone(), settings.database_timeout);
        let templates = Engine::new(self.templates_dir, self.templates)?;
        let session_mac = secrets.salted(crate::session::SESSION_HASH_SALT);
        let shared = Arc::new(Shared {
            db,
            settings: settings.clone(),
            secrets,
            hasher,
            validators: self.validators.unwrap_or_else(default_validators),
            templates,
            ops: Arc::new(Ops::<U>::new()),
            users: (!settings.cache_ttl.is_zero()).then(|| TtlMap::new(settings.cache_ttl)),
            session_mac,
        });
        let redis_url = self
            .redis_url
            .or_else(|| std::env::var("REDIS_URL").ok().filter(|u| !u.is_empty()));
        let sessions = match redis_url {
            Some(url) => {
                let prefix = settings.session_redis_key_prefix.clone();
                DynStore(Arc::new(
                    RedisStore::connect(&url, prefix, settings.database_timeout).await?,
                ))
            }
            None => DynStore(Arc::new(store.clone())),
        };
        let sessions = if settings.cache_ttl.is_zero() {
            sessions
        } else {
            DynStore(Arc::new(CachedStore::new(sessions, settings.cache_ttl)))
        };
        let cleanup = settings.session_cleanup_interval.map(|period| {
            let store = store.clone();
            tokio::spawn(async move {
                if let Err(err) = store.continuously_delete_expired(period).await {
                    tracing::error!(error = %err, "expired-session cleanup stopped");
                }
            })
        });
        let auth = Auth {
            inner: Arc::new(Inner {
                shared,
                store,
                sessions,
                cleanup,
            }),
            _user: PhantomData,
        };
        if self.migrate {
            auth.migrate().await?;
        }
        Ok(auth)
    }
}

/// Opens a connection pool with timeouts from the settings.
pub async fn connect(url: &str, settings: &Settings) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(settings.database_timeout)
        .acquire_timeout(settings.database_timeout)
        // Ping only connections idle long enough to have been dropped by the
        // server or a proxy, instead of one extra round trip per query.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    if url.starts_with("sqlite:") {
        // Each SQLite connection is a worker thread, and SQLite runs one
        // writer at a time: a pool sized to the cores serves best. On the
        // 2-core bench machine: 2 → 6.0k, 4 → 8.7k, 6 → 9.7k, 10 (the
        // default) → 5.1k authenticated requests/s.
        let cores = std::thread::available_parallelism().map_or(2, usize::from);
        let connections = u32::try_from((cores * 3).clamp(4, 12)).unwrap_or(4);
        options.max_connections(connections);
        // Readers do not block the writer (and the other way round) in WAL
        // mode; NORMAL sync is safe with WAL (a power cut can lose the last
        // commits, never corrupt the file).
        options.map_sqlx_sqlite_opts(|sqlite| {
            sqlite
                .journal_mode(SqliteJournalMode::Wal)
                .synchronous(SqliteSynchronous::Normal)
        });
    }
    Ok(Database::connect(options).await?)
}

impl<U: AuthUser> Auth<U> {
    /// Starts building: `Auth::<User>::builder().database_url(..).build().await?`.
    pub fn builder() -> AuthBuilder<U> {
        AuthBuilder {
            database_url: None,
            connection: None,
            settings: None,
            migrate: true,
            validators: None,
            redis_url: None,
            templates_dir: None,
            templates: Vec::new(),
            _user: PhantomData,
        }
    }

    /// The database connection.
    pub fn db(&self) -> &DatabaseConnection {
        &self.inner.shared.db
    }

    /// The settings.
    pub fn settings(&self) -> &Settings {
        &self.inner.shared.settings
    }

    /// The password hasher.
    pub fn hasher(&self) -> &Hasher {
        &self.inner.shared.hasher
    }

    /// The password validators.
    pub fn password_validators(&self) -> &Validators {
        &self.inner.shared.validators
    }

    /// Runs the password validators for `user` (Django's `validate_password`).
    pub fn validate_password(
        &self,
        password: &str,
        user: Option<&AbstractUser>,
    ) -> std::result::Result<(), Vec<String>> {
        crate::password::validation::validate_password(password, user, self.password_validators())
    }

    /// Creates the user and session tables if missing.
    pub async fn migrate(&self) -> Result<()> {
        crate::schema::create_table::<U::Entity>(self.db()).await?;
        self.inner.store.migrate().await?;
        Ok(())
    }

    /// The layer that gives every route it wraps sessions (stored in this
    /// database), CSRF protection and the current user.
    pub fn layer(&self) -> AuthLayer {
        AuthLayer::new(self.inner.shared.clone(), self.inner.sessions.clone())
    }

    /// The session table in this database (used unless sessions are in
    /// Redis).
    pub fn session_store(&self) -> &DbStore {
        &self.inner.store
    }

    /// The store sessions are kept in (the database's, or Redis).
    pub fn sessions(&self) -> &DynStore {
        &self.inner.sessions
    }

    /// Deletes expired sessions (Django's `clearsessions`); returns how many.
    pub async fn clear_expired_sessions(&self) -> Result<u64> {
        Ok(self.inner.store.clear_expired().await?)
    }

    /// Renders a template with exactly `context` (no request: no `user` or
    /// CSRF token unless given), for emails, error pages or benchmarks.
    pub fn render_template(&self, name: &str, context: minijinja::Value) -> Result<String> {
        self.inner.shared.templates.render(name, context)
    }

    /// The secret keys in use.
    pub fn secret_keys(&self) -> &SecretKeys {
        &self.inner.shared.secrets
    }

    /// Checks credentials against the database, like Django's
    /// `ModelBackend.authenticate`.
    ///
    /// The username is stripped and NFKC-normalised, then matched exactly
    /// (case-sensitive). Unknown users, wrong passwords and inactive users
    /// all give `None`, and each of those costs one password hash so timing
    /// does not reveal which. A successful check against an outdated hash
    /// stores a fresh one.
    pub async fn authenticate(&self, username: &str, password: &str) -> Result<Option<U>> {
        let user = self.inner.shared.authenticate(username, password).await?;
        Ok(user.and_then(|u| u.downcast::<U>()))
    }

    /// Finds a user by exact username.
    pub async fn get_by_username(&self, username: &str) -> Result<Option<U>> {
        Ok(user::find_by_username::<U>(self.db(), username).await?)
    }

    /// Finds a user by id.
    pub async fn get_by_id(&self, id: i64) -> Result<Option<U>> {
        Ok(user::find_by_id::<U>(self.db(), id).await?)
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
        let username = normalize_username(username);
        if username.is_empty() {
            return Err(Error::Config("The given username must be set".into()));
        }
        let mut base = AbstractUser::new(username);
        base.email = normalize_email(email);
        if let Some(raw) = password {
            base.password = self.hasher().make_async(raw).await;
        }
        adjust(&mut base);
        Ok(user::insert(self.db(), U::from_base(base)).await?)
    }

    /// Inserts a user built by hand (its `id` must be 0).
    pub async fn insert_user(&self, user: U) -> Result<U> {
        Ok(user::insert(self.db(), user).await?)
    }

    /// Writes every column of an existing user.
    pub async fn save_user(&self, user: U) -> Result<U> {
        let id = user.id;
        let saved = user::update(self.db(), user).await;
        self.inner.shared.forget_user(id);
        Ok(saved?)
    }

    /// Deletes a user (its sessions become anonymous on their next request).
    pub async fn delete_user(&self, user: U) -> Result<()> {
        let id = user.id;
        let deleted = user::delete::<U>(self.db(), id).await;
        self.inner.shared.forget_user(id);
        Ok(deleted?)
    }

    /// Hashes `raw` on a blocking thread, stores it on `user` and saves the
    /// password column. Every session of the user made with the old password
    /// stops being valid.
    pub async fn set_password(&self, user: &mut U, raw: &str) -> Result<()> {
        let updated = self.inner.shared.set_password(&loaded(user), raw).await?;
        user.base_mut().password = updated.base().password.clone();
        Ok(())
    }

    /// Checks `raw` against `user`'s stored hash (on a blocking thread),
    /// upgrading an outdated hash on success.
    pub async fn check_password(&self, user: &mut U, raw: &str) -> Result<bool> {
        match self.inner.shared.check_password(&loaded(user), raw).await? {
            Some(checked) => {
                user.base_mut().password = checked.base().password.clone();
                Ok(true)
            }
            None => Ok(false),
        }
    }

    /// Records a login time.
    pub async fn touch_last_login(&self, user: &mut U) -> Result<()> {
        let now = DateTime::now_utc();
        let updated = user::update_last_login::<U>(self.db(), user.id, now).await;
        self.inner.shared.forget_user(user.id);
        updated?;
        user.base_mut().last_login = Some(now);
        Ok(())
    }
}

/// A user as the type-erased operations of `Shared` take it.
fn loaded<U: AuthUser>(user: &U) -> LoadedUser {
    Arc::new(user.clone())
}

/// Django's `UsernameField` cleaning: surrounding whitespace stripped, NFKC
/// normalisation (unless longer than the maximum length).
pub fn normalize_username(raw: &str) -> String {
    use unicode_normalization::UnicodeNormalization;
    let trimmed = raw.trim();
    if trimmed.chars().count() > user::USERNAME_MAX_LENGTH {
        trimmed.to_owned()
    } else {
        trimmed.nfkc().collect()
    }
}

/// Django's `normalize_email`: the domain part lowercased.
pub fn normalize_email(raw: &str) -> String {
    let raw = raw.trim();
    match raw.rsplit_once('@') {
        Some((local, domain)) => format!("{local}@{}", domain.to_lowercase()),
        None => raw.to_owned(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn usernames_are_stripped_and_nfkc_normalised() {
        assert_eq!(normalize_username("  alice \n"), "alice");
        // U+FB01 LATIN SMALL LIGATURE FI → "fi"; case is kept.
        assert_eq!(normalize_username("\u{FB01}Bob"), "fiBob");
    }

    #[test]
    fn email_domains_are_lowercased() {
        assert_eq!(normalize_email("Alice@EXAMPLE.com"), "Alice@example.com");
        assert_eq!(normalize_email(""), "");
    }
}
