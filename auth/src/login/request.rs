//! The authentication state of one request (Django's `request.user`,
//! `request.session` and the CSRF state): the auth layer makes one per
//! request and puts it in the request's extensions; the [`Session`]
//! handle, the extractors and the views read it. Also [`CurrentUser`], the
//! extractor for `request.user`.
//!
//! [`Session`]: crate::Session

use std::sync::{
    Arc, Mutex,
    atomic::{AtomicBool, Ordering},
};

use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::request::Parts;

use crate::{
    apps::Shared,
    csrf::state::CsrfState,
    events::{EndedBy, Event, EventKind},
    http::origin::Origin,
    http::redirect,
    kernel::crypto::constant_time_eq,
    kernel::error::{Error, Result},
    permissions::UserPermissions,
    settings::secret::KeyMatch,
    user::erased::{LoadedUser, downcast},
    user::{AbstractUser, AuthUser},
};

use super::{
    lifetime::{self, Verdict},
    registry::handle_prefix,
};
use crate::session::{
    cached_session::CachedSession,
    keys::{BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY},
    metadata::{
        EXPIRED_KEY, METADATA_KEY, NOTICE_KEY, SessionMetadata, Times, USER_AGENT_MAX_BYTES,
        truncate, unix,
    },
};

/// What a session says about its user (Django's `_auth_user_id`,
/// `_auth_user_backend`, `_auth_user_hash`): read in place from the
/// cached record when there is one (no copy of its strings on every
/// logged-in request), else copied out of the loaded session.
enum AuthKeys {
    Cached(Arc<CachedSession>),
    Loaded {
        user_id: String,
        backend: Option<String>,
        hash: Option<String>,
        /// The session's times (`None` for a session logged in before
        /// the registry, or by hand).
        times: Option<Times>,
    },
}

impl AuthKeys {
    fn user_id(&self) -> &str {
        match self {
            // Only made from a record with a user id.
            AuthKeys::Cached(cached) => cached.user_id().unwrap_or_default(),
            AuthKeys::Loaded { user_id, .. } => user_id,
        }
    }

    fn backend(&self) -> Option<&str> {
        match self {
            AuthKeys::Cached(cached) => cached.backend(),
            AuthKeys::Loaded { backend, .. } => backend.as_deref(),
        }
    }

    fn hash(&self) -> Option<&str> {
        match self {
            AuthKeys::Cached(cached) => cached.hash(),
            AuthKeys::Loaded { hash, .. } => hash.as_deref(),
        }
    }

    fn times(&self) -> Option<Times> {
        match self {
            AuthKeys::Cached(cached) => cached.times(),
            AuthKeys::Loaded { times, .. } => *times,
        }
    }
}

/// What a request has learnt about its user.
struct Resolved {
    /// `None` until resolved; then the user, or `None` for anonymous.
    user: Option<Option<LoadedUser>>,
    /// The user's permissions, loaded on first use.
    permissions: Option<Arc<UserPermissions>>,
}

impl Resolved {
    /// Whether the resolved user is `user` (the same loaded value).
    fn is_user(&self, user: Option<&LoadedUser>) -> bool {
        match (&self.user, user) {
            (Some(None), None) => true,
            (Some(Some(current)), Some(user)) => Arc::ptr_eq(current, user),
            _ => false,
        }
    }
}

/// The authentication state of one request.
pub(crate) struct RequestAuth {
    pub(crate) shared: Arc<Shared>,
    pub(crate) session: tower_sessions::Session,
    /// The user and permissions once known: read without waiting.
    resolved: Mutex<Resolved>,
    /// Held while the user or the permissions load (and by a login or
    /// logout that replaces them), so that one request loads each once.
    loading: tokio::sync::Mutex<()>,
    /// Whether anything asked for the user (so the response depends on
    /// the cookie).
    looked_at: AtomicBool,
    pub(crate) csrf: CsrfState,
    /// The user id and backend of the last successful `authenticate` in
    /// this request (Django tags the user with `user.backend`), which
    /// `login` records in the session.
    authenticated_by: Mutex<Option<(i64, &'static str)>>,
    /// Whether a login in this request outlives the browser session
    /// ("remember me"), when something said.
    remember: Mutex<Option<bool>>,
    /// The user whose second step (the second factor, or setting one
    /// up) passed in this request: only their login may complete.
    second_step: Mutex<Option<i64>>,
    /// A device cookie for the response, after a successful login.
    device_cookie: std::sync::OnceLock<String>,
    pub(crate) origin: Origin,
}

impl RequestAuth {
    pub(crate) fn new(
        shared: Arc<Shared>,
        session: tower_sessions::Session,
        csrf: CsrfState,
        origin: Origin,
    ) -> Self {
        // Without a session there is no one to load: anonymous from the
        // start, and no lock is ever taken for the user.
        let user = session.id().is_none().then_some(None);
        RequestAuth {
            shared,
            session,
            resolved: Mutex::new(Resolved {
                user,
                permissions: None,
            }),
            loading: tokio::sync::Mutex::new(()),
            looked_at: AtomicBool::new(false),
            csrf,
            authenticated_by: Mutex::new(None),
            remember: Mutex::new(None),
            second_step: Mutex::new(None),
            device_cookie: std::sync::OnceLock::new(),
            origin,
        }
    }

