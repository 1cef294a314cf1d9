//! [`AuthBuilder`]: connects, picks the session store, and assembles an
//! [`Auth`] (Django's settings module and `AppConfig.ready`, in one place).

use std::{marker::PhantomData, path::PathBuf, sync::Arc, time::Duration};

use sea_orm::{ConnectOptions, Database as SeaDatabase, DatabaseConnection};
use tower_sessions::{ExpiredDeletion, SessionStore};

use crate::{
    INSTALLED_APPS,
    app::Auth,
    app::backends::{Backend, BackendList},
    apps::{Building, Shared},
    events::{Event, Events, hooks::Hooks},
    http::security::SecurityHeaders,
    kernel::error::{Error, Result},
    kernel::{clock::Clock, database::Database, future::BoxFuture},
    login::{auth_hash::AuthHash, primitives::OperationsFor, sessions::Sessions},
    mail::{EmailBackend, Mail},
    password::{
        Hasher,
        validation::{Validators, default_validators},
    },
    permissions::Permission,
    permissions::tables::PermissionTables,
    session::{
        cache::CacheMap,
        cached::CachedStore,
        coherence::{DbWatch, RowCache, SessionCache, Watched, watch_database},
        cookie::SessionCookie,
        db::DbStore,
        keys::SESSION_HASH_SALT,
        store::{Custom, DynStore},
    },
    settings::Settings,
    settings::secret::SecretKeys,
    templates::engine::Engine,
    throttle::{
        THROTTLE_SALT, Throttle,
        device::{DEVICE_SALT, DeviceCookies},
    },
    tokens::{RESET_TOKEN_SALT, TokenGenerator},
    urls::Urls,
    user::{AuthUser, store::UserStore},
};

/// The default database: a SQLite file in the working directory, created on
/// first use.
pub const DEFAULT_DATABASE_URL: &str = "sqlite://auth.db?mode=rwc";

/// Builds an [`Auth`]: see [`Auth::builder`].
pub struct AuthBuilder<U> {
    settings: Option<Settings>,
    database_url: Option<String>,
    redis_url: Option<String>,
    connection: Option<DatabaseConnection>,
    migrate: bool,
    validators: Option<Validators>,
    session_store: Option<DynStore>,
    templates_dir: Option<PathBuf>,
    templates: Vec<(String, String)>,
    backends: BackendList<U>,
    permissions: Vec<Permission>,
    mail: Option<Mail>,
    urls: Urls,
    hooks: Hooks,
    _user: PhantomData<fn() -> U>,
}

impl<U> std::fmt::Debug for AuthBuilder<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let redacted = |url: &Option<String>| url.as_deref().map(crate::settings::redact_url);
        f.debug_struct("AuthBuilder")
            .field("database_url", &redacted(&self.database_url))
            .field("redis_url", &redacted(&self.redis_url))
            .field("settings", &self.settings)
            .field("templates_dir", &self.templates_dir)
            .field("urls", &self.urls)
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser> Auth<U> {
    /// Starts building: `Auth::<User>::builder().urls(urls::URLCONF).build().await?`.
    pub fn builder() -> AuthBuilder<U> {
        AuthBuilder {
            settings: None,
            database_url: None,
            redis_url: None,
            connection: None,
            migrate: true,
            validators: None,
            session_store: None,
            templates_dir: None,
            templates: Vec::new(),
            backends: BackendList::new(),
            permissions: Vec::new(),
            mail: None,
            urls: Urls::default(),
            hooks: Hooks::default(),
            _user: PhantomData,
        }
    }
}

impl<U: AuthUser> AuthBuilder<U> {
    /// The settings (default: [`Settings::from_env`]).
    pub fn settings(mut self, settings: Settings) -> Self {
        self.settings = Some(settings);
        self
    }

    /// The database to connect to, over `settings.database_url`
    /// (`DATABASE_URL`); without either, [`DEFAULT_DATABASE_URL`].
    pub fn database_url(mut self, url: impl Into<String>) -> Self {
        self.database_url = Some(url.into());
        self
    }

