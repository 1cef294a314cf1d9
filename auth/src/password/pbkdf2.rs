//! Verification of Django's `pbkdf2_sha256$<iterations>$<salt>$<base64>` hashes,
//! so a user table imported from Django keeps working (and gets re-hashed).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::Sha256;
use subtle::ConstantTimeEq;

/// Django's iteration count is in the millions; refuse absurd values so a
/// crafted row cannot pin a CPU for minutes.
const MAX_ITERATIONS: u32 = 10_000_000;

/// `Some(matches)` for a well-formed hash, `None` for a malformed one.
pub(super) fn verify(raw: &str, encoded: &str) -> Option<bool> {
    let mut parts = encoded.splitn(4, '$');
    let (Some("pbkdf2_sha256"), Some(iterations), Some(salt), Some(expected)) =
        (parts.next(), parts.next(), parts.next(), parts.next())
    else {
        return None;
    };
    let iterations: u32 = iterations
        .parse()
        .ok()
        .filter(|n| (1..=MAX_ITERATIONS).contains(n))?;
    let expected = STANDARD.decode(expected).ok()?;
    if expected.len() != 32 {
        return None;
    }
    let derived = pbkdf2_sha256_block(raw.as_bytes(), salt.as_bytes(), iterations);
    Some(bool::from(derived.as_slice().ct_eq(&expected)))
}

/// The first (and, for a 32-byte key, only) block of PBKDF2-HMAC-SHA256.
fn pbkdf2_sha256_block(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let prf = Hmac::<Sha256>::new_from_slice(password).expect("HMAC accepts keys of any length");
    let mut mac = prf.clone();
    mac.update(salt);
    mac.update(&1u32.to_be_bytes());
    let mut u: [u8; 32] = mac.finalize().into_bytes().into();
    let mut out = u;
    for _ in 1..iterations {
        let mut mac = prf.clone();
        mac.update(&u);
        u = mac.finalize().into_bytes().into();
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}
