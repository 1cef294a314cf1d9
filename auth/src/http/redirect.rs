//! Redirect targets (Django's `django.utils.http`): the one safe-`next`
//! check every redirect goes through, the login redirect URL that
//! `#[login_required]` builds, and the `303 See Other` response itself.

use std::net::Ipv6Addr;

use axum::response::{IntoResponse, Response};
use http::StatusCode;

use percent_encoding::{AsciiSet, NON_ALPHANUMERIC, percent_decode_str, utf8_percent_encode};
use unicode_normalization::UnicodeNormalization;

/// Django's `MAX_URL_LENGTH`: longer redirect targets are refused.
pub(crate) const MAX_URL_LENGTH: usize = 2048;

/// Whether `url` is safe to redirect to: a relative URL, or an absolute one
/// whose host is in `allowed_hosts` and whose scheme is `http` or `https`
/// (only `https` when `require_https`).
///
/// This is Django's `url_has_allowed_host_and_scheme`, including its
/// defences against browsers' lenient parsing (backslashes are also read as
/// slashes; `///x`, `http:x` and URLs starting with a control character are
/// refused), and stricter: a URL with a control character anywhere is
/// refused (every case is listed in the tests' `stricter_than_django`).
pub fn url_has_allowed_host_and_scheme(
    url: &str,
    allowed_hosts: &[&str],
    require_https: bool,
) -> bool {
    let url = url.trim();
    if url.is_empty() || stricter_than_django(url) {
        return false;
    }
    check_one(url, allowed_hosts, require_https)
        && check_one(&url.replace('\\', "/"), allowed_hosts, require_https)
}

/// Where this check refuses what Django's accepts, on purpose; the one
/// place that lists it (the differential test against Django reads it):
///
/// - **Any ASCII control character** (`U+0000`–`U+001F`, `U+007F`), not
///   only a leading one. Python's `urlsplit` and browsers both drop tab, CR
///   and LF inside a URL, so Django accepts `/\t//evil.example/` as the
///   path `///evil.example/`, which a browser resolves to the host
///   `evil.example`. No legitimate `next` contains one.
pub(crate) fn stricter_than_django(url: &str) -> bool {
    url.bytes().any(|b| b.is_ascii_control())
}

fn check_one(url: &str, allowed_hosts: &[&str], require_https: bool) -> bool {
    if url.starts_with("///") || url.len() > MAX_URL_LENGTH {
        return false;
    }
    let Some(parts) = split_url(url) else {
        return false;
    };
    if parts.netloc.is_empty() && !parts.scheme.is_empty() {
        return false;
    }
    if url.chars().next().is_some_and(is_unicode_other) {
        return false;
    }
    let scheme = if parts.scheme.is_empty() && !parts.netloc.is_empty() {
        "http"
    } else {
        parts.scheme.as_str()
    };
    let host_ok = parts.netloc.is_empty() || allowed_hosts.contains(&parts.netloc.as_str());
    let scheme_ok = scheme.is_empty() || scheme == "https" || (!require_https && scheme == "http");
    host_ok && scheme_ok
}

struct UrlParts {
    scheme: String,
    netloc: String,
}

/// Scheme and network location as Python's `urllib.parse.urlsplit` finds
/// them (which is what Django's check was written against); `None` where
/// `urlsplit` raises.
fn split_url(url: &str) -> Option<UrlParts> {
    let cleaned: String = url
        .chars()
        .filter(|c| !matches!(c, '\t' | '\r' | '\n'))
        .collect();
    let mut rest = cleaned.trim_start_matches(|c: char| c <= ' ');
    let mut scheme = String::new();
    if let Some(i) = rest.find(':')
        && i > 0
        && rest.starts_with(|c: char| c.is_ascii_alphabetic())
        && rest[..i]
            .chars()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
    {
        scheme = rest[..i].to_ascii_lowercase();
        rest = &rest[i + 1..];
    }
    let mut netloc = String::new();
    if let Some(after) = rest.strip_prefix("//") {
        let end = after.find(['/', '?', '#']).unwrap_or(after.len());
        netloc = after[..end].to_owned();
        let (open, close) = (netloc.contains('['), netloc.contains(']'));
        if open != close {
            return None;
        }
        if open && !bracketed_host_is_valid(&netloc) {
            return None;
        }
        if !netloc_survives_nfkc(&netloc) {
            return None;
        }
    }
    Some(UrlParts { scheme, netloc })
}