    /// The state the auth layer stored in the request, or a 500 that says
    /// the layer is missing.
    #[allow(clippy::result_large_err, reason = "axum rejections are responses")]
    pub(crate) fn from_parts(parts: &Parts) -> Result<Arc<Self>, Response> {
        Self::from_extensions(&parts.extensions)
    }

    /// As [`RequestAuth::from_parts`], from a request's extensions.
    #[allow(clippy::result_large_err, reason = "axum rejections are responses")]
    pub(crate) fn from_extensions(extensions: &http::Extensions) -> Result<Arc<Self>, Response> {
        extensions
            .get::<Arc<RequestAuth>>()
            .cloned()
            .ok_or_else(|| {
                let missing = "the auth layer does not cover this route: call \
                    `.layer(auth.layer())` last, after every `.route(..)`, `.merge(..)` and \
                    `.nest(..)` it must cover (axum applies a layer only to the routes added \
                    before it)";
                tracing::error!("{missing}");
                Error::Config(missing.into()).into_response()
            })
    }

    /// The logged-in user, loaded and verified once per request.
    pub(crate) async fn user(&self) -> Result<Option<LoadedUser>> {
        self.looked_at.store(true, Ordering::Relaxed);
        if let Some(user) = self.lock_resolved().user.clone() {
            return Ok(user);
        }
        let _loading = self.loading.lock().await;
        if let Some(user) = self.lock_resolved().user.clone() {
            return Ok(user);
        }
        let user = self.resolve_user().await?;
        self.lock_resolved().user = Some(user.clone());
        Ok(user)
    }

    /// Whether the user has been looked at during this request (so the
    /// response depends on the cookie): `Some(authenticated)`.
    pub(crate) fn user_state(&self) -> Option<bool> {
        if !self.looked_at.load(Ordering::Relaxed) {
            return None;
        }
        Some(matches!(self.lock_resolved().user, Some(Some(_))))
    }

    /// Sets the user for the rest of the request (after login or logout).
    pub(crate) async fn set_user(&self, user: Option<LoadedUser>) {
        // After any load in flight, which would otherwise store the user
        // this replaces.
        let _loading = self.loading.lock().await;
        *self.lock_resolved() = Resolved {
            user: Some(user),
            permissions: None,
        };
    }

    /// The user's permissions, loaded once per request (one query) on
    /// first use; none for an anonymous user.
    pub(crate) async fn permissions(&self) -> Result<Arc<UserPermissions>> {
        if let Some(loaded) = self.lock_resolved().permissions.clone() {
            return Ok(loaded);
        }
        let user = self.user().await?;
        let loaded = match &user {
            None => UserPermissions::anonymous(),
            Some(loaded_user) => {
                let _loading = self.loading.lock().await;
                if let Some(loaded) = self.lock_resolved().permissions.clone() {
                    return Ok(loaded);
                }
                let shared = &self.shared;
                Arc::new(shared.backends.permissions(shared, loaded_user).await?)
            }
        };
        let mut resolved = self.lock_resolved();
        // Kept only if no login or logout replaced the user meanwhile.
        if resolved.is_user(user.as_ref()) {
            resolved.permissions = Some(loaded.clone());
        }
        Ok(loaded)
    }

