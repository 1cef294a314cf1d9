//! [`PermissionAdmin`]: editing groups and permissions (what Django's admin
//! and `PermissionsMixin` do), from [`Auth::permissions`](crate::Auth::permissions).
//! Every query runs
//! under the database timeout.

use std::sync::Arc;

use crate::apps::Shared;
use crate::{
    kernel::error::Result,
    permissions::{
        PermissionName, UserPermissions,
        tables::{self, Link},
    },
    user::AuthUser,
    user::erased::LoadedUser,
};

/// Groups and permissions of an app, from
/// [`Auth::permissions`](crate::Auth::permissions).
pub struct PermissionAdmin<'a, U> {
    shared: &'a Arc<Shared>,
    _user: std::marker::PhantomData<fn() -> U>,
}

impl<U> std::fmt::Debug for PermissionAdmin<'_, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PermissionAdmin").finish_non_exhaustive()
    }
}

impl<'a, U: AuthUser> PermissionAdmin<'a, U> {
    pub(crate) fn new(shared: &'a Arc<Shared>) -> Self {
        PermissionAdmin {
            shared,
            _user: std::marker::PhantomData,
        }
    }

    /// `user`'s permissions from every backend, loaded in one query each
    /// (Django's `get_all_permissions` and friends; within a request,
    /// prefer the [`UserPermissions`] extractor, loaded once per request).
    pub async fn of(&self, user: &U) -> Result<UserPermissions> {
        let loaded: LoadedUser = Arc::new(user.clone());
        self.shared.backends.permissions(self.shared, &loaded).await
    }

    /// Whether `user` has `perm` (Django's `user.has_perm`).
    pub async fn has_perm(&self, user: &U, perm: impl PermissionName) -> Result<bool> {
        Ok(self.of(user).await?.has_perm(perm))
    }

    /// Every permission that exists, as `(app_label, codename, name)`,
    /// sorted.
    pub async fn all(&self) -> Result<Vec<(String, String, String)>> {
        let db = &self.shared.db;
        db.run(tables::all_permissions(db.conn())).await
    }

    /// Creates group `name` (an error when it exists).
    pub async fn create_group(&self, name: &str) -> Result<()> {
        let db = &self.shared.db;
        db.run(tables::create_group(db.conn(), name))
            .await
            .map(|_| ())
    }

    /// Deletes group `name`: its members lose what it gave them; whether
    /// it existed.
    pub async fn delete_group(&self, name: &str) -> Result<bool> {
        let db = &self.shared.db;
        db.run(tables::delete_group(db.conn(), name)).await
    }

    /// Grants `perm` to group `group`; whether it was new.
    pub async fn grant_group(&self, group: &str, perm: impl PermissionName) -> Result<bool> {
        let (group, perm) = (self.group(group).await?, self.permission(perm).await?);
        self.link(Link::GroupPermission, group, perm).await
    }

    /// Puts `user` in group `group`; whether it was new.
    pub async fn add_to_group(&self, user: &U, group: &str) -> Result<bool> {
        let group = self.group(group).await?;
        self.link(Link::UserGroup, user.id, group).await
    }

    /// Takes `user` out of group `group`; whether they were in it.
    pub async fn remove_from_group(&self, user: &U, group: &str) -> Result<bool> {
        let group = self.group(group).await?;
        self.unlink(Link::UserGroup, user.id, group).await
    }

    /// Grants `perm` to `user` directly; whether it was new.
    pub async fn grant(&self, user: &U, perm: impl PermissionName) -> Result<bool> {
        let perm = self.permission(perm).await?;
        self.link(Link::UserPermission, user.id, perm).await
    }

    /// Takes `perm` back from `user` (what they have through groups stays);
    /// whether they had it directly.
    pub async fn revoke(&self, user: &U, perm: impl PermissionName) -> Result<bool> {
        let perm = self.permission(perm).await?;
        self.unlink(Link::UserPermission, user.id, perm).await
    }

    async fn group(&self, name: &str) -> Result<i64> {
        let db = &self.shared.db;
        db.run(tables::group_id(db.conn(), name)).await
    }

    async fn permission(&self, perm: impl PermissionName) -> Result<i64> {
        let db = &self.shared.db;
        db.run(tables::permission_id(db.conn(), &perm.permission_name()))
            .await
    }

    async fn link(&self, link: Link, left: i64, right: i64) -> Result<bool> {
        let (db, links) = (&self.shared.db, &self.shared.permissions.links);
        db.run(link.row(links, left, right).add(db.conn())).await
    }

    async fn unlink(&self, link: Link, left: i64, right: i64) -> Result<bool> {
        let (db, links) = (&self.shared.db, &self.shared.permissions.links);
        db.run(link.row(links, left, right).remove(db.conn())).await
    }
}