/// Python 3.11+ refuses a bracketed host that is not an IPv6 address (or
/// an "IPvFuture" literal).
fn bracketed_host_is_valid(netloc: &str) -> bool {
    let host_port = netloc.rsplit('@').next().unwrap_or(netloc);
    let (Some(start), Some(end)) = (host_port.find('['), host_port.find(']')) else {
        return false;
    };
    if end < start {
        return false;
    }
    let inside = &host_port[start + 1..end];
    inside.parse::<Ipv6Addr>().is_ok() || inside.starts_with(['v', 'V'])
}

/// Python's `_checknetloc`: a non-ASCII netloc must not gain URL delimiters
/// under NFKC normalisation.
fn netloc_survives_nfkc(netloc: &str) -> bool {
    if netloc.is_ascii() {
        return true;
    }
    let stripped: String = netloc
        .chars()
        .filter(|c| !matches!(c, '@' | ':' | '#' | '?'))
        .collect();
    let normalized: String = stripped.nfkc().collect();
    normalized == stripped || !normalized.contains(['/', '?', '#', '@', ':'])
}

/// Unicode general category "C" (control, format, private use, surrogate,
/// unassigned), as Python's `unicodedata.category(c)[0] == "C"`.
fn is_unicode_other(c: char) -> bool {
    use icu_properties::{
        CodePointMapData,
        props::{GeneralCategory, GeneralCategoryGroup},
    };
    GeneralCategoryGroup::Other.contains(CodePointMapData::<GeneralCategory>::new().get(c))
}

/// Characters Python's `quote(s, safe="/")` leaves alone: ASCII letters,
/// digits, `_.-~` and `/`.
const QUERY_VALUE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/');

/// Percent-encodes like Python's `quote(s, safe="/")`.
pub(crate) fn quote(s: &str) -> String {
    utf8_percent_encode(s, QUERY_VALUE).to_string()
}

/// The login URL with `redirect_field=next` set in its query string, as
/// Django's `redirect_to_login`: existing parameters are kept, an existing
/// `redirect_field` is replaced, and everything is re-encoded with `/` left
/// literal. With no field name the login URL is returned as is.
pub(crate) fn redirect_to_login(
    next: &str,
    login_url: &str,
    redirect_field: Option<&str>,
) -> String {
    let Some(field) = redirect_field.filter(|f| !f.is_empty()) else {
        return login_url.to_owned();
    };
    if !login_url.contains(['?', '#']) {
        // No query to merge: the common case, in one allocation.
        use std::fmt::Write;
        let mut url = String::with_capacity(login_url.len() + field.len() + next.len() * 3 + 2);
        let _ = write!(
            url,
            "{login_url}?{}={}",
            utf8_percent_encode(field, QUERY_VALUE),
            utf8_percent_encode(next, QUERY_VALUE)
        );
        return url;
    }
    merge_into_query(next, login_url, field)
}

/// `path` with `next` as its query, when there is one (the page a staged
/// login continues on).
pub(crate) fn with_next(path: &str, next: Option<&str>) -> String {
    match next {
        Some(next) => format!(
            "{path}?{}",
            form_urlencoded::Serializer::new(String::new())
                .append_pair(crate::urls::REDIRECT_FIELD_NAME, next)
                .finish()
        ),
        None => path.to_owned(),
    }
}

