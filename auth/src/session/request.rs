//! Per-request authentication state: the session, the lazily loaded user
//! and the CSRF secret. The auth layer puts one in every request's
//! extensions; extractors read it.

use std::{
    any::Any,
    future::Future,
    marker::PhantomData,
    pin::Pin,
    sync::{Arc, Mutex},
};

use axum::response::{IntoResponse, Response};
use http::{StatusCode, request::Parts};
use sea_orm::{DatabaseConnection, DbErr};
use subtle::ConstantTimeEq;

use super::{HASH_SESSION_KEY, SESSION_KEY};
use crate::{
    AbstractUser, AuthUser, Error, Result, Settings, csrf,
    password::{Check, Hasher, validation::Validators},
    redirect,
    secret::SecretKeys,
};

/// A loaded user of some model, behind a type-erased pointer.
pub(crate) trait ErasedUser: Any + Send + Sync {
    fn base(&self) -> &AbstractUser;
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync>;
    /// A copy with another stored password hash.
    fn with_password(&self, hash: String) -> LoadedUser;
    /// The extra fields, as templates see them.
    fn extra_fields(&self) -> Vec<(&'static str, minijinja::Value)>;
}

impl<U: AuthUser> ErasedUser for U {
    fn base(&self) -> &AbstractUser {
        AuthUser::base(self)
    }
    fn as_any(self: Arc<Self>) -> Arc<dyn Any + Send + Sync> {
        self
    }
    fn with_password(&self, hash: String) -> LoadedUser {
        let mut copy = self.clone();
        copy.base_mut().password = hash;
        Arc::new(copy)
    }
    fn extra_fields(&self) -> Vec<(&'static str, minijinja::Value)> {
        self.template_fields()
    }
}

/// A loaded user, shared by every extractor of one request.
pub(crate) type LoadedUser = Arc<dyn ErasedUser>;

pub(crate) trait LoadedUserExt {
    fn downcast<U: AuthUser>(self) -> Option<U>;
}

impl LoadedUserExt for LoadedUser {
    fn downcast<U: AuthUser>(self) -> Option<U> {
        self.as_any().downcast::<U>().ok().map(|u| (*u).clone())
    }
}

type BoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + Send + 'a>>;

/// The queries on one user model, behind a trait object so the layer and
/// the built-in views serve any user model without being generic.
pub(crate) trait UserOps: Send + Sync {
    fn find_by_id<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>>;
    fn find_by_username<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>>;
    fn update_password<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>>;
    fn update_last_login<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        when: crate::DateTime,
    ) -> BoxFuture<'a, Result<(), DbErr>>;
}

pub(crate) struct Ops<U>(PhantomData<fn() -> U>);

impl<U> Ops<U> {
    pub(crate) fn new() -> Self {
        Ops(PhantomData)
    }
}

impl<U: AuthUser> UserOps for Ops<U> {
    fn find_by_id<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>> {
        Box::pin(async move {
            let user = crate::user::find_by_id::<U>(db, id).await?;
            Ok(user.map(|u| Arc::new(u) as LoadedUser))
        })
    }
    fn find_by_username<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        username: &'a str,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>, DbErr>> {
        Box::pin(async move {
            let user = crate::user::find_by_username::<U>(db, username).await?;
            Ok(user.map(|u| Arc::new(u) as LoadedUser))
        })
    }
    fn update_password<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        hash: &'a str,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(crate::user::update_password::<U>(db, id, hash))
    }
    fn update_last_login<'a>(
        &'a self,
        db: &'a DatabaseConnection,
        id: i64,
        when: crate::DateTime,
    ) -> BoxFuture<'a, Result<(), DbErr>> {
        Box::pin(crate::user::update_last_login::<U>(db, id, when))
    }
}

/// What every request of one app shares.
pub(crate) struct Shared {
    pub(crate) db: DatabaseConnection,
    pub(crate) settings: Arc<Settings>,
    pub(crate) secrets: SecretKeys,
    pub(crate) hasher: Hasher,
    pub(crate) validators: Validators,
    pub(crate) templates: crate::templates::Engine,
    pub(crate) ops: Arc<dyn UserOps>,
    /// Users by id, when `settings.cache_ttl` is set.
    pub(crate) users: Option<crate::cache::TtlMap<i64, LoadedUser>>,
    /// The session auth hash's HMAC, keyed once.
    pub(crate) session_mac: crate::secret::SaltedMac,
}

impl Shared {
    /// The session auth hash of a stored password hash.
    pub(crate) fn session_hash(&self, password_hash: &str) -> String {
        self.session_mac.hex(password_hash.as_bytes())
    }

