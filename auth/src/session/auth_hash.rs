//! The session auth hash (Django's `get_session_auth_hash`): an HMAC of the
//! stored password hash under the secret key, kept in the session at login
//! and compared on every request, so a password change (or a secret
//! rotated without a fallback) ends every other session of the user.

use std::{collections::HashMap, sync::Arc, sync::Mutex};

use subtle::ConstantTimeEq;

use crate::settings::secret::{KeyMatch, SaltedMac};

/// Makes and checks session auth hashes; each password hash's is computed
/// once (an HMAC per request was most of what a cached request cost).
pub(crate) struct AuthHash {
    mac: SaltedMac,
    /// Hashes by stored password hash, at most `capacity`.
    memo: Mutex<HashMap<String, Arc<str>, foldhash::fast::RandomState>>,
    capacity: usize,
}

impl AuthHash {
    pub(crate) fn new(mac: SaltedMac, capacity: usize) -> Self {
        AuthHash {
            mac,
            memo: Mutex::default(),
            capacity: capacity.max(1),
        }
    }

    /// The session auth hash of a stored password hash, under the current
    /// key.
    pub(crate) fn of(&self, password_hash: &str) -> Arc<str> {
        let mut memo = self.memo.lock().unwrap_or_else(|p| p.into_inner());
        if let Some(hash) = memo.get(password_hash) {
            return hash.clone();
        }
        let hash: Arc<str> = self.mac.hex(password_hash.as_bytes()).into();
        if memo.len() >= self.capacity {
            memo.clear();
        }
        memo.insert(password_hash.to_owned(), hash.clone());
        hash
    }

    /// Which key made `stored` for `password_hash`, in constant time.
    pub(crate) fn verify(&self, password_hash: &str, stored: &str) -> KeyMatch {
        let current = self.of(password_hash);
        if equal(current.as_bytes(), stored.as_bytes()) {
            KeyMatch::Current
        } else {
            // Made under a fallback key, or not by this site.
            self.mac.verify(password_hash.as_bytes(), stored)
        }
    }
}

/// Whether `a` and `b` are equal, in a time that depends only on their
/// lengths: the differences of every eight bytes are gathered without a
/// branch and compared to zero once, with `subtle` (whose comparison of
/// byte slices goes one byte at a time, ~600 instructions for a
/// 64-character hash on every logged-in request).
fn equal(a: &[u8], b: &[u8]) -> bool {
    if a.len() != b.len() {
        return false;
    }
    let word = |chunk: &[u8]| {
        let mut bytes = [0u8; 8];
        bytes[..chunk.len()].copy_from_slice(chunk);
        u64::from_le_bytes(bytes)
    };
    // Whole words are read with a fixed-size conversion: `word`'s copy of
    // a slice of unknown length compiled to a `memcpy` call per word.
    let (a_words, b_words) = (a.chunks_exact(8), b.chunks_exact(8));
    let tail = word(a_words.remainder()) ^ word(b_words.remainder());
    let differences = a_words.zip(b_words).fold(tail, |acc, (x, y)| {
        acc | (u64::from_le_bytes(x.try_into().expect("8 bytes"))
            ^ u64::from_le_bytes(y.try_into().expect("8 bytes")))
    });
    bool::from(differences.ct_eq(&0))
}

#[cfg(test)]
mod tests {
    use rand::{Rng, RngCore};

    use super::*;

    /// `equal` answers as a plain comparison does, over random slices of
    /// every length up to 80 (a hash is 64), equal ones, ones that differ
    /// in one byte at every place (the first, the last, the eighth), and
    /// ones of other lengths.
    #[test]
    fn equal_agrees_with_a_plain_comparison() {
        let mut rng = rand::rng();
        for len in 0..=80 {
            let mut a = vec![0u8; len];
            rng.fill_bytes(&mut a);
            assert!(equal(&a, &a.clone()), "len {len}");
            for place in 0..len {
                let mut b = a.clone();
                b[place] ^= 1 << rng.random_range(0..8);
                assert_eq!(equal(&a, &b), a == b, "len {len}, place {place}");
            }
            let mut longer = a.clone();
            longer.push(a.last().copied().unwrap_or(0));
            assert!(!equal(&a, &longer) && !equal(&longer, &a), "len {len}");
            let mut zeros = a.clone();
            zeros.iter_mut().for_each(|b| *b = 0);
            assert_eq!(equal(&a, &zeros), a == zeros, "len {len}");
        }
    }
}
