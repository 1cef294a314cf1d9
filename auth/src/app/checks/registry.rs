//! What the macros declare, collected at start-up from every crate linked
//! into the binary (with `inventory`): each guarded handler, and each
//! `permissions!` block. The checks hold them against the builder's
//! configuration, which the compiler cannot.

use crate::Permission;

/// A handler guarded with `#[login_required]`, `#[permission_required]` or
/// `#[user_passes_test]`. Made by the macros; not a public API.
#[doc(hidden)]
pub struct GuardDeclaration {
    /// `module::handler`.
    pub handler: &'static str,
    /// The attribute's name.
    pub guard: &'static str,
    /// The `login_url` it was given, if any.
    pub login_url: fn() -> Option<&'static str>,
    /// The permissions it requires (`app_label.codename`).
    pub permissions: fn() -> Vec<String>,
}

inventory::collect!(GuardDeclaration);

/// A `permissions!` block. Made by the macro; not a public API.
#[doc(hidden)]
pub struct PermissionsDeclaration {
    /// The module the block declares (`crate::perms`).
    pub module: &'static str,
    /// Its permissions.
    pub all: &'static [Permission],
}

inventory::collect!(PermissionsDeclaration);

/// An `auth_urls!` block. Made by the macro; not a public API.
#[doc(hidden)]
pub struct UrlsDeclaration {
    /// The module it generates (`crate::urls`).
    pub module: &'static str,
    /// Its routes (the module's `URLCONF`).
    pub urls: crate::Urls,
}

inventory::collect!(UrlsDeclaration);

/// Every `auth_urls!` block in the binary, in a stable order.
pub(crate) fn url_blocks() -> Vec<&'static UrlsDeclaration> {
    let mut all: Vec<_> = inventory::iter::<UrlsDeclaration>.into_iter().collect();
    all.sort_by_key(|block| block.module);
    all
}

/// Every guarded handler in the binary, in a stable order.
pub(crate) fn guards() -> Vec<&'static GuardDeclaration> {
    let mut all: Vec<_> = inventory::iter::<GuardDeclaration>.into_iter().collect();
    all.sort_by_key(|guard| guard.handler);
    all
}

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
