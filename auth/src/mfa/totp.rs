//! Time-based one-time passwords (RFC 6238 over RFC 4226's HOTP): HMAC-SHA1,
//! 6 digits, 30-second steps, `AUTH_MFA_TOTP_TOLERANCE` steps before and
//! after the current one accepted (1 by default), each step at most once
//! (the caller keeps the last step used).
//!
//! Written on the `hmac` and `sha1` crates this library already uses: the
//! algorithm is 20 lines, and RFC 6238's own test vectors check it.

use hmac::{Hmac, KeyInit, Mac};
use sha1::Sha1;

use crate::kernel::crypto::constant_time_eq;

/// Seconds per step.
pub(crate) const STEP: u64 = 30;
/// Digits per code.
pub(crate) const DIGITS: u32 = 6;
/// Bytes of a new secret (160 bits, RFC 4226's recommendation).
pub(crate) const SECRET_BYTES: usize = 20;

/// RFC 4226's HOTP value of `secret` at `counter`, `digits` long.
fn hotp(secret: &[u8], counter: u64, digits: u32) -> u32 {
    let mut mac = Hmac::<Sha1>::new_from_slice(secret).expect("HMAC takes keys of any length");
    mac.update(&counter.to_be_bytes());
    let digest = mac.finalize().into_bytes();
    let offset = usize::from(digest[19] & 0x0f);
    let binary = u32::from_be_bytes([
        digest[offset] & 0x7f,
        digest[offset + 1],
        digest[offset + 2],
        digest[offset + 3],
    ]);
    binary % 10u32.pow(digits)
}

/// The step of Unix time `now`.
pub(crate) fn step_at(now: u64) -> u64 {
    now / STEP
}

/// The code for `step`, zero-padded.
pub(crate) fn code(secret: &[u8], step: u64) -> String {
    format!(
        "{:0width$}",
        hotp(secret, step, DIGITS),
        width = DIGITS as usize
    )
}

/// The step `code` belongs to, if it is the code of the step of `now` or
/// of one up to `tolerance` steps before or after, and that step is later
/// than `last_used` (a code is good once). Spaces and dashes in `code` are
/// ignored.
pub(crate) fn verify(
    secret: &[u8],
    code: &str,
    now: u64,
    tolerance: u8,
    last_used: Option<u64>,
) -> Option<u64> {
    let typed: String = code.chars().filter(|c| !matches!(c, ' ' | '-')).collect();
    if typed.len() != DIGITS as usize || !typed.bytes().all(|b| b.is_ascii_digit()) {
        return None;
    }
    let current = step_at(now);
    let tolerance = u64::from(tolerance);
    let mut matched = None;
    for step in current.saturating_sub(tolerance)..=current.saturating_add(tolerance) {
        // Every candidate is compared, in constant time.
        let expected = self::code(secret, step);
        if constant_time_eq(expected.as_bytes(), typed.as_bytes()) && matched.is_none() {
            matched = Some(step);
        }
    }
    matched.filter(|step| last_used.is_none_or(|last| *step > last))
}

/// A new random secret.
pub(crate) fn new_secret() -> Vec<u8> {
    use rand::Rng;
    let mut secret = vec![0u8; SECRET_BYTES];
    rand::rng().fill(&mut secret[..]);
    secret
}

const BASE32: &[u8; 32] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZ234567";

