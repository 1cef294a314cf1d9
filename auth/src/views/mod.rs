//! The built-in views, behaving as Django's: [`LoginView`],
//! [`LogoutView`], [`PasswordChangeView`], [`PasswordChangeDoneView`],
//! [`PasswordResetView`], [`PasswordResetDoneView`],
//! [`PasswordResetConfirmView`], [`PasswordResetCompleteView`]; and one
//! Django lacks, [`ReauthenticateView`] (the password again before a
//! sensitive action). The feature apps' views live in their modules:
//! `auth::sessions::SessionListView` (feature `user-sessions`), the
//! two-factor views in `auth::mfa` (`MfaAuthenticateView`,
//! `MfaIndexView`, `TotpActivateView`, `TotpDeactivateView`,
//! `RecoveryCodesView`; feature `mfa`) and `auth::mfa::PasskeysView`
//! (feature `passkeys`).
//!
//! Each is configured with builder methods named after Django's attributes
//! (`template_name`, `next_page`, `success_url`, …) and mounted with
//! `into_route()`, usually through `auth_urls!`. Form field names are
//! Django's, so existing templates port over. Every page sends Django's
//! `never_cache` headers (the layer adds `X-Frame-Options: DENY`).
//!
#![doc = include_str!("../docs/templates.md")]

mod login;
mod logout;
pub(crate) mod password_change;
mod password_reset;
mod password_reset_confirm;
mod reauthenticate;
pub(crate) mod table;

use std::sync::Arc;

use axum::{
    body::Body,
    response::{IntoResponse, Response},
    routing::{MethodRouter, any},
};
use http::{HeaderValue, Method, Request, StatusCode, header};

pub use table::{
    LoginView, LogoutView, PasswordChangeDoneView, PasswordChangeView, PasswordResetCompleteView,
    PasswordResetConfirmView, PasswordResetDoneView, PasswordResetView, ReauthenticateView,
};

use crate::{
    http::body::FormData, kernel::error::Result, login::Session, login::request::RequestAuth,
    templates::Templates,
};

/// The login page's notice after a session timed out (shown once).
pub(crate) const SESSION_EXPIRED: &str = "Your session has expired. Please log in again.";

/// The form field that carries the page to return to.
pub(crate) const NEXT: &str = crate::urls::REDIRECT_FIELD_NAME;

/// The value of query parameter `name`, if present.
pub(crate) fn query_param(req: &Request<Body>, name: &str) -> Option<String> {
    let query = req.uri().query()?;
    form_urlencoded::parse(query.as_bytes())
        .filter(|(k, _)| k == name)
        .map(|(_, v)| v.into_owned())
        .last()
}

/// Renders `template` for this request with `context`.
pub(crate) async fn render(
    session: &Session,
    template: &str,
    context: minijinja::Value,
) -> Result<Response> {
    let templates = Templates::for_request(session.request.clone()).await?;
    let html = templates.render_string(template, context).await?;
    Ok(never_cache(axum::response::Html(html).into_response()))
}

/// Django's `never_cache` (the layer adds `X-Frame-Options`).
pub(crate) fn never_cache(mut response: Response) -> Response {
    let headers = response.headers_mut();
    headers.insert(
        header::CACHE_CONTROL,
        HeaderValue::from_static("max-age=0, no-cache, no-store, must-revalidate, private"),
    );
    if let Ok(now) = HeaderValue::try_from(httpdate::fmt_http_date(std::time::SystemTime::now())) {
        headers.insert(header::EXPIRES, now);
    }
    response
}

/// `303 See Other` to `location`, never cached.
pub(crate) fn redirect(location: &str) -> Response {
    never_cache(crate::http::redirect::see_other(location))
}

/// The `Allow` header that names `methods`.
fn allow(methods: &[Method]) -> HeaderValue {
    let names: Vec<&str> = methods.iter().map(Method::as_str).collect();
    // Method names are tokens, always a valid header value.
    HeaderValue::try_from(names.join(", ")).unwrap_or_else(|_| HeaderValue::from_static(""))
}

/// 405 with the allowed methods.
fn method_not_allowed(methods: &[Method]) -> Response {
    let mut response = crate::http::html::error_page(
        StatusCode::METHOD_NOT_ALLOWED,
        "Method not allowed",
        "This page does not accept that request method.",
    );
    response.headers_mut().insert(header::ALLOW, allow(methods));
    response
}

