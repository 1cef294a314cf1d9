//! The crate's error type and how it turns into an HTTP response.

use axum::response::{Html, IntoResponse, Response};
use http::StatusCode;

/// Everything that can go wrong at run time.
#[derive(Debug, thiserror::Error)]
pub enum Error {
    /// The database failed or is unreachable.
    #[error("database error: {0}")]
    Database(#[from] sea_orm::DbErr),
    /// The session store failed or is unreachable.
    #[error("session error: {0}")]
    Session(#[from] tower_sessions::session::Error),
    /// A database or session-store call took longer than
    /// `Settings::database_timeout`.
    #[error("the database did not answer in time")]
    Timeout,
    /// Settings or set-up are wrong.
    #[error("configuration error: {0}")]
    Config(String),
    /// Anything else that is the server's fault.
    #[error("{0}")]
    Internal(String),
}

impl Error {
    /// Whether the error means a backing service is unavailable (a 503)
    /// rather than a bug (a 500).
    pub fn is_unavailable(&self) -> bool {
        matches!(
            self,
            Error::Database(_) | Error::Session(_) | Error::Timeout
        )
    }
}

/// `Result` with [`Error`].
pub type Result<T, E = Error> = std::result::Result<T, E>;

impl IntoResponse for Error {
    fn into_response(self) -> Response {
        if self.is_unavailable() {
            tracing::error!(error = %self, "backing service unavailable");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The site cannot reach its database right now. Please try again in a moment.",
            )
        } else {
            tracing::error!(error = %self, "internal error");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Server error",
                "Something went wrong on our side.",
            )
        }
    }
}

/// A small HTML page for an error status, with no internal details.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\"><title>{title}</title></head>\
         <body><h1>{title}</h1><p>{message}</p></body></html>\n"
    );
    let mut response = (status, Html(body)).into_response();
    response.headers_mut().insert(
        http::header::CACHE_CONTROL,
        http::HeaderValue::from_static("no-store"),
    );
    response
}
