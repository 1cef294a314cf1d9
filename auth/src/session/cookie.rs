//! The session cookie (Django's `SessionMiddleware`): the session a
//! request's cookie names is opened before the handler, and after it the
//! session is saved, or deleted, and the cookie set or removed, with
//! `SESSION_COOKIE_*`'s attributes. A save that fails is answered here,
//! with a page that says why: 503 when the store is down, 400 when the
//! session was deleted while in use (Django's `SessionInterrupted`).

use std::sync::Arc;

use axum::response::Response;
use http::{HeaderValue, StatusCode, header};
use tower_sessions::{Expiry, session::Id};

use super::{
    metadata::{METADATA_KEY, Times},
    store::{DynStore, INTERRUPTED},
};
use crate::{
    http::{cookies::same_site, html::error_page},
    settings::Settings,
};

/// The session cookie's name and attributes, from the settings.
#[derive(Clone, Debug)]
pub(crate) struct SessionCookie {
    pub(crate) name: String,
    http_only: bool,
    same_site: cookie::SameSite,
    secure: bool,
    path: String,
    domain: Option<String>,
    expiry: Expiry,
    always_save: bool,
    /// How long a browser-session login ("remember me" not ticked) lives
    /// on the server without activity.
    browser_lifetime: time::Duration,
}

impl SessionCookie {
    pub(crate) fn from_settings(s: &Settings) -> Self {
        let expiry = if s.session_expire_at_browser_close {
            Expiry::OnSessionEnd
        } else {
            let age = i64::try_from(s.session_cookie_age).unwrap_or(i64::MAX);
            Expiry::OnInactivity(time::Duration::seconds(age))
        };
        SessionCookie {
            name: s.session_cookie_name.clone(),
            http_only: s.session_cookie_httponly,
            same_site: same_site(s.session_cookie_samesite),
            secure: s.session_cookie_secure,
            path: s.session_cookie_path.clone(),
            domain: s.session_cookie_domain.clone(),
            expiry,
            always_save: s.session_save_every_request,
            browser_lifetime: time::Duration::try_from(s.browser_lifetime())
                .unwrap_or(time::Duration::MAX),
        }
    }

    /// The session a cookie value names (a malformed id names none; the
    /// store is read only when something reads the session).
    pub(crate) fn open(
        &self,
        value: Option<&str>,
        store: Arc<DynStore>,
    ) -> tower_sessions::Session {
        let id = value.and_then(|value| match value.parse::<Id>() {
            Ok(id) => Some(id),
            Err(err) => {
                tracing::debug!(error = %err, "a malformed session id; starting afresh");
                None
            }
        });
        tower_sessions::Session::new(id, store, Some(self.expiry))
    }

    /// After the handler: saves a changed session and sets its cookie, or
    /// removes the cookie of a session that was flushed. A failed save
    /// replaces the response with a page that says why.
    pub(crate) async fn commit(
        &self,
        session: &tower_sessions::Session,
        had_cookie: bool,
        response: &mut Response,
    ) {
        let modified = session.is_modified();
        if !(had_cookie || modified || self.always_save) {
            // Nothing to remove and nothing to save: the common anonymous
            // page, answered without locking the session.
            return;
        }
        let empty = session.is_empty().await;
        if had_cookie && empty {
            let mut removal = self.cookie(String::new());
            removal.make_removal();
            append(response, &removal);
            return;
        }
        if !(modified || self.always_save) || empty || response.status().is_server_error() {
            return;
        }
        // A browser-session login: no `Max-Age`, and a server-side
        // lifetime of its own.
        let browser = session
            .get_value(METADATA_KEY)
            .await
            .ok()
            .flatten()
            .as_ref()
            .and_then(Times::of)
            .is_some_and(|times| times.browser);
        if browser {
            session.set_expiry(Some(Expiry::OnInactivity(self.browser_lifetime)));
        }
        if let Err(err) = session.save().await {
            *response = failure_page(&err);
            return;
        }
        let Some(id) = session.id() else {
            return;
        };
        let mut cookie = self.cookie(id.to_string());
        match session.expiry().filter(|_| !browser) {
            Some(Expiry::OnInactivity(age)) => cookie.set_max_age(age),
            Some(Expiry::AtDateTime(at)) => {
                cookie.set_max_age(at - time::OffsetDateTime::now_utc());
            }
            Some(Expiry::OnSessionEnd) | None => {}
        }
        append(response, &cookie);
    }

    fn cookie(&self, value: String) -> cookie::Cookie<'static> {
        let mut cookie = cookie::Cookie::build((self.name.clone(), value))
            .http_only(self.http_only)
            .same_site(self.same_site)
            .secure(self.secure)
            .path(self.path.clone())
            .build();
        if let Some(domain) = &self.domain {
            cookie.set_domain(domain.clone());
        }
        cookie
    }
}

fn append(response: &mut Response, cookie: &cookie::Cookie<'_>) {
    if let Ok(value) = HeaderValue::try_from(cookie.to_string()) {
        response.headers_mut().append(header::SET_COOKIE, value);
    }
}

/// The page for a session that could not be saved.
fn failure_page(err: &tower_sessions::session::Error) -> Response {
    use tower_sessions::{session::Error, session_store::Error as StoreError};
    match err {
        Error::Store(StoreError::Backend(message)) if message == INTERRUPTED => error_page(
            StatusCode::BAD_REQUEST,
            "Session interrupted",
            "Your session was ended by another request (for example a logout in another tab). \
             Please log in again.",
        ),
        Error::Store(StoreError::Backend(_)) => {
            tracing::error!(error = %err, "the session store is unavailable");
            error_page(
                StatusCode::SERVICE_UNAVAILABLE,
                "Service unavailable",
                "The site cannot reach its session store right now. Please try again in a moment.",
            )
        }
        _ => {
            tracing::error!(error = %err, "a session could not be saved");
            error_page(
                StatusCode::INTERNAL_SERVER_ERROR,
                "Server error",
                "Something went wrong on our side.",
            )
        }
    }
}
