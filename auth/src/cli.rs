//! Management commands, mounted by an app in one line:
//!
//! ```no_run
//! # #[derive(Clone, Debug, auth::AuthUser)]
//! # struct User { #[auth(base)] base: auth::AbstractUser }
//! # async fn serve(auth: auth::Auth<User>, bind: std::net::SocketAddr) -> auth::Result<()> { Ok(()) }
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     auth::cli::run(auth::Auth::<User>::builder(), serve).await
//! }
//! ```
//!
//! Commands: `serve` (the default; `--bind 127.0.0.1:8000`), `migrate`,
//! `createsuperuser`, `createuser`, `changepassword [USERNAME]`,
//! `clearsessions`. Every
//! failure prints a clear message and exits non-zero.

use std::{
    future::Future,
    io::{self, BufRead, IsTerminal, Write},
    net::SocketAddr,
    process::ExitCode,
};

use clap::{Args, Parser, Subcommand};

use crate::{
    AbstractUser, Auth, AuthBuilder, AuthUser, Error, USERNAME_MAX_LENGTH, ValidationError,
};

/// The environment variable `createsuperuser --noinput` reads the password
/// from (Django: `DJANGO_SUPERUSER_PASSWORD`).
pub const SUPERUSER_PASSWORD_ENV: &str = "AUTH_SUPERUSER_PASSWORD";
/// The environment variable `createsuperuser --noinput` reads the email
/// from when `--email` is not given.
pub const SUPERUSER_EMAIL_ENV: &str = "AUTH_SUPERUSER_EMAIL";
/// The environment variable `createuser --noinput` reads the password from.
pub const USER_PASSWORD_ENV: &str = "AUTH_USER_PASSWORD";

/// The command line.
#[derive(Debug, Parser)]
#[command(version, about = "Run the web app, or one of its management commands")]
pub struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub command: Option<Command>,
}

/// A management command.
#[derive(Debug, Subcommand)]
pub enum Command {
    /// Run the web server (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
    },
    /// Create the database tables that do not exist yet.
    Migrate,
    /// Create a superuser (staff, every permission). With `--noinput`, the
    /// password comes from `AUTH_SUPERUSER_PASSWORD`.
    Createsuperuser(CreateUserArgs),
    /// Create an ordinary user. With `--noinput`, the password comes from
    /// `AUTH_USER_PASSWORD`.
    Createuser {
        /// Username, email and prompting options.
        #[command(flatten)]
        args: CreateUserArgs,
        /// Create the user inactive (it cannot log in).
        #[arg(long)]
        inactive: bool,
    },
    /// Delete expired sessions.
    Clearsessions,
    /// Change a user's password.
    Changepassword {
        /// The user (default: the name of the OS user running the command).
        username: Option<String>,
    },
}

/// Options shared by `createsuperuser` and `createuser`.
#[derive(Debug, Args)]
pub struct CreateUserArgs {
    /// The username.
    #[arg(long)]
    pub username: Option<String>,
    /// The email address.
    #[arg(long)]
    pub email: Option<String>,
    /// Do not prompt: take the username from `--username` and the password
    /// from the environment (`AUTH_SUPERUSER_PASSWORD` for
    /// `createsuperuser`, `AUTH_USER_PASSWORD` for `createuser`); without
    /// it the account gets an unusable password (it cannot log in until one
    /// is set with `changepassword`).
    #[arg(long = "noinput", visible_alias = "no-input")]
    pub noinput: bool,
}

/// A command that failed, with the message to print.
#[derive(Debug, thiserror::Error)]
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
}

/// Reads answers to prompts.
pub trait Prompt {
    /// Shows `prompt` and reads one line (without its line ending).
    fn line(&mut self, prompt: &str) -> io::Result<String>;
    /// Shows `prompt` and reads a password without echoing it.
    fn password(&mut self, prompt: &str) -> io::Result<String>;
    /// Whether a person can answer (Django skips interactive prompts without
    /// a terminal).
    fn is_interactive(&self) -> bool;
}

