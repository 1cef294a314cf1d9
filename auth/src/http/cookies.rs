//! Cookies: the request's `Cookie` headers read once for the names the
//! layer needs, and the `SameSite` setting as the `cookie` crate spells it.

use http::{HeaderMap, header};

use crate::settings::SameSite;

/// The values of the cookies named `names` (the first of each name), from
/// every `Cookie` header, in one pass.
pub(crate) fn find<const N: usize>(headers: &HeaderMap, names: [&str; N]) -> [Option<String>; N] {
    let mut found: [Option<String>; N] = std::array::from_fn(|_| None);
    let pairs = headers
        .get_all(header::COOKIE)
        .iter()
        .filter_map(|value| value.to_str().ok())
        .flat_map(|value| value.split(';'));
    for pair in pairs {
        let Some((name, value)) = pair.split_once('=') else {
            continue;
        };
        let name = name.trim();
        if let Some(index) = names.iter().position(|wanted| *wanted == name)
            && found[index].is_none()
        {
            found[index] = Some(strip_quotes(value.trim()).to_owned());
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
    fn cookies_are_found_among_others_in_every_header() {
        let mut headers = HeaderMap::new();
        headers.append(header::COOKIE, "a=1; csrftoken=abc; b=2".parse().unwrap());
        headers.append(
            header::COOKIE,
            "sessionid=\"xyz\"; csrftoken=later".parse().unwrap(),
        );
        let [csrf, session, missing] = find(&headers, ["csrftoken", "sessionid", "missing"]);
        assert_eq!(csrf.as_deref(), Some("abc"), "the first one wins");
        assert_eq!(session.as_deref(), Some("xyz"));
        assert_eq!(missing, None);
        let mut odd = HeaderMap::new();
        odd.append(header::COOKIE, "novalue; =x; csrftoken".parse().unwrap());
        assert_eq!(find(&odd, ["csrftoken"]), [None]);
    }
}
