//! Access guards (Django's `decorators.py`, `mixins.py` and
//! `LoginRequiredMiddleware`): what `#[login_required]` expands to, the
//! extractor behind a handler argument of the user model's type, and
//! [`LoginRequiredLayer`] for whole routers.
//!
//! Anonymous requests get `303 See Other` to the login page with
//! `next=<the requested path>`.

use std::{marker::PhantomData, sync::Arc};

use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::request::Parts;
use tower_layer::Layer;

use crate::{
    guards::layer::{Guard, GuardService, Head},
    login::request::RequestAuth,
    urls::REDIRECT_FIELD_NAME,
    user::AuthUser,
    user::erased::downcast,
};

/// Where `#[login_required]` sends anonymous users; implemented by a
/// hidden type the macro generates per handler.
#[doc(hidden)]
pub trait LoginRedirect: Send + Sync + 'static {
    /// The login URL; `None` means `settings.login_url()`.
    fn login_url() -> Option<&'static str>;
    /// The query parameter carrying the original path (`next`).
    const REDIRECT_FIELD_NAME: &'static str;
}

/// What `login_url = ...` in `#[login_required]` may name: a
/// `&'static str` (a literal, or a const such as `urls::LOGIN`). The
/// message is what the compiler says for anything else.
#[doc(hidden)]
#[diagnostic::on_unimplemented(
    message = "`login_url` takes a string literal or a `&'static str` const such as `urls::LOGIN`",
    label = "this is a `{Self}`, not a `&'static str`"
)]
pub trait LoginUrl {
    /// The URL.
    fn login_url(&self) -> &'static str;
}

impl LoginUrl for &'static str {
    fn login_url(&self) -> &'static str {
        self
    }
}

/// Rejects anonymous requests with `303 See Other` to the login page, with
/// `next=<the requested path>`. `#[login_required]` adds it as the first
/// argument of the handler.
#[doc(hidden)]
pub struct LoginRequired<C>(PhantomData<fn() -> C>);

impl<C> std::fmt::Debug for LoginRequired<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("LoginRequired")
    }
}

impl<S: Send + Sync, C: LoginRedirect> FromRequestParts<S> for LoginRequired<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        match request.user().await {
            Ok(Some(_)) => Ok(LoginRequired(PhantomData)),
            Ok(None) => Err(request.login_redirect(C::login_url(), Some(C::REDIRECT_FIELD_NAME))),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// The logged-in user for a handler argument of the user model's type;
/// anonymous requests are redirected to `settings.login_url`. Called by
/// the `FromRequestParts` impl that `#[derive(AuthUser)]` generates.
#[doc(hidden)]
pub async fn require_user<U: AuthUser>(parts: &mut Parts) -> Result<U, Response> {
    let request = RequestAuth::from_parts(parts)?;
    match request.user().await {
        Ok(user) => match user.and_then(downcast::<U>) {
            Some(user) => Ok(user),
            None => Err(request.login_redirect(None, Some(REDIRECT_FIELD_NAME))),
        },
        Err(err) => Err(err.into_response()),
    }
}

/// Requires a logged-in user for every route it wraps, except exempt paths
/// (Django 5.1's `LoginRequiredMiddleware`). The login URL is always exempt.
/// Put it inside the auth layer:
/// `router.layer(LoginRequiredLayer::new().exempt("/")).layer(auth.layer())`.
#[derive(Clone, Debug, Default)]
pub struct LoginRequiredLayer {
    exact: Vec<String>,
    prefixes: Vec<String>,
    login_url: Option<String>,
}

impl LoginRequiredLayer {
    /// Every route needs a login.
    pub fn new() -> Self {
        Self::default()
    }

    /// `path` is public.
    pub fn exempt(mut self, path: impl Into<String>) -> Self {
        self.exact.push(path.into());
        self
    }

    /// Every path under `prefix` is public, matched by whole segments:
    /// `"/public"` (or `"/public/"`) exempts `/public` and `/public/a.css`,
    /// not `/publicity`.
    pub fn exempt_prefix(mut self, prefix: impl Into<String>) -> Self {
        let prefix = prefix.into();
        self.prefixes.push(prefix.trim_end_matches('/').to_owned());
        self
    }

    /// Redirect to this login URL instead of `settings.login_url`.
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// Whether `path` needs no login (the login page itself included).
    fn is_exempt(&self, path: &str, login_url: &str) -> bool {
        let login_path = login_url.split(['?', '#']).next().unwrap_or(login_url);
        path == login_path
            || self.exact.iter().any(|p| p == path)
            || self.prefixes.iter().any(|p| under(path, p))
    }
}

/// Whether `path` is `prefix` or below it, by whole segments (`prefix`
/// without its trailing slash; empty for the root).
fn under(path: &str, prefix: &str) -> bool {
    match path.strip_prefix(prefix) {
        Some(rest) => rest.is_empty() || rest.starts_with('/'),
        None => false,
    }
}

impl<S> Layer<S> for LoginRequiredLayer {
    type Service = GuardService<S, Arc<LoginRequiredLayer>>;
    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            guard: Arc::new(self.clone()),
        }
    }
}

impl Guard for Arc<LoginRequiredLayer> {
    async fn check(&self, request: Arc<RequestAuth>, head: Head) -> Option<Response> {
        let path = head.path;
        let login_url = self
            .login_url
            .as_deref()
            .unwrap_or_else(|| request.shared.login_url());
        if self.is_exempt(&path, login_url) {
            return None;
        }
        match request.user().await {
            Ok(Some(_)) => None,
            Ok(None) => Some(request.login_redirect(Some(login_url), Some(REDIRECT_FIELD_NAME))),
            Err(err) => Some(err.into_response()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_match_whole_segments() {
        let layer = LoginRequiredLayer::new()
            .exempt_prefix("/public")
            .exempt_prefix("/static/");
        let exempt = |path| layer.is_exempt(path, "/login/");
        assert!(exempt("/public"));
        assert!(exempt("/public/"));
        assert!(exempt("/public/a/b.css"));
        assert!(!exempt("/publicity"));
        assert!(!exempt("/public-files/x"));
        assert!(exempt("/static/app.css"));
        assert!(exempt("/static"));
        assert!(!exempt("/staticky"));
        assert!(exempt("/login/"));
        assert!(!exempt("/"));
        let everything = LoginRequiredLayer::new().exempt_prefix("/");
        assert!(everything.is_exempt("/anything", "/login/"));
    }
}
