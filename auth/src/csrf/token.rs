//! CSRF tokens: the secret in the cookie and the masked tokens in forms,
//! and why a request was refused.

use crate::kernel::crypto::{
    RANDOM_STRING_CHARS, constant_time_eq, fill_random_chars, random_string,
};

/// Length of the secret, and of the mask.
pub(crate) const CSRF_SECRET_LENGTH: usize = 32;
/// Length of a masked token.
pub(crate) const CSRF_TOKEN_LENGTH: usize = 2 * CSRF_SECRET_LENGTH;
/// The form field that carries the token.
pub(crate) const CSRF_FIELD_NAME: &str = "csrfmiddlewaretoken";
/// The header that carries the token for scripts.
pub(crate) const CSRF_HEADER_NAME: &str = "x-csrftoken";

/// The characters of secrets and tokens (Django's `CSRF_ALLOWED_CHARS`,
/// the same as its random strings').
const CHARS: &[u8] = RANDOM_STRING_CHARS;

/// Each byte's place in [`CHARS`] (0 for bytes not in it), looked up
/// rather than searched for: a search took ~30 comparisons a character,
/// and longer for characters further along (a time that depended on the
/// secret).
const INDEX: [u8; 256] = {
    let mut table = [0u8; 256];
    let mut i = 0;
    while i < CHARS.len() {
        table[CHARS[i] as usize] = i as u8;
        i += 1;
    }
    table
};

fn index(c: u8) -> usize {
    usize::from(INDEX[usize::from(c)])
}

/// A fresh secret.
pub(crate) fn new_secret() -> String {
    random_string(CSRF_SECRET_LENGTH)
}

/// A masked token for `secret`: mask ++ (secret + mask, per character, mod 62).
pub(crate) fn mask(secret: &str) -> String {
    let mut token = [0u8; CSRF_TOKEN_LENGTH];
    let (mask, cipher) = token.split_at_mut(CSRF_SECRET_LENGTH);
    fill_random_chars(mask);
    for ((c, &m), s) in cipher.iter_mut().zip(mask.iter()).zip(secret.bytes()) {
        *c = CHARS[(index(s) + index(m)) % CHARS.len()];
    }
    // A secret is CSRF_SECRET_LENGTH characters; a shorter one (never
    // made here) would leave zeros, which are cut off.
    let len = CSRF_SECRET_LENGTH + secret.len().min(CSRF_SECRET_LENGTH);
    String::from_utf8(token[..len].to_vec()).expect("ASCII")
}

/// The secret inside a masked token; `None` unless the token is
/// [`CSRF_TOKEN_LENGTH`] ASCII letters and digits.
pub(crate) fn unmask(token: &str) -> Option<String> {
    if token.len() != CSRF_TOKEN_LENGTH || !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return None;
    }
    let (mask, cipher) = token.as_bytes().split_at(CSRF_SECRET_LENGTH);
    Some(
        cipher
            .iter()
            .zip(mask)
            .map(|(&c, &m)| char::from(CHARS[(index(c) + CHARS.len() - index(m)) % CHARS.len()]))
            .collect(),
    )
}

/// Whether `value` is a well-formed secret (what the cookie must hold).
pub(crate) fn is_valid_secret(value: &str) -> bool {
    value.len() == CSRF_SECRET_LENGTH && value.bytes().all(|b| b.is_ascii_alphanumeric())
}

/// Why an unsafe request was refused.
#[derive(Clone, Debug, PartialEq, Eq)]
pub(crate) enum Rejection {
    /// The `Origin` header names another site.
    BadOrigin(String),
    /// A secure request with neither `Origin` nor `Referer`.
    NoReferer,
    /// A `Referer` that is not an absolute URL.
    MalformedReferer,
    /// An `http://` page posting to this secure site.
    InsecureReferer,
    /// A `Referer` on another site.
    BadReferer(String),
    /// No (valid) `csrftoken` cookie.
    NoCookie,
    /// No token in the form or header.
    TokenMissing,
    /// The token is not 32 or 64 characters.
    TokenLength,
    /// The token has characters other than ASCII letters and digits.
    TokenCharacters,
    /// The token does not match the cookie.
    TokenIncorrect,
}

impl std::fmt::Display for Rejection {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Rejection::BadOrigin(origin) => {
                write!(
                    f,
                    "Origin checking failed - {origin} does not match any trusted origins."
                )
            }
            Rejection::NoReferer => f.write_str("Referer checking failed - no Referer."),
            Rejection::MalformedReferer => {
                f.write_str("Referer checking failed - Referer is malformed.")
            }
            Rejection::InsecureReferer => {
                f.write_str("Referer checking failed - Referer is insecure while host is secure.")
            }
            Rejection::BadReferer(referer) => write!(
                f,
                "Referer checking failed - {referer} does not match any trusted origins."
            ),
            Rejection::NoCookie => f.write_str("CSRF cookie not set."),
            Rejection::TokenMissing => f.write_str("CSRF token missing."),
            Rejection::TokenLength => f.write_str("CSRF token has incorrect length."),
            Rejection::TokenCharacters => f.write_str("CSRF token has invalid characters."),
            Rejection::TokenIncorrect => f.write_str("CSRF token incorrect."),
        }
    }
}

