//! The session commands (feature `user-sessions`): `listsessions
//! USERNAME` (one line a session), `endsessions USERNAME` (every session
//! of the user ends) and `endsessions --all` (every session ends). An unknown user is a usage error (exit
//! status 1).

use std::io::Write;

use clap::{ArgMatches, CommandFactory, Parser};

use crate::{
    app::Auth,
    cli::support::{CommandError, FeatureCommand, parsed, user, utc},
    user::AuthUser,
};

/// The app's commands.
pub(crate) fn commands<U: AuthUser>() -> Vec<FeatureCommand<U>> {
    vec![
        FeatureCommand {
            command: Listsessions::command,
            run: |auth, args, out| Box::pin(list(auth, args, out)),
        },
        FeatureCommand {
            command: Endsessions::command,
            run: |auth, args, out| Box::pin(end_all(auth, args, out)),
        },
    ]
}

/// List a user's sessions: key prefix, created, last seen, address,
/// device.
#[derive(Debug, Parser)]
#[command(name = "listsessions")]
struct Listsessions {
    /// The user.
    username: String,
}

/// End every session of a user (they are logged out everywhere), or with
/// `--all` every session of every user.
#[derive(Debug, Parser)]
#[command(name = "endsessions")]
#[command(group(clap::ArgGroup::new("whose").required(true).args(["username", "all"])))]
struct Endsessions {
    /// The user.
    username: Option<String>,
    /// Every session of every user (everyone logs in again).
    #[arg(long)]
    all: bool,
}

/// `listsessions USERNAME`: key prefix, created, last seen, address,
/// device; newest activity first.
async fn list<U: AuthUser>(
    auth: &Auth<U>,
    args: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let username = &parsed::<Listsessions>(args)?.username;
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
async fn end_all<U: AuthUser>(
    auth: &Auth<U>,
    args: &ArgMatches,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let args = parsed::<Endsessions>(args)?;
    let Some(username) = args.username.filter(|_| !args.all) else {
        let ended = auth.sessions().end_all().await?;
        writeln!(
            out,
            "Ended {ended} session(s): every user must log in again."
        )?;
        return Ok(());
    };
    let user = user(auth, &username).await?;
    let ended = auth.sessions().end_all_for(user.id).await?;
    writeln!(out, "Ended {ended} session(s) of '{username}'.")?;
    Ok(())
}
