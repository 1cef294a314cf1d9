//! The group and permission commands: `creategroup`, `addtogroup`,
//! `removefromgroup`, `grant`, `revoke`, `grantgroup` and `listperms`
//! (what Django's admin does for groups and permissions, from a script).
//! An unknown user, group or permission is a usage error (exit status 1).

use std::io::Write;

use super::CommandError;
use crate::{Auth, AuthUser, Error};

/// The user named `username`, or a usage error saying it does not exist.
async fn user<U: AuthUser>(auth: &Auth<U>, username: &str) -> Result<U, CommandError> {
    auth.users()
        .get_by_username(username)
        .await?
        .ok_or_else(|| CommandError::Usage(format!("User '{username}' does not exist.")))
}

/// Runtime refusals (unknown group or permission, a duplicate group) are
/// usage errors; the rest stays a runtime failure.
fn usage(err: Error) -> CommandError {
    match err {
        Error::Invalid(message) => CommandError::Usage(message),
        other => CommandError::Runtime(other),
    }
}

/// `creategroup NAME [--perm APP.CODENAME]...`: the group is created only
/// when every permission exists.
pub(super) async fn create_group<U: AuthUser>(
    auth: &Auth<U>,
    name: &str,
    perms: &[String],
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let known = auth.permissions().all().await?;
    for perm in perms {
        let exists = known
            .iter()
            .any(|(app, codename, _)| perm.split_once('.') == Some((app, codename)));
        if !exists {
            return Err(CommandError::Usage(format!(
                "Permission {perm} does not exist."
            )));
        }
    }
    auth.permissions().create_group(name).await.map_err(usage)?;
    for perm in perms {
        auth.permissions()
            .grant_group(name, perm.as_str())
            .await
            .map_err(usage)?;
    }
    writeln!(out, "Group '{name}' created.")?;
    Ok(())
}

/// `addtogroup USERNAME GROUP`.
pub(super) async fn add_to_group<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    group: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    if auth
        .permissions()
        .add_to_group(&user, group)
        .await
        .map_err(usage)?
    {
        writeln!(out, "Added '{username}' to group '{group}'.")?;
    } else {
        writeln!(out, "'{username}' is already in group '{group}'.")?;
    }
    Ok(())
}

/// `removefromgroup USERNAME GROUP`.
pub(super) async fn remove_from_group<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    group: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    if auth
        .permissions()
        .remove_from_group(&user, group)
        .await
        .map_err(usage)?
    {
        writeln!(out, "Removed '{username}' from group '{group}'.")?;
    } else {
        writeln!(out, "'{username}' was not in group '{group}'.")?;
    }
    Ok(())
}

/// `grant USERNAME APP.CODENAME`.
pub(super) async fn grant<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    perm: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    if auth.permissions().grant(&user, perm).await.map_err(usage)? {
        writeln!(out, "Granted {perm} to '{username}'.")?;
    } else {
        writeln!(out, "'{username}' already had {perm}.")?;
    }
    Ok(())
}

/// `revoke USERNAME APP.CODENAME`.
pub(super) async fn revoke<U: AuthUser>(
    auth: &Auth<U>,
    username: &str,
    perm: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    let user = user(auth, username).await?;
    if auth
        .permissions()
        .revoke(&user, perm)
        .await
        .map_err(usage)?
    {
        writeln!(out, "Revoked {perm} from '{username}'.")?;
    } else {
        writeln!(out, "'{username}' did not have {perm} directly.")?;
    }
    Ok(())
}

/// `grantgroup GROUP APP.CODENAME`.
pub(super) async fn grant_group<U: AuthUser>(
    auth: &Auth<U>,
    group: &str,
    perm: &str,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    if auth
        .permissions()
        .grant_group(group, perm)
        .await
        .map_err(usage)?
    {
        writeln!(out, "Granted {perm} to group '{group}'.")?;
    } else {
        writeln!(out, "Group '{group}' already had {perm}.")?;
    }
    Ok(())
}

/// `listperms [USERNAME]`: every permission that exists (`app.codename`
/// and its description), or a user's effective ones (one per line).
pub(super) async fn list<U: AuthUser>(
    auth: &Auth<U>,
    username: Option<&str>,
    out: &mut dyn Write,
) -> Result<(), CommandError> {
    match username {
        None => {
            for (app, codename, name) in auth.permissions().all().await? {
                writeln!(out, "{app}.{codename}\t{name}")?;
            }
        }
        Some(username) => {
            let user = user(auth, username).await?;
            for perm in auth.permissions().of(&user).await?.get_all_permissions() {
                writeln!(out, "{perm}")?;
            }
        }
    }
    Ok(())
}
