//! The `permissions!` blocks linked into the binary, collected at start-up
//! (with `inventory`): the system checks hold them against the builder's
//! configuration, and an unknown permission's message names the block that
//! declares it.

use super::Permission;

/// A `permissions!` block. Made by the macro; not a public API.
#[doc(hidden)]
pub struct PermissionsDeclaration {
    /// The module the block declares (`crate::perms`).
    pub module: &'static str,
    /// Its permissions.
    pub all: &'static [Permission],
}

inventory::collect!(PermissionsDeclaration);

/// The module of the `permissions!` block that declares `name`, if any.
pub(crate) fn declared_in(name: &str) -> Option<&'static str> {
    inventory::iter::<PermissionsDeclaration>
        .into_iter()
        .find(|block| block.all.iter().any(|perm| perm.to_string() == name))
        .map(|block| block.module)
}

/// Every `permissions!` block in the binary, in a stable order.
pub(crate) fn permission_blocks() -> Vec<&'static PermissionsDeclaration> {
    let mut all: Vec<_> = inventory::iter::<PermissionsDeclaration>
        .into_iter()
        .collect();
    all.sort_by_key(|block| block.module);
    all
}
