//! Permission guards (Django's `PermissionRequiredMixin`): what
//! `#[permission_required]` expands to, and [`PermissionRequiredLayer`]
//! for whole routers.
//!
//! The mixin's semantics, not the decorator's: an anonymous user is sent
//! to the login page with `next` (or gets a 403 with `raise_exception`); a
//! logged-in user without the permission gets a 403 page. (Django's
//! decorator sends them to the login page, which sends them back: a loop.)

use std::{marker::PhantomData, sync::Arc};

use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::request::Parts;
use tower_layer::Layer;

use crate::{
    guards::layer::{Guard, GuardService, Head},
    guards::login_required::LoginRedirect,
    kernel::error::Error,
    login::request::RequestAuth,
    permissions::{PermissionName, UserPermissions},
    urls::REDIRECT_FIELD_NAME,
};

/// What `#[permission_required]` checks; implemented by a hidden type the
/// macro generates per handler.
#[doc(hidden)]
pub trait PermissionCheck: LoginRedirect {
    /// Whether anonymous users get a 403 instead of the login page.
    const RAISE_EXCEPTION: bool;
    /// The required permissions (`app_label.codename`), named once.
    fn required() -> &'static [String];
    /// Whether `perms` hold every required permission.
    fn passes(perms: &UserPermissions) -> bool {
        Self::required()
            .iter()
            .all(|perm| perms.has_perm(perm.as_str()))
    }
}

/// The guard `#[permission_required]` adds as the handler's first
/// argument.
#[doc(hidden)]
pub struct PermissionRequired<C>(PhantomData<fn() -> C>);

impl<C> std::fmt::Debug for PermissionRequired<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("PermissionRequired")
    }
}

impl<S: Send + Sync, C: PermissionCheck> FromRequestParts<S> for PermissionRequired<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        let verdict = check(&request, C::RAISE_EXCEPTION, C::passes).await;
        match verdict {
            Verdict::Pass => Ok(PermissionRequired(PhantomData)),
            Verdict::Login => {
                Err(request.login_redirect(C::login_url(), Some(C::REDIRECT_FIELD_NAME)))
            }
            Verdict::Refuse(err) => Err(err.into_response()),
        }
    }
}

enum Verdict {
    Pass,
    Login,
    Refuse(Error),
}

async fn check(
    request: &RequestAuth,
    raise_exception: bool,
    passes: impl FnOnce(&UserPermissions) -> bool,
) -> Verdict {
    match request.user().await {
        Err(err) => return Verdict::Refuse(err),
        Ok(None) if raise_exception => return Verdict::Refuse(Error::PermissionDenied),
        Ok(None) => return Verdict::Login,
        Ok(Some(_)) => {}
    }
    match request.permissions().await {
        Ok(perms) if passes(&perms) => Verdict::Pass,
        Ok(_) => Verdict::Refuse(Error::PermissionDenied),
        Err(err) => Verdict::Refuse(err),
    }
}

/// Requires permissions for every route it wraps, with the semantics of
/// `#[permission_required]`. Put it inside the auth layer:
/// `router.layer(PermissionRequiredLayer::new([perms::accounts::VIEW_REPORT])).layer(auth.layer())`.
#[derive(Clone, Debug)]
pub struct PermissionRequiredLayer {
    permissions: Arc<[String]>,
    login_url: Option<String>,
    raise_exception: bool,
}

impl PermissionRequiredLayer {
    /// Requires every one of `permissions` (constants from
    /// [`permissions!`](crate::permissions!) or `"app_label.codename"`).
    pub fn new<P: PermissionName>(permissions: impl IntoIterator<Item = P>) -> Self {
        PermissionRequiredLayer {
            permissions: permissions
                .into_iter()
                .map(|p| p.permission_name().into_owned())
                .collect(),
            login_url: None,
            raise_exception: false,
        }
    }

    /// Send anonymous users to this login URL instead of
    /// `settings.login_url()`.
    pub fn login_url(mut self, url: impl Into<String>) -> Self {
        self.login_url = Some(url.into());
        self
    }

    /// Answer anonymous users with a 403 too, instead of the login page.
    pub fn raise_exception(mut self, raise: bool) -> Self {
        self.raise_exception = raise;
        self
    }
}

impl<S> Layer<S> for PermissionRequiredLayer {
    type Service = GuardService<S, PermissionRequiredLayer>;
    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            guard: self.clone(),
        }
    }
}

impl Guard for PermissionRequiredLayer {
    async fn check(&self, request: Arc<RequestAuth>, _head: Head) -> Option<Response> {
        let passes =
            |perms: &UserPermissions| self.permissions.iter().all(|p| perms.has_perm(p.as_str()));
        match check(&request, self.raise_exception, passes).await {
            Verdict::Pass => None,
            Verdict::Login => {
                Some(request.login_redirect(self.login_url.as_deref(), Some(REDIRECT_FIELD_NAME)))
            }
            Verdict::Refuse(err) => Some(err.into_response()),
        }
    }
}
