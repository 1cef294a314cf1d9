//! The `csrftoken` cookie on the response (Django's `CSRF_COOKIE_*`
//! settings), set when the request's secret was made or rotated.

use http::{HeaderValue, header};

use super::state::CsrfState;
use crate::{http::cookies::same_site, settings::Settings};

/// Appends the `Set-Cookie` for the request's CSRF secret, when it changed.
pub(crate) fn commit(state: &CsrfState, settings: &Settings, headers: &mut http::HeaderMap) {
    let Some(secret) = state.cookie_to_send() else {
        return;
    };
    let age = i64::try_from(settings.csrf_cookie_age).unwrap_or(i64::MAX);
    let cookie = cookie::Cookie::build((settings.csrf_cookie_name.as_str(), secret))
        .path("/")
        .max_age(time::Duration::seconds(age))
        .same_site(same_site(settings.csrf_cookie_samesite))
        .secure(settings.csrf_cookie_secure)
        .http_only(settings.csrf_cookie_httponly)
        .build();
    if let Ok(value) = HeaderValue::try_from(cookie.to_string()) {
        headers.append(header::SET_COOKIE, value);
    }
}
