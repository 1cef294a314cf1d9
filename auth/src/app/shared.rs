//! [`Shared`]: what every request of one app shares, one component per
//! concept, each with its own operations; and the two places where the
//! type-erased runtime reaches code made for the app's user model: its
//! backends ([`Backends`], implemented in `backend.rs`) and the public
//! login functions ([`Operations`], implemented in `session/login.rs`).

use std::{net::IpAddr, sync::Arc};

use crate::{
    Error, Result, Session, Settings,
    app::clock::Clock,
    app::database::Database,
    app::future::BoxFuture,
    events::{Event, EventKind, Events},
    http::security::SecurityHeaders,
    mail::Mail,
    password::Hasher,
    password::validation::Validators,
    permissions::tables::PermissionTables,
    permissions::user_permissions::UserPermissions,
    session::sessions::Sessions,
    templates::engine::Engine,
    throttle::{Throttle, login_counters},
    tokens::TokenGenerator,
    user::erased::LoadedUser,
    user::normalize::normalize_username,
    user::store::UserStore,
    views::urls::Urls,
};

/// What every request of one app shares: one component per concept,
/// each with its own operations.
pub(crate) struct Shared {
    pub(crate) settings: Settings,
    /// The connection, with the one query timeout.
    pub(crate) db: Database,
    /// The user table (queries, its timeout and its cache).
    pub(crate) users: UserStore,
    /// The authentication backends, in order.
    pub(crate) backends: Backends,
    /// Where sessions live, their cookie and their auth hash.
    pub(crate) sessions: Sessions,
    /// `authenticate`, `login`, … for the app's user model (for the
    /// built-in views, which serve any model; see `session/login.rs`).
    pub(crate) operations: Box<dyn Operations>,
    pub(crate) hasher: Hasher,
    pub(crate) validators: Validators,
    /// The group and permission tables.
    pub(crate) permissions: PermissionTables,
    /// Attempt counts (logins, old passwords, reset mail).
    pub(crate) throttle: Throttle,
    pub(crate) mail: Mail,
    pub(crate) reset_tokens: TokenGenerator,
    pub(crate) templates: Engine,
    pub(crate) security_headers: SecurityHeaders,
    /// The auth URLs the app declared (`.urls(urls::URLCONF)`).
    pub(crate) urls: Urls,
    /// The time tokens are made and checked at.
    pub(crate) clock: Clock,
    /// Where auth events go: the app's hooks and the audit log.
    pub(crate) events: Events,
    /// What the build's own `migrate` did, until `Auth::migrate` reports
    /// it (the `migrate` command's first call).
    pub(crate) migrated: std::sync::Mutex<crate::app::migration::Migration>,
    /// Background tasks (expired-session cleanup, cache watchers), stopped
    /// with the app.
    pub(crate) tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

impl Drop for Shared {
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

impl Shared {
    /// The login URL in effect: `login_url` if set, else the path of the
    /// declared `LoginView`, else Django's `/accounts/login/`.
    pub(crate) fn login_url(&self) -> &str {
        self.settings
            .login_url
            .as_deref()
            .or_else(|| self.urls.path_of_view("LoginView"))
            .unwrap_or(crate::settings::DEFAULT_LOGIN_URL)
    }
}

impl Shared {
    /// Django's `authenticate`: the username normalised once, the attempt
    /// counted before any password is checked (per username and `client`,
    /// per username and per client), then each backend in order. The user
    /// and the name of the backend that accepted it.
    pub(crate) async fn authenticate(
        self: &Arc<Self>,
        client: Option<IpAddr>,
        user_agent: &str,
        username: &str,
        password: &str,
    ) -> Result<Option<(LoadedUser, &'static str)>> {
        let shared = self;
        let username = normalize_username(username);
        let failure = |kind| {
            let mut event = Event::new(kind, shared.clock.now());
            event.username = username.clone();
            event.client_ip = client;
            event.user_agent = user_agent.to_owned();
            event
        };
        let counters = login_counters(&shared.settings, &username, client);
        let reservation = match shared.throttle.reserve(&counters).await {
            Err(Error::Throttled) => {
                tracing::warn!(
                    client = %crate::throttle::client_key(client),
                    window_seconds = shared.settings.login_failure_window.as_secs(),
                    "login locked out after too many failures"
                );
                shared.events.emit(failure(EventKind::LoginLockedOut));
                return Err(Error::Throttled);
            }
            other => other?,
        };
        match shared
            .backends
            .authenticate(shared, &username, password)
            .await
        {
            Ok(Some(found)) => {
                shared.throttle.succeeded(reservation).await?;
                Ok(Some(found))
            }
            Ok(None) => {
                shared.throttle.failed(reservation);
                shared.events.emit(failure(EventKind::UserLoginFailed));
                Ok(None)
            }
            Err(Error::Overloaded) => {
                // Refused before the password was checked: not a guess.
                shared.throttle.did_not_happen(reservation).await?;
                Err(Error::Overloaded)
            }
            Err(err) => Err(err),
        }
    }
}

/// The configured backends, behind one type (the request layer and the
/// views serve any user model).
pub(crate) type Backends = Box<dyn AnyBackends>;

/// What the app asks of its backends (implemented in `backend.rs` for
/// the app's user model).
pub(crate) trait AnyBackends: Send + Sync {
    /// Each backend in turn: the first user one returns, with its name.
    fn authenticate<'a>(
        &'a self,
        shared: &'a Arc<Shared>,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<(LoadedUser, &'static str)>>>;

    /// Django's `backend.get_user(id)` for the backend named in a session;
    /// `None` when that backend is no longer configured.
    fn get_user<'a>(
        &'a self,
        shared: &'a Arc<Shared>,
        backend: &'a str,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>>>;

    /// The user's permissions from every backend, merged.
    fn permissions<'a>(
        &'a self,
        shared: &'a Arc<Shared>,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<UserPermissions>>;

    /// The name of the first backend (what [`login`](crate::login)
    /// records when the user came from elsewhere).
    fn first(&self) -> &'static str;

    /// The configured backend named `name`, as its `'static` name.
    fn named(&self, name: &str) -> Option<&'static str>;
}

/// `authenticate`, `login` and `update_session_auth_hash` for the app's
/// user model, for callers that hold a user of any model (the built-in
/// views). Implemented in `session/login.rs`.
pub(crate) trait Operations: Send + Sync {
    fn authenticate<'a>(
        &'a self,
        session: &'a Session,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>>>;
    fn login<'a>(&'a self, session: &'a Session, user: &'a LoadedUser)
    -> BoxFuture<'a, Result<()>>;
    fn update_session_auth_hash<'a>(
        &'a self,
        session: &'a Session,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<()>>;
}
