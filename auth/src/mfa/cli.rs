//! The two-factor commands (feature `mfa`, with `cli`): `mfa status USERNAME` (one line a factor) and
//! `mfa reset USERNAME` (every factor removed, every session ended). An
//! unknown user is a usage error (exit status 1).

use std::io::Write;

use clap::{ArgMatches, CommandFactory, Parser, Subcommand};

use crate::{
    app::Auth,
    cli::support::{CommandError, FeatureCommand, parsed, user, utc as time},
    user::AuthUser,
};

/// The app's commands.
pub(crate) fn commands<U: AuthUser>() -> Vec<FeatureCommand<U>> {
    vec![FeatureCommand {
        command: Mfa::command,
        run: |auth, args, out| Box::pin(run(auth, args, out)),
    }]
}

/// A user's second factors: `mfa status USERNAME`, `mfa reset USERNAME`.
#[derive(Debug, Parser)]
#[command(name = "mfa")]
struct Mfa {
    /// What to do.
    #[command(subcommand)]
    action: MfaCommand,
}

/// The `mfa` subcommands.
#[derive(Debug, Subcommand)]
enum MfaCommand {
    /// The user's factors: kind, added, last used, recovery codes left.
    Status {
        /// The user.
        username: String,
    },
    /// Remove every factor of the user and end every session of theirs
    /// (for a user who lost their device; they log in with the password
    /// alone and can set a factor up again).
    Reset {
        /// The user.
        username: String,
    },
}

/// Runs `mfa ACTION`.
async fn run<U: AuthUser>(
    auth: &Auth<U>,
    args: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    match parsed::<Mfa>(args)?.action {
        MfaCommand::Status { username } => status(auth, &username, out).await,
        MfaCommand::Reset { username } => reset(auth, &username, out).await,
    }
}

/// `mfa status USERNAME`: kind, added, last used, and for recovery codes
/// how many are left.
async fn status<U: AuthUser>(
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
async fn reset<U: AuthUser>(
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
