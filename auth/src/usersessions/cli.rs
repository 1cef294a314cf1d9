//! The session commands (feature `user-sessions`): `listsessions
//! USERNAME` (one line a session) and `endsessions USERNAME` (every
//! session of the user ends). An unknown user is a usage error (exit
//! status 1).

use std::io::Write;

use crate::{
    Auth, AuthUser,
    cli::{CommandError, user, utc},
};

/// `listsessions USERNAME`: key prefix, created, last seen, address,
/// device; newest activity first.
pub(crate) async fn list<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    let sessions = auth.sessions().list_for(user.id).await?;
    if sessions.is_empty() {
        writeln!(out, "No sessions for '{username}'.")?;
    }
    let time = utc;
    for session in sessions {
        writeln!(
            out,
            "{}  created {}  last seen {}  {}  {}",
            &session.key[..8],
            time(session.created),
            time(session.last_seen),
            session.ip_address.as_deref().unwrap_or("-"),
            session.device,
        )?;
    }
    Ok(())
}

/// `endsessions USERNAME`: ends every session of the user.
pub(crate) async fn end_all<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    let ended = auth.sessions().end_all_for(user.id).await?;
    writeln!(out, "Ended {ended} session(s) of '{username}'.")?;
    Ok(())
}
