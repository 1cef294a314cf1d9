//! The request's host (Django's `HttpRequest.get_host` and
//! `ALLOWED_HOSTS`): read from `Host`, checked for shape, and matched
//! against the hosts the site serves.

use axum::{body::Body, response::Response};
use http::{Request, StatusCode, header};

/// Django's `get_host` with its `DisallowedHost`: the request's host when
/// `allowed` lets it through (an empty list lets every host through), else
/// a 400 page, logged, before anything else runs. Two `Host` headers are
/// always a 400 (RFC 9112 §3.2).
#[allow(clippy::result_large_err, reason = "the refusal is the response")]
pub(crate) fn check(req: &Request<Body>, allowed: &[String]) -> Result<Option<String>, Response> {
    let host = request_host(req);
    if !has_several_hosts(req) && is_allowed(host.as_deref(), allowed) {
        return Ok(host);
    }
    let sent: Vec<String> = req
        .headers()
        .get_all(header::HOST)
        .iter()
        .map(|h| String::from_utf8_lossy(h.as_bytes()).into_owned())
        .collect();
    tracing::warn!(
        host = ?sent,
        "refused a request for a host not in AUTH_ALLOWED_HOSTS (or with several Host headers)"
    );
    Err(super::html::error_page(
        StatusCode::BAD_REQUEST,
        "Bad request",
        "This site does not serve that host.",
    ))
}

/// Whether the request carries more than one `Host` header: malformed
/// (RFC 9112 §3.2), answered 400 as Django does.
fn has_several_hosts(req: &Request<Body>) -> bool {
    req.headers().get_all(header::HOST).iter().nth(1).is_some()
}

/// The request's host with its port, lowercased: from `Host`, else the
/// URI's authority; `None` when it is missing or not shaped like a host.
pub(crate) fn request_host(req: &Request<Body>) -> Option<String> {
    let raw = match req.headers().get(header::HOST) {
        Some(value) => value.to_str().ok()?,
        None => req.uri().authority()?.as_str(),
    };
    split_domain_port(raw)?;
    // One allocation: lowercased in place.
    let mut host = raw.to_owned();
    host.make_ascii_lowercase();
    Some(host)
}

/// Django's `split_domain_port`: the domain (without a trailing dot) and
/// the port of a host, if it is shaped like `name[:port]` or
/// `[ipv6][:port]`.
pub(crate) fn split_domain_port(host: &str) -> Option<(&str, Option<&str>)> {
    let (domain, port) = if host.starts_with('[') {
        let end = host.find(']')?;
        let inner = &host[1..end];
        let valid = !inner.is_empty()
            && inner.contains(':')
            && inner
                .bytes()
                .all(|b| b.is_ascii_hexdigit() || matches!(b, b':' | b'.'));
        if !valid {
            return None;
        }
        let rest = &host[end + 1..];
        let port = match rest.strip_prefix(':') {
            Some(port) => Some(port),
            None if rest.is_empty() => None,
            None => return None,
        };
        (&host[..=end], port)
    } else {
        let (domain, port) = match host.rsplit_once(':') {
            Some((domain, port)) => (domain, Some(port)),
            None => (host, None),
        };
        let valid = !domain.is_empty()
            && domain
                .bytes()
                .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'.' | b'-'));
        if !valid {
            return None;
        }
        (domain, port)
    };
    if port.is_some_and(|p| p.is_empty() || !p.bytes().all(|b| b.is_ascii_digit())) {
        return None;
    }
    Some((domain.strip_suffix('.').unwrap_or(domain), port))
}

/// Django's `validate_host`: whether `host` (as [`request_host`] gives it)
/// matches a pattern of `allowed` (`*`, `example.com`, or `.example.com`
/// for it and its subdomains). An empty list allows every host.
pub(crate) fn is_allowed(host: Option<&str>, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some((domain, _port)) = host.and_then(split_domain_port) else {
        return false;
    };
    allowed
        .iter()
        .any(|pattern| pattern == "*" || is_same_domain(domain, pattern))
}

/// Django's `is_same_domain`: `pattern` is a host, or `.example.com` for
/// it and every subdomain. Hosts compare case-insensitively.
pub(crate) fn is_same_domain(host: &str, pattern: &str) -> bool {
    if pattern.is_empty() {
        return false;
    }
    match pattern.strip_prefix('.') {
        Some(bare) => ends_with_ignore_case(host, pattern) || host.eq_ignore_ascii_case(bare),
        None => host.eq_ignore_ascii_case(pattern),
    }
}

/// `text.ends_with(suffix)`, ASCII case-insensitively, without allocating.
fn ends_with_ignore_case(text: &str, suffix: &str) -> bool {
    let (text, suffix) = (text.as_bytes(), suffix.as_bytes());
    text.len() >= suffix.len() && text[text.len() - suffix.len()..].eq_ignore_ascii_case(suffix)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn hosts_split_like_django() {
        assert_eq!(
            split_domain_port("example.com"),
            Some(("example.com", None))
        );
        assert_eq!(
            split_domain_port("example.com:8000"),
            Some(("example.com", Some("8000")))
        );
        assert_eq!(
            split_domain_port("example.com."),
            Some(("example.com", None))
        );
        assert_eq!(split_domain_port("[::1]:80"), Some(("[::1]", Some("80"))));
        for bad in [
            "",
            ":80",
            "exa mple.com",
            "a@b",
            "example.com:x",
            "[zz]",
            "[::1",
            "a:1:2",
        ] {
            assert_eq!(split_domain_port(bad), None, "{bad:?}");
        }
    }

    #[test]
    fn same_domain_is_djangos() {
        assert!(is_same_domain("example.com", "example.com"));
        assert!(is_same_domain("Example.com", ".example.com"));
        assert!(is_same_domain("a.b.example.com", ".example.com"));
        assert!(!is_same_domain("badexample.com", ".example.com"));
        assert!(!is_same_domain("example.com", ""));
    }
}