/// Prompts on the terminal; reads plain lines from stdin when it is a pipe,
/// so `printf 'pw\npw\n' | app changepassword alice` works.
#[derive(Debug, Default)]
pub struct TerminalPrompt;

impl Prompt for TerminalPrompt {
    fn line(&mut self, prompt: &str) -> io::Result<String> {
        let mut stderr = io::stderr();
        write!(stderr, "{prompt}")?;
        stderr.flush()?;
        read_stdin_line()
    }

    fn password(&mut self, prompt: &str) -> io::Result<String> {
        if io::stdin().is_terminal() {
            rpassword::prompt_password(prompt)
        } else {
            self.line(prompt)
        }
    }

    fn is_interactive(&self) -> bool {
        io::stdin().is_terminal()
    }
}

fn read_stdin_line() -> io::Result<String> {
    let mut line = String::new();
    if io::stdin().lock().read_line(&mut line)? == 0 {
        return Err(io::Error::new(
            io::ErrorKind::UnexpectedEof,
            "no more input",
        ));
    }
    Ok(line.trim_end_matches(['\r', '\n']).to_owned())
}

/// Parses the process arguments, builds `Auth` and runs the command;
/// `serve` calls `serve(auth, bind)`. Returns the process exit code.
pub async fn run<U, F, Fut>(builder: AuthBuilder<U>, serve: F) -> ExitCode
where
    U: AuthUser,
    F: FnOnce(Auth<U>, SocketAddr) -> Fut,
    Fut: Future<Output = crate::Result<()>>,
{
    init_tracing();
    let cli = Cli::parse();
    let auth = match builder.build().await {
        Ok(auth) => auth,
        Err(err) => {
            eprintln!("Error: {err}");
            return ExitCode::FAILURE;
        }
    };
    let command = cli.command.unwrap_or(Command::Serve {
        bind: ([127, 0, 0, 1], 8000).into(),
    });
    let result = match command {
        Command::Serve { bind } => {
            for warning in auth.settings().deployment_warnings(bind) {
                tracing::warn!("{warning}");
            }
            serve(auth, bind).await.map_err(CommandError::from)
        }
        other => {
            let mut prompt = TerminalPrompt;
            let mut out = io::stdout();
            execute(&auth, other, &mut prompt, &mut out).await
        }
    };
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(err) => {
            eprintln!("Error: {err}");
            ExitCode::FAILURE
        }
    }
}

/// Logs to stderr, filtered by `RUST_LOG` (default `info`). Does nothing if
/// a subscriber is already installed.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new("info"));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .try_init();
}

/// Runs one management command (not `serve`) with the given prompt and
/// output; `run` uses the terminal, tests script it.
pub async fn execute<U>(
    auth: &Auth<U>,
    command: Command,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
) -> Result<(), CommandError>
where
    U: AuthUser,
{
    match command {
        Command::Serve { .. } => Err(CommandError::Usage("`serve` is run by `cli::run`".into())),
        Command::Migrate => {
            auth.migrate().await?;
            writeln!(out, "Tables are up to date.")?;
            Ok(())
        }
        Command::Createsuperuser(args) => {
            let password = std::env::var(SUPERUSER_PASSWORD_ENV).ok();
            let email = args
                .email
                .clone()
                .or_else(|| std::env::var(SUPERUSER_EMAIL_ENV).ok());
            let (username, email, password) = gather_new_user(
                auth,
                args,
                email,
                (SUPERUSER_PASSWORD_ENV, password),
                prompt,
                out,
            )
            .await?;
            auth.create_superuser(&username, &email, password.as_deref())
                .await?;
            writeln!(out, "Superuser created successfully.")?;
            Ok(())
        }
        Command::Createuser { args, inactive } => {
            let password = std::env::var(USER_PASSWORD_ENV).ok();
            let email = args.email.clone();
            let (username, email, password) = gather_new_user(
                auth,
                args,
                email,
                (USER_PASSWORD_ENV, password),
                prompt,
                out,
            )
            .await?;
            let mut user = auth
                .create_user(&username, &email, password.as_deref())
                .await?;
            if inactive {
                user.base_mut().is_active = false;
                auth.save_user(user).await?;
            }
            writeln!(out, "User created successfully.")?;
            Ok(())
        }
        Command::Changepassword { username } => change_password(auth, username, prompt, out).await,
        Command::Clearsessions => {
            let deleted = auth.clear_expired_sessions().await?;
            writeln!(out, "Deleted {deleted} expired session(s).")?;
            Ok(())
        }
    }
}