    /// Bounds a database call by `settings.database_timeout`.
    pub(crate) async fn with_timeout<T>(
        &self,
        fut: impl Future<Output = Result<T, DbErr>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.settings.database_timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout),
        }
    }

    /// The user with this id: from the cache when fresh, else the database.
    pub(crate) async fn find_user(&self, id: i64) -> Result<Option<LoadedUser>> {
        if let Some(user) = self.users.as_ref().and_then(|cache| cache.get(&id)) {
            return Ok(Some(user));
        }
        let user = self.with_timeout(self.ops.find_by_id(&self.db, id)).await?;
        if let (Some(cache), Some(user)) = (&self.users, &user) {
            cache.put(id, user.clone());
        }
        Ok(user)
    }

    /// Drops a cached user after a write to its row.
    pub(crate) fn forget_user(&self, id: i64) {
        if let Some(cache) = &self.users {
            cache.remove(&id);
        }
    }

    /// Django's `ModelBackend.authenticate`; see [`Auth::authenticate`](crate::Auth::authenticate).
    pub(crate) async fn authenticate(
        &self,
        username: &str,
        password: &str,
    ) -> Result<Option<LoadedUser>> {
        let username = crate::normalize_username(username);
        let found = self
            .with_timeout(self.ops.find_by_username(&self.db, &username))
            .await?;
        let Some(found) = found else {
            // Equalise timing with the existing-user path: one hash.
            let _ = self.hasher.make_async(password).await;
            return Ok(None);
        };
        let needs_upgrade = match self
            .hasher
            .check_async(password, &found.base().password)
            .await
        {
            Check::Mismatch => return Ok(None),
            Check::Match { needs_upgrade } => needs_upgrade,
        };
        if !found.base().is_active {
            return Ok(None);
        }
        if needs_upgrade {
            return Ok(Some(self.set_password(&found, password).await?));
        }
        Ok(Some(found))
    }

    /// Checks `raw` against the user's stored hash, upgrading an outdated
    /// hash on success; returns the (possibly updated) user on a match.
    pub(crate) async fn check_password(
        &self,
        user: &LoadedUser,
        raw: &str,
    ) -> Result<Option<LoadedUser>> {
        match self.hasher.check_async(raw, &user.base().password).await {
            Check::Mismatch => Ok(None),
            Check::Match {
                needs_upgrade: false,
            } => Ok(Some(user.clone())),
            Check::Match {
                needs_upgrade: true,
            } => Ok(Some(self.set_password(user, raw).await?)),
        }
    }

    /// Hashes and stores a new password; returns the updated user.
    pub(crate) async fn set_password(&self, user: &LoadedUser, raw: &str) -> Result<LoadedUser> {
        let hash = self.hasher.make_async(raw).await;
        let id = user.base().id;
        let updated = self
            .with_timeout(self.ops.update_password(&self.db, id, &hash))
            .await;
        self.forget_user(id);
        updated?;
        Ok(user.with_password(hash))
    }
}

/// CSRF state of one request.
#[derive(Default)]
struct CsrfState {
    /// The secret in effect: from the cookie, or newly made.
    secret: Option<String>,
    /// Whether the response must (re)set the cookie.
    send_cookie: bool,
}

/// The authentication state of one request.
pub(crate) struct RequestAuth {
    pub(crate) shared: Arc<Shared>,
    pub(crate) session: tower_sessions::Session,
    /// `None` until resolved; then the user, or `None` for anonymous.
    user: tokio::sync::Mutex<Option<Option<LoadedUser>>>,
    csrf: Mutex<CsrfState>,
    /// The `Host` of the request, for `next` URLs and origin checks.
    pub(crate) host: Option<String>,
    /// The request's scheme, when known (see `SECURE_PROXY_SSL_HEADER`).
    pub(crate) scheme: Option<&'static str>,
    pub(crate) uri: http::Uri,
}

impl RequestAuth {
    pub(crate) fn new(
        shared: Arc<Shared>,
        session: tower_sessions::Session,
        csrf_cookie: Option<String>,
        host: Option<String>,
        scheme: Option<&'static str>,
        uri: http::Uri,
    ) -> Self {
        let secret = csrf_cookie.filter(|s| csrf::is_valid_secret(s));
        RequestAuth {
            shared,
            session,
            user: tokio::sync::Mutex::new(None),
            csrf: Mutex::new(CsrfState {
                secret,
                send_cookie: false,
            }),
            host,
            scheme,
            uri,
        }
    }

    /// The state the auth layer stored in the request, or a 500 that says
    /// the layer is missing.
    #[allow(clippy::result_large_err, reason = "axum rejections are responses")]
    pub(crate) fn from_parts(parts: &Parts) -> Result<Arc<Self>, Response> {
        parts.extensions.get::<Arc<RequestAuth>>().cloned().ok_or_else(|| {
            tracing::error!("auth extractor used without the auth layer: add `.layer(auth.layer())` to the router");
            Error::Config("the auth layer is not installed".into()).into_response()
        })
    }

    /// The logged-in user, loaded and verified once per request.
    pub(crate) async fn user(&self) -> Result<Option<LoadedUser>> {
        let mut slot = self.user.lock().await;
        if let Some(resolved) = &*slot {
            return Ok(resolved.clone());
        }
        let resolved = self.resolve_user().await?;
        *slot = Some(resolved.clone());
        Ok(resolved)
    }

