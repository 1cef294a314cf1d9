//! Password-reset tokens, made and checked exactly as Django's
//! `PasswordResetTokenGenerator` does, so a link Django made for a user
//! (with the same secret key) works here and the other way round.
//!
//! A token is `<timestamp>-<hash>`: the timestamp in base 36 (seconds since
//! 2001-01-01), the hash every other hex digit of Django's `salted_hmac`
//! (SHA-256) of the user's id, password hash, last login (to the second),
//! the timestamp and email. So a token stops working when it is used (the
//! password changes), when the user logs in, when the email changes, and
//! after `PASSWORD_RESET_TIMEOUT`.
//!
//! Django takes "now" in the server's local time zone; this crate takes
//! UTC. Tokens verify either way; between a Django server in another time
//! zone and this one, only the expiry moves by the offset.

use base64::Engine as _;
use time::{OffsetDateTime, PrimitiveDateTime, macros::datetime};

use crate::{kernel::crypto::constant_time_eq, settings::secret::SaltedMac, user::AbstractUser};

/// Django's `PasswordResetTokenGenerator.key_salt`.
pub(crate) const RESET_TOKEN_SALT: &str = "django.contrib.auth.tokens.PasswordResetTokenGenerator";

/// The epoch of token timestamps.
const EPOCH: PrimitiveDateTime = datetime!(2001-01-01 0:00);

/// Longest timestamp part accepted (base 36 of `i64::MAX` has 13 digits).
const MAX_TIMESTAMP_DIGITS: usize = 13;

/// Seconds since 2001-01-01 (UTC) of `now`.
fn seconds_since_epoch(now: OffsetDateTime) -> i64 {
    let naive = PrimitiveDateTime::new(now.date(), now.time());
    (naive - EPOCH).whole_seconds()
}

/// Django's `int_to_base36`.
fn to_base36(mut n: u64) -> String {
    const DIGITS: &[u8; 36] = b"0123456789abcdefghijklmnopqrstuvwxyz";
    let mut out = Vec::new();
    loop {
        out.push(DIGITS[(n % 36) as usize]);
        n /= 36;
        if n == 0 {
            break;
        }
    }
    out.reverse();
    String::from_utf8(out).unwrap_or_default()
}

/// Django's `base36_to_int` (which refuses more than 13 digits).
fn from_base36(digits: &str) -> Option<i64> {
    if digits.is_empty() || digits.len() > MAX_TIMESTAMP_DIGITS {
        return None;
    }
    i64::from_str_radix(digits, 36).ok()
}

/// Django's `_make_hash_value`: id, password hash, last login without
/// microseconds or zone (`2024-05-01 12:30:00`, or empty), timestamp and
/// email.
fn hash_value(user: &AbstractUser, timestamp: i64) -> String {
    let login = user.last_login.map_or_else(String::new, |at| {
        let at = at.to_offset(time::UtcOffset::UTC);
        format!(
            "{:04}-{:02}-{:02} {:02}:{:02}:{:02}",
            at.year(),
            u8::from(at.month()),
            at.day(),
            at.hour(),
            at.minute(),
            at.second()
        )
    });
    format!(
        "{}{}{login}{timestamp}{}",
        user.id, user.password, user.email
    )
}

/// Every other hex digit, as Django's `hexdigest()[::2]`.
fn every_other(hex: &str) -> String {
    hex.chars().step_by(2).collect()
}

/// Makes and checks password-reset tokens with the site's secret keys.
#[derive(Clone)]
pub(crate) struct TokenGenerator {
    mac: SaltedMac,
    timeout_seconds: i64,
}

impl TokenGenerator {
    pub(crate) fn new(mac: SaltedMac, timeout: std::time::Duration) -> Self {
        TokenGenerator {
            mac,
            timeout_seconds: i64::try_from(timeout.as_secs()).unwrap_or(i64::MAX),
        }
    }

    /// A token for `user`, made at `now`.
    pub(crate) fn make_token(&self, user: &AbstractUser, now: OffsetDateTime) -> String {
        let timestamp = seconds_since_epoch(now).max(0);
        let hex = self.mac.hex(hash_value(user, timestamp).as_bytes());
        format!(
            "{}-{}",
            to_base36(timestamp.unsigned_abs()),
            every_other(&hex)
        )
    }

    /// Whether `token` was made for `user` (as it is now) with the current
    /// or a fallback key, and has not expired at `now`.
    pub(crate) fn check_token(
        &self,
        user: &AbstractUser,
        token: &str,
        now: OffsetDateTime,
    ) -> bool {
        let Some((digits, hash)) = token.split_once('-') else {
            return false;
        };
        if hash.contains('-') {
            return false;
        }
        let Some(timestamp) = from_base36(digits).filter(|t| *t >= 0) else {
            return false;
        };
        let value = hash_value(user, timestamp);
        // The token made now for that timestamp, compared whole: only the
        // canonical form passes (no leading zeros, sign or capitals in the
        // timestamp), as Django re-encodes it before comparing.
        let canonical = to_base36(timestamp.unsigned_abs());
        let made_here = self.mac.hex_each(value.as_bytes()).iter().any(|hex| {
            let expected = format!("{canonical}-{}", every_other(hex));
            constant_time_eq(expected.as_bytes(), token.as_bytes())
        });
        made_here && seconds_since_epoch(now).saturating_sub(timestamp) <= self.timeout_seconds
    }
}

