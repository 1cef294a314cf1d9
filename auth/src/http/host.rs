//! The request's host (Django's `HttpRequest.get_host` and
//! `ALLOWED_HOSTS`): read from `Host`, checked for shape, and matched
//! against the hosts the site serves.

use axum::{body::Body, response::Response};
use http::{Request, StatusCode, header};

/// Django's `get_host` with its `DisallowedHost`: the request's host when
/// `allowed` lets it through (an empty list lets every host through), else
/// a 400 page, logged, before anything else runs. Two `Host` headers are
/// always a 400 (RFC 9112 §3.2).
///
/// The host is its port included, lowercased: from `Host`, else the URI's
/// authority; `None` when it is missing or not shaped like a host. One
/// look-up of `Host` and one split of it, on every request.
#[allow(clippy::result_large_err, reason = "the refusal is the response")]
pub(crate) fn check(req: &Request<Body>, allowed: &[String]) -> Result<Option<String>, Response> {
    let mut sent = req.headers().get_all(header::HOST).iter();
    if let (first, None) = (sent.next(), sent.next()) {
        let raw = match first {
            Some(value) => value.to_str().ok(),
            None => req.uri().authority().map(|authority| authority.as_str()),
        };
        let domain = raw
            .and_then(split_domain_port)
            .map(|(domain, _port)| domain);
        if is_allowed(domain, allowed) {
            // One allocation: the lowercased copy.
            return Ok(domain.and(raw).map(str::to_ascii_lowercase));
        }
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

/// Django's `validate_host`: whether `domain` (a host's, as
/// [`split_domain_port`] gives it; `None` for a missing or malformed host)
/// matches a pattern of `allowed` (`*`, `example.com`, or `.example.com`
/// for it and its subdomains). An empty list allows every host.
fn is_allowed(domain: Option<&str>, allowed: &[String]) -> bool {
    if allowed.is_empty() {
        return true;
    }
    let Some(domain) = domain else {
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

    /// The definition `check` implements in one pass: the host from
    /// `Host` (else the URI's authority) if it splits, lowercased; let
    /// through when there is at most one `Host` and the split domain
    /// matches, or the list is empty. Checked over generated requests:
    /// zero to two `Host` headers, hosts well and badly shaped, in any
    /// case, against several lists.
    #[test]
    fn check_agrees_with_its_definition() {
        fn reference(req: &Request<Body>, allowed: &[String]) -> Option<Option<String>> {
            let hosts: Vec<_> = req.headers().get_all(header::HOST).iter().collect();
            let raw = match hosts.first() {
                Some(value) => value.to_str().ok(),
                None => req.uri().authority().map(|a| a.as_str()),
            };
            let host = raw
                .filter(|raw| split_domain_port(raw).is_some())
                .map(str::to_lowercase);
            let domain = host.as_deref().and_then(split_domain_port).map(|(d, _)| d);
            let allowed_here = allowed.is_empty()
                || domain.is_some_and(|d| allowed.iter().any(|p| p == "*" || is_same_domain(d, p)));
            (hosts.len() < 2 && allowed_here).then_some(host)
        }
        let hosts = [
            "example.com",
            "EXAMPLE.com:8000",
            "a.example.com.",
            "evil.com",
            "[::1]:80",
            "127.0.0.1:18180",
            "exa mple.com",
            "example.com:x",
            "",
            "[zz]",
        ];
        let lists: [&[&str]; 5] = [
            &[],
            &["*"],
            &["example.com"],
            &[".example.com", "127.0.0.1"],
            &["[::1]", "EVIL.COM"],
        ];
        let uris = ["/", "http://Example.com:81/x"];
        let mut checked = 0;
        for list in lists {
            let allowed: Vec<String> = list.iter().map(|p| p.to_string()).collect();
            for uri in uris {
                let mut requests = vec![Request::builder().uri(uri).body(Body::empty()).unwrap()];
                for a in hosts {
                    let one = Request::builder().uri(uri).header(header::HOST, a);
                    requests.push(one.body(Body::empty()).unwrap());
                    for b in hosts {
                        let two = Request::builder()
                            .uri(uri)
                            .header(header::HOST, a)
                            .header(header::HOST, b);
                        requests.push(two.body(Body::empty()).unwrap());
                    }
                }
                for req in &requests {
                    assert_eq!(
                        check(req, &allowed).ok(),
                        reference(req, &allowed),
                        "{:?} {uri} {list:?}",
                        req.headers()
                    );
                    checked += 1;
                }
            }
        }
        assert!(checked > 1_000);
    }
}
