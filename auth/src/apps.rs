//! What the core and its feature apps agree on (Django's `django.apps`):
//! [`FeatureApp`], an app's `AppConfig`, with the extension points it
//! plugs into (templates, migrate, checks, a login stage or method, event
//! sinks, email changes, pruning, settings it refuses, state of its own);
//! [`Shared`], what every request of one app shares, one component per
//! concept, each with its own operations; and the two places where the
//! type-erased runtime reaches code made for the app's user model: its
//! backends ([`Backends`], implemented in `app/backends.rs`) and the public
//! login functions ([`Operations`], implemented in `login/primitives.rs`).
//!
//! The installed apps are listed once, in `lib.rs` (`INSTALLED_APPS`);
//! the builder (`app/`) runs their hooks and names none of them.

use std::{net::IpAddr, sync::Arc};

use crate::{
    events::{Event, EventKind, Events},
    http::security::SecurityHeaders,
    kernel::clock::Clock,
    kernel::database::Database,
    kernel::error::{Error, Result},
    kernel::future::BoxFuture,
    login::Session,
    login::sessions::Sessions,
    mail::Mail,
    password::Hasher,
    password::validation::Validators,
    permissions::tables::PermissionTables,
    permissions::user_permissions::UserPermissions,
    session::metadata::unix,
    settings::Settings,
    templates::engine::Engine,
    throttle::{Throttle, Verdict, device::DeviceCookies, device_counters, login_counters},
    tokens::TokenGenerator,
    urls::Urls,
    user::erased::LoadedUser,
    user::normalize::normalize_username,
    user::store::UserStore,
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
    /// The feature apps this build has, in order: what each adds at the
    /// core's extension points.
    pub(crate) apps: &'static [&'static FeatureApp],
    /// `authenticate`, `login`, … for the app's user model (for the
    /// built-in views, which serve any model; see `login/primitives.rs`).
    pub(crate) operations: Box<dyn Operations>,
    pub(crate) hasher: Hasher,
    pub(crate) validators: Validators,
    /// The group and permission tables.
    pub(crate) permissions: PermissionTables,
    /// Attempt counts (logins, old passwords, reset mail).
    pub(crate) throttle: Throttle,
    /// The login throttle's device cookies.
    pub(crate) devices: DeviceCookies,
    /// What the feature apps keep of their own (passkeys' challenge
    /// signer), put there as the app was built, one value per type.
    pub(crate) extensions: http::Extensions,
    pub(crate) mail: Mail,
    pub(crate) reset_tokens: TokenGenerator,
    pub(crate) templates: Engine,
    pub(crate) security_headers: SecurityHeaders,
    /// The auth URLs the app declared (`.urls(urls::URLCONF)`).
    pub(crate) urls: Urls,
    /// The time tokens are made and checked at.
    pub(crate) clock: Clock,
    /// Where auth events go: the app's hooks and the feature apps'
    /// sinks (the audit log, security mail).
    pub(crate) events: Events,
    /// What the build's own `migrate` did, until `Auth::migrate` reports
    /// it (the `migrate` command's first call).
    pub(crate) migrated: std::sync::Mutex<crate::kernel::migration::Migration>,
    /// What the app learnt while serving that the system checks report.
    pub(crate) observed: Observed,
    /// Background tasks (expired-session cleanup, cache watchers), stopped
    /// with the app.
    pub(crate) tasks: std::sync::Mutex<Vec<tokio::task::JoinHandle<()>>>,
}