/// Asks for (or checks) a new user's username, email and password.
async fn gather_new_user<U>(
    auth: &Auth<U>,
    args: CreateUserArgs,
    email: Option<String>,
    (password_env, env_password): (&str, Option<String>),
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
) -> Result<(String, String, Option<String>), CommandError>
where
    U: AuthUser,
{
    if args.noinput {
        let Some(username) = args.username else {
            return Err(CommandError::Usage(
                "You must use --username with --noinput.".into(),
            ));
        };
        let username = crate::normalize_username(&username);
        check_new_username(auth, &username).await?;
        if env_password.is_none() {
            eprintln!(
                "Warning: {password_env} is not set; '{username}' gets an unusable password \
                 and cannot log in until one is set with `changepassword {username}`."
            );
        }
        return Ok((username, email.unwrap_or_default(), env_password));
    }
    if !prompt.is_interactive() {
        return Err(CommandError::Usage(
            "Not running in a TTY. Use --noinput with --username, and the password in the environment."
                .into(),
        ));
    }
    let username = match args.username {
        Some(given) => {
            let username = crate::normalize_username(&given);
            check_new_username(auth, &username).await?;
            username
        }
        None => loop {
            let default = default_username(auth).await;
            let question = match &default {
                Some(d) => format!("Username (leave blank to use '{d}'): "),
                None => "Username: ".to_owned(),
            };
            let answer = crate::normalize_username(&prompt.line(&question)?);
            let candidate = match (answer.is_empty(), &default) {
                (true, Some(d)) => d.clone(),
                (true, None) => {
                    writeln!(out, "Error: Username cannot be blank.")?;
                    continue;
                }
                (false, _) => answer,
            };
            match check_new_username(auth, &candidate).await {
                Ok(()) => break candidate,
                Err(CommandError::Usage(msg)) => writeln!(out, "Error: {msg}")?,
                Err(other) => return Err(other),
            }
        },
    };
    let email = match email {
        Some(email) => email,
        None => prompt.line("Email address: ")?,
    };
    let password = loop {
        let first = prompt.password("Password: ")?;
        let second = prompt.password("Password (again): ")?;
        if first != second {
            writeln!(out, "Error: Your passwords didn't match.")?;
            continue;
        }
        if first.is_empty() {
            writeln!(out, "Error: Blank passwords aren't allowed.")?;
            continue;
        }
        let mut candidate = AbstractUser::new(username.clone());
        candidate.email = email.clone();
        if let Err(errors) = auth.validate_password(&first, Some(&candidate)) {
            for error in errors {
                writeln!(out, "{error}")?;
            }
            let answer =
                prompt.line("Bypass password validation and create user anyway? [y/N]: ")?;
            if !answer.trim().to_lowercase().starts_with('y') {
                continue;
            }
        }
        break first;
    };
    Ok((username, email, Some(password)))
}

/// Refuses blank, malformed and taken usernames with Django's messages.
async fn check_new_username<U>(auth: &Auth<U>, username: &str) -> Result<(), CommandError>
where
    U: AuthUser,
{
    if username.is_empty() {
        return Err(CommandError::Usage("Username cannot be blank.".into()));
    }
    validate_username(username).map_err(|e| CommandError::Usage(e.to_string()))?;
    if auth.get_by_username(username).await?.is_some() {
        return Err(CommandError::Usage(
            "That username is already taken.".into(),
        ));
    }
    Ok(())
}