    /// Keep sessions in Redis, over `settings.redis_url` (`REDIS_URL`),
    /// so several app instances share them. Needs the `redis` feature.
    pub fn redis_url(mut self, url: impl Into<String>) -> Self {
        self.redis_url = Some(url.into());
        self
    }

    /// Use an existing connection instead of a URL.
    pub fn connection(mut self, db: DatabaseConnection) -> Self {
        self.connection = Some(db);
        self
    }

    /// The auth URLs the app declared with
    /// [`auth_urls!`](crate::auth_urls!) (`.urls(urls::URLCONF)`): the
    /// login URL, unless `settings.login_url` names one, is the declared
    /// `LoginView`'s path, and the login page links to the declared
    /// `PasswordResetView`.
    pub fn urls(mut self, urls: Urls) -> Self {
        self.urls = urls;
        self
    }

    /// The password validators (default: Django's four, see
    /// [`default_validators`]).
    pub fn password_validators(mut self, validators: Validators) -> Self {
        self.validators = Some(validators);
        self
    }

    /// Keep sessions in this tower-sessions store instead of the database
    /// or Redis. Whatever id a new session comes with, the store is handed
    /// a fresh random one.
    pub fn session_store(mut self, store: impl SessionStore) -> Self {
        self.session_store = Some(DynStore::new(Custom(store)));
        self
    }

    /// Adds an authentication backend after those already added (Django's
    /// `AUTHENTICATION_BACKENDS`). Without any, the only backend is
    /// [`ModelBackend`](crate::ModelBackend); to keep it next to yours, add
    /// it first: `.backend(ModelBackend).backend(EmailBackend)`.
    pub fn backend(mut self, backend: impl Backend<U>) -> Self {
        self.backends.push(backend);
        self
    }

    /// The app's own permissions, declared with [`permissions!`](crate::permissions!)
    /// (`.permissions(perms::ALL)`): `migrate` creates their rows next to
    /// the user model's defaults (Django's `Meta.permissions`).
    pub fn permissions(mut self, permissions: &[Permission]) -> Self {
        self.permissions.extend_from_slice(permissions);
        self
    }

    /// Calls `hook` for every auth [`Event`] (Django's signal receivers:
    /// `user_logged_in`, `user_login_failed`, …), after the action it
    /// reports, in a task of its own: a hook that fails, panics or runs
    /// longer than 10 s is logged and never slows the request.
    ///
    /// ```no_run
    /// # fn f(builder: auth::AuthBuilder<impl auth::AuthUser>) -> auth::AuthBuilder<impl auth::AuthUser> {
    /// builder.on_event(|event| async move {
    ///     if event.kind == auth::events::EventKind::UserLoginFailed {
    ///         eprintln!("failed login for {}", event.username);
    ///     }
    /// })
    /// # }
    /// ```
    pub fn on_event<F, Fut>(mut self, hook: F) -> Self
    where
        F: Fn(Arc<Event>) -> Fut + Send + Sync + 'static,
        Fut: Future<Output = ()> + Send + 'static,
    {
        self.hooks.push(Arc::new(move |event| {
            Box::pin(hook(event)) as BoxFuture<'static, ()>
        }));
        self
    }

    /// Send email with this backend instead of the one `email_backend`
    /// names (`AUTH_EMAIL_BACKEND`).
    pub fn email_backend(mut self, backend: impl EmailBackend) -> Self {
        self.mail = Some(Mail::custom(backend));
        self
    }