/// A feature app as the core sees it (Django's `AppConfig`): what it
/// adds at each of the core's extension points. Each feature's module
/// declares one; the builder installs those of the build's features, and
/// the core names none of them.
pub(crate) struct FeatureApp {
    /// Its built-in templates (an app's own templates of the same name
    /// win).
    pub(crate) templates: &'static [(&'static str, &'static str)],
    /// Creates its tables when missing (`migrate`, after the core's).
    pub(crate) migrate: Option<Migrate>,
    /// Its system checks (after the core's).
    pub(crate) check: Option<Check>,
    /// A stage every login goes through between the password and
    /// `login()` (two-factor login).
    pub(crate) stage: Option<&'static dyn LoginStep>,
    /// Another way in on the login page (a passkey alone).
    pub(crate) login_method: Option<&'static dyn LoginMethod>,
    /// Told when a user's email address changes (security mail to the
    /// old address).
    pub(crate) email_watch: Option<EmailWatch>,
    /// Deletes what it keeps past its time (old events), with
    /// `clearsessions`.
    pub(crate) prune: Option<Prune>,
    /// Refuses settings it cannot work with, before anything is built
    /// (passkeys need the site's origin).
    pub(crate) validate: Option<fn(&Urls, &Settings) -> Result<()>>,
    /// What it adds while the app is built: event sinks (the audit log's
    /// writer, security mail), their tasks, state of its own.
    pub(crate) build: Option<fn(&mut Building<'_>)>,
    /// Told once the app is built (security mail binds its mailer to it).
    pub(crate) started: Option<fn(&Arc<Shared>)>,
}

/// What a feature app is given while the app is built. (Each feature
/// reads its own fields: a build with some features off leaves some
/// unread.)
#[allow(dead_code)]
pub(crate) struct Building<'a> {
    pub(crate) db: &'a Database,
    pub(crate) settings: &'a Settings,
    pub(crate) secrets: &'a crate::settings::secret::SecretKeys,
    /// Where events go; an app adds its sinks.
    pub(crate) events: &'a mut Events,
    /// Background tasks, stopped with the app.
    pub(crate) tasks: &'a mut Vec<tokio::task::JoinHandle<()>>,
    /// State of its own, found again through [`Shared::extension`].
    pub(crate) extensions: &'a mut http::Extensions,
}

/// What a feature app deletes with `clearsessions`.
#[derive(Clone, Copy)]
pub(crate) struct Prune {
    /// What it deletes, as `clearsessions` counts it ("old event(s)").
    pub(crate) what: &'static str,
    /// Deletes it; how many.
    pub(crate) run: fn(&Shared) -> BoxFuture<'_, Result<u64>>,
}

/// What a feature app is told of email changes (Django's `post_save`, for
/// one field).
#[derive(Clone, Copy)]
pub(crate) struct EmailWatch {
    /// Whether it wants to know with these settings (reading the address
    /// before a save costs a query).
    pub(crate) wanted: fn(&Settings) -> bool,
    /// User `username`'s address changed from `old` to `new`.
    pub(crate) changed: fn(&Arc<Shared>, username: &str, old: &str, new: &str),
}

impl FeatureApp {
    /// An app that adds nothing: the base of each app's declaration
    /// (`FeatureApp { templates: …, ..FeatureApp::NOTHING }`).
    #[cfg_attr(
        not(any(
            feature = "mfa",
            feature = "user-sessions",
            feature = "audit",
            feature = "notify"
        )),
        allow(dead_code)
    )]
    pub(crate) const NOTHING: FeatureApp = FeatureApp {
        templates: &[],
        migrate: None,
        check: None,
        stage: None,
        login_method: None,
        email_watch: None,
        prune: None,
        validate: None,
        build: None,
        started: None,
    };
}

impl Shared {
    /// The state of type `T` a feature app put in while the app was built
    /// (its `build` hook runs whenever the feature is compiled in).
    #[cfg_attr(not(feature = "passkeys"), allow(dead_code))]
    pub(crate) fn extension<T: Clone + Send + Sync + 'static>(&self) -> &T {
        self.extensions
            .get::<T>()
            .expect("the feature app's build hook adds its state")
    }

    /// The installed apps' login stages, in order.
    pub(crate) fn stages(&self) -> impl Iterator<Item = &'static dyn LoginStep> + use<> {
        self.apps.iter().filter_map(|app| app.stage)
    }

    /// The installed apps' other ways in on the login page, in order.
    pub(crate) fn login_methods(&self) -> impl Iterator<Item = &'static dyn LoginMethod> + use<> {
        self.apps.iter().filter_map(|app| app.login_method)
    }
}

/// Creates a feature app's tables when missing.
pub(crate) type Migrate = for<'a> fn(
    &'a sea_orm::DatabaseConnection,
) -> BoxFuture<'a, std::result::Result<(), sea_orm::DbErr>>;

/// A feature app's system checks.
pub(crate) type Check =
    fn(&Shared, crate::kernel::checks::Scope) -> Vec<crate::kernel::checks::CheckMessage>;

