//! The auth URLs an app declared with `auth_urls!` (Django's URLconf, as
//! far as the runtime needs it): the macro makes `urls::URLCONF`, the
//! builder takes it (`.urls(urls::URLCONF)`), and what is left unset
//! follows it: the login URL is the declared `LoginView`'s path, the login
//! page links to the declared `PasswordResetView`.

/// The query parameter that carries the page to return to after login
/// (Django's `REDIRECT_FIELD_NAME`).
pub const REDIRECT_FIELD_NAME: &str = "next";

/// One declared route: its name, path and built-in view.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Route {
    /// The URL name (`login`).
    pub name: &'static str,
    /// The path (`/login/`).
    pub path: &'static str,
    /// The view type (`LoginView`).
    pub view: &'static str,
}

/// The auth URLs of an app: what `auth_urls!` declared, as the builder
/// takes it (`.urls(urls::URLCONF)`).
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub struct Urls {
    routes: &'static [Route],
}

impl Urls {
    /// The routes `auth_urls!` declared (the macro calls this).
    pub const fn new(routes: &'static [Route]) -> Self {
        Urls { routes }
    }

    /// Every declared route, in declaration order.
    pub fn routes(&self) -> &'static [Route] {
        self.routes
    }

    /// The path declared under `name` (Django's `reverse`).
    pub fn reverse(&self, name: &str) -> Option<&'static str> {
        self.routes
            .iter()
            .find(|route| route.name == name)
            .map(|route| route.path)
    }

    /// The path of the declared route served by `view` (`LoginView`), if
    /// any.
    pub fn path_of_view(&self, view: &str) -> Option<&'static str> {
        self.routes
            .iter()
            .find(|route| route.view == view)
            .map(|route| route.path)
    }
}