    fn lock_resolved(&self) -> std::sync::MutexGuard<'_, Resolved> {
        self.resolved
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    /// Django's `get_user`: the id and backend from the session, the user
    /// from that backend, with a matching session auth hash.
    async fn resolve_user(&self) -> Result<Option<LoadedUser>> {
        let Some(keys) = self.auth_keys().await? else {
            return Ok(None);
        };
        let now = unix(self.shared.clock.now());
        let verdict = keys
            .times()
            .map(|times| lifetime::verdict(&self.shared.sessions.lifetime, times, now));
        if verdict == Some(Verdict::Expired) {
            tracing::info!("session past its idle or absolute timeout; ending it");
            self.ended(keys.user_id(), EndedBy::Timeout);
            self.session.flush().await?;
            // The fresh session carries the login page's notice.
            self.session.insert(EXPIRED_KEY, true).await?;
            return Ok(None);
        }
        let Ok(id) = keys.user_id().parse::<i64>() else {
            return Ok(None);
        };
        let Some(backend) = keys.backend() else {
            return Ok(None);
        };
        let shared = &self.shared;
        let Some(user) = shared.backends.get_user(shared, backend, id).await? else {
            return Ok(None);
        };
        let hashes = &shared.sessions.auth_hash;
        let matched = keys.hash().map_or(KeyMatch::NoMatch, |stored| {
            hashes.verify(&user.base().password, stored)
        });
        match matched {
            KeyMatch::Current | KeyMatch::Fallback => {
                if matched == KeyMatch::Fallback {
                    // Made under a fallback key: move the session to the
                    // current key.
                    self.session.cycle_id().await?;
                    let hash = hashes.of(&user.base().password);
                    self.session.insert(HASH_SESSION_KEY, hash).await?;
                }
                if verdict != Some(Verdict::Fresh) {
                    self.touch(now, backend).await?;
                }
                Ok(Some(user))
            }
            KeyMatch::NoMatch => {
                tracing::info!(
                    user_id = id,
                    "session auth hash mismatch; flushing the session"
                );
                self.ended(keys.user_id(), EndedBy::PasswordChange);
                self.session.flush().await?;
                Ok(None)
            }
        }
    }

    /// Reports that this request's session of user `user_id` ends.
    fn ended(&self, user_id: &str, by: EndedBy) {
        let mut event = self.event(EventKind::SessionEnded);
        event.user_id = user_id.parse().ok();
        event.session = self
            .session
            .id()
            .map(|id| handle_prefix(&id))
            .unwrap_or_default();
        event.ended_by = Some(by);
        self.shared.events.emit(event);
    }

    /// Records that the session was seen at `now` (at most once per
    /// activity resolution); a session logged in before the registry
    /// starts its metadata here, conservatively: its user never proved
    /// who they are on it (a re-authentication is due), and it began a
    /// whole session lifetime (`session_cookie_age`) ago, the longest it
    /// can have lived since its last write (the absolute timeout counts
    /// from then).
    async fn touch(&self, now: i64, backend: &str) -> Result<()> {
        let metadata = match self.metadata().await? {
            Some(metadata) => SessionMetadata {
                seen: now,
                ..metadata
            },
            None => {
                // The oldest it can be: a session lives a cookie age
                // past its last write.
                let age = self.shared.settings.session_cookie_age;
                let created = now.saturating_sub(i64::try_from(age).unwrap_or(i64::MAX));
                SessionMetadata {
                    created,
                    authed: 0,
                    method: backend.to_owned(),
                    ..self.new_metadata(now)
                }
            }
        };
        self.session.insert(METADATA_KEY, metadata).await?;
        Ok(())
    }

    /// The session's metadata, if it has any.
    pub(crate) async fn metadata(&self) -> Result<Option<SessionMetadata>> {
        Ok(self
            .session
            .get_value(METADATA_KEY)
            .await?
            .and_then(|value| serde_json::from_value(value).ok()))
    }

    /// An event of `kind` from this request's client, now.
    pub(crate) fn event(&self, kind: EventKind) -> Event {
        let mut event = Event::new(kind, self.shared.clock.now());
        event.client_ip = self.origin.client_ip;
        event.user_agent = self.user_agent().to_owned();
        event
    }

    /// The client's `User-Agent` (on an unsafe request), at most 512 bytes.
    pub(crate) fn user_agent(&self) -> &str {
        let agent = self
            .origin
            .user_agent
            .as_ref()
            .and_then(|value| value.to_str().ok())
            .unwrap_or("");
        truncate(agent, USER_AGENT_MAX_BYTES)
    }

