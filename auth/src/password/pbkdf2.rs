//! Verification of Django's `pbkdf2_sha256$<iterations>$<salt>$<base64>` hashes,
//! so a user table imported from Django keeps working (and gets re-hashed).
//! The key derivation is RustCrypto's `pbkdf2`.

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use pbkdf2::{Algorithm, Params, pbkdf2_hmac_with_params};

use crate::kernel::crypto::constant_time_eq;

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
    let iterations: u32 = iterations.parse().ok().filter(|n| *n <= MAX_ITERATIONS)?;
    let params = Params::new(iterations).ok()?;
    let expected = STANDARD.decode(expected).ok()?;
    if expected.len() != 32 {
        return None;
    }
    let mut derived = [0u8; 32];
    pbkdf2_hmac_with_params(
        raw.as_bytes(),
        salt.as_bytes(),
        Algorithm::Pbkdf2Sha256,
        params,
        &mut derived,
    );
    Some(constant_time_eq(&derived, &expected))
}