    /// A directory of templates that override the built-in ones by name
    /// (`registration/login.html`, …) and hold the app's own. A relative
    /// path is resolved against the working directory when the app runs;
    /// for a directory next to the crate, whatever the working directory,
    /// write `.templates_dir(concat!(env!("CARGO_MANIFEST_DIR"), "/templates"))`.
    /// [`build`](AuthBuilder::build) fails when the directory does not
    /// exist.
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
        let mut settings = match self.settings {
            Some(settings) => settings,
            None => Settings::from_env()?,
        };
        if let Some(url) = self.database_url {
            settings.database_url = Some(url);
        }
        if let Some(url) = self.redis_url {
            settings.redis_url = Some(url);
        }
        let hasher = Hasher::from_settings(&settings).map_err(|e| Error::Config(e.to_string()))?;
        for validate in INSTALLED_APPS.iter().filter_map(|app| app.validate) {
            validate(&self.urls, &settings)?;
        }
        if let Some(refused) = crate::app::checks::cookie_prefixes(&settings)
            .into_iter()
            .next()
        {
            return Err(Error::Config(refused.to_string()));
        }
        let secrets = SecretKeys::from_settings(&settings)?;
        let conn = match self.connection {
            Some(conn) => conn,
            None => {
                let url = settings
                    .database_url
                    .as_deref()
                    .unwrap_or(DEFAULT_DATABASE_URL);
                if let Some(missing) = crate::app::checks::database_feature(url) {
                    return Err(Error::Config(missing.to_string()));
                }
                connect(url, &settings).await?
            }
        };
        let db = Database::new(conn, settings.database_timeout);
        let session_table = DbStore::new(db.conn().clone(), settings.database_timeout);
        let throttle_mac = secrets.salted(THROTTLE_SALT);
        let table_throttle = || {
            Throttle::table(
                db.conn().clone(),
                throttle_mac.clone(),
                settings.login_failure_window,
                settings.database_timeout,
            )
        };
        // Where sessions live decides who reports changes to them: this
        // database, Redis, or nobody (an app's own store is not cached).
        let (store, throttle, where_sessions) =
            match (self.session_store, settings.redis_url.clone()) {
                (Some(store), _) => (store, table_throttle(), SessionsIn::Elsewhere),
                (None, Some(url)) => {
                    let (store, throttle, redis) =
                        redis_store(&url, &settings, throttle_mac.clone()).await?;
                    (store, throttle, SessionsIn::Redis(redis))
                }
                (None, None) => (
                    DynStore::new(session_table.clone()),
                    table_throttle(),
                    SessionsIn::Database,
                ),
            };
        // Not live until a watcher vouches for them (see `coherence`).
        let cache_guard = settings.database_timeout * 2 + Duration::from_secs(1);
        let capacity = settings.cache_max_entries;
        let user_cache: Option<crate::user::store::UserCache> = settings
            .cache
            .then(|| Arc::new(CacheMap::new(capacity, cache_guard, false)));
        let session_cache: Option<SessionCache> = match where_sessions {
            SessionsIn::Elsewhere => None,
            _ => settings
                .cache
                .then(|| Arc::new(CacheMap::new(capacity, cache_guard, false))),
        };
        let store = match &session_cache {
            Some(cache) => DynStore::new(CachedStore::new(store, cache.clone())),
            None => store,
        };
        // What the feature apps add: event sinks, their tasks, state.
        let mut events = Events::new(self.hooks);
        let mut tasks = Vec::new();
        let mut extensions = http::Extensions::new();
        for build in INSTALLED_APPS.iter().filter_map(|app| app.build) {
            build(&mut Building {
                db: &db,
                settings: &settings,
                secrets: &secrets,
                events: &mut events,
                tasks: &mut tasks,
                extensions: &mut extensions,
            });
        }
        let user_table = sea_orm::EntityName::table_name(&U::Entity::default()).to_owned();
        let shared = Shared {
            users: UserStore::new::<U>(db.clone(), user_cache.clone()),
            backends: self.backends.build(),
            sessions: Sessions {
                store: Arc::new(store),
                table: session_table,
                cookie: SessionCookie::from_settings(&settings),
                auth_hash: AuthHash::new(
                    secrets.salted(SESSION_HASH_SALT),
                    settings.cache_max_entries,
                ),
                lifetime: crate::login::lifetime::Lifetime::of(&settings),
            },
            operations: Box::new(OperationsFor::<U>::new()),
            permissions: PermissionTables::new(
                &user_table,
                declared_permissions::<U>(&self.permissions),
            ),
            mail: match self.mail {
                Some(mail) => mail,
                None => Mail::from_settings(&settings)?,
            },
            reset_tokens: TokenGenerator::new(
                secrets.salted(RESET_TOKEN_SALT),
                settings.password_reset_timeout,
            ),
            clock: Clock::default(),
            templates: Engine::new(
                self.templates_dir,
                self.templates,
                self.urls,
                INSTALLED_APPS.iter().map(|app| app.templates).collect(),
            )?,
            validators: with_breach_list(
                self.validators.unwrap_or_else(default_validators),
                &settings,
            )?,
            security_headers: SecurityHeaders::from_settings(&settings),
            urls: self.urls,
            hasher,
            throttle,
            devices: DeviceCookies::new(secrets.salted(DEVICE_SALT), settings.device_cookie_age),
            extensions,
            apps: INSTALLED_APPS,
            db,
            settings,
            events,
            observed: Default::default(),
            tasks: std::sync::Mutex::new(tasks),
            migrated: std::sync::Mutex::default(),
        };
        let auth = Auth::from_shared(Arc::new(shared));
        if let Some(period) = auth.shared.settings.session_cleanup_interval {
            let cleanup = spawn_cleanup(period, Arc::downgrade(&auth.shared));
            (auth.shared.tasks.lock())
                .unwrap_or_else(std::sync::PoisonError::into_inner)
                .push(cleanup);
        }
        for started in INSTALLED_APPS.iter().filter_map(|app| app.started) {
            started(&auth.shared);
        }
        if self.migrate {
            let done = auth.migrate().await?;
            // Kept for the `migrate` command, which reports it.
            *auth
                .shared
                .migrated
                .lock()
                .unwrap_or_else(std::sync::PoisonError::into_inner) = done;
        }
        #[cfg(feature = "mfa")]
        note_missing_required_groups(&auth.shared).await;
        let shared = &auth.shared;
        let watch = DbWatch {
            db: shared.db.conn().clone(),
            user_table,
            sessions_here: matches!(where_sessions, SessionsIn::Database),
            watched: Watched {
                sessions: session_cache
                    .clone()
                    .filter(|_| matches!(where_sessions, SessionsIn::Database)),
                users: user_cache.map(|cache| cache as Arc<dyn RowCache>),
            },
        };
        let mut watchers = Vec::new();
        watchers.extend(watch_database(watch, &shared.settings).await);
        if let (SessionsIn::Redis(redis), Some(cache)) = (where_sessions, session_cache) {
            watchers.extend(redis.watch(&shared.settings, cache).await);
        }
        shared
            .tasks
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .extend(watchers);
        Ok(auth)
    }
}

