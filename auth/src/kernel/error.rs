//! The crate's error types (Django's `django.core.exceptions`). How an
//! [`Error`] becomes a response is the HTTP layer's: `http/error_page.rs`.

/// Everything that can go wrong at run time.
///
/// As a handler's error it renders as a small page: 400 for refused input,
/// 503 when a backing service is down or slow, 500 for the rest (with the
/// details in the log, never in the page).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The session store failed or is unreachable.
    #[error("session store error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// Redis failed or is unreachable.
    #[cfg(feature = "redis")]
    #[error("Redis error: {0}")]
    Redis(#[from] fred::error::Error),
    /// A database or session-store call took longer than
    /// [`Settings::database_timeout`](crate::Settings::database_timeout).
    #[error("the database did not answer in time")]
    Timeout,
    /// Too much work is waiting (password hashing is saturated): a `503`
    /// with `Retry-After`, answered without doing the work.
    #[error("the server is busy")]
    Overloaded,
    /// Too many failed attempts for this username or client within
    /// `AUTH_LOGIN_FAILURE_WINDOW`: refused without checking the password
    /// (a `429`).
    #[error("Too many failed login attempts. Try again later.")]
    Throttled,
    /// A login past `AUTH_SESSION_MAX_PER_USER` with
    /// `AUTH_SESSION_MAX_POLICY=refuse`: the login form shows this
    /// message; elsewhere a `403` page.
    #[error(
        "You are logged in on too many devices. Log out of one of your other sessions, then try again."
    )]
    TooManySessions,
    /// [`login`](crate::login) was asked to log in, on the password alone,
    /// a user who has a second factor or must set one up: nobody is
    /// logged in. Login views call [`stage_login`](crate::stage_login),
    /// which makes such a login wait for its second step. As a response,
    /// a `403` page.
    #[error(
        "This account uses two-factor authentication, which this login page does not offer. Use the site's login page."
    )]
    SecondFactorRequired,
    /// The user may not see this page (Django's `PermissionDenied`): a
    /// `403` page. Guards return it; a handler may too.
    #[error("You do not have permission to view this page.")]
    PermissionDenied,
    /// Input was refused, such as an empty username for `create_user`.
    #[error("{0}")]
    Invalid(String),
    /// A setting in the environment does not parse.
    #[error(transparent)]
    Settings(#[from] SettingsError),
    /// A template is missing or failed to render.
    #[error("template error: {0:#}")]
    Template(#[from] minijinja::Error),
    /// Reading or writing a file or socket failed.
    #[error("I/O error: {0}")]
    Io(#[from] std::io::Error),
    /// The set-up is wrong (a missing layer, an unusable secret key, …).
    #[error("configuration error: {0}")]
    Config(String),
}

impl Error {
    /// Whether the error means a backing service is unavailable (a 503)
    /// rather than a bug (a 500).
    pub fn is_unavailable(&self) -> bool {
        match self {
            Error::Database(_) | Error::Timeout => true,
            Error::Session(err) => !matches!(err, tower_sessions::session::Error::SerdeJson(_)),
            #[cfg(feature = "redis")]
            Error::Redis(_) => true,
            _ => false,
        }
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

/// One refused value, as Django's `ValidationError`: a message for people
/// and a stable code for programs (`password_too_short`, `invalid`, …).
#[derive(Clone, Debug, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct ValidationError {
    code: &'static str,
    message: String,
}

impl ValidationError {
    /// An error with Django's `code` and a human-readable `message`.
    pub fn new(code: &'static str, message: impl Into<String>) -> Self {
        ValidationError {
            code,
            message: message.into(),
        }
    }

    /// The stable code, such as `password_too_common`.
    pub fn code(&self) -> &'static str {
        self.code
    }

    /// The message shown to people.
    pub fn message(&self) -> &str {
        &self.message
    }
}

/// A setting in the environment that does not parse.
#[derive(Debug, thiserror::Error)]
#[error("environment variable {name}={value:?} is invalid: {reason}")]
pub struct SettingsError {
    pub(crate) name: String,
    pub(crate) value: String,
    pub(crate) reason: String,
}
