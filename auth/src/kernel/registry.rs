//! What the macros declare, collected at start-up from every crate linked
//! into the binary (with `inventory`): each guarded handler and each
//! `auth_urls!` table (a `permissions!` block's declaration is
//! `permissions/declared.rs`). The checks hold them against the builder's
//! configuration, which the compiler cannot.

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

/// An `auth_urls!` block. Made by the macro; not a public API.
#[doc(hidden)]
pub struct UrlsDeclaration {
    /// The module it generates (`crate::urls`).
    pub module: &'static str,
    /// Its routes (the module's `URLCONF`).
    pub urls: crate::urls::Urls,
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
