//! Logging in and out, with Django's session semantics (made stricter where
//! `spec/security.md` says so).
//!
//! The session holds the user's id and a *session auth hash*: an HMAC of the
//! stored password hash under the secret key. Every request that asks for
//! the user re-computes it and compares in constant time, so changing the
//! password (or rotating the secret without a fallback) ends every other
//! session of that user.

mod fault;
pub mod redis;
pub(crate) mod request;
pub mod store;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

pub(crate) use fault::{StoreFault, watch};
pub(crate) use request::RequestAuth;
use request::{LoadedUser, LoadedUserExt};

use crate::{AuthUser, Result};

/// Session key of the logged-in user's id (Django's `SESSION_KEY`).
pub const SESSION_KEY: &str = "_auth_user_id";
/// Session key of the session auth hash (Django's `HASH_SESSION_KEY`).
pub const HASH_SESSION_KEY: &str = "_auth_user_hash";
/// Session key naming the authentication backend (Django's
/// `BACKEND_SESSION_KEY`).
pub const BACKEND_SESSION_KEY: &str = "_auth_user_backend";
/// The one backend: users from the model's table.
pub const MODEL_BACKEND: &str = "auth.ModelBackend";
/// Django's key salt for the session auth hash, so hashes made by Django
/// for an imported user table stay valid with the same secret key.
pub(crate) const SESSION_HASH_SALT: &str =
    "django.contrib.auth.models.AbstractBaseUser.get_session_auth_hash";

/// The current request's session, as an extractor: the data store of
/// tower-sessions (through `Deref`) plus what login and logout need.
///
/// Requires the layer from [`Auth::layer`](crate::Auth::layer).
#[derive(Clone)]
pub struct Session {
    pub(crate) request: Arc<RequestAuth>,
}

impl std::fmt::Debug for Session {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Session")
            .field("id", &self.request.session.id())
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
        self.request.csrf_token()
    }

    /// Whether `url` is a safe redirect target for this request: relative,
    /// or on this request's host (see
    /// [`url_has_allowed_host_and_scheme`](crate::redirect::url_has_allowed_host_and_scheme)).
    pub fn is_safe_redirect(&self, url: &str) -> bool {
        self.request.is_safe_redirect(url)
    }

    /// The logged-in user, if any (loaded once per request).
    pub async fn user<U: AuthUser>(&self) -> Result<Option<U>> {
        Ok(self.request.user().await?.and_then(|u| u.downcast::<U>()))
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

/// Logs `user` in on this session (Django's `login`), more strictly than
/// Django:
///
/// - the session id always changes (also for a repeated login of the same
///   user), and the old id stops working;
/// - if the session belonged to another user, or its auth hash does not
///   match, its data is dropped first; otherwise (an anonymous session) the
///   data carries over;
/// - the CSRF secret is replaced, and `last_login` is recorded.
///
/// It does not check `is_active`: [`Auth::authenticate`](crate::Auth::authenticate) does.
pub async fn login<U: AuthUser>(session: &Session, user: &U) -> Result<()> {
    login_loaded(&session.request, Arc::new(user.clone())).await
}

/// [`login`] for a user of any model.
pub(crate) async fn login_loaded(request: &RequestAuth, user: LoadedUser) -> Result<()> {
    let base = user.base();
    let hash = request.shared.session_hash(&base.password);
    let same_user = match request.session_user_id().await? {
        None => None,
        Some(id) => Some(id == base.id.to_string() && request.session_hash_matches(&hash).await?),
    };
    match same_user {
        Some(false) => request.session.flush().await?,
        Some(true) | None => {
            if request.session.id().is_some() {
                request.session.cycle_id().await?;
            }
        }
    }
    request
        .session
        .insert(SESSION_KEY, base.id.to_string())
        .await?;
    request
        .session
        .insert(BACKEND_SESSION_KEY, MODEL_BACKEND)
        .await?;
    request.session.insert(HASH_SESSION_KEY, hash).await?;
    request.rotate_csrf();

    let shared = &request.shared;
    let now = crate::DateTime::now_utc();
    shared
        .with_timeout(shared.ops.update_last_login(&shared.db, base.id, now))
        .await?;
    shared.forget_user(base.id);
    request.set_user(Some(user)).await;
    Ok(())
}

/// Logs out (Django's `logout`): the session's data and its row are
/// deleted and the response removes the cookie. The CSRF secret stays.
pub async fn logout(session: &Session) -> Result<()> {
    logout_request(&session.request).await
}

pub(crate) async fn logout_request(request: &RequestAuth) -> Result<()> {
    request.session.flush().await?;
    request.set_user(None).await;
    Ok(())
}

/// After `user`'s password changed: if this session is theirs, store the
/// new auth hash so it stays logged in (every other session of theirs
/// dies), and change the session id. Django's `update_session_auth_hash`.
pub async fn update_session_auth_hash<U: AuthUser>(session: &Session, user: &U) -> Result<()> {
    update_session_auth_hash_loaded(&session.request, Arc::new(user.clone())).await
}

/// [`update_session_auth_hash`] for a user of any model.
pub(crate) async fn update_session_auth_hash_loaded(
    request: &RequestAuth,
    user: LoadedUser,
) -> Result<()> {
    if request.session.id().is_some() {
        request.session.cycle_id().await?;
    }
    let id = user.base().id.to_string();
    if request.session_user_id().await?.as_deref() == Some(id.as_str()) {
        let hash = request.shared.session_hash(&user.base().password);
        request.session.insert(HASH_SESSION_KEY, hash).await?;
        request.set_user(Some(user)).await;
    }
    Ok(())
}
