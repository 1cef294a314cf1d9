//! Sessions (Django's `contrib.sessions`) and logging in and out on them
//! (Django's `login`, `logout`, `update_session_auth_hash`), made stricter
//! than Django where Django is weak.
//!
//! The session holds the user's id, the name of the backend that logged
//! them in, and a *session auth hash*: an HMAC of the stored password hash
//! under the secret key. Every request that asks for the user re-computes
//! it and compares in constant time, so changing the password (or rotating
//! the secret without a fallback) ends every other session of that user.
//!
//! Where sessions live: [`db`] (the app's database, Django's `db` engine),
//! `redis` (Django's `cache` engine), or a store the app gives; all behind
//! [`store::DynStore`].

pub(crate) mod cache;
pub(crate) mod cached;
pub(crate) mod coherence;
pub(crate) mod db;
pub(crate) mod fault;
pub(crate) mod keys;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod request;
pub(crate) mod store;

use std::sync::Arc;

use axum::extract::FromRequestParts;
use http::request::Parts;

use crate::{
    AuthUser, Result,
    session::request::RequestAuth,
    user::{LoadedUser, downcast},
};
use keys::{BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY};

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
        self.request.csrf_token()
    }

    /// Whether `url` is a safe redirect target for this request: relative,
    /// or on this request's host (see
    /// [`url_has_allowed_host_and_scheme`](crate::http::redirect::url_has_allowed_host_and_scheme)).
    pub fn is_safe_redirect(&self, url: &str) -> bool {
        self.request.is_safe_redirect(url)
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
/// The session remembers the [`Backend`](crate::Backend) that accepted
/// the user in [`Auth::authenticate`](crate::Auth::authenticate) during this
/// request, else the first configured one (the model backend by default).
///
/// It does not check `is_active`: [`Auth::authenticate`](crate::Auth::authenticate) does.
pub async fn login<U: AuthUser>(session: &Session, user: &U) -> Result<()> {
    let request = &session.request;
    let backend = request
        .authenticated_by(user.id)
        .unwrap_or_else(|| request.core.model.first_backend());
    login_loaded(&session.request, Arc::new(user.clone()), backend).await
}

/// [`login`] for a user of any model, remembering `backend`.
pub(crate) async fn login_loaded(
    request: &RequestAuth,
    user: LoadedUser,
    backend: &'static str,
) -> Result<()> {
    let base = user.base();
    let hash = request.core.session_hash(&base.password);
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
    request.session.insert(BACKEND_SESSION_KEY, backend).await?;
    request.session.insert(HASH_SESSION_KEY, hash).await?;
    request.rotate_csrf();

    request
        .core
        .touch_last_login(base.id, crate::DateTime::now_utc())
        .await?;
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
        let hash = request.core.session_hash(&user.base().password);
        request.session.insert(HASH_SESSION_KEY, hash).await?;
        request.set_user(Some(user)).await;
    }
    Ok(())
}
