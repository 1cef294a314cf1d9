//! HTML helpers every part of the crate shares: escaping and the small
//! error pages.

use axum::response::{Html, IntoResponse, Response};
use http::{HeaderValue, StatusCode, header};

/// Escapes `& < > " '` as Django's `escape` does (`/` is left readable, so
/// values such as `next` survive naive HTML parsers).
pub(crate) fn escape(s: &str) -> String {
    let mut out = String::with_capacity(s.len());
    for c in s.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#x27;"),
            other => out.push(other),
        }
    }
    out
}

/// What an error page says, kept on its response so the app's own
/// `403.html` can replace it (see `templates/errors.rs`).
#[derive(Clone, Debug)]
pub(crate) struct ErrorPage {
    pub(crate) title: String,
    pub(crate) message: String,
}

/// A small HTML page for an error status, with no internal details.
/// `message` is escaped.
pub(crate) fn error_page(status: StatusCode, title: &str, message: &str) -> Response {
    let said = ErrorPage {
        title: title.to_owned(),
        message: message.to_owned(),
    };
    let (title, message) = (escape(title), escape(message));
    let body = format!(
        "<!doctype html>\n<html lang=\"en\"><head><meta charset=\"utf-8\">\
         <meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\
         <title>{title}</title></head><body><h1>{title}</h1><p>{message}</p></body></html>\n"
    );
    let mut response = (status, Html(body)).into_response();
    response
        .headers_mut()
        .insert(header::CACHE_CONTROL, HeaderValue::from_static("no-store"));
    response.extensions_mut().insert(said);
    response
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_like_django() {
        assert_eq!(
            escape(r#"<a href="/x?a=1&b='2'">"#),
            "&lt;a href=&quot;/x?a=1&amp;b=&#x27;2&#x27;&quot;&gt;"
        );
    }
}
