//! The staged login's state between the password and the second factor:
//! the user's id, the backend that accepted the password, the session
//! auth hash of the password it was typed against, an expiry
//! (`AUTH_MFA_LOGIN_TIMEOUT`), the wrong codes so far and the "remember
//! me" choice, kept in the session under a key of its own. The session
//! holds no user id, so every guard, extractor and template sees it as
//! anonymous; only the two-factor views read it.
//!
//! A pending login dies with the password it was typed against (a change
//! or a reset makes the hash differ), with the user's sessions (the
//! stores index it under its user, so ending those ends it), after
//! [`MAX_FAILURES`] wrong codes, and at its expiry.

use serde::{Deserialize, Serialize};

use crate::session::keys::PENDING_LOGIN_KEY;
use crate::session::metadata::unix;
use crate::settings::secret::KeyMatch;
use crate::user::erased::LoadedUser;
use crate::{kernel::error::Result, login::Session, user::AbstractUser};

/// Wrong codes one pending login takes before the password must be typed
/// again.
pub(crate) const MAX_FAILURES: u32 = 3;

/// The session key of the TOTP secret offered and not activated yet,
/// with the user it was offered to: a reload shows the same one, so a
/// code from an app that already scanned it still works.
pub(crate) const OFFERED_KEY: &str = "_auth_mfa_totp_offered";

/// The session key of recovery codes made by this session and not shown
/// yet.
pub(crate) const NEW_CODES_KEY: &str = "_auth_mfa_new_codes";

/// The session key of where a login that had to set up a factor goes
/// once the recovery codes are seen.
pub(crate) const CONTINUE_KEY: &str = "_auth_mfa_continue";

/// The session keys of two-factor state that belongs to one person's
/// ceremony: dropped whenever a login or a pending login begins, so a
/// session planted before the login carries none of it in.
pub(crate) const CEREMONY_KEYS: [&str; 3] = [OFFERED_KEY, NEW_CODES_KEY, CONTINUE_KEY];

/// A login waiting for its second factor.
#[derive(Clone, Debug, Serialize, Deserialize)]
pub(crate) struct Pending {
    /// The user whose password was right.
    pub(crate) user: i64,
    /// The backend that accepted it.
    pub(crate) backend: String,
    /// The session auth hash of the password it was typed against: a
    /// password changed since ends the pending login.
    #[serde(default)]
    pub(crate) hash: String,
    /// Unix time past which the password must be typed again.
    pub(crate) expires: i64,
    /// The login form's "remember me", when it asked.
    pub(crate) remember: Option<bool>,
    /// The user has no second factor but must have one
    /// (`AUTH_MFA_REQUIRED`): only setting up TOTP completes the login.
    #[serde(default)]
    pub(crate) enrol: bool,
    /// Wrong codes so far.
    #[serde(default)]
    pub(crate) failures: u32,
}

/// Starts a pending login for `user` (accepted by `backend`; `enrol`:
/// waiting for a first factor): a new session id, nothing of another
/// user's session kept, and no two-factor state of the session before.
pub(crate) async fn begin(
    session: &Session,
    user: &AbstractUser,
    backend: &str,
    enrol: bool,
) -> Result<()> {
    let request = &session.request;
    if request.session_user_id().await?.is_some() {
        request.session.flush().await?;
    } else if request.session.id().is_some() {
        request.session.cycle_id().await?;
    }
    drop_ceremony_keys(session).await?;
    let shared = &request.shared;
    let now = unix(shared.clock.now());
    let timeout = shared.settings.mfa_login_timeout.as_secs() as i64;
    let pending = Pending {
        user: user.id,
        backend: backend.to_owned(),
        hash: shared.sessions.auth_hash.of(&user.password).to_string(),
        expires: now + timeout,
        remember: request.remember(),
        enrol,
        failures: 0,
    };
    request.session.insert(PENDING_LOGIN_KEY, pending).await?;
    Ok(())
}

/// Removes the two-factor state of an earlier ceremony from the session
/// (see [`CEREMONY_KEYS`]).
pub(crate) async fn drop_ceremony_keys(session: &Session) -> Result<()> {
    let request = &session.request;
    if request.session.id().is_none() && request.session.is_empty().await {
        return Ok(());
    }
    for key in CEREMONY_KEYS {
        request.session.remove_value(key).await?;
    }
    Ok(())
}

/// The pending login of this session, if there is one that has not
/// expired (an expired one is removed). Its user is not checked: see
/// [`resume`].
pub(crate) async fn current(session: &Session) -> Result<Option<Pending>> {
    let request = &session.request;
    if request.session.id().is_none() {
        return Ok(None);
    }
    let Some(pending) = request.session.get::<Pending>(PENDING_LOGIN_KEY).await? else {
        return Ok(None);
    };
    if unix(request.shared.clock.now()) >= pending.expires {
        request.session.remove_value(PENDING_LOGIN_KEY).await?;
        return Ok(None);
    }
    Ok(Some(pending))
}

/// The pending login of this session and its user, when both still
/// hold: not expired, the user still active under the backend that
/// accepted the password, and the password the same. Otherwise the
/// pending login is ended and `None`: the password must be typed again.
pub(crate) async fn resume(session: &Session) -> Result<Option<(Pending, LoadedUser)>> {
    let Some(pending) = current(session).await? else {
        return Ok(None);
    };
    let shared = &session.request.shared;
    let user = shared
        .backends
        .get_user(shared, &pending.backend, pending.user)
        .await?;
    let same_password = user.as_ref().is_some_and(|user| {
        shared
            .sessions
            .auth_hash
            .verify(&user.base().password, &pending.hash)
            != KeyMatch::NoMatch
    });
    match user {
        Some(user) if same_password => Ok(Some((pending, user))),
        _ => {
            tracing::info!(
                user_id = pending.user,
                "a pending login ended: its user or password changed"
            );
            clear(session).await?;
            Ok(None)
        }
    }
}

/// Counts a wrong code against `pending`: `true` while it may go on,
/// `false` when it took its last one (and is ended).
pub(crate) async fn failed(session: &Session, mut pending: Pending) -> Result<bool> {
    pending.failures += 1;
    if pending.failures >= MAX_FAILURES {
        clear(session).await?;
        return Ok(false);
    }
    session
        .request
        .session
        .insert(PENDING_LOGIN_KEY, pending)
        .await?;
    Ok(true)
}

/// Ends `pending` because its last step passed: the login that follows
/// ([`login`](crate::login)) records the backend that accepted the
/// password and the "remember me" the login form was given, and may
/// complete for its user.
pub(crate) async fn passed(session: &Session, pending: &Pending) -> Result<()> {
    let request = &session.request;
    clear(session).await?;
    if let Some(backend) = request.shared.backends.named(&pending.backend) {
        request.set_authenticated_by(pending.user, backend);
    }
    if let Some(remember) = pending.remember {
        request.set_remember(remember);
    }
    request.set_second_step_passed(pending.user);
    Ok(())
}

/// Ends the pending login (passed, or given up).
pub(crate) async fn clear(session: &Session) -> Result<()> {
    session
        .request
        .session
        .remove_value(PENDING_LOGIN_KEY)
        .await?;
    Ok(())
}
