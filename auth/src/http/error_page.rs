//! How an [`Error`] answers a request: a small page, 400 for refused
//! input, 403 for a refusal, 429 when throttled, 503 when a backing service
//! is down or slow, 500 for the rest (details in the log, never in the
//! page).

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use super::html::error_page;
use crate::kernel::error::Error;

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