/// What the app learnt at start-up or while serving, for the system
/// checks (each logged once when first seen).
#[derive(Debug, Default)]
pub(crate) struct Observed {
    /// A request arrived without the client's address and no proxy header
    /// was configured: the app is served without `ConnectInfo`.
    pub(crate) no_client_address: std::sync::atomic::AtomicBool,
    /// A request arrived without a usable `AUTH_TRUSTED_PROXY_HEADER`.
    pub(crate) no_proxy_header: std::sync::atomic::AtomicBool,
    /// The groups of `AUTH_MFA_REQUIRED_GROUPS` that did not exist at
    /// start-up.
    #[cfg(feature = "mfa")]
    pub(crate) missing_required_groups: std::sync::Mutex<Vec<String>>,
}

impl Observed {
    /// Notes a request whose client has no address; logs the first one
    /// with the fix.
    pub(crate) fn no_address(&self, settings: &Settings) {
        use std::sync::atomic::Ordering::Relaxed;
        match &settings.trusted_proxy_header {
            Some(header) => {
                if !self.no_proxy_header.swap(true, Relaxed) {
                    tracing::warn!(
                        "a request came without a usable {header} header (AUTH_TRUSTED_PROXY_HEADER): \
                         such requests count as one `unknown` address for the login throttle; \
                         make sure every request passes through the proxy, which sets it"
                    );
                }
            }
            None => {
                if !self.no_client_address.swap(true, Relaxed) {
                    tracing::warn!(
                        "a request came without the client's address: the app is served without \
                         ConnectInfo, so the login throttle sees every client as one and a few \
                         wrong passwords lock a user out for everyone; serve it with \
                         `auth.serve(app, listener)` or `app.into_make_service_with_connect_info::<SocketAddr>()`, \
                         or set AUTH_TRUSTED_PROXY_HEADER behind a proxy"
                    );
                }
            }
        }
    }
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

/// Who is attempting a login: what the throttle and the audit log know
/// of the request (nothing, outside one).
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Attempt<'a> {
    /// The client's address.
    pub(crate) client: Option<IpAddr>,
    /// Its `User-Agent`.
    pub(crate) user_agent: &'a str,
    /// The device cookie it presented, if any.
    pub(crate) device: Option<&'a str>,
}

impl Shared {
    /// Django's `authenticate`: the username normalised once, the attempt
    /// counted before any password is checked (per username and client,
    /// per username and per client; or, with a device cookie of this
    /// username, per device), then each backend in order. The user and
    /// the name of the backend that accepted it.
    pub(crate) async fn authenticate(
        self: &Arc<Self>,
        from: Attempt<'_>,
        username: &str,
        password: &str,
    ) -> Result<Option<(LoadedUser, &'static str)>> {
        let shared = self;
        let username = normalize_username(username);
        let failure = |kind| {
            let mut event = Event::new(kind, shared.clock.now());
            event.username = username.clone();
            event.client_ip = from.client;
            event.user_agent = from.user_agent.to_owned();
            event
        };
        let now = unix(shared.clock.now());
        let counters = match from
            .device
            .and_then(|cookie| shared.devices.device(cookie, &username, now))
        {
            Some(device) => device_counters(&shared.settings, device),
            None => login_counters(&shared.settings, &username, from.client),
        };
        let checked = shared.throttle.attempt(&counters, async {
            match shared
                .backends
                .authenticate(shared, &username, password)
                .await
            {
                Ok(Some(found)) => (Verdict::Passed, Ok(Some(found))),
                Ok(None) => (Verdict::Failed, Ok(None)),
                // Refused before the password was checked: not a guess.
                Err(Error::Overloaded) => (Verdict::DidNotHappen, Err(Error::Overloaded)),
                Err(err) => (Verdict::Failed, Err(err)),
            }
        });
        match checked.await? {
            Ok(Some(found)) => Ok(Some(found)),
            Ok(None) => {
                shared.events.emit(failure(EventKind::UserLoginFailed));
                Ok(None)
            }
            Err(refused) => {
                if refused.first {
                    tracing::warn!(
                        client = %crate::throttle::client_key(from.client),
                        counter = refused.counter,
                        window_seconds = shared.settings.login_failure_window.as_secs(),
                        "login locked out after too many failures"
                    );
                    shared.events.emit(failure(EventKind::LoginLockedOut));
                }
                Err(Error::Throttled)
            }
        }
    }
}

