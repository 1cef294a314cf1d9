//! The two-factor commands: `mfa status USERNAME` (one line a factor) and
//! `mfa reset USERNAME` (every factor removed, every session ended). An
//! unknown user is a usage error (exit status 1).

use std::io::Write;

use super::{CommandError, users::user, utc as time};
use crate::{Auth, AuthUser};

/// `mfa status USERNAME`: kind, added, last used, and for recovery codes
/// how many are left.
pub(super) async fn status<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    let factors = auth.mfa().status(user.id).await?;
    if factors.is_empty() {
        writeln!(out, "No second factor for '{username}'.")?;
    }
    for factor in factors {
        let last_used = factor.last_used.map_or_else(|| "never".to_owned(), time);
        write!(
            out,
            "{}  added {}  last used {}",
            factor.kind,
            time(factor.created),
            last_used
        )?;
        if let Some((left, total)) = factor.codes_left {
            write!(out, "  {left} of {total} left")?;
        }
        writeln!(out)?;
    }
    Ok(())
}

/// `mfa reset USERNAME`: every factor removed, every session ended.
pub(super) async fn reset<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    let removed = auth.mfa().reset(user.id).await?;
    writeln!(
        out,
        "Removed {removed} factor(s) of '{username}' and ended their sessions."
    )?;
    Ok(())
}
