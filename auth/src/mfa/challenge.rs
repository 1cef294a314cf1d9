//! WebAuthn challenges: issued with the options of one ceremony, kept by
//! the browser in a short-lived signed cookie (not in the session: asking
//! for passkey login options writes nothing on the server), and accepted
//! once, for that ceremony and that user, within the options' timeout.
//!
//! The cookie holds the challenge, its purpose, the user it was issued
//! for (none for a login with a passkey alone), when it was issued, and
//! an HMAC of all four under the secret key. An answer is checked against
//! the challenge of a cookie that verifies, has the purpose and user of
//! the step taking it, is at most [`LIFETIME`] old and is exactly
//! [`LENGTH`] bytes; without one, it is refused. Each challenge is used
//! up atomically on every store (a throttle counter of limit one): the
//! same answer posted at once from several connections logs in once.

use std::time::Duration;

use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
use http::{HeaderMap, HeaderValue};

use crate::http::cookies;
use crate::kernel::error::Result;
use crate::settings::secret::{KeyMatch, SaltedMac};
use crate::{mfa::counters::challenge_use, throttle::Throttle};

/// The key salt of the cookie's HMAC.
pub(crate) const CHALLENGE_SALT: &str = "auth.webauthn.challenge";

/// The cookie's name.
pub(crate) const COOKIE: &str = "authwebauthn";

/// How long a challenge can be answered: the options' `timeout`.
pub(crate) const LIFETIME: Duration = Duration::from_secs(300);

/// A challenge's length in bytes.
pub(crate) const LENGTH: usize = 32;

/// What a challenge is for: an answer is accepted only by the step it
/// was issued for.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Purpose {
    /// Adding a passkey (`navigator.credentials.create()`).
    Register,
    /// Logging in with a passkey alone.
    Login,
    /// The second step of a staged login.
    SecondStep,
}

impl Purpose {
    fn as_str(self) -> &'static str {
        match self {
            Purpose::Register => "register",
            Purpose::Login => "login",
            Purpose::SecondStep => "second",
        }
    }
}

/// Issues and takes challenges.
#[derive(Clone)]
pub(crate) struct Challenges {
    mac: SaltedMac,
}

impl Challenges {
    pub(crate) fn new(mac: SaltedMac) -> Self {
        Challenges { mac }
    }

    /// A new challenge for `purpose` and `user`, and the `Set-Cookie`
    /// that carries it to the answer (`secure`: the cookie's `Secure`).
    pub(crate) fn issue(
        &self,
        purpose: Purpose,
        user: Option<i64>,
        now: i64,
        secure: bool,
    ) -> (Vec<u8>, HeaderValue) {
        let challenge = super::webauthn::challenge();
        let value = format!(
            "{}.{}.{}.{now}",
            URL_SAFE_NO_PAD.encode(&challenge),
            purpose.as_str(),
            user.map_or_else(|| "-".to_owned(), |id| id.to_string()),
        );
        let signed = format!("{value}.{}", self.mac.hex(value.as_bytes()));
        (challenge, set_cookie(&signed, LIFETIME, secure))
    }

    /// The challenge of `cookie` when it verifies for `purpose` and
    /// `user` at `now`: the bytes, and their text (what its single use is
    /// counted under).
    fn read(
        &self,
        cookie: &str,
        purpose: Purpose,
        user: Option<i64>,
        now: i64,
    ) -> Option<(Vec<u8>, String)> {
        let (value, signature) = cookie.rsplit_once('.')?;
        if self.mac.verify(value.as_bytes(), signature) == KeyMatch::NoMatch {
            return None;
        }
        let mut parts = value.split('.');
        let (text, kind, owner, issued) =
            (parts.next()?, parts.next()?, parts.next()?, parts.next()?);
        if parts.next().is_some() || kind != purpose.as_str() {
            return None;
        }
        let wanted = user.map_or_else(|| "-".to_owned(), |id| id.to_string());
        let issued: i64 = issued.parse().ok()?;
        let age = now.checked_sub(issued)?;
        if owner != wanted || !(0..=LIFETIME.as_secs() as i64).contains(&age) {
            return None;
        }
        let challenge = URL_SAFE_NO_PAD.decode(text).ok()?;
        (challenge.len() == LENGTH).then(|| (challenge, text.to_owned()))
    }