/// [`redirect_to_login`] for a login URL with a query or a fragment of its
/// own: its parameters are kept, an existing `field` is replaced.
fn merge_into_query(next: &str, login_url: &str, field: &str) -> String {
    let (before_fragment, fragment) = match login_url.split_once('#') {
        Some((b, f)) => (b, Some(f)),
        None => (login_url, None),
    };
    let (base, query) = before_fragment
        .split_once('?')
        .unwrap_or((before_fragment, ""));
    let mut pairs: Vec<(String, String)> = form_urlencoded::parse(query.as_bytes())
        .into_owned()
        .filter(|(k, _)| k != field)
        .collect();
    pairs.push((field.to_owned(), next.to_owned()));
    let encoded: Vec<String> = pairs
        .iter()
        .map(|(k, v)| format!("{}={}", quote(k), quote(v)))
        .collect();
    let mut url = format!("{base}?{}", encoded.join("&"));
    if let Some(fragment) = fragment {
        url.push('#');
        url.push_str(fragment);
    }
    url
}

/// The `next` value for a request: its full path (percent-decoded path,
/// then the raw query), or the absolute URI when the login URL is on
/// another scheme or host (Django's `user_passes_test`).
pub(crate) fn next_for_request(
    uri: &http::Uri,
    host: Option<&str>,
    secure: bool,
    login_url: &str,
) -> String {
    let raw_path = uri.path();
    let decoded = percent_decode_str(raw_path).decode_utf8();
    let path = decoded.as_deref().unwrap_or(raw_path);
    let mut full_path =
        String::with_capacity(raw_path.len() + uri.query().map_or(0, |q| q.len() + 1));
    full_path.push_str(path);
    if let Some(query) = uri.query() {
        full_path.push('?');
        full_path.push_str(query);
    }
    if is_plain_path(login_url) {
        // No scheme or host of its own: always on this request's.
        return full_path;
    }
    absolute_if_elsewhere(full_path, host, secure, login_url)
}

/// `full_path`, or the absolute URI of it when `login_url` names another
/// scheme or host than the request's.
fn absolute_if_elsewhere(
    full_path: String,
    host: Option<&str>,
    secure: bool,
    login_url: &str,
) -> String {
    let scheme = if secure { "https" } else { "http" };
    let login = split_url(login_url);
    let login_is_local = match (&login, host) {
        (Some(parts), Some(host)) => {
            (parts.scheme.is_empty() || parts.scheme == scheme)
                && (parts.netloc.is_empty() || parts.netloc == host)
        }
        (Some(parts), None) => parts.scheme.is_empty() && parts.netloc.is_empty(),
        (None, _) => true,
    };
    match host {
        Some(host) if !login_is_local => format!("{scheme}://{host}{full_path}"),
        _ => full_path,
    }
}

/// Whether `url` is a path with neither scheme nor host (`/login/`), as
/// [`split_url`] would find it: it starts with one `/`, and holds no tab or
/// newline that `urlsplit` would drop to make `//host` of it.
fn is_plain_path(url: &str) -> bool {
    url.starts_with('/') && !url[1..].starts_with(['/', '\\']) && !url.contains(['\t', '\r', '\n'])
}

/// What Django's `iri_to_uri` leaves alone: ASCII letters, digits,
/// `_.-~`, and `/#%[]=:;$&()+,!?*@'` (so an already-encoded URL is
/// unchanged).
const IRI_SAFE: &AsciiSet = &NON_ALPHANUMERIC
    .remove(b'_')
    .remove(b'.')
    .remove(b'-')
    .remove(b'~')
    .remove(b'/')
    .remove(b'#')
    .remove(b'%')
    .remove(b'[')
    .remove(b']')
    .remove(b'=')
    .remove(b':')
    .remove(b';')
    .remove(b'$')
    .remove(b'&')
    .remove(b'(')
    .remove(b')')
    .remove(b'+')
    .remove(b',')
    .remove(b'!')
    .remove(b'?')
    .remove(b'*')
    .remove(b'@')
    .remove(b'\'');

/// Django's `iri_to_uri`: percent-encodes (as UTF-8) every byte that may
/// not appear raw in a URI: controls, spaces, non-ASCII, `"<>\\^`{|}`.
/// The oracle of the redirects' encoding in the tests.
#[cfg(any(test, feature = "test-util"))]
pub(crate) fn iri_to_uri(iri: &str) -> String {
    utf8_percent_encode(iri, IRI_SAFE).to_string()
}