/// `validators`, and the breached-password list when the settings name
/// one (feature `pwned`).
#[cfg_attr(not(feature = "pwned"), allow(unused_mut))]
fn with_breach_list(mut validators: Validators, settings: &Settings) -> Result<Validators> {
    #[cfg(feature = "pwned")]
    if let Some(list) = crate::password::breach_list(settings)? {
        validators.push(Box::new(list));
    }
    #[cfg(not(feature = "pwned"))]
    let _ = settings;
    Ok(validators)
}

/// Notes (and logs) the groups of `AUTH_MFA_REQUIRED_GROUPS` that do not
/// exist, for the system checks (`auth.W011`): a misspelt group exempts
/// the real one's members from the second factor.
#[cfg(feature = "mfa")]
async fn note_missing_required_groups(shared: &Shared) {
    let settings = &shared.settings;
    if settings.mfa_required != crate::settings::MfaRequired::Groups {
        return;
    }
    let groups = &settings.mfa_required_groups;
    let missing = match shared.permissions.missing_groups(&shared.db, groups).await {
        Ok(missing) => missing,
        Err(err) => {
            tracing::warn!(error = %err, "could not check AUTH_MFA_REQUIRED_GROUPS");
            return;
        }
    };
    if !missing.is_empty() {
        tracing::warn!(
            "AUTH_MFA_REQUIRED_GROUPS names groups that do not exist ({}): nobody is asked \
             for a second factor as their member; create them or fix the names",
            missing.join(", ")
        );
    }
    *shared
        .observed
        .missing_required_groups
        .lock()
        .unwrap_or_else(std::sync::PoisonError::into_inner) = missing;
}