/// RFC 4648 base32 without padding, as authenticator apps take secrets.
pub(crate) fn base32(bytes: &[u8]) -> String {
    let mut out = String::with_capacity(bytes.len().div_ceil(5) * 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for &byte in bytes {
        buffer = (buffer << 8) | u32::from(byte);
        bits += 8;
        while bits >= 5 {
            bits -= 5;
            out.push(char::from(BASE32[((buffer >> bits) & 31) as usize]));
        }
    }
    if bits > 0 {
        out.push(char::from(BASE32[((buffer << (5 - bits)) & 31) as usize]));
    }
    out
}

/// The bytes of a base32 secret (either case, spaces and padding
/// ignored); `None` when it is not base32.
pub(crate) fn from_base32(text: &str) -> Option<Vec<u8>> {
    let mut out = Vec::with_capacity(text.len() * 5 / 8);
    let (mut buffer, mut bits) = (0u32, 0u32);
    for c in text.chars().filter(|c| !matches!(c, ' ' | '=')) {
        let value = BASE32
            .iter()
            .position(|&b| char::from(b) == c.to_ascii_uppercase())?;
        buffer = (buffer << 5) | value as u32;
        bits += 5;
        if bits >= 8 {
            bits -= 8;
            out.push((buffer >> bits) as u8);
        }
    }
    Some(out)
}

/// The `otpauth://` URI authenticator apps read from the QR code.
pub(crate) fn otpauth_uri(issuer: &str, account: &str, secret: &[u8]) -> String {
    use percent_encoding::{NON_ALPHANUMERIC, utf8_percent_encode};
    let issuer_enc = utf8_percent_encode(issuer, NON_ALPHANUMERIC);
    let account_enc = utf8_percent_encode(account, NON_ALPHANUMERIC);
    format!(
        "otpauth://totp/{issuer_enc}:{account_enc}?secret={}&issuer={issuer_enc}&algorithm=SHA1&digits={DIGITS}&period={STEP}",
        base32(secret)
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    /// RFC 6238, appendix B: the SHA-1 rows (8 digits, the 20-byte ASCII
    /// seed "12345678901234567890").
    #[test]
    fn rfc_6238_test_vectors() {
        let seed = b"12345678901234567890";
        for (time, expected) in [
            (59u64, 94287082u32),
            (1111111109, 7081804),
            (1111111111, 14050471),
            (1234567890, 89005924),
            (2000000000, 69279037),
            (20000000000, 65353130),
        ] {
            assert_eq!(hotp(seed, step_at(time), 8), expected, "T={time}");
        }
        // And RFC 4226's HOTP table, 6 digits.
        let hotp_expected = [
            755224, 287082, 359152, 969429, 338314, 254676, 287922, 162583, 399871, 520489,
        ];
        for (counter, expected) in hotp_expected.into_iter().enumerate() {
            assert_eq!(hotp(seed, counter as u64, 6), expected);
        }
        assert_eq!(code(seed, 1), "287082");
    }

    #[test]
    fn the_tolerance_sets_the_steps_either_side_and_nothing_beyond() {
        let secret = b"12345678901234567890";
        let now = 1_700_000_015;
        let current = step_at(now);
        for tolerance in [0u8, 1, 2] {
            for offset in -4i64..=4 {
                let step = current.checked_add_signed(offset).unwrap();
                let result = verify(secret, &code(secret, step), now, tolerance, None);
                let accepted = offset.unsigned_abs() <= u64::from(tolerance);
                assert_eq!(
                    result.is_some(),
                    accepted,
                    "tolerance {tolerance}, offset {offset}"
                );
                if accepted {
                    assert_eq!(result, Some(step));
                }
            }
        }
    }

    #[test]
    fn a_code_is_good_once() {
        let secret = new_secret();
        let now = 1_700_000_000;
        let typed = code(&secret, step_at(now));
        let used = verify(&secret, &typed, now, 1, None).unwrap();
        assert_eq!(verify(&secret, &typed, now, 1, Some(used)), None, "replay");
        assert_eq!(verify(&secret, &typed, now + 29, 1, Some(used)), None);
        // The previous step's code after the current one was used: refused.
        let before = code(&secret, used - 1);
        assert_eq!(verify(&secret, &before, now, 1, Some(used)), None);
        // The next step's code is still good.
        let next = code(&secret, used + 1);
        assert_eq!(
            verify(&secret, &next, now + 30, 1, Some(used)),
            Some(used + 1)
        );
    }

    #[test]
    fn malformed_codes_are_refused() {
        let secret = new_secret();
        for typed in ["", "12345", "1234567", "abcdef", "12 34 5x", "１２３４５６"] {
            assert_eq!(
                verify(&secret, typed, 1_700_000_000, 1, None),
                None,
                "{typed}"
            );
        }
        let good = code(&secret, step_at(1_700_000_000));
        let spaced = format!("{} {}", &good[..3], &good[3..]);
        assert!(verify(&secret, &spaced, 1_700_000_000, 1, None).is_some());
    }

    #[test]
    fn base32_round_trips_and_matches_rfc_4648() {
        assert_eq!(base32(b"foobar"), "MZXW6YTBOI");
        assert_eq!(base32(b"f"), "MY");
        assert_eq!(from_base32("MZXW6YTBOI").unwrap(), b"foobar");
        assert_eq!(from_base32("mzxw 6ytb oi======").unwrap(), b"foobar");
        assert_eq!(from_base32("MZ1"), None);
        for _ in 0..50 {
            let secret = new_secret();
            assert_eq!(base32(&secret).len(), 32);
            assert_eq!(from_base32(&base32(&secret)).unwrap(), secret);
        }
    }

    #[test]
    fn the_uri_names_issuer_account_and_secret() {
        let uri = otpauth_uri("My Site", "alice@example.com", b"foobar");
        assert_eq!(
            uri,
            "otpauth://totp/My%20Site:alice%40example%2Ecom?secret=MZXW6YTBOI&issuer=My%20Site&algorithm=SHA1&digits=6&period=30"
        );
    }
}
