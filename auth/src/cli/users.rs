//! `createsuperuser`, `createuser` and `changepassword`, with Django's
//! prompts and messages, and the model's required fields (Django's
//! `REQUIRED_FIELDS`).

use std::io::Write;

use super::{
    CreateUserArgs, Prompt,
    support::{CommandError, user},
};
use crate::{
    app::Auth,
    kernel::error::ValidationError,
    user::validate_username,
    user::{AbstractUser, AuthUser},
};

/// Where `--noinput` reads what the options do not give: the password
/// variable and the prefix of the field variables
/// (`AUTH_SUPERUSER_DISPLAY_NAME`).
pub(super) struct NoInputEnv {
    pub password: &'static str,
    pub field_prefix: &'static str,
}

/// Asks for (or checks) a new user's username, email, extra fields and
/// password, and returns the unsaved user.
pub(super) async fn gather_new_user<U>(
    auth: &Auth<U>,
    args: CreateUserArgs,
    email: Option<String>,
    env: NoInputEnv,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
) -> Result<U, CommandError>
where
    U: AuthUser,
{
    if args.noinput {
        let Some(username) = args.username.clone() else {
            return Err(CommandError::Usage(
                "You must use --username with --noinput.".into(),
            ));
        };
        let username = crate::user::normalize_username(&username);
        check_new_username(auth, &username).await?;
        let password = std::env::var(env.password).ok();
        if password.is_none() {
            eprintln!(
                "Warning: {} is not set; '{username}' gets an unusable password and cannot \
                 log in until one is set with `changepassword {username}`.",
                env.password
            );
        }
        let mut user = auth
            .users()
            .new_user(&username, &email.unwrap_or_default(), password.as_deref())
            .await?;
        for field in U::META.fields {
            let given = args.field(field.name).map(str::to_owned).or_else(|| {
                std::env::var(format!("{}{}", env.field_prefix, field.name.to_uppercase())).ok()
            });
            match given {
                Some(raw) => set_field(auth, &mut user, field.name, &raw).await?,
                None if field.required => {
                    return Err(CommandError::Usage(format!(
                        "You must use --{} with --noinput (or set {}{}).",
                        field.name.replace('_', "-"),
                        env.field_prefix,
                        field.name.to_uppercase()
                    )));
                }
                None => {}
            }
        }
        return Ok(user);
    }
    if !prompt.is_interactive() {
        return Err(CommandError::Usage(
            "Not running in a TTY. Use --noinput with --username, and the password in the environment."
                .into(),
        ));
    }
    let username = match args.username.clone() {
        Some(given) => {
            let username = crate::user::normalize_username(&given);
            check_new_username(auth, &username).await?;
            username
        }
        None => ask_username(auth, prompt, out).await?,
    };
    let email = match email {
        Some(email) => email,
        None => prompt.line("Email address: ")?,
    };
    let mut user = auth.users().new_user(&username, &email, None).await?;
    for field in U::META.fields {
        if let Some(raw) = args.field(field.name) {
            set_field(auth, &mut user, field.name, raw).await?;
            continue;
        }
        if !field.required {
            continue;
        }
        loop {
            let raw = prompt.line(&format!("{}: ", field.label))?;
            if raw.trim().is_empty() {
                writeln!(out, "Error: This field cannot be blank.")?;
                continue;
            }
            match set_field(auth, &mut user, field.name, &raw).await {
                Ok(()) => break,
                Err(CommandError::Usage(message)) => writeln!(out, "Error: {message}")?,
                Err(other) => return Err(other),
            }
        }
    }
    let password = ask_password(auth, user.base(), prompt, out).await?;
    auth.users().hash_into(&mut user, &password).await?;
    Ok(user)
}

/// Sets an extra field from text, refusing values of the wrong type and
/// values a unique field already has.
async fn set_field<U: AuthUser>(
    auth: &Auth<U>,
    user: &mut U,
    name: &str,
    raw: &str,
) -> Result<(), CommandError> {
    U::META.set(user, name, raw).map_err(|e| usage(name, &e))?;
    if auth.users().extra_taken(user, name).await? {
        return Err(CommandError::Usage(format!(
            "That {} is already taken.",
            name.replace('_', " ")
        )));
    }
    Ok(())
}

fn usage(name: &str, error: &ValidationError) -> CommandError {
    CommandError::Usage(format!("{}: {error}", name.replace('_', " ")))
}

async fn ask_username<U: AuthUser>(
    auth: &Auth<U>,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
) -> Result<String, CommandError> {
    loop {
        let default = default_username(auth).await;
        let question = match &default {
            Some(d) => format!("Username (leave blank to use '{d}'): "),
            None => "Username: ".to_owned(),
        };
        let answer = crate::user::normalize_username(&prompt.line(&question)?);
        let candidate = match (answer.is_empty(), &default) {
            (true, Some(d)) => d.clone(),
            (true, None) => {
                writeln!(out, "Error: Username cannot be blank.")?;
                continue;
            }
            (false, _) => answer,
        };
        match check_new_username(auth, &candidate).await {
            Ok(()) => return Ok(candidate),
            Err(CommandError::Usage(msg)) => writeln!(out, "Error: {msg}")?,
            Err(other) => return Err(other),
        }
    }
}

async fn ask_password<U: AuthUser>(
    auth: &Auth<U>,
    candidate: &AbstractUser,
    prompt: &mut dyn Prompt,
    out: &mut dyn Write,
) -> Result<String, CommandError> {
    loop {
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
        if let Err(errors) = auth
            .users()
            .validate_password(&first, Some(candidate))
            .await
        {
            for error in errors {
                writeln!(out, "{error}")?;
            }
            let answer =
                prompt.line("Bypass password validation and create user anyway? [y/N]: ")?;
            if !answer.trim().to_lowercase().starts_with('y') {
                continue;
            }
        }
        return Ok(first);
    }
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
    if auth.users().get_by_username(username).await?.is_some() {
        return Err(CommandError::Usage(
            "That username is already taken.".into(),
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
    match auth.users().get_by_username(&name).await {
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

pub(super) async fn change_password<U>(
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
    let Some(mut user) = auth.users().get_by_username(&username).await? else {
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
        if let Err(errors) = auth.users().validate_password(&second, Some(&user)).await {
            for error in errors {
                writeln!(out, "{error}")?;
            }
            continue;
        }
        auth.users().set_password(&mut user, &first).await?;
        writeln!(out, "Password changed successfully for user '{username}'")?;
        return Ok(());
    }
    Err(CommandError::Usage(format!(
        "Aborting password change for user '{username}' after {MAX_TRIES} attempts"
    )))
}

/// `deactivateuser` / `activateuser USERNAME`: sets `is_active`; a
/// deactivated user's sessions end.
pub(super) async fn set_active<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    active: bool,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let mut user = user(auth, username).await?;
    user.base_mut().is_active = active;
    auth.users().save(user).await?;
    let done = if active { "activated" } else { "deactivated" };
    writeln!(out, "User '{username}' {done}.")?;
    Ok(())
}
