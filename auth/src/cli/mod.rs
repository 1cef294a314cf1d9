//! Management commands (Django's `manage.py`), mounted by an app in one
//! line:
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
//! Commands: `serve` (the default; `--bind 127.0.0.1:8000`; runs the
//! [system checks](crate::checks) first), `check [--deploy]`, `migrate`,
//! `createsuperuser`, `createuser [--staff] [--inactive]`,
//! `changepassword [USERNAME]`, `clearsessions`, and for groups and
//! permissions `creategroup NAME [--perm APP.CODENAME]...`,
//! `addtogroup USERNAME GROUP`, `removefromgroup USERNAME GROUP`,
//! `grant USERNAME APP.CODENAME`, `revoke USERNAME APP.CODENAME`,
//! `grantgroup GROUP APP.CODENAME` and `listperms [USERNAME]`. Every
//! failure (an unknown user, group or permission included) prints a clear
//! message and exits non-zero.
//!
//! `createsuperuser` and `createuser` ask for the model's required extra
//! fields (Django's `REQUIRED_FIELDS`: `#[auth(required)]`, or a
//! non-`Option` text, number or boolean field without a `default`), take
//! every extra field as an option (`--display-name "Ada"`), and with
//! `--noinput` read what the options leave out from
//! `AUTH_SUPERUSER_<FIELD>` (`createsuperuser`) or `AUTH_USER_<FIELD>`
//! (`createuser`), as Django reads `DJANGO_SUPERUSER_<FIELD>`.
//!
//! An app adds its own commands with [`Management`], listed in `--help`
//! next to the built-in ones:
//!
//! ```no_run
//! # #[derive(Clone, Debug, auth::AuthUser)]
//! # struct User { #[auth(base)] base: auth::AbstractUser }
//! # async fn serve(auth: auth::Auth<User>, bind: std::net::SocketAddr) -> auth::Result<()> { Ok(()) }
//! use auth::cli::{CommandError, Management};
//! use clap::{Arg, Command};
//!
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     Management::new(auth::Auth::<User>::builder())
//!         .command(
//!             Command::new("countusers")
//!                 .about("Print how many users there are")
//!                 .arg(Arg::new("active").long("active").action(clap::ArgAction::SetTrue)),
//!             |auth: auth::Auth<User>, args: clap::ArgMatches| async move {
//!                 use auth::sea_orm::{EntityTrait, PaginatorTrait};
//!                 let users = user_entity::Entity::find().count(auth.db()).await
//!                     .map_err(auth::Error::from)?;
//!                 println!("{users} users (active only: {})", args.get_flag("active"));
//!                 Ok::<(), CommandError>(())
//!             },
//!         )
//!         .run(serve)
//!         .await
//! }
//! ```

mod permissions;
mod prompt;
pub(crate) mod support;
mod users;

use std::{
    ffi::OsString,
    future::Future,
    io::{self, Write},
    net::SocketAddr,
    process::ExitCode,
};

use clap::{Arg, ArgMatches, Args, CommandFactory, FromArgMatches, Parser, Subcommand};

pub use prompt::{Prompt, TerminalPrompt};
pub use support::CommandError;

use crate::app::checks::{self, Scope};
use crate::{app::Auth, app::builder::AuthBuilder, user::AuthUser};
use permissions::Change;
use support::{FeatureCommand, LocalBoxFuture};
use users::{NoInputEnv, change_password, gather_new_user};

/// The environment variable `createsuperuser --noinput` reads the password
/// from (Django: `DJANGO_SUPERUSER_PASSWORD`).
pub(crate) const SUPERUSER_PASSWORD_ENV: &str = "AUTH_SUPERUSER_PASSWORD";
/// The environment variable `createsuperuser --noinput` reads the email
/// from when `--email` is not given.
pub(crate) const SUPERUSER_EMAIL_ENV: &str = "AUTH_SUPERUSER_EMAIL";
/// The environment variable `createuser --noinput` reads the password from.
pub(crate) const USER_PASSWORD_ENV: &str = "AUTH_USER_PASSWORD";

