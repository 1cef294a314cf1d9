//! [`UserPermissions`]: what a user may do (Django's `PermissionsMixin`
//! checks: `has_perm`, `has_perms`, `has_module_perms`,
//! `get_all_permissions`).

use std::{
    collections::BTreeSet,
    sync::{Arc, LazyLock},
};

use super::name::PermissionName;

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

    /// The anonymous user's, shared: one allocation for the process,
    /// not one per request.
    pub(crate) fn anonymous() -> Arc<Self> {
        static ANONYMOUS: LazyLock<Arc<UserPermissions>> =
            LazyLock::new(|| Arc::new(UserPermissions::none()));
        ANONYMOUS.clone()
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

    /// [`has_perm`](Self::has_perm) of `<app_label>.<codename>`, with
    /// the name built only when a set must be searched (templates ask this
    /// of anonymous users on every page).
    pub(crate) fn has_app_perm(&self, app_label: &str, codename: &str) -> bool {
        if !self.active || (!self.superuser && self.user.is_empty() && self.group.is_empty()) {
            return false;
        }
        self.has_perm(format!("{app_label}.{codename}").as_str())
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
    use crate::permissions::name::Permission;

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
}