/// Django's `urlsafe_base64_encode(force_bytes(pk))`: the id's decimal
/// digits in URL-safe base64 without padding (`1` → `MQ`).
pub(crate) fn encode_uid(id: i64) -> String {
    base64::engine::general_purpose::URL_SAFE_NO_PAD.encode(id.to_string())
}

/// The id in a `uidb64`, when it is one.
pub(crate) fn decode_uid(uidb64: &str) -> Option<i64> {
    if uidb64.len() > 32 {
        return None;
    }
    let bytes = base64::engine::general_purpose::URL_SAFE_NO_PAD
        .decode(uidb64.trim_end_matches('='))
        .ok()?;
    let digits = std::str::from_utf8(&bytes).ok()?;
    if digits.is_empty() || !digits.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    digits.parse().ok().filter(|id| *id > 0)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::settings::secret::SecretKeys;

    fn generator(secret: &str, fallbacks: &[&str]) -> TokenGenerator {
        let keys =
            SecretKeys::new(secret, fallbacks.iter().map(|s| s.to_string()).collect()).unwrap();
        TokenGenerator::new(
            keys.salted(RESET_TOKEN_SALT),
            std::time::Duration::from_secs(259_200),
        )
    }

    #[test]
    fn base36_and_uids_round_trip_as_djangos() {
        assert_eq!(to_base36(0), "0");
        assert_eq!(to_base36(35), "z");
        assert_eq!(to_base36(36), "10");
        assert_eq!(from_base36("zz"), Some(1295));
        assert_eq!(from_base36(""), None);
        assert_eq!(from_base36("zzzzzzzzzzzzzz"), None);
        assert_eq!(from_base36("-1"), Some(-1));
        assert_eq!(encode_uid(1), "MQ");
        assert_eq!(encode_uid(42), "NDI");
        assert_eq!(decode_uid("MQ"), Some(1));
        assert_eq!(decode_uid("MQ=="), Some(1));
        assert_eq!(decode_uid("LTE"), None, "-1");
        assert_eq!(decode_uid("YWJj"), None, "abc");
        assert_eq!(decode_uid("!!"), None);
        assert_eq!(decode_uid(""), None);
    }

    #[test]
    fn tokens_expire_and_bind_to_the_user_state() {
        let tokens = generator("a-secret-key-that-is-long-enough-0123456789", &[]);
        let mut user = AbstractUser::new("alice");
        user.id = 7;
        user.password = "argon2$hash".into();
        user.email = "alice@example.com".into();
        let now = OffsetDateTime::now_utc();
        let token = tokens.make_token(&user, now);
        assert!(tokens.check_token(&user, &token, now));
        assert!(tokens.check_token(&user, &token, now + time::Duration::seconds(259_200)));
        assert!(!tokens.check_token(&user, &token, now + time::Duration::seconds(259_201)));
        let mut changed = user.clone();
        changed.password = "argon2$other".into();
        assert!(!tokens.check_token(&changed, &token, now));
        let mut changed = user.clone();
        changed.email = "new@example.com".into();
        assert!(!tokens.check_token(&changed, &token, now));
        let mut changed = user.clone();
        changed.last_login = Some(now);
        assert!(!tokens.check_token(&changed, &token, now));
        let mut other = user.clone();
        other.id = 8;
        assert!(!tokens.check_token(&other, &token, now));
        for bad in [
            "",
            "-",
            "abc",
            "1-2-3",
            &token[..token.len() - 1],
            &format!("{token}0"),
        ] {
            assert!(!tokens.check_token(&user, bad, now), "{bad:?}");
        }
    }

    /// Tokens Django 6.1.3 made (`tests/data/tokens/django_vector.py`).
    #[test]
    fn tokens_match_djangos_byte_for_byte() {
        let tokens = generator("django-vector-secret-key-0123456789abcdef", &[]);
        let now = time::macros::datetime!(2026-11-28 10:00 UTC);
        assert_eq!(seconds_since_epoch(now), 817_552_800);
        let mut alice = AbstractUser::new("alice");
        alice.id = 7;
        alice.password = "argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdA$aGFzaA".into();
        alice.email = "alice@example.com".into();
        alice.last_login = Some(time::macros::datetime!(2024-05-01 12:30:00.123456 UTC));
        assert_eq!(
            tokens.make_token(&alice, now),
            "diqzs0-3ff9c933617e2a751ad1a1c62fb642c5"
        );
        assert!(tokens.check_token(&alice, "diqzs0-3ff9c933617e2a751ad1a1c62fb642c5", now));
        let mut bob = AbstractUser::new("bob");
        bob.id = 12345;
        bob.password = "!unusable".into();
        assert_eq!(
            tokens.make_token(&bob, now),
            "diqzs0-6a320fba2c1d3b47ed8258e3b004675e"
        );
        assert_eq!(encode_uid(12345), "MTIzNDU");
    }

    #[test]
    fn a_token_made_under_a_fallback_key_still_verifies() {
        let old = generator("the-old-secret-key-that-is-long-enough-0123", &[]);
        let rotated = generator(
            "the-new-secret-key-that-is-long-enough-0123",
            &["the-old-secret-key-that-is-long-enough-0123"],
        );
        let user = AbstractUser::new("alice");
        let now = OffsetDateTime::now_utc();
        let token = old.make_token(&user, now);
        assert!(rotated.check_token(&user, &token, now));
        assert!(
            !generator("the-new-secret-key-that-is-long-enough-0123", &[])
                .check_token(&user, &token, now)
        );
    }
}
