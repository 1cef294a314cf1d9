//! Cookies: the request's `Cookie` headers read once for the names the
//! layer needs, and the `SameSite` setting as the `cookie` crate spells it.

use http::{HeaderMap, header};

use crate::settings::SameSite;

/// The values of the cookies named `names` (the first of each name), from
/// every `Cookie` header, in one pass. A header that is not
/// visible ASCII is skipped whole, as `HeaderValue::to_str` refuses it.
pub(crate) fn find<'h, const N: usize>(
    headers: &'h HeaderMap,
    names: [&str; N],
) -> [Option<&'h str>; N] {
    let mut found: [Option<&str>; N] = [None; N];
    for header in headers.get_all(header::COOKIE) {
        let Ok(header) = header.to_str() else {
            continue;
        };
        for pair in header.split(';') {
            // Visible ASCII only: byte positions are character positions,
            // and space and tab are all the whitespace there can be.
            let Some(eq) = pair.bytes().position(|b| b == b'=') else {
                continue;
            };
            let name = pair[..eq].trim_ascii();
            if let Some(index) = names.iter().position(|wanted| *wanted == name)
                && found[index].is_none()
            {
                found[index] = Some(strip_quotes(pair[eq + 1..].trim_ascii()));
            }
        }
    }
    found
}

/// A cookie value without the double quotes RFC 6265 allows around it.
fn strip_quotes(value: &str) -> &str {
    value
        .strip_prefix('"')
        .and_then(|v| v.strip_suffix('"'))
        .unwrap_or(value)
}

/// What a cookie name's prefix asks of the cookie (RFC 6265bis, "Cookie
/// Name Prefixes"): browsers store a `__Secure-` cookie only with the
/// `Secure` attribute, and a `__Host-` cookie only with `Secure`, `Path=/`
/// and no `Domain`, so no subdomain or plain-HTTP page can set or shadow
/// it. Browsers match the prefixes without regard to case.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Prefix {
    /// `__Secure-`.
    Secure,
    /// `__Host-`.
    Host,
}

impl Prefix {
    /// The prefix `name` starts with, if any.
    pub(crate) fn of(name: &str) -> Option<Prefix> {
        let starts = |prefix: &str| {
            name.as_bytes()
                .get(..prefix.len())
                .is_some_and(|head| head.eq_ignore_ascii_case(prefix.as_bytes()))
        };
        if starts("__Host-") {
            Some(Prefix::Host)
        } else if starts("__Secure-") {
            Some(Prefix::Secure)
        } else {
            None
        }
    }
}

/// `SameSite` as the `cookie` crate spells it.
pub(crate) fn same_site(same_site: SameSite) -> cookie::SameSite {
    match same_site {
        SameSite::Lax => cookie::SameSite::Lax,
        SameSite::Strict => cookie::SameSite::Strict,
        SameSite::None => cookie::SameSite::None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn prefixes_are_matched_as_browsers_match_them() {
        assert_eq!(Prefix::of("__Host-sessionid"), Some(Prefix::Host));
        assert_eq!(Prefix::of("__host-sessionid"), Some(Prefix::Host));
        assert_eq!(Prefix::of("__SECURE-csrftoken"), Some(Prefix::Secure));
        assert_eq!(Prefix::of("__Secure-"), Some(Prefix::Secure));
        for none in [
            "sessionid",
            "_Host-x",
            "__Host",
            "Host-x",
            "",
            "__Hosté-x",
            "é",
        ] {
            assert_eq!(Prefix::of(none), None, "{none}");
        }
    }

    /// The definition `find` implements on bytes: every header as a string,
    /// split into pairs at `;` and each pair at its first `=`, names and
    /// values trimmed.
    fn find_reference(headers: &HeaderMap, names: [&str; 2]) -> [Option<String>; 2] {
        let mut found = [None, None];
        let pairs = headers
            .get_all(header::COOKIE)
            .iter()
            .filter_map(|value| value.to_str().ok())
            .flat_map(|value| value.split(';'));
        for pair in pairs {
            let Some((name, value)) = pair.split_once('=') else {
                continue;
            };
            if let Some(index) = names.iter().position(|wanted| *wanted == name.trim())
                && found[index].is_none()
            {
                found[index] = Some(strip_quotes(value.trim()).to_owned());
            }
        }
        found
    }

    #[test]
    fn cookies_are_found_as_the_string_definition_finds_them() {
        let parts = [
            "sessionid",
            "csrftoken",
            "=",
            ";",
            " ",
            "\t",
            "\"",
            "x",
            "sessionid=a",
            "",
        ];
        let names = ["sessionid", "csrftoken"];
        let mut checked = 0;
        for a in parts {
            for b in parts {
                for c in parts {
                    for d in parts {
                        let value = format!("{a}{b}{c}{d}");
                        let Ok(first) = http::HeaderValue::from_str(&value) else {
                            continue;
                        };
                        let mut headers = HeaderMap::new();
                        headers.append(header::COOKIE, first);
                        headers.append(
                            header::COOKIE,
                            http::HeaderValue::from_bytes(b"csrftoken=later; \xe9=x").unwrap(),
                        );
                        headers.append(header::COOKIE, "csrftoken=last".parse().unwrap());
                        assert_eq!(
                            find(&headers, names).map(|v| v.map(str::to_owned)),
                            find_reference(&headers, names),
                            "{value:?}"
                        );
                        checked += 1;
                    }
                }
            }
        }
        assert!(checked > 5_000);
    }

    #[test]
    fn cookies_are_found_among_others_in_every_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; csrftoken=abc; b=2".parse().unwrap());
        headers.append(
            header::COOKIE,
            "sessionid=\"xyz\"; csrftoken=later".parse().unwrap(),
        );
        let [csrf, session, missing] = find(&headers, ["csrftoken", "sessionid", "missing"]);
        assert_eq!(csrf, Some("abc"), "the first one wins");
        assert_eq!(session, Some("xyz"));
        assert_eq!(missing, None);
        let mut odd = HeaderMap::new();
        odd.append(header::COOKIE, "novalue; =x; csrftoken".parse().unwrap());
        assert_eq!(find(&odd, ["csrftoken"]), [None]);
    }
}