/// The built-in command line (the model's extra fields and the app's
/// commands are added by [`Cli::command_for`]).
#[derive(Debug, Parser)]
#[command(version, about = "Run the web app, or one of its management commands")]
pub(crate) struct Cli {
    /// What to do (default: serve).
    #[command(subcommand)]
    pub(crate) command: Option<Command>,
}

/// A built-in management command.
#[derive(Debug, Subcommand)]
pub(crate) enum Command {
    /// Run the web server (the default).
    Serve {
        /// Address to listen on.
        #[arg(long, default_value = "127.0.0.1:8000")]
        bind: SocketAddr,
    },
    /// Create the database tables that do not exist yet.
    Migrate,
    /// Look for configuration mistakes the compiler cannot see (Django's
    /// `check`); exits non-zero when it finds an error.
    Check {
        /// Also check the production settings: the secret key, the allowed
        /// hosts, `Secure` cookies.
        #[arg(long)]
        deploy: bool,
    },
    /// Create a superuser (staff, every permission). With `--noinput`, the
    /// password comes from `AUTH_SUPERUSER_PASSWORD` and the model's
    /// required fields from their options or `AUTH_SUPERUSER_<FIELD>`.
    Createsuperuser(CreateUserArgs),
    /// Create an ordinary user. With `--noinput`, the password comes from
    /// `AUTH_USER_PASSWORD` and the model's required fields from their
    /// options or `AUTH_USER_<FIELD>`.
    Createuser {
        /// Username, email and prompting options.
        #[command(flatten)]
        args: CreateUserArgs,
        /// Create the user inactive (it cannot log in).
        #[arg(long)]
        inactive: bool,
        /// Make the user staff (`is_staff`), without superuser rights.
        #[arg(long)]
        staff: bool,
    },
    /// Delete expired sessions (and audit-log events past
    /// `AUTH_EVENT_RETENTION_DAYS`).
    Clearsessions,
    /// Deactivate a user: they cannot log in, and their sessions end.
    Deactivateuser {
        /// The user.
        username: String,
    },
    /// Activate a user again.
    Activateuser {
        /// The user.
        username: String,
    },
    /// Change a user's password.
    Changepassword {
        /// The user (default: the name of the OS user running the command).
        username: Option<String>,
    },
    /// Create a group, optionally with permissions.
    Creategroup {
        /// The group's name.
        name: String,
        /// A permission for the group, `app_label.codename` (repeatable).
        #[arg(long = "perm", value_name = "APP.CODENAME")]
        perms: Vec<String>,
    },
    /// Put a user in a group.
    Addtogroup {
        /// The user.
        username: String,
        /// The group.
        group: String,
    },
    /// Take a user out of a group.
    Removefromgroup {
        /// The user.
        username: String,
        /// The group.
        group: String,
    },
    /// Grant a permission to a user directly.
    Grant {
        /// The user.
        username: String,
        /// The permission, `app_label.codename`.
        #[arg(value_name = "APP.CODENAME")]
        permission: String,
    },
    /// Take back a permission granted to a user directly.
    Revoke {
        /// The user.
        username: String,
        /// The permission, `app_label.codename`.
        #[arg(value_name = "APP.CODENAME")]
        permission: String,
    },
    /// Grant a permission to a group.
    Grantgroup {
        /// The group.
        group: String,
        /// The permission, `app_label.codename`.
        #[arg(value_name = "APP.CODENAME")]
        permission: String,
    },
    /// List every permission, or a user's effective permissions.
    Listperms {
        /// The user whose permissions to list.
        username: Option<String>,
    },
}

