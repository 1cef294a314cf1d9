//! Recovery codes: 10 random codes, each 12 characters of a 32-letter
//! alphabet (60 bits), shown once and stored as SHA-256 digests (a code's
//! entropy makes a slow hash unnecessary); each works once.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::settings::secret::constant_time_eq;

/// How many codes a set has.
pub(crate) const COUNT: usize = 10;
/// Characters per code (5 bits each).
const LENGTH: usize = 12;
/// Lower-case letters and digits without the look-alikes 0, 1, l and o.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new set: the codes to show (`xxxx-xxxx-xxxx`), and their digests to
/// store.
pub(crate) fn generate() -> (Vec<String>, Vec<String>) {
    let mut rng = rand::rng();
    let codes: Vec<String> = (0..COUNT)
        .map(|_| {
            let raw: String = (0..LENGTH)
                .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
                .collect();
            format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..])
        })
        .collect();
    let digests = codes.iter().map(|code| digest(code)).collect();
    (codes, digests)
}

/// The stored form of a code as typed: case, spaces and dashes ignored.
pub(crate) fn digest(typed: &str) -> String {
    let normal: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    hex::encode(Sha256::digest(normal.as_bytes()))
}

/// The index of the stored digest `typed` matches, if any (every digest
/// compared in constant time).
pub(crate) fn find(digests: &[String], typed: &str) -> Option<usize> {
    let wanted = digest(typed);
    let mut found = None;
    for (i, stored) in digests.iter().enumerate() {
        if constant_time_eq(stored.as_bytes(), wanted.as_bytes()) && found.is_none() {
            found = Some(i);
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_strong_and_found_as_typed() {
        let (codes, digests) = generate();
        assert_eq!(codes.len(), COUNT);
        let distinct: std::collections::HashSet<_> = codes.iter().collect();
        assert_eq!(distinct.len(), COUNT);
        // 12 symbols of 32: 60 bits each.
        assert!((LENGTH as f64) * (ALPHABET.len() as f64).log2() >= 50.0);
        for (i, code) in codes.iter().enumerate() {
            assert_eq!(code.len(), 14);
            assert_eq!(find(&digests, code), Some(i));
            assert_eq!(
                find(&digests, &code.to_uppercase().replace('-', " ")),
                Some(i)
            );
        }
        assert_eq!(find(&digests, "aaaa-bbbb-cccc"), None);
        assert_eq!(find(&digests, ""), None);
    }
}