/// Django's `UnicodeUsernameValidator` (`^[\w.@+-]+\Z`) and the 150
/// character limit.
pub fn validate_username(username: &str) -> Result<(), ValidationError> {
    let count = username.chars().count();
    if count > USERNAME_MAX_LENGTH {
        return Err(ValidationError::new(
            "max_length",
            format!(
                "Ensure this value has at most {USERNAME_MAX_LENGTH} characters (it has {count})."
            ),
        ));
    }
    let valid = |c: char| c.is_alphanumeric() || matches!(c, '_' | '.' | '@' | '+' | '-');
    if username.is_empty() || !username.chars().all(valid) {
        return Err(ValidationError::new(
            "invalid",
            "Enter a valid username. This value may contain only letters, numbers, \
             and @/./+/-/_ characters.",
        ));
    }
    Ok(())
}

/// The OS user's name, ASCII-only, lowercased, without spaces; `None` if
/// that is empty, invalid or taken (Django's `get_default_username`).
async fn default_username<U>(auth: &Auth<U>) -> Option<String>
where
    U: AuthUser,
{
    let name: String = os_username()?
        .chars()
        .filter(|c| c.is_ascii() && !c.is_whitespace())
        .collect::<String>()
        .to_lowercase();
    if validate_username(&name).is_err() {
        return None;
    }
    match auth.get_by_username(&name).await {
        Ok(None) => Some(name),
        _ => None,
    }
}

fn os_username() -> Option<String> {
    std::env::var("USER")
        .or_else(|_| std::env::var("USERNAME"))
        .ok()
        .filter(|u| !u.is_empty())
}

async fn change_password<U>(
    auth: &Auth<U>,
    username: Option<String>,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
) -> Result<(), CommandError>
where
    U: AuthUser,
{
    let Some(username) = username.or_else(os_username) else {
        return Err(CommandError::Usage(
            "Give the username: changepassword USERNAME".into(),
        ));
    };
    let Some(mut user) = auth.get_by_username(&username).await? else {
        return Err(CommandError::Usage(format!(
            "user '{username}' does not exist"
        )));
    };
    writeln!(out, "Changing password for user '{username}'")?;
    const MAX_TRIES: usize = 3;
    for _ in 0..MAX_TRIES {
        let first = prompt.password("Password: ")?;
        if first.is_empty() {
            return Err(CommandError::Usage("aborted".into()));
        }
        let second = prompt.password("Password (again): ")?;
        if first != second {
            writeln!(out, "Passwords do not match. Please try again.")?;
            continue;
        }
        if let Err(errors) = auth.validate_password(&second, Some(&user)) {
            for error in errors {
                writeln!(out, "{error}")?;
            }
            continue;
        }
        auth.set_password(&mut user, &first).await?;
        writeln!(out, "Password changed successfully for user '{username}'")?;
        return Ok(());
    }
    Err(CommandError::Usage(format!(
        "Aborting password change for user '{username}' after {MAX_TRIES} attempts"
    )))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn username_rules_match_django() {
        assert!(validate_username("alice.b+c@d-e_f").is_ok());
        assert!(validate_username("émilie").is_ok());
        assert!(validate_username("has space").is_err());
        assert!(validate_username("semi;colon").is_err());
        assert!(
            validate_username(&"a".repeat(151))
                .unwrap_err()
                .message()
                .contains("(it has 151)")
        );
    }

    #[test]
    fn cli_parses_django_spellings() {
        let cli = Cli::try_parse_from(["app", "createsuperuser", "--no-input", "--username", "a"])
            .unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Createsuperuser(CreateUserArgs {
                noinput: true,
                ..
            }))
        ));
        let cli = Cli::try_parse_from(["app"]).unwrap();
        assert!(cli.command.is_none());
        assert!(Cli::try_parse_from(["app", "serve", "--bind", "not an address"]).is_err());
    }
}