/// A stage every login goes through between the password and
/// [`login`](crate::login), registered by the builder: the extension
/// point two-factor login plugs into (feature `mfa`). The core asks each
/// registered stage, in order, and names none.
pub(crate) trait LoginStep: Send + Sync {
    /// The step `user`'s login must take before it completes, if any; an
    /// error when one is needed that this app cannot take (never a login
    /// without it).
    fn next<'a>(
        &'a self,
        shared: &'a Shared,
        user: &'a crate::user::AbstractUser,
    ) -> BoxFuture<'a, Result<Option<Step>>>;

    /// Makes the login of `user` (accepted by `backend`) wait for `step`
    /// on `session`, which it leaves anonymous.
    fn pend<'a>(
        &'a self,
        session: &'a Session,
        user: &'a crate::user::AbstractUser,
        backend: &'a str,
        step: Step,
    ) -> BoxFuture<'a, Result<()>>;

    /// A login completes on `session`, which may carry data of the
    /// anonymous session before it: drops this stage's state from it.
    fn forget<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<()>>;
}

/// A way to log in on the login page other than the password (a passkey;
/// later, an identity provider), registered by the builder: the extension
/// point the login page's other buttons plug into.
pub(crate) trait LoginMethod: Send + Sync {
    /// The login page's context entry for it: its name, and whether the
    /// page offers it.
    fn offered(&self, shared: &Shared) -> (&'static str, bool);

    /// Answers a POST of the login page when it is this method's (`None`:
    /// it is the password form's, or another method's).
    fn answer<'a>(
        &'a self,
        session: &'a Session,
        headers: &'a http::HeaderMap,
        data: &'a crate::http::body::FormData,
    ) -> BoxFuture<'a, Result<Option<MethodAnswer>>>;

    /// The login page's response to one of this method's answers (a
    /// user, a refusal), as it must leave (a ceremony's state ended); a
    /// [`MethodAnswer::Respond`] leaves as it is.
    fn finish(
        &self,
        session: &Session,
        response: axum::response::Response,
    ) -> axum::response::Response;

    /// After a login through this method: what the session records of it.
    fn logged_in<'a>(&'a self, session: &'a Session) -> BoxFuture<'a, Result<()>>;
}

/// What a [`LoginMethod`] made of a POST of the login page.
#[cfg_attr(not(feature = "passkeys"), allow(dead_code))]
pub(crate) enum MethodAnswer {
    /// A response of its own (a ceremony's options, say).
    Respond(axum::response::Response),
    /// A user it authenticated, to log in (through the login's stages).
    User(LoadedUser),
    /// Refused, with the message for the form.
    Refused(&'static str),
}

/// A step a login must take before it completes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Step {
    /// The path of the view that takes it.
    pub(crate) path: &'static str,
    /// Whether the step sets something up (a first second factor) rather
    /// than checks it.
    pub(crate) set_up: bool,
}

impl Shared {
    /// The first step a registered stage asks of `user`'s login, with
    /// that stage; `None`: the login may complete.
    pub(crate) async fn next_step(
        &self,
        user: &crate::user::AbstractUser,
    ) -> Result<Option<(&'static dyn LoginStep, Step)>> {
        for stage in self.stages() {
            if let Some(step) = stage.next(self, user).await? {
                return Ok(Some((stage, step)));
            }
        }
        Ok(None)
    }
}

/// The configured backends, behind one type (the request layer and the
/// views serve any user model).
pub(crate) type Backends = Box<dyn AnyBackends>;

/// What the app asks of its backends (implemented in `app/backends.rs` for
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
    #[cfg_attr(not(feature = "mfa"), allow(dead_code))]
    fn named(&self, name: &str) -> Option<&'static str>;
}

/// `authenticate`, `stage_login` and `update_session_auth_hash` for the app's
/// user model, for callers that hold a user of any model (the built-in
/// views). Implemented in `login/primitives.rs`.
pub(crate) trait Operations: Send + Sync {
    fn authenticate<'a>(
        &'a self,
        session: &'a Session,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>>>;
    fn stage_login<'a>(
        &'a self,
        session: &'a Session,
        user: &'a LoadedUser,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<crate::login::stage::LoginStage>>;
    fn update_session_auth_hash<'a>(
        &'a self,
        session: &'a Session,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<()>>;
}
