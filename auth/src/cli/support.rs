//! What every command's code uses, the built-in ones and the feature
//! apps': [`CommandError`], the user a command names, times as commands
//! print them, and the shape of a feature app's command
//! ([`FeatureCommand`], which `Management` adds next to the built-ins).

use std::{future::Future, io, io::Write, pin::Pin};

use clap::ArgMatches;

use crate::{app::Auth, kernel::checks::Report, kernel::error::Error, user::AuthUser};

/// A command that failed, with the message to print.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum CommandError {
    /// The user's input was refused.
    #[error("{0}")]
    Usage(String),
    /// The runtime failed.
    #[error(transparent)]
    Runtime(#[from] Error),
    /// Reading input or writing output failed.
    #[error("input/output error: {0}")]
    Io(#[from] io::Error),
    /// The system checks found an error (`check`, or before `serve`).
    #[error("SystemCheckError: {0}")]
    SystemCheck(Report),
}

/// A command's future (commands run on the main task: no `Send` needed).
pub(crate) type LocalBoxFuture<'a, T> = Pin<Box<dyn Future<Output = T> + 'a>>;

/// A feature app's management command (`mfa`, `listsessions`, `events`,
/// …): its clap declaration, and what runs it on the built app, writing
/// to `out` (the terminal, or a test's buffer).
pub(crate) struct FeatureCommand<U> {
    /// The command's name, help and arguments.
    pub(crate) command: fn() -> clap::Command,
    /// Runs it with its parsed arguments.
    pub(crate) run: RunCommand<U>,
}

/// What runs a feature app's command: the app, the command's arguments,
/// where it writes.
pub(crate) type RunCommand<U> = for<'a> fn(
    &'a Auth<U>,
    &'a ArgMatches,
    &'a mut dyn Write,
) -> LocalBoxFuture<'a, Result<(), CommandError>>;

/// The arguments of a command declared with clap's derive, from its
/// matches (a usage error when they do not fit).
#[cfg_attr(
    not(any(feature = "audit", feature = "mfa", feature = "user-sessions")),
    allow(dead_code)
)]
pub(crate) fn parsed<T: clap::FromArgMatches>(args: &ArgMatches) -> Result<T, CommandError> {
    T::from_arg_matches(args).map_err(|err| CommandError::Usage(err.to_string()))
}

/// The user named `username`, or a usage error saying it does not exist.
pub(crate) async fn user<U: AuthUser>(auth: &Auth<U>, username: &str) -> Result<U, CommandError> {
    auth.users()
        .get_by_username(username)
        .await?
        .ok_or_else(|| CommandError::Usage(format!("User '{username}' does not exist.")))
}

/// A time as the commands print it: `2026-12-03T15:00:00Z`.
#[cfg_attr(
    not(any(feature = "audit", feature = "mfa", feature = "user-sessions")),
    allow(dead_code)
)]
pub(crate) fn utc(at: time::OffsetDateTime) -> String {
    let format =
        time::macros::format_description!("[year]-[month]-[day]T[hour]:[minute]:[second]Z");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}