/// Options shared by `createsuperuser` and `createuser`.
#[derive(Debug, Default, Args)]
pub(crate) struct CreateUserArgs {
    /// The username.
    #[arg(long)]
    pub(crate) username: Option<String>,
    /// The email address.
    #[arg(long)]
    pub(crate) email: Option<String>,
    /// Do not prompt: take the username from `--username` and the password
    /// from the environment (`AUTH_SUPERUSER_PASSWORD` for
    /// `createsuperuser`, `AUTH_USER_PASSWORD` for `createuser`); without
    /// it the account gets an unusable password (it cannot log in until one
    /// is set with `changepassword`).
    #[arg(long = "noinput", visible_alias = "no-input")]
    pub(crate) noinput: bool,
    /// The model's extra fields given as options (`--display-name`), by
    /// field name.
    #[arg(skip)]
    pub(crate) fields: Vec<(String, String)>,
}

impl CreateUserArgs {
    /// The value given for extra field `name`, if any.
    pub(crate) fn field(&self, name: &str) -> Option<&str> {
        self.fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.as_str())
    }
}

/// The option spelling of a field (`display_name` → `display-name`).
fn option_name(field: &str) -> String {
    field.replace('_', "-")
}

/// Options the built-in user commands already have.
const BUILT_IN_OPTIONS: [&str; 6] = [
    "username", "email", "noinput", "no-input", "inactive", "staff",
];

impl Cli {
    /// The built-in command line with user model `U`'s extra fields as
    /// options of `createsuperuser` and `createuser`.
    pub(crate) fn command_for<U: AuthUser>() -> clap::Command {
        let mut command = Cli::command();
        for name in ["createsuperuser", "createuser"] {
            command = command.mut_subcommand(name, |mut sub| {
                for field in U::META.fields {
                    let option = option_name(field.name);
                    if BUILT_IN_OPTIONS.contains(&option.as_str()) {
                        continue;
                    }
                    let help = if field.required {
                        format!("{} (required)", field.label)
                    } else {
                        field.label.to_owned()
                    };
                    sub = sub.arg(
                        Arg::new(field.name)
                            .long(option)
                            .value_name("VALUE")
                            .help(help),
                    );
                }
                sub
            });
        }
        command
    }

    fn from_matches<U: AuthUser>(matches: &ArgMatches) -> Result<Self, clap::Error> {
        let mut cli = Cli::from_arg_matches(matches)?;
        let sub = matches.subcommand();
        let args = match &mut cli.command {
            Some(Command::Createsuperuser(args)) | Some(Command::Createuser { args, .. }) => args,
            _ => return Ok(cli),
        };
        if let Some((_, sub)) = sub {
            for field in U::META.fields {
                if let Ok(Some(value)) = sub.try_get_one::<String>(field.name) {
                    args.fields.push((field.name.to_owned(), value.clone()));
                }
            }
        }
        Ok(cli)
    }
}

/// A command's future (commands run on the main task: no `Send` needed).
type Handler<U> =
    Box<dyn FnOnce(Auth<U>, ArgMatches) -> LocalBoxFuture<'static, Result<(), CommandError>>>;

/// The management command line of an app (Django's `ManagementUtility`):
/// the built-in commands, the model's extra fields as options, and the
/// app's own commands.
pub struct Management<U> {
    builder: AuthBuilder<U>,
    /// The feature apps' commands (`mfa`, `listsessions`, `events`, …).
    features: Vec<FeatureCommand<U>>,
    /// The app's own.
    commands: Vec<(clap::Command, Handler<U>)>,
}

impl<U> std::fmt::Debug for Management<U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let names: Vec<&str> = self.commands.iter().map(|(c, _)| c.get_name()).collect();
        f.debug_struct("Management")
            .field("commands", &names)
            .finish_non_exhaustive()
    }
}

impl<U: AuthUser> Management<U> {
    /// The built-in commands, for the app `builder` builds.
    pub fn new(builder: AuthBuilder<U>) -> Self {
        Management {
            builder,
            features: crate::feature_commands(),
            commands: Vec::new(),
        }
    }

