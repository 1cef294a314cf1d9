//! Re-authentication before sensitive actions ("sudo mode", OWASP ASVS
//! 7.5.1; django-allauth's `reauthentication_required`): what
//! `#[reauth_required]` expands to, and [`ReauthRequiredLayer`] for whole
//! routers.
//!
//! A logged-in user whose last authentication on this session (the login,
//! or the last re-authentication) is older than `max_age` is sent (303)
//! to the declared `ReauthenticateView` with `next`: for a GET, the page
//! itself; for an unsafe request, the page that holds its form (the
//! same-origin `Referer`, else the request's path), so a POST is never
//! replayed behind the user's back. Anonymous users go to the login page.

use std::{marker::PhantomData, sync::Arc, time::Duration};

use axum::{
    extract::FromRequestParts,
    response::{IntoResponse, Response},
};
use http::{HeaderValue, Method, request::Parts};
use tower_layer::Layer;

use crate::{
    guards::layer::{Guard, GuardService, Head},
    http::redirect,
    kernel::error::Error,
    login::request::RequestAuth,
    session::metadata::unix,
    urls::REDIRECT_FIELD_NAME,
};

/// How recent an authentication `#[reauth_required]` needs; implemented
/// by a hidden type the macro generates per handler.
#[doc(hidden)]
pub trait ReauthPolicy: Send + Sync + 'static {
    /// `max_age` in seconds; `None` means
    /// `settings.reauthentication_timeout`.
    const MAX_AGE: Option<u64>;
}

/// Lets through a user who authenticated within the policy's `max_age`;
/// `#[reauth_required]` adds it as the first argument of the handler.
#[doc(hidden)]
pub struct ReauthRequired<C>(PhantomData<fn() -> C>);

impl<C> std::fmt::Debug for ReauthRequired<C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("ReauthRequired")
    }
}

impl<S: Send + Sync, C: ReauthPolicy> FromRequestParts<S> for ReauthRequired<C> {
    type Rejection = Response;

    async fn from_request_parts(parts: &mut Parts, _state: &S) -> Result<Self, Self::Rejection> {
        let request = RequestAuth::from_parts(parts)?;
        let max_age = C::MAX_AGE.map(Duration::from_secs);
        let referer = parts.headers.get(http::header::REFERER);
        match check(&request, max_age, &parts.method, referer).await {
            None => Ok(ReauthRequired(PhantomData)),
            Some(answer) => Err(answer),
        }
    }
}

/// `None` to let the request through; else the login redirect, or the
/// redirect to the re-authentication page.
pub(crate) async fn check(
    request: &RequestAuth,
    max_age: Option<Duration>,
    method: &Method,
    referer: Option<&HeaderValue>,
) -> Option<Response> {
    let authed = match request.authenticated_at().await {
        Ok(Some(authed)) => authed,
        Ok(None) => return Some(request.login_redirect(None, Some(REDIRECT_FIELD_NAME))),
        Err(err) => return Some(err.into_response()),
    };
    let shared = &request.shared;
    let max_age = max_age.unwrap_or(shared.settings.reauthentication_timeout);
    let age = unix(shared.clock.now()).saturating_sub(authed);
    if age < i64::try_from(max_age.as_secs()).unwrap_or(i64::MAX) || (age == 0 && max_age.is_zero())
    {
        return None;
    }
    let Some(reauth_url) = shared.urls.path_of_view("ReauthenticateView") else {
        return Some(
            Error::Config(
                "re-authentication is required here, but no `ReauthenticateView` is declared in \
                 auth_urls! (add `reauthenticate: \"/reauthenticate/\" => ReauthenticateView`)"
                    .into(),
            )
            .into_response(),
        );
    };
    let next = return_to(request, method, referer);
    let location = redirect::redirect_to_login(&next, reauth_url, Some(REDIRECT_FIELD_NAME));
    crate::events::trace::decision("reauth_required", "redirect", request.origin.uri.path());
    Some(redirect::see_other(&location))
}

/// Where the user lands after re-authenticating: a safe request's own
/// path; for an unsafe one, the page that holds its form.
fn return_to(request: &RequestAuth, method: &Method, referer: Option<&HeaderValue>) -> String {
    let uri = &request.origin.uri;
    let own = || match uri.query() {
        Some(query) => format!("{}?{query}", uri.path()),
        None => uri.path().to_owned(),
    };
    if matches!(*method, Method::GET | Method::HEAD) {
        return own();
    }
    referer
        .and_then(|value| value.to_str().ok())
        .filter(|referer| request.is_safe_redirect(referer))
        .and_then(|referer| referer.parse::<http::Uri>().ok())
        .and_then(|referer| referer.path_and_query().map(|p| p.as_str().to_owned()))
        .filter(|path| path.starts_with('/') && !path.starts_with("//"))
        .unwrap_or_else(|| uri.path().to_owned())
}

/// Requires a recent authentication for every route it wraps (put it
/// inside the auth layer): `router.layer(ReauthRequiredLayer::new()).layer(auth.layer())`.
#[derive(Clone, Debug, Default)]
pub struct ReauthRequiredLayer {
    max_age: Option<Duration>,
}

impl ReauthRequiredLayer {
    /// With `settings.reauthentication_timeout`.
    pub fn new() -> Self {
        Self::default()
    }

    /// Needs an authentication within `max_age` instead.
    pub fn max_age(mut self, max_age: Duration) -> Self {
        self.max_age = Some(max_age);
        self
    }
}

impl<S> Layer<S> for ReauthRequiredLayer {
    type Service = GuardService<S, Arc<ReauthRequiredLayer>>;
    fn layer(&self, inner: S) -> Self::Service {
        GuardService {
            inner,
            guard: Arc::new(self.clone()),
        }
    }
}

impl Guard for Arc<ReauthRequiredLayer> {
    async fn check(&self, request: Arc<RequestAuth>, head: Head) -> Option<Response> {
        check(&request, self.max_age, &head.method, head.referer.as_ref()).await
    }
}
