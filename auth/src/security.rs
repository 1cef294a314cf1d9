//! Response headers every page behind the auth layer gets (Django's
//! `SecurityMiddleware` and `XFrameOptionsMiddleware`), unless the handler
//! set them itself: `X-Content-Type-Options: nosniff`, `Referrer-Policy`,
//! `Cross-Origin-Opener-Policy`, and `X-Frame-Options` on HTML.

use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::Settings;

/// Adds the configured security headers the response does not have yet.
pub(crate) fn add_headers(response: &mut Response, settings: &Settings) {
    let html = is_html(response.headers());
    let headers = response.headers_mut();
    if settings.secure_content_type_nosniff {
        set_default(headers, header::X_CONTENT_TYPE_OPTIONS, Some("nosniff"));
    }
    if html {
        set_default(
            headers,
            header::X_FRAME_OPTIONS,
            settings.x_frame_options.as_deref(),
        );
    }
    set_default(
        headers,
        header::REFERRER_POLICY,
        settings.secure_referrer_policy.as_deref(),
    );
    set_default(
        headers,
        HeaderName::from_static("cross-origin-opener-policy"),
        settings.secure_cross_origin_opener_policy.as_deref(),
    );
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: Option<&str>) {
    let Some(value) = value.and_then(|v| HeaderValue::from_str(v).ok()) else {
        return;
    };
    headers.entry(name).or_insert(value);
}

fn is_html(headers: &HeaderMap) -> bool {
    headers
        .get(header::CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .and_then(|v| v.split(';').next())
        .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/html"))
}
