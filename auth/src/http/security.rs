//! Response headers every page behind the auth layer gets (Django's
//! `SecurityMiddleware` and `XFrameOptionsMiddleware`), unless the handler
//! set them itself: `X-Content-Type-Options: nosniff`, `Referrer-Policy`,
//! `Cross-Origin-Opener-Policy`, and `X-Frame-Options` on HTML.

use axum::response::Response;
use http::{HeaderMap, HeaderName, HeaderValue, header};

use crate::settings::Settings;

/// The security headers of every response, parsed once from the settings.
#[derive(Clone, Debug, Default)]
pub(crate) struct SecurityHeaders {
    nosniff: bool,
    frame_options: Option<HeaderValue>,
    referrer_policy: Option<HeaderValue>,
    opener_policy: Option<HeaderValue>,
}

impl SecurityHeaders {
    pub(crate) fn from_settings(settings: &Settings) -> Self {
        let value = |v: &Option<String>| v.as_deref().and_then(|v| HeaderValue::from_str(v).ok());
        SecurityHeaders {
            nosniff: settings.secure_content_type_nosniff,
            frame_options: value(&settings.x_frame_options),
            referrer_policy: value(&settings.secure_referrer_policy),
            opener_policy: value(&settings.secure_cross_origin_opener_policy),
        }
    }
}

/// Not among `http`'s standard names; made at compile time.
const CROSS_ORIGIN_OPENER_POLICY: HeaderName =
    HeaderName::from_static("cross-origin-opener-policy");

impl SecurityHeaders {
    /// How many headers [`add_headers`] adds at most to `headers`.
    pub(crate) fn count(&self, headers: &HeaderMap) -> usize {
        usize::from(self.nosniff)
            + usize::from(self.frame_options.is_some() && is_html(headers))
            + usize::from(self.referrer_policy.is_some())
            + usize::from(self.opener_policy.is_some())
    }
}

/// Adds the configured security headers the response does not have yet.
pub(crate) fn add_headers(response: &mut Response, security: &SecurityHeaders) {
    let html = is_html(response.headers());
    let headers = response.headers_mut();
    if security.nosniff {
        set_default(
            headers,
            header::X_CONTENT_TYPE_OPTIONS,
            Some(&HeaderValue::from_static("nosniff")),
        );
    }
    if html {
        set_default(
            headers,
            header::X_FRAME_OPTIONS,
            security.frame_options.as_ref(),
        );
    }
    set_default(
        headers,
        header::REFERRER_POLICY,
        security.referrer_policy.as_ref(),
    );
    set_default(
        headers,
        CROSS_ORIGIN_OPENER_POLICY,
        security.opener_policy.as_ref(),
    );
}

fn set_default(headers: &mut HeaderMap, name: HeaderName, value: Option<&HeaderValue>) {
    if let Some(value) = value {
        headers.entry(name).or_insert_with(|| value.clone());
    }
}

fn is_html(headers: &HeaderMap) -> bool {
    // On bytes: this runs on every response.
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return false;
    };
    let value = value.as_bytes();
    let mime = value.split(|&b| b == b';').next().unwrap_or(value);
    mime.trim_ascii().eq_ignore_ascii_case(b"text/html")
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The definition `is_html` implements on bytes: the media type before
    /// any parameters, trimmed, is `text/html` in any case.
    fn is_html_reference(value: &str) -> bool {
        value
            .split(';')
            .next()
            .is_some_and(|mime| mime.trim().eq_ignore_ascii_case("text/html"))
    }

    #[test]
    fn html_is_recognised_as_the_string_definition_does() {
        let parts = [
            "text/html",
            "TEXT/Html",
            " ",
            "\t",
            ";",
            "charset=utf-8",
            "text/plain",
            "x",
            "",
        ];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    let value = format!("{a}{b}{c}");
                    let Ok(header) = HeaderValue::from_str(&value) else {
                        continue;
                    };
                    let mut headers = HeaderMap::new();
                    headers.insert(header::CONTENT_TYPE, header);
                    assert_eq!(is_html(&headers), is_html_reference(&value), "{value:?}");
                    checked += 1;
                }
            }
        }
        assert!(checked > 500);
        assert!(!is_html(&HeaderMap::new()));
    }
}
