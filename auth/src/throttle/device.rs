//! Device cookies (OWASP's answer to lockouts by distributed guessing):
//! a successful login gives the browser a cookie signed for that
//! username; a later login attempt for the same username that presents
//! it is counted against that device alone, not against the username's
//! own limits. Whoever guesses from elsewhere may lock the username out
//! for every browser without such a cookie, never the owner on a device
//! they logged in on.
//!
//! The cookie holds a random device id and when it was issued, with an
//! HMAC of both and the username under the secret key: the username is
//! not in it, and it is good for that username only.

use std::time::Duration;

use crate::settings::secret::{KeyMatch, SaltedMac};

/// The key salt of the cookies' HMAC.
pub(crate) const DEVICE_SALT: &str = "auth.throttle.device";

/// Issues and checks device cookies.
#[derive(Clone)]
pub(crate) struct DeviceCookies {
    mac: SaltedMac,
    /// How long a cookie is good for; `None`: device cookies are off.
    age: Option<Duration>,
}

impl DeviceCookies {
    pub(crate) fn new(mac: SaltedMac, age: Option<Duration>) -> Self {
        DeviceCookies { mac, age }
    }

    /// Whether device cookies are on.
    pub(crate) fn enabled(&self) -> bool {
        self.age.is_some()
    }

    /// How long a cookie is good for.
    pub(crate) fn age(&self) -> Option<Duration> {
        self.age
    }

    /// A new cookie value for `username` (normalised) at Unix time `now`.
    pub(crate) fn issue(&self, username: &str, now: i64) -> String {
        let id = crate::kernel::crypto::random_string(22);
        let value = format!("{id}.{now}");
        let signature = self.mac.hex(message(&value, username).as_bytes());
        format!("{value}.{signature}")
    }

    /// The device id of `cookie` when it was issued for `username` by
    /// this site (under any of its keys) and has not expired at `now`.
    pub(crate) fn device<'c>(&self, cookie: &'c str, username: &str, now: i64) -> Option<&'c str> {
        let age = self.age?;
        let (value, signature) = cookie.rsplit_once('.')?;
        let (id, issued) = value.split_once('.')?;
        let issued: i64 = issued.parse().ok()?;
        let fresh = now >= issued && now - issued <= i64::try_from(age.as_secs()).ok()?;
        let id_shape = id.len() == 22 && id.bytes().all(|b| b.is_ascii_alphanumeric());
        if !fresh || !id_shape || signature.len() != 64 {
            return None;
        }
        // `verify` compares in constant time; the checks above are on
        // what the cookie shows anyway.
        match self
            .mac
            .verify(message(value, username).as_bytes(), signature)
        {
            KeyMatch::Current | KeyMatch::Fallback => Some(id),
            KeyMatch::NoMatch => None,
        }
    }
}

/// What is signed: the cookie's value and the username it is for.
fn message(value: &str, username: &str) -> String {
    format!("{value}\u{0}{username}")
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::secret::SecretKeys;

    fn cookies(secret: &str) -> DeviceCookies {
        let keys = SecretKeys::new(secret, vec![]).unwrap();
        DeviceCookies::new(keys.salted(DEVICE_SALT), Some(Duration::from_secs(100)))
    }

    #[test]
    fn a_cookie_is_good_for_its_username_its_site_and_its_age() {
        let site = cookies("a-secret-key-of-this-site-long-enough");
        let cookie = site.issue("alice", 1_000);
        let id = site.device(&cookie, "alice", 1_050).expect("valid");
        assert_eq!(id.len(), 22);
        assert!(!cookie.contains("alice"), "the username is not in it");
        assert_eq!(site.device(&cookie, "bob", 1_050), None, "another username");
        assert_eq!(site.device(&cookie, "alice", 1_101), None, "expired");
        assert_eq!(site.device(&cookie, "alice", 999), None, "from the future");
        let other = cookies("another-secret-key-of-another-site-x");
        assert_eq!(other.device(&cookie, "alice", 1_050), None, "another site");
        // Any change to any part is refused.
        for (index, _) in cookie.char_indices() {
            let mut forged: Vec<u8> = cookie.clone().into_bytes();
            forged[index] = if forged[index] == b'0' { b'1' } else { b'0' };
            let forged = String::from_utf8(forged).unwrap();
            if forged != cookie {
                assert_eq!(site.device(&forged, "alice", 1_050), None, "{forged}");
            }
        }
        let shouted = cookie.to_uppercase();
        assert_eq!(
            site.device(&shouted, "alice", 1_050),
            None,
            "another spelling"
        );
        for garbage in ["", ".", "..", "a.b.c", "x.1000.zz", &"a".repeat(5000)] {
            assert_eq!(site.device(garbage, "alice", 1_050), None);
        }
        let off = DeviceCookies::new(
            SecretKeys::new("a-secret-key-of-this-site-long-enough", vec![])
                .unwrap()
                .salted(DEVICE_SALT),
            None,
        );
        assert_eq!(off.device(&cookie, "alice", 1_050), None, "turned off");
    }
}
