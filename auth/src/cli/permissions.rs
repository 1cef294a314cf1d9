//! The group and permission commands: `creategroup`, `addtogroup`,
//! `removefromgroup`, `grant`, `revoke`, `grantgroup` and `listperms`
//! (what Django's admin does for groups and permissions, from a script).
//! An unknown user, group or permission is a usage error (exit status 1).

use std::io::Write;

use super::support::{CommandError, user};
use crate::{app::Auth, kernel::error::Error, user::AuthUser};

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
            return Err(CommandError::Usage(
                crate::permissions::tables::unknown_permission(perm),
            ));
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

/// A command that adds or removes one membership or grant.
pub(super) enum Change {
    /// `addtogroup USERNAME GROUP`.
    AddToGroup { username: String, group: String },
    /// `removefromgroup USERNAME GROUP`.
    RemoveFromGroup { username: String, group: String },
    /// `grant USERNAME APP.CODENAME`.
    Grant { username: String, perm: String },
    /// `revoke USERNAME APP.CODENAME`.
    Revoke { username: String, perm: String },
    /// `grantgroup GROUP APP.CODENAME`.
    GrantGroup { group: String, perm: String },
}

impl Change {
    /// Makes the change and says whether it did, as Django's commands do
    /// (neither answer is an error).
    pub(super) async fn run<U: AuthUser>(
        self,
        auth: &Auth<U>,
        out: &mut dyn Write,
    ) -> Result<(), CommandError> {
        let admin = auth.permissions();
        let (changed, done, unchanged) = match self {
            Change::AddToGroup { username, group } => (
                admin
                    .add_to_group(&user(auth, &username).await?, &group)
                    .await,
                format!("Added '{username}' to group '{group}'."),
                format!("'{username}' is already in group '{group}'."),
            ),
            Change::RemoveFromGroup { username, group } => (
                admin
                    .remove_from_group(&user(auth, &username).await?, &group)
                    .await,
                format!("Removed '{username}' from group '{group}'."),
                format!("'{username}' was not in group '{group}'."),
            ),
            Change::Grant { username, perm } => (
                admin
                    .grant(&user(auth, &username).await?, perm.as_str())
                    .await,
                format!("Granted {perm} to '{username}'."),
                format!("'{username}' already had {perm}."),
            ),
            Change::Revoke { username, perm } => (
                admin
                    .revoke(&user(auth, &username).await?, perm.as_str())
                    .await,
                format!("Revoked {perm} from '{username}'."),
                format!("'{username}' did not have {perm} directly."),
            ),
            Change::GrantGroup { group, perm } => (
                admin.grant_group(&group, perm.as_str()).await,
                format!("Granted {perm} to group '{group}'."),
                format!("Group '{group}' already had {perm}."),
            ),
        };
        let changed = changed.map_err(usage)?;
        writeln!(out, "{}", if changed { done } else { unchanged })?;
        Ok(())
    }
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