    /// Metadata for a login at `now` from this request's client.
    pub(crate) fn new_metadata(&self, now: i64) -> SessionMetadata {
        SessionMetadata {
            created: now,
            seen: now,
            authed: now,
            ip: self.origin.client_ip.map(|ip| ip.to_string()),
            agent: self.user_agent().to_owned(),
            method: String::new(),
            browser: false,
        }
    }

    /// When the logged-in user last proved who they are on this session
    /// (a login or a re-authentication), Unix seconds; `None` when
    /// anonymous.
    pub(crate) async fn authenticated_at(&self) -> Result<Option<i64>> {
        if self.user().await?.is_none() {
            return Ok(None);
        }
        Ok(Some(self.metadata().await?.map_or(0, |m| m.authed)))
    }

    /// Records a re-authentication now, under a new session id (OWASP
    /// ASVS 7.2.4: a new token on every authentication).
    pub(crate) async fn reauthenticated(&self) -> Result<()> {
        if self.session.id().is_some() {
            self.session.cycle_id().await?;
        }
        let now = unix(self.shared.clock.now());
        let mut metadata = self
            .metadata()
            .await?
            .unwrap_or_else(|| self.new_metadata(now));
        metadata.authed = now;
        metadata.seen = now;
        self.session.insert(METADATA_KEY, metadata).await?;
        Ok(())
    }

    /// Takes the "your session has expired" notice, if this session
    /// carries it (shown once).
    pub(crate) async fn take_expired_notice(&self) -> Result<bool> {
        if self.session.id().is_none() {
            return Ok(false);
        }
        let expired = self.session.remove_value(EXPIRED_KEY).await?.is_some();
        if expired && self.session.is_empty().await {
            self.session.flush().await?;
        }
        Ok(expired)
    }

    /// Takes the login page's notice, if this session carries one (shown
    /// once).
    pub(crate) async fn take_login_notice(&self) -> Result<Option<String>> {
        if self.session.id().is_none() {
            return Ok(None);
        }
        let notice = self.session.remove_value(NOTICE_KEY).await?;
        if notice.is_some() && self.session.is_empty().await {
            self.session.flush().await?;
        }
        Ok(notice.and_then(|value| value.as_str().map(str::to_owned)))
    }

    /// The user's keys in the session; `None` without a user id.
    ///
    /// While this request has not changed its session, and the cache
    /// holds it, they are read from the cached record itself (not a copy)
    /// and the session is not loaded: a handler that never reads it costs
    /// nothing more. Otherwise the session is loaded (and the cache filled)
    /// as any read of it would.
    async fn auth_keys(&self) -> Result<Option<AuthKeys>> {
        if !self.session.is_modified() {
            let Some(session_id) = self.session.id() else {
                // No cookie named a session: anonymous, without making the
                // empty record a read of the session would.
                return Ok(None);
            };
            if let Some(cached) = self.shared.sessions.store.peek(&session_id) {
                return Ok(cached
                    .user_id()
                    .is_some()
                    .then_some(AuthKeys::Cached(cached)));
            }
        }
        let Some(user_id) = self.session_string(SESSION_KEY).await? else {
            return Ok(None);
        };
        Ok(Some(AuthKeys::Loaded {
            user_id,
            backend: self.session_string(BACKEND_SESSION_KEY).await?,
            hash: self.session_string(HASH_SESSION_KEY).await?,
            times: self
                .session
                .get_value(METADATA_KEY)
                .await?
                .as_ref()
                .and_then(Times::of),
        }))
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
            .is_some_and(|stored| constant_time_eq(stored.as_bytes(), hash.as_bytes())))
    }

    async fn session_string(&self, key: &str) -> Result<Option<String>> {
        Ok(match self.session.get_value(key).await? {
            Some(serde_json::Value::String(s)) => Some(s),
            _ => None,
        })
    }

    /// Notes which backend accepted user `id` in this request.
    pub(crate) fn set_authenticated_by(&self, id: i64, backend: &'static str) {
        *self
            .authenticated_by
            .lock()
            .unwrap_or_else(|p| p.into_inner()) = Some((id, backend));
    }

