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

pub(crate) mod tables;

use std::{borrow::Cow, collections::BTreeSet, fmt};

/// A permission, as [`permissions!`](crate::permissions!) declares it: the
/// name a compiler can check. Anything that names a permission also takes
/// `"app_label.codename"` (see [`PermissionName`]).
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash)]
pub struct Permission {
    app_label: &'static str,
    codename: &'static str,
    name: &'static str,
}

impl Permission {
    /// A permission `app_label.codename`, described by `name` ("Can view
    /// reports").
    pub const fn new(app_label: &'static str, codename: &'static str, name: &'static str) -> Self {
        Permission {
            app_label,
            codename,
            name,
        }
    }

    /// The app label (`accounts`).
    pub fn app_label(&self) -> &'static str {
        self.app_label
    }

    /// The codename (`view_report`).
    pub fn codename(&self) -> &'static str {
        self.codename
    }

    /// The description (`Can view reports`).
    pub fn name(&self) -> &'static str {
        self.name
    }
}

impl fmt::Display for Permission {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}.{}", self.app_label, self.codename)
    }
}

/// What names a permission: a [`Permission`] constant, or the string
/// `"app_label.codename"` (Django's form).
#[diagnostic::on_unimplemented(
    message = "a permission is named by \"app_label.codename\" or a constant declared with `auth::permissions!`",
    label = "this is a `{Self}`"
)]
pub trait PermissionName {
    /// `app_label.codename`.
    fn permission_name(&self) -> Cow<'_, str>;
}

impl PermissionName for Permission {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PermissionName for &Permission {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Owned(self.to_string())
    }
}

impl PermissionName for str {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PermissionName for &str {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

impl PermissionName for String {
    fn permission_name(&self) -> Cow<'_, str> {
        Cow::Borrowed(self)
    }
}

/// Splits `app_label.codename`; `None` for another shape.
pub(crate) fn split_name(name: &str) -> Option<(&str, &str)> {
    let (app, codename) = name.split_once('.')?;
    (!app.is_empty() && !codename.is_empty() && !codename.contains('.')).then_some((app, codename))
}

/// One user's permissions, loaded together (Django's
/// `get_user_permissions`, `get_group_permissions`, `get_all_permissions`,
/// and the checks on them).
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct UserPermissions {
    active: bool,
    superuser: bool,
    user: BTreeSet<String>,
    group: BTreeSet<String>,
    /// For an active superuser: every permission there is.
    every: BTreeSet<String>,
}

impl UserPermissions {
    /// An anonymous user's: none.
    pub fn none() -> Self {
        UserPermissions::default()
    }

    pub(crate) fn new(
        active: bool,
        superuser: bool,
        user: BTreeSet<String>,
        group: BTreeSet<String>,
        every: BTreeSet<String>,
    ) -> Self {
        UserPermissions {
            active,
            superuser,
            user,
            group,
            every,
        }
    }

    /// Adds what another backend gives.
    pub(crate) fn merge(&mut self, other: UserPermissions) {
        self.active |= other.active;
        self.superuser |= other.superuser;
        self.user.extend(other.user);
        self.group.extend(other.group);
        self.every.extend(other.every);
    }

    /// Whether the user has `perm` (Django's `has_perm`): an active
    /// superuser has every permission, an inactive user none.
    pub fn has_perm(&self, perm: impl PermissionName) -> bool {
        if !self.active {
            return false;
        }
        if self.superuser {
            return true;
        }
        let name = perm.permission_name();
        self.user.contains(name.as_ref()) || self.group.contains(name.as_ref())
    }

    /// Whether the user has all of `perms` (Django's `has_perms`).
    pub fn has_perms<P: PermissionName>(&self, perms: &[P]) -> bool {
        perms
            .iter()
            .all(|perm| self.has_perm(perm.permission_name().as_ref()))
    }

    /// Whether the user has any permission in app `app_label` (Django's
    /// `has_module_perms`).
    pub fn has_module_perms(&self, app_label: &str) -> bool {
        if !self.active {
            return false;
        }
        if self.superuser {
            return true;
        }
        let prefix = format!("{app_label}.");
        self.user
            .iter()
            .chain(&self.group)
            .any(|name| name.starts_with(&prefix))
    }

    /// The permissions granted to the user directly (Django's
    /// `get_user_permissions`): none for an inactive user, all that exist
    /// for an active superuser (as Django's `ModelBackend` answers).
    pub fn get_user_permissions(&self) -> BTreeSet<String> {
        match (self.active, self.superuser) {
            (false, _) => BTreeSet::new(),
            (true, true) => self.every.clone(),
            (true, false) => self.user.clone(),
        }
    }

    /// The permissions the user has through groups (Django's
    /// `get_group_permissions`): none for an inactive user, all that exist
    /// for an active superuser.
    pub fn get_group_permissions(&self) -> BTreeSet<String> {
        match (self.active, self.superuser) {
            (false, _) => BTreeSet::new(),
            (true, true) => self.every.clone(),
            (true, false) => self.group.clone(),
        }
    }

    /// Every permission the user has (Django's `get_all_permissions`): all
    /// that exist for an active superuser.
    pub fn get_all_permissions(&self) -> BTreeSet<String> {
        if !self.active {
            return BTreeSet::new();
        }
        if self.superuser {
            return self.every.clone();
        }
        self.user.union(&self.group).cloned().collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn set(names: &[&str]) -> BTreeSet<String> {
        names.iter().map(|n| n.to_string()).collect()
    }

    #[test]
    fn checks_follow_django() {
        const VIEW: Permission = Permission::new("accounts", "view_report", "Can view reports");
        let plain = UserPermissions::new(
            true,
            false,
            set(&["accounts.view_report"]),
            set(&["blog.add_post"]),
            BTreeSet::new(),
        );
        assert!(plain.has_perm(VIEW));
        assert!(plain.has_perm("blog.add_post"), "through a group");
        assert!(!plain.has_perm("accounts.publish_report"));
        assert!(plain.has_perms(&["accounts.view_report", "blog.add_post"]));
        assert!(!plain.has_perms(&["accounts.view_report", "blog.delete_post"]));
        assert!(plain.has_module_perms("blog"));
        assert!(!plain.has_module_perms("shop"));
        assert_eq!(plain.get_all_permissions().len(), 2);

        let inactive_superuser =
            UserPermissions::new(false, true, set(&["a.b"]), set(&[]), set(&["a.b", "c.d"]));
        assert!(!inactive_superuser.has_perm("a.b"));
        assert!(!inactive_superuser.has_module_perms("a"));
        assert!(inactive_superuser.get_all_permissions().is_empty());
        assert!(inactive_superuser.get_user_permissions().is_empty());

        let superuser = UserPermissions::new(true, true, set(&[]), set(&[]), set(&["a.b", "c.d"]));
        assert!(superuser.has_perm("anything.at_all"));
        assert_eq!(superuser.get_all_permissions(), set(&["a.b", "c.d"]));
        assert!(!UserPermissions::none().has_perm("a.b"));
    }

    #[test]
    fn names_split_into_app_and_codename() {
        assert_eq!(
            split_name("accounts.view_report"),
            Some(("accounts", "view_report"))
        );
        for bad in ["", "accounts", ".view", "accounts.", "a.b.c"] {
            assert_eq!(split_name(bad), None, "{bad:?}");
        }
    }
}