/// Deletes expired session rows, old throttle counters and what the
/// feature apps keep past its time (old events) every `period`, while the
/// app lives.
fn spawn_cleanup(period: Duration, shared: std::sync::Weak<Shared>) -> tokio::task::JoinHandle<()> {
    tokio::spawn(async move {
        let mut interval = tokio::time::interval(period);
        interval.tick().await; // the first tick is now
        loop {
            interval.tick().await;
            let Some(shared) = shared.upgrade() else {
                return;
            };
            if let Err(err) = shared.sessions.table.delete_expired().await {
                tracing::error!(error = %err, "deleting expired sessions failed");
            }
            if let Err(err) = shared.throttle.prune().await {
                tracing::error!(error = %err, "pruning old throttle counters failed");
            }
            for prune in shared.apps.iter().filter_map(|app| app.prune) {
                if let Err(err) = (prune.run)(&shared).await {
                    tracing::error!(error = %err, "deleting {} failed", prune.what);
                }
            }
        }
    })
}

/// Where sessions are kept, for the cache's change notifications.
enum SessionsIn {
    Database,
    Redis(RedisSessions),
    /// The app's own store: not cached (nothing reports its changes).
    Elsewhere,
}

/// Sessions in Redis: the deployment and the store's connection.
#[cfg(feature = "redis")]
struct RedisSessions {
    config: fred::types::config::Config,
    client: fred::clients::Client,
}

/// Without the `redis` feature there are no sessions in Redis.
#[cfg(not(feature = "redis"))]
enum RedisSessions {}

impl RedisSessions {
    /// Watches Redis for changes to session keys; `None` (cache off, with
    /// a warning) when it cannot.
    #[cfg(feature = "redis")]
    async fn watch(
        self,
        settings: &Settings,
        sessions: SessionCache,
    ) -> Option<tokio::task::JoinHandle<()>> {
        let prefix = settings.session_redis_key_prefix.clone();
        let heartbeat = crate::session::coherence::heartbeat::Heartbeat::new(settings);
        let started = crate::session::coherence::redis::start(
            self.config,
            prefix,
            self.client,
            heartbeat,
            sessions,
        );
        match started.await {
            Ok(task) => Some(task),
            Err(err) => {
                tracing::warn!(
                    error = %err,
                    "cannot watch Redis for session changes; the session cache stays off"
                );
                None
            }
        }
    }

    #[cfg(not(feature = "redis"))]
    async fn watch(
        self,
        _settings: &Settings,
        _sessions: SessionCache,
    ) -> Option<tokio::task::JoinHandle<()>> {
        match self {}
    }
}

/// The permissions `migrate` makes sure exist: the user model's four
/// defaults (`add_`, `change_`, `delete_`, `view_`) and the app's own.
fn declared_permissions<U: AuthUser>(declared: &[Permission]) -> Vec<(String, String, String)> {
    let (app_label, model, verbose) = (U::META.app_label, U::META.model_name, U::META.verbose_name);
    let defaults = ["add", "change", "delete", "view"].map(|action| {
        (
            app_label.to_owned(),
            format!("{action}_{model}"),
            format!("Can {action} {verbose}"),
        )
    });
    let declared = declared.iter().map(|perm| {
        (
            perm.app_label().to_owned(),
            perm.codename().to_owned(),
            perm.name().to_owned(),
        )
    });
    defaults.into_iter().chain(declared).collect()
}

/// Sessions in Redis, the login throttle next to them, and their
/// connection.
#[cfg(feature = "redis")]
async fn redis_store(
    url: &str,
    settings: &Settings,
    throttle_mac: crate::settings::secret::SaltedMac,
) -> Result<(DynStore, Throttle, RedisSessions)> {
    let prefix = settings.session_redis_key_prefix.clone();
    let store = crate::session::redis::RedisStore::connect(
        url,
        prefix.clone(),
        settings.database_timeout,
        settings.session_redis_replicas,
    )
    .await?;
    let throttle = Throttle::redis(
        store.client(),
        format!("{prefix}throttle:"),
        throttle_mac,
        settings.login_failure_window,
        settings.database_timeout,
    );
    let redis = RedisSessions {
        config: store.config().clone(),
        client: store.client(),
    };
    Ok((DynStore::new(store), throttle, redis))
}

