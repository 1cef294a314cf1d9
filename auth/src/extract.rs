//! Extractors for the current user.
//!
//! - `U` (your user model) in a handler: the logged-in user; anonymous
//!   requests are redirected to `settings.login_url` with `next`.
//! - [`CurrentUser<U>`]: the user or anonymous, never a redirect.
//! - [`LoginRequired<C>`]: what `#[login_required]` adds in front of the
//!   handler's arguments.
//!
//! The user is loaded at most once per request, and only when a handler
//! (or template) asks for it; requests that do not ask never touch the
//! database.

use std::marker::PhantomData;

use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::request::Parts;

use crate::{
    AbstractUser, AuthUser,
    session::{RequestAuth, request::LoadedUserExt},
};

/// The current user, or anonymous (Django's `request.user`).
#[derive(Clone, Debug)]
pub struct CurrentUser<U>(pub Option<U>);

impl<U> CurrentUser<U> {
    /// The user, if logged in.
    pub fn get(&self) -> Option<&U> {
        self.0.as_ref()
    }

    /// The user, if logged in.
    pub fn into_inner(self) -> Option<U> {
        self.0
    }

    /// Whether a user is logged in.
    pub fn is_authenticated(&self) -> bool {
        self.0.is_some()
    }
}

impl<U: AuthUser> CurrentUser<U> {
    /// The base fields, or an anonymous user's (empty username, every flag
    /// false).
    pub fn base(&self) -> std::borrow::Cow<'_, AbstractUser> {
        match &self.0 {
            Some(user) => std::borrow::Cow::Borrowed(AuthUser::base(user)),
            None => std::borrow::Cow::Owned(anonymous()),
        }
    }
}

/// Django's `AnonymousUser`: no id, empty username, every flag false.
pub fn anonymous() -> AbstractUser {
    AbstractUser {
        id: 0,
        username: String::new(),
        password: String::new(),
        email: String::new(),
        first_name: String::new(),
        last_name: String::new(),
        is_staff: false,
        is_active: false,
        is_superuser: false,
        last_login: None,
        date_joined: time::OffsetDateTime::UNIX_EPOCH,
    }
}

impl<S: Send + Sync, U: AuthUser> FromRequestParts<S> for CurrentUser<U> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        let user = request.user().await.map_err(IntoResponse::into_response)?;
        Ok(CurrentUser(user.and_then(|u| u.downcast::<U>())))
    }
}

/// Where `#[login_required]` sends anonymous users; implemented by a
/// hidden type the macro generates per handler.
pub trait LoginRedirect: Send + Sync + 'static {
    /// The login URL; `None` means `settings.login_url`.
    const LOGIN_URL: Option<&'static str>;
    /// The query parameter carrying the original path (`next`).
    const REDIRECT_FIELD_NAME: &'static str;
}

/// Rejects anonymous requests with `303 See Other` to the login page, with
/// `next=<the requested path>`. `#[login_required]` adds it as the first
/// argument of the handler.
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
            Ok(None) => Err(request.login_redirect(C::LOGIN_URL, Some(C::REDIRECT_FIELD_NAME))),
            Err(err) => Err(err.into_response()),
        }
    }
}

/// The logged-in user for a handler argument of the user model's type;
/// anonymous requests are redirected to `settings.login_url`. Called by
/// the `FromRequestParts` impl that `#[derive(AuthUser)]` generates.
pub async fn require_user<U: AuthUser>(parts: &mut Parts) -> Result<U, Response> {
    let request = RequestAuth::from_parts(parts)?;
    match request.user().await {
        Ok(user) => match user.and_then(|u| u.downcast::<U>()) {
            Some(user) => Ok(user),
            None => Err(request.login_redirect(None, Some(crate::REDIRECT_FIELD_NAME))),
        },
        Err(err) => Err(err.into_response()),
    }
}