    /// Adds an app command: `command` declares its name, help and
    /// arguments (clap's builder, or `YourArgs::command()` from a derive);
    /// `handler` runs it with the built [`Auth`] and the parsed arguments.
    pub fn command<F, Fut>(mut self, command: clap::Command, handler: F) -> Self
    where
        F: FnOnce(Auth<U>, ArgMatches) -> Fut + 'static,
        Fut: Future<Output = Result<(), CommandError>> + 'static,
    {
        let handler: Handler<U> = Box::new(move |auth, args| Box::pin(handler(auth, args)));
        self.commands.push((command, handler));
        self
    }

    /// The whole command line: built-ins with the model's fields, the
    /// feature apps' commands, then the app's.
    pub fn command_line(&self) -> clap::Command {
        self.commands
            .iter()
            .fold(built_in_line(&self.features), |line, (command, _)| {
                line.subcommand(command.clone())
            })
    }

    /// Parses the process arguments, builds `Auth` and runs the command;
    /// `serve` calls `serve(auth, bind)`. Returns the process exit code.
    pub async fn run<F, Fut>(self, serve: F) -> ExitCode
    where
        F: FnOnce(Auth<U>, SocketAddr) -> Fut,
        Fut: Future<Output = crate::kernel::error::Result<()>>,
    {
        init_tracing();
        let matches = match self.command_line().try_get_matches() {
            Ok(matches) => matches,
            Err(err) => err.exit(),
        };
        let mut prompt = TerminalPrompt;
        let mut out = io::stdout();
        match self.dispatch(matches, serve, &mut prompt, &mut out).await {
            Ok(()) => ExitCode::SUCCESS,
            Err(err @ CommandError::SystemCheck(_)) => {
                eprintln!("{err}");
                ExitCode::FAILURE
            }
            Err(err) => {
                eprintln!("Error: {err}");
                ExitCode::FAILURE
            }
        }
    }

    /// As [`Management::run`], with the arguments (program name first),
    /// prompt and output given: for tests.
    pub async fn run_with<I, T, F, Fut>(
        self,
        args: I,
        serve: F,
        prompt: &mut dyn Prompt,
        out: &mut dyn Write,
    ) -> Result<(), CommandError>
    where
        I: IntoIterator<Item = T>,
        T: Into<OsString> + Clone,
        F: FnOnce(Auth<U>, SocketAddr) -> Fut,
        Fut: Future<Output = crate::kernel::error::Result<()>>,
    {
        let matches = self
            .command_line()
            .try_get_matches_from(args)
            .map_err(|e| CommandError::Usage(e.to_string()))?;
        self.dispatch(matches, serve, prompt, out).await
    }

    async fn dispatch<F, Fut>(
        mut self,
        matches: ArgMatches,
        serve: F,
        prompt: &mut dyn Prompt,
        out: &mut dyn Write,
    ) -> Result<(), CommandError>
    where
        F: FnOnce(Auth<U>, SocketAddr) -> Fut,
        Fut: Future<Output = crate::kernel::error::Result<()>>,
    {
        if let Some((name, sub)) = matches.subcommand()
            && let Some(index) = self.commands.iter().position(|(c, _)| c.get_name() == name)
        {
            let (_, handler) = self.commands.swap_remove(index);
            let auth = self.builder.build().await?;
            return handler(auth, sub.clone()).await;
        }
        let features = std::mem::take(&mut self.features);
        let auth = self.builder.build().await?;
        let cli = match run_feature(&auth, &features, &matches, out).await {
            Some(done) => return done,
            None => {
                Cli::from_matches::<U>(&matches).map_err(|e| CommandError::Usage(e.to_string()))?
            }
        };
        match cli.command.unwrap_or(Command::Serve {
            bind: ([127, 0, 0, 1], 8000).into(),
        }) {
            Command::Serve { bind } => {
                let report = checks::run_checks(&auth, Scope::serve(bind));
                if report.has_errors() {
                    return Err(CommandError::SystemCheck(report));
                }
                for warning in report.warnings() {
                    tracing::warn!("{warning}");
                }
                serve(auth, bind).await.map_err(CommandError::from)
            }
            other => execute(&auth, other, prompt, out).await,
        }
    }
}

