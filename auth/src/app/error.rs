//! The crate's error type and how it becomes an HTTP response.

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use crate::http::html::error_page;

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
    Settings(#[from] crate::settings::SettingsError),
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

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if let Error::Overloaded = self {
            let mut page = error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The server is busy. Please try again in a moment.",
            );
            page.headers_mut().insert(
                http::header::RETRY_AFTER,
                http::HeaderValue::from_static("1"),
            );
            return page;
        }
        if self.is_unavailable() {
            tracing::error!(error = %self, "backing service unavailable");
            return error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The site cannot reach its database right now. Please try again in a moment.",
            );
        }
        if let Error::Invalid(message) = &self {
            return error_page(StatusCode::BAD_REQUEST, "Bad request", message);
        }
        if let Error::Session(tower_sessions::session::Error::SerdeJson(err)) = &self {
            // A session value of another shape than the handler reads
            // (left by an older version of the app, say): this request
            // cannot be served, the site is fine.
            tracing::warn!(error = %err, "a session value does not have the expected shape");
            return error_page(
                StatusCode::BAD_REQUEST,
                "Bad request",
                "Your session holds data this page cannot read. Please log in again.",
            );
        }
        if let Error::SecondFactorRequired = self {
            return error_page(
                StatusCode::FORBIDDEN,
                "Two-factor authentication required",
                &self.to_string(),
            );
        }
        if let Error::TooManySessions = self {
            return error_page(
                StatusCode::FORBIDDEN,
                "Too many sessions",
                &self.to_string(),
            );
        }
        if let Error::PermissionDenied = self {
            crate::events::trace::decision("permission_required", "denied", "");
            return error_page(StatusCode::FORBIDDEN, "Forbidden (403)", &self.to_string());
        }
        if let Error::Throttled = self {
            return error_page(
                StatusCode::TOO_MANY_REQUESTS,
                "Too many attempts",
                &self.to_string(),
            );
        }
        tracing::error!(error = %self, "internal error");
        error_page(
            StatusCode::INTERNAL_SERVER_ERROR,
            "Server error",
            "Something went wrong on our side.",
        )
    }
}

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