    /// The backend that accepted user `id` in this request, if one did.
    pub(crate) fn authenticated_by(&self, id: i64) -> Option<&'static str> {
        let slot = self
            .authenticated_by
            .lock()
            .unwrap_or_else(|p| p.into_inner());
        slot.filter(|(user, _)| *user == id)
            .map(|(_, backend)| backend)
    }

    /// Notes that user `id` passed the second step of their login in this
    /// request (a second factor, a passkey that verified the user, or a
    /// first factor set up): their [`login`](crate::login) may complete.
    #[cfg_attr(not(feature = "mfa"), allow(dead_code))]
    pub(crate) fn set_second_step_passed(&self, id: i64) {
        *self.second_step.lock().unwrap_or_else(|p| p.into_inner()) = Some(id);
    }

    /// Whether user `id` passed the second step of a login in this
    /// request.
    pub(crate) fn second_step_passed(&self, id: i64) -> bool {
        *self.second_step.lock().unwrap_or_else(|p| p.into_inner()) == Some(id)
    }

    /// Sets the login throttle's device cookie on the response (the first
    /// one a request makes).
    pub(crate) fn set_device_cookie(&self, value: String) {
        let _ = self.device_cookie.set(value);
    }

    /// The device cookie to set on the response, if any.
    pub(crate) fn device_cookie(&self) -> Option<&str> {
        self.device_cookie.get().map(String::as_str)
    }

    /// Notes whether a login in this request outlives the browser.
    pub(crate) fn set_remember(&self, remember: bool) {
        *self.remember.lock().unwrap_or_else(|p| p.into_inner()) = Some(remember);
    }

    /// Whether a login in this request outlives the browser, if said.
    pub(crate) fn remember(&self) -> Option<bool> {
        *self.remember.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// Whether the request is known to have come over HTTPS.
    pub(crate) fn secure(&self) -> bool {
        self.origin.secure()
    }

    /// Whether `url` is a safe redirect target for this request: relative,
    /// or on this request's host.
    pub(crate) fn is_safe_redirect(&self, url: &str) -> bool {
        let hosts: Vec<&str> = self.origin.host.iter().map(String::as_str).collect();
        redirect::url_has_allowed_host_and_scheme(url, &hosts, self.secure())
    }

    /// 303 to the login page (`login_url`, else the app's login URL) with
    /// this request as `redirect_field`.
    pub(crate) fn login_redirect(
        &self,
        login_url: Option<&str>,
        redirect_field: Option<&str>,
    ) -> Response {
        let login_url = login_url.unwrap_or_else(|| self.shared.login_url());
        let next = redirect::next_for_request(
            &self.origin.uri,
            self.origin.host.as_deref(),
            self.secure(),
            login_url,
        );
        let location = redirect::redirect_to_login(&next, login_url, redirect_field);
        crate::events::trace::decision("login_required", "redirect", self.origin.uri.path());
        redirect::see_other(&location)
    }
}

/// The current user, or anonymous (Django's `request.user`). An
/// extractor: `async fn home(user: CurrentUser<User>)`.
#[derive(Clone, Debug)]
pub struct CurrentUser<U>(pub Option<U>);

impl<U> CurrentUser<U> {
    /// The user, if logged in.
    pub fn get(&self) -> Option<&U> {
        self.0.as_ref()
    }

    /// The user, if logged in.
    pub fn into_inner(self) -> Option<U> {
        self.0
    }

    /// Whether a user is logged in.
    pub fn is_authenticated(&self) -> bool {
        self.0.is_some()
    }
}

impl<U: AuthUser> CurrentUser<U> {
    /// The base fields, or an anonymous user's (empty username, every flag
    /// false).
    pub fn base(&self) -> std::borrow::Cow<'_, AbstractUser> {
        match &self.0 {
            Some(user) => std::borrow::Cow::Borrowed(AuthUser::base(user)),
            None => std::borrow::Cow::Owned(crate::user::anonymous()),
        }
    }
}

impl<S: Send + Sync, U: AuthUser> FromRequestParts<S> for CurrentUser<U> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        let user = request.user().await.map_err(IntoResponse::into_response)?;
        Ok(CurrentUser(user.and_then(downcast::<U>)))
    }
}

/// The current user's permissions, loaded once per request (Django's
/// `request.user.has_perm`, `get_all_permissions`). An extractor:
/// `async fn report(perms: UserPermissions)`.
impl<S: Send + Sync> FromRequestParts<S> for UserPermissions {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        let perms = request
            .permissions()
            .await
            .map_err(IntoResponse::into_response)?;
        Ok(UserPermissions::clone(&perms))
    }
}
