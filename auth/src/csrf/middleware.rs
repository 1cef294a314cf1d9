//! The check the auth layer runs on every unsafe request (Django's
//! `CsrfViewMiddleware.process_view`): origin, cookie, token.

use axum::{body::Body, response::Response};
use http::{Request, StatusCode, header};

use super::token::{self, CSRF_FIELD_NAME, CSRF_HEADER_NAME, Rejection};
use crate::{
    Settings,
    body::{is_urlencoded_form, read_form_body},
    html::error_page,
    request::RequestAuth,
};

/// Django's CSRF check for an unsafe request. Returns the request (with its
/// body buffered if it was read for the token) or the 403/400 page.
pub(crate) async fn check(
    req: Request<Body>,
    request: &RequestAuth,
    settings: &Settings,
) -> Result<Request<Body>, Response> {
    if let Some(origin) = req.headers().get(header::ORIGIN) {
        let origin = origin.to_str().unwrap_or("null");
        token::check_origin(
            origin,
            request.host.as_deref(),
            request.scheme,
            &settings.csrf_trusted_origins,
        )
        .map_err(forbidden)?;
    }
    let secret = request.csrf_secret();
    if secret.is_none() {
        return Err(forbidden(Rejection::NoCookie));
    }
    let header_token = req
        .headers()
        .get(CSRF_HEADER_NAME)
        .and_then(|v| v.to_str().ok())
        .map(str::to_owned);
    let (req, form_token) = if is_urlencoded_form(req.headers()) {
        let (parts, body) = req.into_parts();
        let bytes = read_form_body(body, settings).await?;
        let token = form_urlencoded::parse(&bytes)
            .find(|(k, _)| k == CSRF_FIELD_NAME)
            .map(|(_, v)| v.into_owned());
        (Request::from_parts(parts, Body::from(bytes)), token)
    } else {
        (req, None)
    };
    let token = form_token.filter(|t| !t.is_empty()).or(header_token);
    token::check_token(secret.as_deref(), token.as_deref()).map_err(forbidden)?;
    Ok(req)
}

/// Django's `CSRF_FAILURE_VIEW` page: 403 with the reason.
fn forbidden(reason: Rejection) -> Response {
    tracing::warn!(%reason, "CSRF check failed");
    error_page(
        StatusCode::FORBIDDEN,
        "Forbidden (403)",
        &format!("CSRF verification failed. Request aborted. {reason}"),
    )
}