/// A time as the pages show it: `2026-12-03 17:42 UTC`.
#[cfg_attr(
    not(any(feature = "passkeys", feature = "notify", feature = "user-sessions")),
    allow(dead_code)
)]
pub(crate) fn when(at: time::OffsetDateTime) -> String {
    let format = time::macros::format_description!("[year]-[month]-[day] [hour]:[minute] UTC");
    at.to_offset(time::UtcOffset::UTC)
        .format(&format)
        .unwrap_or_default()
}

/// The safe `next` of a request: from the form first, then the query.
pub(crate) fn safe_next(
    session: &Session,
    form: Option<&FormData>,
    req_query: Option<String>,
) -> Option<String> {
    let candidate = form
        .and_then(|f| f.get(NEXT).map(str::to_owned))
        .filter(|v| !v.is_empty())
        .or(req_query)?;
    session.is_safe_redirect(&candidate).then_some(candidate)
}

/// The logged-in user, or the login redirect for anonymous requests.
pub(crate) async fn require_login(
    session: &Session,
    login_url: Option<&str>,
) -> Result<std::result::Result<crate::user::erased::LoadedUser, Response>> {
    let request = &session.request;
    Ok(match request.user().await? {
        Some(user) => Ok(user),
        None => Err(request.login_redirect(login_url, Some(crate::urls::REDIRECT_FIELD_NAME))),
    })
}

/// Renders `template` with `form`, `title` and `extra`.
pub(crate) async fn form_page(
    session: &Session,
    template: &str,
    form: &crate::forms::Form,
    title: &str,
    extra: minijinja::Value,
) -> Result<Response> {
    let context = minijinja::context! { form => form.to_value(), title => title, ..extra };
    render(session, template, context).await
}

/// [`form_page`] answered with `status` (a form with errors is 200, a
/// throttled one 429, a refused one 403).
pub(crate) async fn form_page_with_status(
    session: &Session,
    template: &str,
    form: &crate::forms::Form,
    (title, extra): (&str, minijinja::Value),
    status: StatusCode,
) -> Result<Response> {
    let mut response = form_page(session, template, form, title, extra).await?;
    *response.status_mut() = status;
    Ok(response)
}

/// The methods a view answers (from the table); others get 405 with
/// these in `Allow`.
pub(crate) trait Methods {
    const METHODS: &'static [Method];
}

/// A built-in view: what it does with a request it answers.
pub(crate) trait View: Methods + Send + Sync + 'static {
    /// Answers one request.
    fn run(
        &self,
        session: Session,
        req: Request<Body>,
    ) -> impl Future<Output = Result<Response>> + Send;
}

/// Logs, once per process, that the auth views were mounted with
/// `Router::nest`: they answer under the prefix, but their redirects and
/// the login URL name the declared paths without it.
fn warn_if_nested(req: &Request<Body>) {
    static SAID: std::sync::atomic::AtomicBool = std::sync::atomic::AtomicBool::new(false);
    let Some(original) = req.extensions().get::<axum::extract::OriginalUri>() else {
        return;
    };
    let (seen, routed) = (original.path(), req.uri().path());
    if seen == routed || SAID.swap(true, std::sync::atomic::Ordering::Relaxed) {
        return;
    }
    let prefix = seen.strip_suffix(routed).unwrap_or(seen);
    tracing::error!(
        "the auth views are mounted with Router::nest (a request for {seen} reached the view \
         as {routed}), so their redirects and the login URL leave out {prefix}: declare \
         `prefix = \"{prefix}\";` in auth_urls! and merge its router instead"
    );
}

/// The axum route of a view: method check, auth state, errors as pages.
pub(crate) fn route<V: View, S: Clone + Send + Sync + 'static>(view: V) -> MethodRouter<S> {
    let view = Arc::new(view);
    any(move |req: Request<Body>| {
        let view = view.clone();
        async move {
            if !V::METHODS.contains(req.method()) {
                return method_not_allowed(V::METHODS);
            }
            let request = match RequestAuth::from_extensions(req.extensions()) {
                Ok(request) => request,
                Err(response) => return response,
            };
            warn_if_nested(&req);
            view.run(Session { request }, req)
                .await
                .unwrap_or_else(IntoResponse::into_response)
        }
    })
}