/// The built-in command line: the core's commands with user model `U`'s
/// extra fields, then the feature apps' commands.
fn built_in_line<U: AuthUser>(features: &[FeatureCommand<U>]) -> clap::Command {
    features
        .iter()
        .fold(Cli::command_for::<U>(), |line, feature| {
            line.subcommand((feature.command)())
        })
}

/// Runs the feature app command `matches` names, if it is one.
async fn run_feature<U: AuthUser>(
    auth: &Auth<U>,
    features: &[FeatureCommand<U>],
    matches: &ArgMatches,
    out: &mut dyn Write,
) -> Option<Result<(), CommandError>> {
    let (name, args) = matches.subcommand()?;
    let feature = features
        .iter()
        .find(|feature| (feature.command)().get_name() == name)?;
    Some((feature.run)(auth, args, out).await)
}

/// Runs management command `args` on `auth` (Django's `call_command`):
/// its name first, then its arguments as on the command line
/// (`["changepassword", "alice"]`), reading answers from `prompt` and
/// writing to `out`. The built-in commands and the feature apps'; not
/// `serve`, nor the app's own (run those through [`Management`]).
///
/// ```no_run
/// # #[derive(Clone, Debug, auth::AuthUser)]
/// # struct User { #[auth(base)] base: auth::AbstractUser }
/// # async fn example(auth: auth::Auth<User>) -> Result<(), auth::cli::CommandError> {
/// let mut out = Vec::new();
/// auth::cli::call_command(&auth, ["clearsessions"], &mut auth::cli::TerminalPrompt, &mut out)
///     .await?;
/// assert!(String::from_utf8_lossy(&out).starts_with("Deleted"));
/// # Ok(())
/// # }
/// ```
pub async fn call_command<U, I, T>(
    auth: &Auth<U>,
    args: I,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
) -> Result<(), CommandError>
where
    U: AuthUser,
    I: IntoIterator<Item = T>,
    T: Into<OsString>,
{
    let features = crate::feature_commands::<U>();
    let args = std::iter::once(OsString::from("app")).chain(args.into_iter().map(Into::into));
    let matches = built_in_line(&features)
        .try_get_matches_from(args)
        .map_err(|e| CommandError::Usage(e.to_string()))?;
    if let Some(done) = run_feature(auth, &features, &matches, out).await {
        return done;
    }
    let cli = Cli::from_matches::<U>(&matches).map_err(|e| CommandError::Usage(e.to_string()))?;
    match cli.command {
        None | Some(Command::Serve { .. }) => Err(CommandError::Usage(
            "`serve` is run by `cli::run` or `Management::run`".into(),
        )),
        Some(command) => execute(auth, command, prompt, out).await,
    }
}

/// Parses the process arguments, builds `Auth` and runs the command;
/// `serve` calls `serve(auth, bind)`. Returns the process exit code. The
/// same as `Management::new(builder).run(serve)`.
pub async fn run<U, F, Fut>(builder: AuthBuilder<U>, serve: F) -> ExitCode
where
    U: AuthUser,
    F: FnOnce(Auth<U>, SocketAddr) -> Fut,
    Fut: Future<Output = crate::kernel::error::Result<()>>,
{
    Management::new(builder).run(serve).await
}

/// Logs to stderr, filtered by `RUST_LOG` (default [`DEFAULT_LOG_FILTER`]).
/// Does nothing if a subscriber is already installed.
pub fn init_tracing() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(io::stderr)
        .try_init();
}

