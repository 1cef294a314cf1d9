//! Verification of Django's `pbkdf2_sha256$<iterations>$<salt>$<base64>` hashes,
//! so a user table imported from Django keeps working (and gets re-hashed).

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
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
///
/// Each iteration hashes a 32-byte value, which fits one SHA-256 block, so
/// the inner and outer HMAC states are computed once and every iteration is
/// two calls of the compression function (the classic PBKDF2 shortcut; it
/// also keeps the million-iteration loop fast in debug builds).
fn pbkdf2_sha256_block(password: &[u8], salt: &[u8], iterations: u32) -> [u8; 32] {
    let first = {
        let mut mac =
            Hmac::<Sha256>::new_from_slice(password).expect("HMAC accepts keys of any length");
        mac.update(salt);
        mac.update(&1u32.to_be_bytes());
        let u: [u8; 32] = mac.finalize().into_bytes().into();
        u
    };
    let inner_state = keyed_state(password, 0x36);
    let outer_state = keyed_state(password, 0x5c);
    let mut u = first;
    let mut out = first;
    for _ in 1..iterations {
        let inner = compress_32(inner_state, &u);
        u = compress_32(outer_state, &inner);
        for (o, x) in out.iter_mut().zip(u.iter()) {
            *o ^= x;
        }
    }
    out
}

const SHA256_IV: [u32; 8] = [
    0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a, 0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19,
];

/// The SHA-256 state after absorbing the HMAC key block XORed with `pad`.
fn keyed_state(key: &[u8], pad: u8) -> [u32; 8] {
    let mut block = [0u8; 64];
    if key.len() > 64 {
        block[..32].copy_from_slice(&Sha256::digest(key));
    } else {
        block[..key.len()].copy_from_slice(key);
    }
    for b in &mut block {
        *b ^= pad;
    }
    let mut state = SHA256_IV;
    sha2::compress256(&mut state, &[block.into()]);
    state
}

/// SHA-256 of (the 64 bytes behind `state`) ++ `data`, for 32-byte `data`.
fn compress_32(mut state: [u32; 8], data: &[u8; 32]) -> [u8; 32] {
    let mut block = [0u8; 64];
    block[..32].copy_from_slice(data);
    block[32] = 0x80;
    // Message length in bits: one key block plus 32 bytes.
    block[56..].copy_from_slice(&((64u64 + 32) * 8).to_be_bytes());
    sha2::compress256(&mut state, &[block.into()]);
    let mut out = [0u8; 32];
    for (chunk, word) in out.chunks_exact_mut(4).zip(state) {
        chunk.copy_from_slice(&word.to_be_bytes());
    }
    out
}
