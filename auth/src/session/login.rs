//! Logging in and out (Django's `contrib.auth` functions, which take the
//! request): [`authenticate`], [`login`], [`logout`] and
//! [`update_session_auth_hash`], each one path that custom views and the
//! built-in views take alike. The built-in views serve any user model: they
//! reach these functions, monomorphised for the app's model, through
//! `Operations` ([`OperationsFor`] below).

use std::sync::Arc;

use super::{
    Session,
    keys::{BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY},
    lifetime,
    metadata::{METADATA_KEY, SessionMetadata, unix},
    registry::end_records,
};
use crate::{
    AuthUser, DateTime, Error, MaxSessionsPolicy, Result,
    app::{future::BoxFuture, shared::Operations},
    events::{EndedBy, EventKind},
    user::erased::{LoadedUser, downcast},
};

/// Checks credentials with each authentication backend in turn (Django's
/// `authenticate(request, username=…, password=…)`): the first user a
/// backend accepts, remembered with its backend for [`login`].
///
/// With the model backend, the username is stripped and NFKC-normalised,
/// then matched exactly (case-sensitive). Unknown users, wrong passwords
/// and inactive users all give `None`, and each of those costs one
/// password hash so timing does not reveal which. A successful check
/// against an outdated hash stores a fresh one. Every attempt counts
/// against the login throttle (the username and the client's address)
/// before any password is checked: past a limit it is
/// [`Error::Throttled`](crate::Error::Throttled).
pub async fn authenticate<U: AuthUser>(
    session: &Session,
    username: &str,
    password: &str,
) -> Result<Option<U>> {
    let request = &session.request;
    let client = request.origin.client_ip;
    let found = request
        .shared
        .authenticate(client, request.user_agent(), username, password)
        .await?;
    Ok(found.and_then(|(user, backend)| {
        request.set_authenticated_by(user.base().id, backend);
        downcast::<U>(user)
    }))
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
/// the user in [`authenticate`] during this request, else the first
/// configured one (the model backend by default).
///
/// The session records when and from where it logged in (see
/// [`sessions`](crate::sessions)); with `AUTH_SESSION_REMEMBER` it gets a
/// browser-session cookie unless "remember me" was ticked
/// ([`Session::set_remember`]); with `AUTH_SESSION_MAX_PER_USER` the
/// user's least recently active sessions end to make room, or, with
/// `AUTH_SESSION_MAX_POLICY=refuse`, the login fails with
/// [`Error::TooManySessions`](crate::Error::TooManySessions).
///
/// It does not check `is_active`: [`authenticate`] does.
pub async fn login<U: AuthUser>(session: &Session, user: &U) -> Result<()> {
    let request = &session.request;
    let shared = &request.shared;
    let backend = request
        .authenticated_by(user.id)
        .unwrap_or_else(|| shared.backends.first());
    let settings = &shared.settings;
    if let Some((max, policy)) = lifetime::cap(settings) {
        let current = request.session.id();
        let others: Vec<_> = shared
            .sessions
            .store
            .sessions_of(user.id)
            .await?
            .into_iter()
            .filter(|record| Some(record.id) != current)
            .collect();
        let excess = lifetime::over_cap(others, max);
        if !excess.is_empty() {
            if policy == MaxSessionsPolicy::Refuse {
                return Err(Error::TooManySessions);
            }
            end_records(shared, &excess, EndedBy::SessionLimit).await?;
        }
    }
    let hash = shared.sessions.auth_hash.of(&user.password);
    let same_user = match request.session_user_id().await? {
        None => None,
        Some(id) => Some(id == user.id.to_string() && request.session_hash_matches(&hash).await?),
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
        .insert(SESSION_KEY, user.id.to_string())
        .await?;
    request.session.insert(BACKEND_SESSION_KEY, backend).await?;
    request.session.insert(HASH_SESSION_KEY, hash).await?;
    let browser = lifetime::browser_session(settings, request.remember());
    let metadata = SessionMetadata {
        method: backend.to_owned(),
        browser,
        ..request.new_metadata(unix(shared.clock.now()))
    };
    request.session.insert(METADATA_KEY, metadata).await?;
    request.csrf.rotate();

    let now = DateTime::now_utc();
    shared.users.set_last_login(user.id, now).await?;
    let mut event = request
        .event(EventKind::UserLoggedIn)
        .user(user.id, &user.username);
    event.backend = backend.to_owned();
    crate::events::notify::emit(shared, event);
    let mut logged_in = user.clone();
    logged_in.base_mut().last_login = Some(now);
    request.set_user(Some(Arc::new(logged_in))).await;
    Ok(())
}

/// Logs out (Django's `logout`): the session's data and its row are
/// deleted and the response removes the cookie. The CSRF secret stays.
pub async fn logout(session: &Session) -> Result<()> {
    let request = &session.request;
    let user = request.user().await?;
    request.session.flush().await?;
    let event = request.event(EventKind::UserLoggedOut);
    request.shared.events.emit(match &user {
        Some(user) => event.user(user.base().id, &user.base().username),
        None => event,
    });
    request.set_user(None).await;
    Ok(())
}

/// After `user`'s password changed: if this session is theirs, store the
/// new auth hash so it stays logged in (every other session of theirs
/// dies), and change the session id. Django's `update_session_auth_hash`.
pub async fn update_session_auth_hash<U: AuthUser>(session: &Session, user: &U) -> Result<()> {
    let request = &session.request;
    if request.session.id().is_some() {
        request.session.cycle_id().await?;
    }
    if request.session_user_id().await?.as_deref() == Some(user.id.to_string().as_str()) {
        let hash = request.shared.sessions.auth_hash.of(&user.password);
        request.session.insert(HASH_SESSION_KEY, hash).await?;
        request.set_user(Some(Arc::new(user.clone()))).await;
    }
    Ok(())
}

/// `user` as the app's model: always, for users this app loaded; an
/// error rather than a silent no-op if that ever breaks.
fn typed<U: AuthUser>(user: &LoadedUser) -> Result<&U> {
    user.as_any_ref().downcast_ref::<U>().ok_or_else(|| {
        crate::Error::Config("a user of another model reached this app's login".into())
    })
}

/// [`Operations`] for model `U`.
pub(crate) struct OperationsFor<U>(std::marker::PhantomData<fn() -> U>);

impl<U> OperationsFor<U> {
    pub(crate) fn new() -> Self {
        OperationsFor(std::marker::PhantomData)
    }
}

impl<U: AuthUser> Operations for OperationsFor<U> {
    fn authenticate<'a>(
        &'a self,
        session: &'a Session,
        username: &'a str,
        password: &'a str,
    ) -> BoxFuture<'a, Result<Option<LoadedUser>>> {
        Box::pin(async move {
            let user = authenticate::<U>(session, username, password).await?;
            Ok(user.map(|user| Arc::new(user) as LoadedUser))
        })
    }

    fn login<'a>(
        &'a self,
        session: &'a Session,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { login(session, typed::<U>(user)?).await })
    }

    fn update_session_auth_hash<'a>(
        &'a self,
        session: &'a Session,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { update_session_auth_hash(session, typed::<U>(user)?).await })
    }
}