#[cfg(not(feature = "redis"))]
async fn redis_store(
    _url: &str,
    _settings: &Settings,
    _throttle_mac: crate::settings::secret::SaltedMac,
) -> Result<(DynStore, Throttle, RedisSessions)> {
    Err(Error::Config(
        crate::app::checks::redis_feature().to_string(),
    ))
}

/// Opens a connection pool with timeouts from the settings.
pub(crate) async fn connect(url: &str, settings: &Settings) -> Result<DatabaseConnection> {
    let mut options = ConnectOptions::new(url.to_owned());
    options
        .connect_timeout(settings.database_timeout)
        .acquire_timeout(settings.database_timeout)
        // Ping only connections idle long enough to have been dropped by the
        // server or a proxy, instead of one extra round trip per query.
        .test_before_acquire_if_idle_for(Duration::from_secs(30))
        .sqlx_logging(false);
    #[cfg(feature = "sqlite")]
    if url.starts_with("sqlite:") {
        tune_sqlite(&mut options);
    } else {
        warm_pool(&mut options);
    }
    #[cfg(not(feature = "sqlite"))]
    warm_pool(&mut options);
    #[cfg(feature = "postgres")]
    quiet_notices(&mut options);
    Ok(SeaDatabase::connect(options).await?)
}

/// A server database's pool: two connections per core (4 to 10), all
/// opened at start. Opened on demand, a cold instance hit by a burst
/// opened several at once, and sqlx's pool then sometimes left a few
/// requests waiting out the whole acquire timeout (503s among the first
/// requests of two fresh instances on PostgreSQL + Redis in
/// `bench/http.sh`: 4 of 9 runs with the pool cold, 3 of 10 with 4 of 10
/// connections warm, 0 of 14 with all warm).
fn warm_pool(options: &mut ConnectOptions) {
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let connections = u32::try_from((cores * 2).clamp(4, 10)).unwrap_or(4);
    options
        .max_connections(connections)
        .min_connections(connections);
}

/// PostgreSQL connections that do not send NOTICEs ("relation … already
/// exists, skipping" from every start's `CREATE … IF NOT EXISTS`), which
/// sqlx logs at INFO: each new connection sets `client_min_messages`
/// (with `SET`, not a startup option, which PgBouncer refuses).
#[cfg(feature = "postgres")]
fn quiet_notices(options: &mut ConnectOptions) {
    options.map_sqlx_postgres_pool_opts(|pool| {
        pool.after_connect(|connection, _| {
            Box::pin(async move {
                use sea_orm::sqlx::Executor;
                connection
                    .execute("SET client_min_messages TO warning")
                    .await?;
                Ok(())
            })
        })
    });
}

/// SQLite pool size and journal: each SQLite connection is a worker thread,
/// and SQLite runs one writer at a time, so a pool sized to the cores
/// serves best (on the 2-core bench machine: 2 → 6.0k, 4 → 8.7k, 6 → 9.7k,
/// 10, sqlx's default, → 5.1k authenticated requests/s). In WAL mode readers
/// do not block the writer (and the other way round); NORMAL sync is safe
/// with WAL (a power cut can lose the last commits, never corrupt the file).
#[cfg(feature = "sqlite")]
fn tune_sqlite(options: &mut ConnectOptions) {
    use sea_orm::sqlx::sqlite::{SqliteJournalMode, SqliteSynchronous};
    let cores = std::thread::available_parallelism().map_or(2, usize::from);
    let connections = u32::try_from((cores * 3).clamp(4, 12)).unwrap_or(4);
    options.max_connections(connections);
    options.map_sqlx_sqlite_opts(|sqlite| {
        sqlite
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Normal)
    });
}
