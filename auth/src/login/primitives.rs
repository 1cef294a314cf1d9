//! Logging in and out (Django's `contrib.auth` functions, which take the
//! request): [`authenticate`], [`stage_login`], [`login`], [`logout`] and
//! [`update_session_auth_hash`], each one path that custom views and the
//! built-in views take alike. The built-in views serve any user model: they
//! reach these functions, monomorphised for the app's model, through
//! `Operations` ([`OperationsFor`] below).

use std::sync::Arc;

pub use super::stage::LoginStage;
use super::{Session, lifetime, registry::end_records};
use crate::{
    apps::{Attempt, Operations},
    events::{EndedBy, EventKind},
    kernel::DateTime,
    kernel::error::{Error, Result},
    kernel::future::BoxFuture,
    session::{
        keys::{BACKEND_SESSION_KEY, HASH_SESSION_KEY, SESSION_KEY},
        metadata::{METADATA_KEY, SessionMetadata, unix},
    },
    settings::MaxSessionsPolicy,
    user::AuthUser,
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
/// [`Error::Throttled`](crate::Error::Throttled). A success gives the
/// browser a device cookie for this username (`AUTH_DEVICE_COOKIE_AGE`):
/// its later attempts count against that device alone, so guessing from
/// elsewhere cannot lock its owner out.
pub async fn authenticate<U: AuthUser>(
    session: &Session,
    username: &str,
    password: &str,
) -> Result<Option<U>> {
    let request = &session.request;
    let shared = &request.shared;
    let from = Attempt {
        client: request.origin.client_ip,
        user_agent: request.user_agent(),
        device: request.origin.device.as_deref(),
    };
    let found = shared.authenticate(from, username, password).await?;
    Ok(found.and_then(|(user, backend)| {
        request.set_authenticated_by(user.base().id, backend);
        if shared.devices.enabled() {
            let now = unix(shared.clock.now());
            request.set_device_cookie(shared.devices.issue(&user.base().username, now));
        }
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
/// The session records when and from where it logged in (the session
/// list of feature `user-sessions` shows it); with `AUTH_SESSION_REMEMBER` it gets a
/// browser-session cookie unless "remember me" was ticked
/// ([`Session::set_remember`]); with `AUTH_SESSION_MAX_PER_USER` the
/// user's least recently active sessions end to make room, or, with
/// `AUTH_SESSION_MAX_POLICY=refuse`, the login fails with
/// [`Error::TooManySessions`](crate::Error::TooManySessions).
///
/// It does not check `is_active`: [`authenticate`] does.
///
/// # The second factor
///
/// `login` never completes the login of a user who has a second factor
/// (TOTP, a passkey), or must set one up (`AUTH_MFA_REQUIRED`), on the
/// password alone: it returns
/// [`Error::SecondFactorRequired`](crate::Error::SecondFactorRequired)
/// and logs nobody in. A login view calls [`stage_login`] instead, which
/// makes such a login wait for its second step and says where that is;
/// the built-in `LoginView` does. `login` completes the login once the
/// second step passed in this request (the built-in two-factor views call
/// it then).
pub async fn login<U: AuthUser>(session: &Session, user: &U) -> Result<()> {
    let request = &session.request;
    if !request.second_step_passed(user.id)
        && request.shared.next_step(user.base()).await?.is_some()
    {
        tracing::error!(
            user_id = user.id,
            "auth::login refused a login on the password alone: the user has (or must set up) \
             a second factor; call auth::stage_login and follow its answer"
        );
        return Err(Error::SecondFactorRequired);
    }
    complete(session, user).await
}

/// Logs `user` in, or, when they have a second factor or must set one up
/// (`AUTH_MFA_REQUIRED`), makes the login wait for that step: the login
/// stage every login view goes through (django-allauth's stages). A
/// custom login view calls it after [`authenticate`] where Django's would
/// call `login`:
///
/// ```
/// # use axum::response::{IntoResponse, Redirect, Response};
/// async fn my_login<U: auth::AuthUser>(
///     session: auth::Session,
///     username: &str,
///     password: &str,
/// ) -> auth::Result<Response> {
///     let Some(user) = auth::authenticate::<U>(&session, username, password).await? else {
///         return Ok("Invalid credentials".into_response());
///     };
///     Ok(match auth::stage_login(&session, &user, Some("/profile/")).await? {
///         auth::LoginStage::LoggedIn => Redirect::to("/profile/").into_response(),
///         auth::LoginStage::Pending { url } => Redirect::to(&url).into_response(),
///         _ => Redirect::to("/").into_response(),
///     })
/// }
/// ```
///
/// A pending login starts a new session id, holds no user id (every
/// guard sees it as anonymous), keeps the "remember me" choice, and ends
/// with the password it was typed against, the user's sessions, a few
/// wrong codes, or `AUTH_MFA_LOGIN_TIMEOUT`. `next` is kept only when
/// it is a safe redirect for this request.
pub async fn stage_login<U: AuthUser>(
    session: &Session,
    user: &U,
    next: Option<&str>,
) -> Result<LoginStage> {
    let request = &session.request;
    let shared = &request.shared;
    if !request.second_step_passed(user.id)
        && let Some((stage, step)) = shared.next_step(user.base()).await?
    {
        let backend = request
            .authenticated_by(user.id)
            .unwrap_or_else(|| shared.backends.first());
        stage.pend(session, user.base(), backend, step).await?;
        let next = next.filter(|next| request.is_safe_redirect(next));
        return Ok(LoginStage::Pending {
            url: crate::http::redirect::with_next(step.path, next),
        });
    }
    complete(session, user).await?;
    Ok(LoginStage::LoggedIn)
}

/// The login itself, once every stage passed.
async fn complete<U: AuthUser>(session: &Session, user: &U) -> Result<()> {
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
            .logged_in_sessions_of(user.id)
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
                // An anonymous session's data carries over, but not the
                // state of a login stage (a two-factor ceremony, a pending
                // login).
                for stage in shared.stages() {
                    stage.forget(session).await?;
                }
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
    shared.events.emit(event);
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
        crate::kernel::error::Error::Config(
            "a user of another model reached this app's login".into(),
        )
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

    fn stage_login<'a>(
        &'a self,
        session: &'a Session,
        user: &'a LoadedUser,
        next: Option<&'a str>,
    ) -> BoxFuture<'a, Result<LoginStage>> {
        Box::pin(async move { stage_login(session, typed::<U>(user)?, next).await })
    }

    fn update_session_auth_hash<'a>(
        &'a self,
        session: &'a Session,
        user: &'a LoadedUser,
    ) -> BoxFuture<'a, Result<()>> {
        Box::pin(async move { update_session_auth_hash(session, typed::<U>(user)?).await })
    }
}