    /// Whether the user has been looked at during this request (so the
    /// response depends on the cookie).
    pub(crate) fn user_state(&self) -> Option<bool> {
        match self.user.try_lock() {
            Ok(slot) => slot.as_ref().map(|u| u.is_some()),
            Err(_) => Some(false),
        }
    }

    pub(crate) async fn set_user(&self, user: Option<LoadedUser>) {
        *self.user.lock().await = Some(user);
    }

    /// Django's `get_user`: the id from the session, the user from the
    /// database, active, with a matching session auth hash.
    async fn resolve_user(&self) -> Result<Option<LoadedUser>> {
        let Some(id) = self.session_user_id().await? else {
            return Ok(None);
        };
        let Ok(id) = id.parse::<i64>() else {
            return Ok(None);
        };
        let shared = &self.shared;
        let Some(user) = shared.find_user(id).await? else {
            return Ok(None);
        };
        if !user.base().is_active {
            return Ok(None);
        }
        let stored = self.session_string(HASH_SESSION_KEY).await?;
        let verdict = stored.and_then(|stored| {
            shared
                .session_mac
                .verify(user.base().password.as_bytes(), &stored)
        });
        match verdict {
            Some(true) => Ok(Some(user)),
            Some(false) => {
                // Made under a fallback key: move the session to the current key.
                self.session.cycle_id().await?;
                let hash = shared.session_hash(&user.base().password);
                self.session.insert(HASH_SESSION_KEY, hash).await?;
                Ok(Some(user))
            }
            None => {
                tracing::info!(
                    user_id = id,
                    "session auth hash mismatch; flushing the session"
                );
                self.session.flush().await?;
                Ok(None)
            }
        }
    }

    /// The user id stored in the session, if it is a string.
    pub(crate) async fn session_user_id(&self) -> Result<Option<String>> {
        self.session_string(SESSION_KEY).await
    }

    /// Whether the session's stored auth hash equals `hash` (constant time).
    pub(crate) async fn session_hash_matches(&self, hash: &str) -> Result<bool> {
        Ok(self
            .session_string(HASH_SESSION_KEY)
            .await?
            .is_some_and(|stored| bool::from(stored.as_bytes().ct_eq(hash.as_bytes()))))
    }

    async fn session_string(&self, key: &str) -> Result<Option<String>> {
        Ok(match self.session.get_value(key).await? {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        })
    }

    /// A masked token; creates the secret (and its cookie) if needed.
    pub(crate) fn csrf_token(&self) -> String {
        let mut state = self.csrf.lock().unwrap_or_else(|p| p.into_inner());
        let secret = match &state.secret {
            Some(secret) => secret.clone(),
            None => {
                let secret = csrf::new_secret();
                state.secret = Some(secret.clone());
                state.send_cookie = true;
                secret
            }
        };
        csrf::mask(&secret)
    }

    /// Replaces the secret (at login).
    pub(crate) fn rotate_csrf(&self) {
        let mut state = self.csrf.lock().unwrap_or_else(|p| p.into_inner());
        state.secret = Some(csrf::new_secret());
        state.send_cookie = true;
    }

    /// The secret to set in a cookie on the response, if it changed.
    pub(crate) fn csrf_cookie_to_send(&self) -> Option<String> {
        let state = self.csrf.lock().unwrap_or_else(|p| p.into_inner());
        state.send_cookie.then(|| state.secret.clone()).flatten()
    }

    /// The secret from the request's cookie (before any rotation).
    pub(crate) fn csrf_secret(&self) -> Option<String> {
        self.csrf
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .secret
            .clone()
    }

    /// The hosts a `next` URL may point to: this request's host.
    fn allowed_hosts(&self) -> Vec<&str> {
        self.host.iter().map(String::as_str).collect()
    }

    /// Whether the request is known to have come over HTTPS.
    pub(crate) fn secure(&self) -> bool {
        self.scheme == Some("https")
    }

    /// Whether `url` is a safe redirect target for this request.
    pub(crate) fn is_safe_redirect(&self, url: &str) -> bool {
        redirect::url_has_allowed_host_and_scheme(url, &self.allowed_hosts(), self.secure())
    }

    /// 303 to the login page with this request as `next`.
    pub(crate) fn login_redirect(
        &self,
        login_url: Option<&str>,
        redirect_field: Option<&str>,
    ) -> Response {
        let login_url = login_url.unwrap_or(&self.shared.settings.login_url);
        let next =
            redirect::next_for_request(&self.uri, self.host.as_deref(), self.secure(), login_url);
        let location = redirect::redirect_to_login(&next, login_url, redirect_field);
        see_other(&location)
    }
}

/// A `303 See Other` to `location`.
pub(crate) fn see_other(location: &str) -> Response {
    match http::HeaderValue::try_from(location) {
        Ok(value) => (StatusCode::SEE_OTHER, [(http::header::LOCATION, value)]).into_response(),
        Err(_) => Error::Internal(format!(
            "redirect target is not a valid header value: {location:?}"
        ))
        .into_response(),
    }
}
