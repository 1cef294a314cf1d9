//! Groups and permissions (Django's `Permission`, `Group`,
//! `PermissionsMixin` and the permission lookups of `ModelBackend`).
//!
//! A permission is an app label and a codename (`accounts.view_report`).
//! Users get permissions directly or through their groups; an active
//! superuser has every permission, an inactive user none. Declare an app's
//! permissions with [`permissions!`](crate::permissions!) and give the list
//! to [`AuthBuilder::permissions`](crate::AuthBuilder::permissions): `migrate`
//! inserts those missing (and the four default permissions of the user
//! model, `add_/change_/delete_/view_<model>`), never deleting any.
//!
//! Within a request, a user's permissions are loaded once, on first use
//! (one query), and every later check reuses them.

pub(crate) mod declared;
pub(crate) mod name;
pub(crate) mod tables;
pub(crate) mod user_permissions;

pub use name::{Permission, PermissionName};
pub use user_permissions::UserPermissions;
