//! The auth URLs the app declared with `auth_urls!` (Django's URLconf, as
//! far as settings need it): `urls::router()` records them here, so
//! settings left unset follow them (`login_url` defaults to the declared
//! login route).

use std::sync::RwLock;

/// One declared route: its name, path and built-in view.
#[doc(hidden)]
#[derive(Clone, Copy, Debug)]
pub struct Declared {
    /// The URL name (`login`).
    pub name: &'static str,
    /// The path (`/login/`).
    pub path: &'static str,
    /// The view type (`LoginView`).
    pub view: &'static str,
}

static DECLARED: RwLock<&'static [Declared]> = RwLock::new(&[]);

/// Records the routes of an `auth_urls!` router being built (the last one
/// built wins). Called by the generated `router()`.
#[doc(hidden)]
pub fn declare(routes: &'static [Declared]) {
    *DECLARED.write().unwrap_or_else(|p| p.into_inner()) = routes;
}

/// The path of the declared route served by `view`, if any.
pub(crate) fn declared_view(view: &str) -> Option<&'static str> {
    DECLARED
        .read()
        .unwrap_or_else(|p| p.into_inner())
        .iter()
        .find(|route| route.view == view)
        .map(|route| route.path)
}