/// Checks a request token (masked or not) against the cookie's secret.
pub(crate) fn check_token(secret: Option<&str>, token: Option<&str>) -> Result<(), Rejection> {
    let Some(secret) = secret.filter(|s| is_valid_secret(s)) else {
        return Err(Rejection::NoCookie);
    };
    let Some(token) = token.filter(|t| !t.is_empty()) else {
        return Err(Rejection::TokenMissing);
    };
    if token.len() != CSRF_TOKEN_LENGTH && token.len() != CSRF_SECRET_LENGTH {
        return Err(Rejection::TokenLength);
    }
    if !token.bytes().all(|b| b.is_ascii_alphanumeric()) {
        return Err(Rejection::TokenCharacters);
    }
    let candidate = if token.len() == CSRF_TOKEN_LENGTH {
        unmask(token).ok_or(Rejection::TokenCharacters)?
    } else {
        token.to_owned()
    };
    if constant_time_eq(candidate.as_bytes(), secret.as_bytes()) {
        Ok(())
    } else {
        Err(Rejection::TokenIncorrect)
    }
}

/// Whether requests with this method must pass the check.
pub(crate) fn is_unsafe(method: &http::Method) -> bool {
    !matches!(
        *method,
        http::Method::GET | http::Method::HEAD | http::Method::OPTIONS | http::Method::TRACE
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// The lookup table against the definition: a character's place in
    /// `CHARS`, and 0 for any other byte.
    #[test]
    fn the_index_table_is_each_characters_place() {
        for byte in 0..=u8::MAX {
            let place = CHARS.iter().position(|&c| c == byte).unwrap_or(0);
            assert_eq!(index(byte), place, "{byte}");
        }
    }

    /// Over many secrets, masking round-trips and is Django's cipher:
    /// each character of the second half is the secret's, shifted by the
    /// mask's, mod 62.
    #[test]
    fn masking_is_djangos_cipher_over_many_secrets() {
        let place = |c: u8| CHARS.iter().position(|&x| x == c).unwrap();
        for _ in 0..2_000 {
            let secret = new_secret();
            let token = mask(&secret);
            assert_eq!(token.len(), CSRF_TOKEN_LENGTH);
            let (mask_part, cipher) = token.as_bytes().split_at(CSRF_SECRET_LENGTH);
            for ((&c, &m), s) in cipher.iter().zip(mask_part).zip(secret.bytes()) {
                assert_eq!(place(c), (place(s) + place(m)) % CHARS.len());
            }
            assert_eq!(unmask(&token).as_deref(), Some(secret.as_str()));
        }
    }

    #[test]
    fn masking_round_trips_and_differs_every_time() {
        let secret = new_secret();
        let a = mask(&secret);
        let b = mask(&secret);
        assert_ne!(a, b);
        assert_eq!(a.len(), CSRF_TOKEN_LENGTH);
        assert!(!a.contains(&secret));
        assert_eq!(unmask(&a).as_deref(), Some(secret.as_str()));
        assert_eq!(unmask(&b).as_deref(), Some(secret.as_str()));
        assert_eq!(unmask("short"), None);
        assert_eq!(unmask(&"é".repeat(32)), None);
    }

    #[test]
    fn tokens_are_checked_like_django() {
        let secret = new_secret();
        let token = mask(&secret);
        assert_eq!(check_token(Some(&secret), Some(&token)), Ok(()));
        assert_eq!(
            check_token(Some(&secret), Some(&secret)),
            Ok(()),
            "unmasked tokens pass too"
        );
        assert_eq!(check_token(None, Some(&token)), Err(Rejection::NoCookie));
        assert_eq!(
            check_token(Some("short"), Some(&token)),
            Err(Rejection::NoCookie)
        );
        assert_eq!(
            check_token(Some(&secret), None),
            Err(Rejection::TokenMissing)
        );
        assert_eq!(
            check_token(Some(&secret), Some("abc")),
            Err(Rejection::TokenLength)
        );
        let bad_chars = format!("{}!", &token[..63]);
        assert_eq!(
            check_token(Some(&secret), Some(&bad_chars)),
            Err(Rejection::TokenCharacters)
        );
        let other = mask(&new_secret());
        assert_eq!(
            check_token(Some(&secret), Some(&other)),
            Err(Rejection::TokenIncorrect)
        );
    }
}