    /// Takes the challenge of `cookie` (see [`cookie_in`]) for `purpose`
    /// and `user` at Unix time `now`: its bytes, used up now (counted on
    /// `throttle`, which every instance shares); `None` when there is
    /// none that holds, or it was used already.
    pub(crate) async fn take(
        &self,
        throttle: &Throttle,
        now: i64,
        cookie: Option<&str>,
        purpose: Purpose,
        user: Option<i64>,
    ) -> Result<Option<Vec<u8>>> {
        let Some((challenge, text)) = cookie.and_then(|c| self.read(c, purpose, user, now)) else {
            return Ok(None);
        };
        // Counted for longer than it lives, so it cannot be used twice.
        let once = challenge_use(&text, LIFETIME * 2);
        Ok(match throttle.count(&once).await? {
            Ok(()) => Some(challenge),
            Err(_) => {
                tracing::info!("a WebAuthn challenge was answered twice; refused");
                None
            }
        })
    }
}

/// The challenge cookie of a request, if it has one.
pub(crate) fn cookie_in(headers: &HeaderMap) -> Option<String> {
    let [cookie] = cookies::find(headers, [COOKIE]);
    cookie.map(str::to_owned)
}

/// The `Set-Cookie` that ends the challenge cookie (sent with every
/// answer, taken or not).
pub(crate) fn clear_cookie(secure: bool) -> HeaderValue {
    set_cookie("", Duration::ZERO, secure)
}

fn set_cookie(value: &str, age: Duration, secure: bool) -> HeaderValue {
    let cookie = cookie::Cookie::build((COOKIE, value))
        .path("/")
        .max_age(time::Duration::seconds(age.as_secs() as i64))
        .same_site(cookie::SameSite::Strict)
        .secure(secure)
        .http_only(true)
        .build();
    HeaderValue::try_from(cookie.to_string()).unwrap_or_else(|_| HeaderValue::from_static(""))
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::secret::SecretKeys;

    fn challenges(secret: &str) -> Challenges {
        Challenges::new(
            SecretKeys::new(secret, vec![])
                .unwrap()
                .salted(CHALLENGE_SALT),
        )
    }

    fn value(set_cookie: &HeaderValue) -> String {
        let text = set_cookie.to_str().unwrap();
        let pair = text.split(';').next().unwrap();
        pair.split_once('=').unwrap().1.to_owned()
    }

    #[test]
    fn a_challenge_holds_for_its_purpose_its_user_and_its_lifetime_only() {
        let site = challenges("a-secret-key-of-this-site-long-enough");
        let (challenge, cookie) = site.issue(Purpose::SecondStep, Some(7), 1_000, true);
        let header = cookie.to_str().unwrap();
        assert!(
            header.contains("HttpOnly") && header.contains("Secure"),
            "{header}"
        );
        assert!(header.contains("SameSite=Strict") && header.contains("Max-Age=300"));
        let cookie = value(&cookie);
        let read = |cookie: &str, purpose, user, now| site.read(cookie, purpose, user, now);
        assert_eq!(
            read(&cookie, Purpose::SecondStep, Some(7), 1_300).map(|(c, _)| c),
            Some(challenge)
        );
        assert!(
            read(&cookie, Purpose::Login, Some(7), 1_000).is_none(),
            "purpose"
        );
        assert!(
            read(&cookie, Purpose::Register, Some(7), 1_000).is_none(),
            "purpose"
        );
        assert!(
            read(&cookie, Purpose::SecondStep, Some(8), 1_000).is_none(),
            "user"
        );
        assert!(
            read(&cookie, Purpose::SecondStep, None, 1_000).is_none(),
            "user"
        );
        assert!(
            read(&cookie, Purpose::SecondStep, Some(7), 1_301).is_none(),
            "expired"
        );
        assert!(
            read(&cookie, Purpose::SecondStep, Some(7), 999).is_none(),
            "future"
        );
        let other = challenges("another-secret-key-of-another-site-x");
        assert!(
            other
                .read(&cookie, Purpose::SecondStep, Some(7), 1_000)
                .is_none()
        );
        // Any byte changed is refused; so is an empty or short challenge,
        // even correctly signed.
        for index in 0..cookie.len() {
            let mut forged = cookie.clone().into_bytes();
            forged[index] = if forged[index] == b'A' { b'B' } else { b'A' };
            let forged = String::from_utf8(forged).unwrap();
            assert!(read(&forged, Purpose::SecondStep, Some(7), 1_000).is_none());
        }
        for text in ["", "AAAA"] {
            let value = format!("{text}.login.-.1000");
            let signed = format!("{value}.{}", site.mac.hex(value.as_bytes()));
            assert!(
                read(&signed, Purpose::Login, None, 1_000).is_none(),
                "{text:?}"
            );
        }
        for garbage in ["", ".", "a.b.c.d.e", "...."] {
            assert!(read(garbage, Purpose::Login, None, 1_000).is_none());
        }
    }
}