/// The log filter without `RUST_LOG`: `info`, but not the database
/// driver's notices, nor tower-sessions' warning for a session cookie the
/// store no longer has (an expired or logged-out session replayed: the
/// request is simply anonymous). An app with its own subscriber can use it
/// too.
pub const DEFAULT_LOG_FILTER: &str =
    "info,sqlx::postgres::notice=warn,tower_sessions_core::session=error";

/// Runs one built-in management command (not `serve`) with the given
/// prompt and output; `run` uses the terminal, tests script it.
pub(crate) async fn execute<U>(
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
        Command::Check { deploy } => {
            let report = checks::run_checks(auth, Scope::check(deploy));
            if report.has_errors() {
                return Err(CommandError::SystemCheck(report));
            }
            writeln!(out, "{report}")?;
            Ok(())
        }
        Command::Migrate => {
            let done = auth.migrate().await?;
            writeln!(out, "{done}")?;
            Ok(())
        }
        Command::Createsuperuser(args) => {
            let email = args
                .email
                .clone()
                .or_else(|| std::env::var(SUPERUSER_EMAIL_ENV).ok());
            let env = NoInputEnv {
                password: SUPERUSER_PASSWORD_ENV,
                field_prefix: "AUTH_SUPERUSER_",
            };
            let mut user = gather_new_user(auth, args, email, env, prompt, out).await?;
            user.base_mut().is_staff = true;
            user.base_mut().is_superuser = true;
            auth.users().insert(user).await?;
            writeln!(out, "Superuser created successfully.")?;
            Ok(())
        }
        Command::Createuser {
            args,
            inactive,
            staff,
        } => {
            let email = args.email.clone();
            let env = NoInputEnv {
                password: USER_PASSWORD_ENV,
                field_prefix: "AUTH_USER_",
            };
            let mut user = gather_new_user(auth, args, email, env, prompt, out).await?;
            user.base_mut().is_active = !inactive;
            user.base_mut().is_staff = staff;
            auth.users().insert(user).await?;
            writeln!(out, "User created successfully.")?;
            Ok(())
        }
        Command::Changepassword { username } => change_password(auth, username, prompt, out).await,
        Command::Clearsessions => {
            let deleted = auth.clear_expired_sessions().await?;
            writeln!(out, "Deleted {deleted} expired session(s).")?;
            // And what the feature apps keep for a while (old events).
            for prune in auth.shared.apps.iter().filter_map(|app| app.prune) {
                let pruned = (prune.run)(&auth.shared).await?;
                if pruned > 0 {
                    writeln!(out, "Deleted {pruned} {}.", prune.what)?;
                }
            }
            Ok(())
        }
        Command::Deactivateuser { username } => {
            users::set_active(auth, &username, false, out).await
        }
        Command::Activateuser { username } => users::set_active(auth, &username, true, out).await,
        Command::Creategroup { name, perms } => {
            permissions::create_group(auth, &name, &perms, out).await
        }
        Command::Addtogroup { username, group } => {
            Change::AddToGroup { username, group }.run(auth, out).await
        }
        Command::Removefromgroup { username, group } => {
            Change::RemoveFromGroup { username, group }
                .run(auth, out)
                .await
        }
        Command::Grant {
            username,
            permission,
        } => {
            Change::Grant {
                username,
                perm: permission,
            }
            .run(auth, out)
            .await
        }
        Command::Revoke {
            username,
            permission,
        } => {
            Change::Revoke {
                username,
                perm: permission,
            }
            .run(auth, out)
            .await
        }
        Command::Grantgroup { group, permission } => {
            Change::GrantGroup {
                group,
                perm: permission,
            }
            .run(auth, out)
            .await
        }
        Command::Listperms { username } => permissions::list(auth, username.as_deref(), out).await,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

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
        let cli = Cli::try_parse_from(["app", "createuser", "--staff", "--username", "s"]).unwrap();
        assert!(matches!(
            cli.command,
            Some(Command::Createuser { staff: true, .. })
        ));
    }
}
