//! Where an unsafe request comes from (Django's `_origin_verified` and
//! `_check_referer`): its `Origin` must be this site or a trusted origin;
//! a secure request without `Origin` must carry a `Referer` on this site or
//! a trusted one.

use super::token::Rejection;
use crate::http::host::is_same_domain;

/// Checks the `Origin` header of an unsafe request: this site, or one of
/// `trusted_origins` (exact, or `https://*.example.com` for subdomains).
/// `scheme` is the request's scheme when it is known (a direct HTTPS
/// request, or `SECURE_PROXY_SSL_HEADER` configured); unknown, both
/// `http://host` and `https://host` count as this site, so an app behind a
/// TLS proxy keeps working before it is configured. Stricter than Django:
/// on a secure request an `http://` origin is refused even when trusted.
pub(crate) fn check_origin(
    origin: &str,
    host: Option<&str>,
    scheme: Option<&str>,
    trusted_origins: &[String],
) -> Result<(), Rejection> {
    let refuse = || Err(Rejection::BadOrigin(origin.to_owned()));
    let Some((origin_scheme, origin_host)) = origin.split_once("://") else {
        return refuse();
    };
    let origin_scheme = origin_scheme.to_ascii_lowercase();
    if scheme == Some("https") && origin_scheme != "https" {
        return refuse();
    }
    let same_site = host.is_some_and(|host| {
        let same_scheme = scheme.is_none_or(|s| s == origin_scheme);
        same_scheme
            && matches!(origin_scheme.as_str(), "http" | "https")
            && origin_host.eq_ignore_ascii_case(host)
    });
    let trusted = trusted_origins
        .iter()
        .any(|trusted| match trusted.split_once("://") {
            Some((t_scheme, t_host)) if t_host.starts_with('*') => {
                t_scheme.eq_ignore_ascii_case(&origin_scheme)
                    && is_same_domain(origin_host, t_host.trim_start_matches('*'))
            }
            _ => trusted.eq_ignore_ascii_case(origin),
        });
    if same_site || trusted {
        Ok(())
    } else {
        refuse()
    }
}

/// Django's `_check_referer`, for a secure request without `Origin`: the
/// `Referer` must be an `https` URL on this host (or on a trusted origin's
/// host).
pub(crate) fn check_referer(
    referer: Option<&str>,
    host: Option<&str>,
    trusted_origins: &[String],
) -> Result<(), Rejection> {
    let referer = referer.ok_or(Rejection::NoReferer)?;
    let uri: http::Uri = referer.parse().map_err(|_| Rejection::MalformedReferer)?;
    let (Some(scheme), Some(authority)) = (uri.scheme_str(), uri.authority()) else {
        return Err(Rejection::MalformedReferer);
    };
    if !scheme.eq_ignore_ascii_case("https") {
        return Err(Rejection::InsecureReferer);
    }
    let netloc = authority.as_str();
    let trusted = trusted_origins.iter().any(|origin| {
        let trusted_netloc = origin.split_once("://").map_or("", |(_, rest)| rest);
        is_same_domain(netloc, trusted_netloc.trim_start_matches('*'))
    });
    if trusted || host.is_some_and(|host| is_same_domain(netloc, host)) {
        Ok(())
    } else {
        Err(Rejection::BadReferer(referer.to_owned()))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn origins_must_be_this_site_or_trusted() {
        let trusted = vec![
            "https://app.example".to_owned(),
            "http://legacy.example".to_owned(),
            "https://*.corp.example".to_owned(),
        ];
        let ok =
            |origin, scheme| check_origin(origin, Some("testserver"), scheme, &trusted).is_ok();
        assert!(ok("http://testserver", None));
        assert!(ok("https://testserver", None));
        assert!(ok("HTTPS://TestServer", None));
        assert!(ok("https://app.example", None));
        assert!(ok("https://a.corp.example", None));
        assert!(ok("https://corp.example", None));
        assert!(
            !ok("http://a.corp.example", None),
            "the wildcard's scheme counts"
        );
        assert!(!ok("https://evil.example", None));
        assert!(!ok("https://testserver.evil.example", None));
        assert!(!ok("null", None));
        assert!(!ok("ftp://testserver", None));
        assert!(check_origin("http://testserver", None, None, &[]).is_err());
        // A known scheme must match, and a secure request takes no http://
        // origin, not even a trusted one.
        assert!(ok("https://testserver", Some("https")));
        assert!(!ok("http://testserver", Some("https")));
        assert!(!ok("http://legacy.example", Some("https")));
        assert!(ok("http://legacy.example", Some("http")));
    }

    #[test]
    fn referers_are_checked_like_django() {
        let trusted = vec!["https://*.corp.example".to_owned()];
        let check = |referer| check_referer(referer, Some("testserver"), &trusted);
        assert_eq!(check(None), Err(Rejection::NoReferer));
        assert_eq!(check(Some("not a url")), Err(Rejection::MalformedReferer));
        assert_eq!(check(Some("/relative/")), Err(Rejection::MalformedReferer));
        assert_eq!(
            check(Some("http://testserver/form/")),
            Err(Rejection::InsecureReferer)
        );
        assert_eq!(check(Some("https://testserver/form/")), Ok(()));
        assert_eq!(check(Some("https://a.corp.example/x")), Ok(()));
        assert_eq!(
            check(Some("https://evil.example/")),
            Err(Rejection::BadReferer("https://evil.example/".into()))
        );
        assert!(
            Rejection::BadReferer("https://evil.example/".into())
                .to_string()
                .contains("Referer checking failed - https://evil.example/ does not match")
        );
    }
}
