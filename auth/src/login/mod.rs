//! Logging in and out on a session (Django's `authenticate`, `login`,
//! `logout`, `update_session_auth_hash` in `contrib/auth/__init__.py`),
//! made stricter than Django where Django is weak. The session engine
//! underneath (stores, cookie, cache, coherence) is `sessions/`.
//!
//! The session holds the user's id, the name of the backend that logged
//! them in (`keys.rs`, Django's names), and a *session auth hash*
//! (`auth_hash.rs`). `primitives.rs` is `authenticate`, `login` and the
//! login stage; `request.rs` is the request's auth state the [`Session`]
//! handle carries; `lifetime.rs` the idle and absolute timeouts;
//! `metadata.rs` what a logged-in session records about itself;
//! `registry.rs` the index of a user's sessions.

pub(crate) mod auth_hash;
#[cfg(any(feature = "user-sessions", feature = "notify"))]
pub(crate) mod device;
pub(crate) mod lifetime;
pub(crate) mod primitives;
pub(crate) mod registry;
pub(crate) mod request;
pub(crate) mod sessions;
pub(crate) mod stage;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

pub use primitives::{
    LoginStage, authenticate, login, logout, stage_login, update_session_auth_hash,
};

use crate::{kernel::error::Result, user::AuthUser, user::erased::downcast};
use request::RequestAuth;

/// The current request's auth handle, as an extractor (Django's
/// `request`, as far as auth goes): the request's session (tower-sessions'
/// data API, through `Deref`), its user and CSRF token. The functions
/// [`authenticate`], [`login`], [`logout`] and
/// [`update_session_auth_hash`] take it, as Django's take `request`.
///
/// Requires the layer from [`Auth::layer`](crate::Auth::layer).
#[derive(Clone)]
pub struct Session {
    pub(crate) request: Arc<RequestAuth>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.request.session.id().map(|_| "<redacted>"))
            .finish()
    }
}

impl std::ops::Deref for Session {
    type Target = tower_sessions::Session;
    fn deref(&self) -> &tower_sessions::Session {
        &self.request.session
    }
}

impl Session {
    /// A masked CSRF token for a form or a script (a new one each call; all
    /// are valid until the secret rotates at login).
    pub fn csrf_token(&self) -> String {
        self.request.csrf.token()
    }

    /// Whether `url` is a safe redirect target for this request: relative,
    /// or on this request's host (see
    /// [`url_has_allowed_host_and_scheme`](crate::redirect::url_has_allowed_host_and_scheme)).
    pub fn is_safe_redirect(&self, url: &str) -> bool {
        self.request.is_safe_redirect(url)
    }

    /// Whether a [`login`] later in this request should outlive the
    /// browser session: the "Remember me" box of a login form, with
    /// `AUTH_SESSION_REMEMBER=ask` (the built-in login view sets it from
    /// the form's `remember` field). Unset under `ask`, a login lasts
    /// only as long as the browser.
    pub fn set_remember(&self, remember: bool) {
        self.request.set_remember(remember);
    }

    /// The logged-in user, if any (loaded once per request).
    pub async fn user<U: AuthUser>(&self) -> Result<Option<U>> {
        Ok(self.request.user().await?.and_then(downcast::<U>))
    }
}

impl<S: Send + Sync> FromRequestParts<S> for Session {
    type Rejection = axum::response::Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        Ok(Session {
            request: RequestAuth::from_parts(parts)?,
        })
    }
}