/// A `303 See Other` to `location`, encoded with [`iri_to_uri`] so no raw
/// control or non-ASCII byte reaches the header.
pub(crate) fn see_other(location: &str) -> Response {
    // Borrowed when nothing needed encoding, so copied once.
    let encoded: std::borrow::Cow<'_, str> = utf8_percent_encode(location, IRI_SAFE).into();
    match http::HeaderValue::try_from(encoded.into_owned()) {
        Ok(value) => (StatusCode::SEE_OTHER, [(http::header::LOCATION, value)]).into_response(),
        // Unreachable: the encoded form is visible ASCII.
        Err(_) => crate::kernel::error::Error::Config(format!(
            "redirect target is not a valid header value: {location:?}"
        ))
        .into_response(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every string of up to `len` characters from `alphabet`.
    fn strings(alphabet: &[&str], len: usize) -> Vec<String> {
        let mut all = vec![String::new()];
        let mut last = vec![String::new()];
        for _ in 0..len {
            last = last
                .iter()
                .flat_map(|s| alphabet.iter().map(move |c| format!("{s}{c}")))
                .collect();
            all.extend(last.iter().cloned());
        }
        all
    }

    /// The shortcuts (a login URL without a query, a plain-path login URL,
    /// a location with nothing to encode) give what the general code
    /// gives, over every short URL from characters that matter to them.
    #[test]
    fn shortcuts_agree_with_the_general_code() {
        let alphabet = ["/", "\\", "?", "#", "%", ":", "\t", "a", "é", " ", "&", "="];
        let urls = strings(&alphabet, 4);
        assert!(urls.len() > 20_000);
        for url in &urls {
            if !url.contains(['?', '#']) {
                for next in ["/p/", "/a b/?x=1&y=é", ""] {
                    assert_eq!(
                        redirect_to_login(next, url, Some("next")),
                        merge_into_query(next, url, "next"),
                        "login URL {url:?}, next {next:?}"
                    );
                }
            }
            if is_plain_path(url) {
                for (host, secure) in [
                    (Some("testserver"), false),
                    (Some("h"), true),
                    (None, false),
                ] {
                    assert_eq!(
                        absolute_if_elsewhere("/p/?q".into(), host, secure, url),
                        "/p/?q",
                        "login URL {url:?} is a plain path"
                    );
                }
            }
            let response = see_other(url);
            let location = response.headers()[http::header::LOCATION].to_str().unwrap();
            assert_eq!(location, iri_to_uri(url), "location {url:?}");
        }
    }

    const HOSTS: &[&str] = &["testserver", "testserver2"];

    #[test]
    fn rejects_djangos_unsafe_urls() {
        let bad = [
            "/\t//evil.example/",
            "/\\\t/evil.example/",
            "//\t/evil.example/",
            "/x\ny",
            "/ok\u{7f}",
            "http://example.com",
            "https://example.com",
            "ftp://example.com",
            "http:///example.com",
            "//example.com",
            "///example.com",
            "\\\\example.com",
            "\\\\\\example.com",
            "/\\\\/example.com",
            "\\\\//example.com",
            "/\\/example.com",
            "\\/example.com",
            "/\\example.com",
            "http:/\\//example.com",
            "http:\\/example.com",
            "http:/\\example.com",
            "javascript:alert(\"XSS\")",
            "\njavascript:alert(x)",
            "java\nscript:alert(x)",
            "\x08//example.com",
            "http://otherserver\\@example.com",
            "http:\\\\testserver\\@example.com",
            "http://testserver\\me:pass@example.com",
            "http://testserver\\@example.com",
            "http:\\\\testserver\\confirm\\me@example.com",
            "http:999999999",
            "ftp:9999999999",
            "\n",
            "http://[2001:cdba:0000:0000:0000:0000:3257:9652/",
            "http://2001:cdba:0000:0000:0000:0000:3257:9652]/",
            "https://evil.com@testserver/",
            " //evil.com",
            "/\\evil",
            "https:evil",
            "",
            "   ",
        ];
        for url in bad {
            assert!(
                !url_has_allowed_host_and_scheme(url, HOSTS, false),
                "accepted {url:?}"
            );
        }
    }

    #[test]
    fn accepts_djangos_safe_urls() {
        let good = [
            "/view/?param=http://example.com",
            "/view/?param=https://example.com",
            "/view?param=ftp://example.com",
            "view/?param=//example.com",
            "https://testserver/",
            "HTTPS://testserver/",
            "//testserver/",
            "http://testserver/confirm?email=me@example.com",
            "/url%20with%20spaces/",
            "path/http:2222222222",
            "/profile/",
        ];
        for url in good {
            assert!(
                url_has_allowed_host_and_scheme(url, HOSTS, false),
                "refused {url:?}"
            );
        }
    }

    #[test]
    fn https_requests_need_https_targets() {
        assert!(!url_has_allowed_host_and_scheme(
            "http://testserver/path",
            HOSTS,
            true
        ));
        assert!(url_has_allowed_host_and_scheme(
            "https://testserver/x",
            HOSTS,
            true
        ));
        assert!(url_has_allowed_host_and_scheme("/x", HOSTS, true));
    }

    #[test]
    fn redirect_targets_are_encoded_like_iri_to_uri() {
        // Django: iri_to_uri("/blog/for/Jürgen Münster/") and friends.
        assert_eq!(
            iri_to_uri("/blog/for/Jürgen Münster/"),
            "/blog/for/J%C3%BCrgen%20M%C3%BCnster/"
        );
        assert_eq!(iri_to_uri("/x\ty\n"), "/x%09y%0A");
        assert_eq!(iri_to_uri("/a?b=c&d=%20#e"), "/a?b=c&d=%20#e", "idempotent");
        assert_eq!(iri_to_uri(r#"/"<>\^`{|}"#), "/%22%3C%3E%5C%5E%60%7B%7C%7D");
    }

    #[test]
    fn overlong_urls_are_refused() {
        let long = format!("/{}", "a".repeat(MAX_URL_LENGTH));
        assert!(!url_has_allowed_host_and_scheme(&long, HOSTS, false));
    }

    #[test]
    fn login_redirects_encode_like_django() {
        assert_eq!(
            redirect_to_login("/profile/", "/accounts/login/", Some("next")),
            "/accounts/login/?next=/profile/"
        );
        assert_eq!(
            redirect_to_login("/profile/?a=1&b=x+y", "/accounts/login/", Some("next")),
            "/accounts/login/?next=/profile/%3Fa%3D1%26b%3Dx%2By"
        );
        assert_eq!(
            redirect_to_login("/café/?x=1&y=2", "/login/", Some("next")),
            "/login/?next=/caf%C3%A9/%3Fx%3D1%26y%3D2"
        );
        assert_eq!(
            redirect_to_login("/login_required/", "/login/?pretty=1", Some("next")),
            "/login/?pretty=1&next=/login_required/"
        );
        assert_eq!(
            redirect_to_login("/p/", "/login/?a=1&next=/old/", Some("next")),
            "/login/?a=1&next=/p/"
        );
        assert_eq!(
            redirect_to_login(
                "http://testserver/login_required/",
                "http://remote.example.com/login",
                Some("next")
            ),
            "http://remote.example.com/login?next=http%3A//testserver/login_required/"
        );
        assert_eq!(
            redirect_to_login("/custom/", "/custom-login/", Some("goto")),
            "/custom-login/?goto=/custom/"
        );
        assert_eq!(
            redirect_to_login("/custom/", "/accounts/login/", None),
            "/accounts/login/"
        );
    }

    #[test]
    fn next_is_the_full_path_or_the_absolute_uri() {
        let uri: http::Uri = "/caf%C3%A9/?a=1&b=x+y".parse().unwrap();
        assert_eq!(
            next_for_request(&uri, Some("testserver"), false, "/login/"),
            "/café/?a=1&b=x+y"
        );
        assert_eq!(
            next_for_request(
                &uri,
                Some("testserver"),
                false,
                "http://remote.example.com/login"
            ),
            "http://testserver/café/?a=1&b=x+y"
        );
        assert_eq!(
            next_for_request(&uri, Some("testserver"), false, "http://testserver/login/"),
            "/café/?a=1&b=x+y"
        );
    }
}
