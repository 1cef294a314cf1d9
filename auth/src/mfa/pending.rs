//! The staged login's state between the password and the second factor:
//! the user's id, the backend that accepted the password, an expiry
//! (`AUTH_MFA_LOGIN_TIMEOUT`) and the "remember me" choice, kept in the
//! session under a key of its own. The session holds no user id, so every
//! guard, extractor and template sees it as anonymous; only
//! `MfaAuthenticateView` reads it.

use serde::{Deserialize, Serialize};

use crate::{Result, Session, session::metadata::unix};

/// The session key.
const PENDING_KEY: &str = "_auth_mfa_pending";

/// A login waiting for its second factor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The user whose password was right.
    pub(crate) user: i64,
    /// The backend that accepted it.
    pub(crate) backend: String,
    /// Unix time past which the password must be typed again.
    pub(crate) expires: i64,
    /// The login form's "remember me", when it asked.
    pub(crate) remember: Option<bool>,
    /// The user has no second factor but must have one
    /// (`AUTH_MFA_REQUIRED`): only setting up TOTP completes the login.
    #[serde(default)]
    pub(crate) enrol: bool,
}

/// Starts a pending login for `user` (accepted by `backend`; `enrol`:
/// waiting for a first factor): a new session id, and nothing of another
/// user's session kept.
pub(crate) async fn begin(session: &Session, user: i64, backend: &str, enrol: bool) -> Result<()> {
    let request = &session.request;
    if request.session_user_id().await?.is_some() {
        request.session.flush().await?;
    } else if request.session.id().is_some() {
        request.session.cycle_id().await?;
    }
    let now = unix(request.shared.clock.now());
    let timeout = request.shared.settings.mfa_login_timeout.as_secs() as i64;
    let pending = Pending {
        user,
        backend: backend.to_owned(),
        expires: now + timeout,
        remember: request.remember(),
        enrol,
    };
    request.session.insert(PENDING_KEY, pending).await?;
    Ok(())
}

/// The pending login of this session, if there is one that has not
/// expired (an expired one is removed).
pub(crate) async fn current(session: &Session) -> Result<Option<Pending>> {
    let request = &session.request;
    if request.session.id().is_none() {
        return Ok(None);
    }
    let Some(pending) = request.session.get::<Pending>(PENDING_KEY).await? else {
        return Ok(None);
    };
    if unix(request.shared.clock.now()) >= pending.expires {
        request.session.remove_value(PENDING_KEY).await?;
        return Ok(None);
    }
    Ok(Some(pending))
}

/// Ends `pending` because its last step passed: the login that follows
/// ([`login`](crate::login)) records the backend that accepted the
/// password and the "remember me" the login form was given.
pub(crate) async fn passed(session: &Session, pending: &Pending) -> Result<()> {
    let request = &session.request;
    clear(session).await?;
    if let Some(backend) = request.shared.backends.named(&pending.backend) {
        request.set_authenticated_by(pending.user, backend);
    }
    if let Some(remember) = pending.remember {
        request.set_remember(remember);
    }
    Ok(())
}

/// Ends the pending login (passed, or given up).
pub(crate) async fn clear(session: &Session) -> Result<()> {
    session.request.session.remove_value(PENDING_KEY).await?;
    Ok(())
}
