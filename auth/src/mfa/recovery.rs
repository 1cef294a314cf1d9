//! Recovery codes: 10 random codes, each 12 characters of a 32-letter
//! alphabet (60 bits), shown once; each works once.
//!
//! Stored as OWASP ASVS 6.5.2 asks of codes under 112 bits: each with a
//! salted slow hash (the app's password hasher, argon2id), beside its
//! first four characters in clear. A code typed at the login is hashed
//! once, against the one stored code that shares its first four (a set's
//! are distinct): the check costs one password hash, like the password
//! step, whatever the set holds. Someone who reads the table learns those
//! four characters and must still guess the other 40 bits of each code
//! through argon2.
//!
//! Sets made before this were stored as unsalted SHA-256 digests; they
//! keep working until renewed.

use rand::Rng;
use sha2::{Digest, Sha256};

use crate::kernel::crypto::constant_time_eq;

/// How many codes a set has.
pub(crate) const COUNT: usize = 10;
/// Characters per code (5 bits each).
const LENGTH: usize = 12;
/// The characters of a code kept in clear to find its hash.
const ID_LENGTH: usize = 4;
/// Lower-case letters and digits without the look-alikes 0, 1, l and o.
const ALPHABET: &[u8; 32] = b"abcdefghijkmnpqrstuvwxyz23456789";

/// A new set of codes to show (`xxxx-xxxx-xxxx`), no two starting with
/// the same four characters.
pub(crate) fn generate() -> Vec<String> {
    let mut rng = rand::rng();
    let mut codes: Vec<String> = Vec::with_capacity(COUNT);
    while codes.len() < COUNT {
        let raw: String = (0..LENGTH)
            .map(|_| char::from(ALPHABET[rng.random_range(0..ALPHABET.len())]))
            .collect();
        if codes
            .iter()
            .any(|code| code[..ID_LENGTH] == raw[..ID_LENGTH])
        {
            continue;
        }
        codes.push(format!("{}-{}-{}", &raw[..4], &raw[4..8], &raw[8..]));
    }
    codes
}

/// A code as typed, normalised: case, spaces and dashes ignored; `None`
/// when it cannot be a code (wrong length or characters).
pub(crate) fn normal(typed: &str) -> Option<String> {
    let normal: String = typed
        .chars()
        .filter(|c| !matches!(c, ' ' | '-'))
        .map(|c| c.to_ascii_lowercase())
        .collect();
    (normal.len() == LENGTH && normal.bytes().all(|b| ALPHABET.contains(&b))).then_some(normal)
}

/// How code `normal` is stored, given its slow hash: `id:hash`.
pub(crate) fn stored(normal: &str, hash: &str) -> String {
    format!("{}:{hash}", &normal[..ID_LENGTH])
}

/// What checking a typed code against a set takes.
#[derive(Debug, PartialEq, Eq)]
pub(crate) enum Candidate<'a> {
    /// The stored code at `index` shares the typed one's first four
    /// characters: check `hash` with the password hasher.
    Hashed {
        /// Its position in the set.
        index: usize,
        /// Its slow hash.
        hash: &'a str,
    },
    /// A code of a set stored as unsalted digests matched, at `index`.
    Legacy {
        /// Its position in the set.
        index: usize,
    },
}

/// The stored code `normal` (see [`normal`]) may be, if any.
pub(crate) fn candidate<'a>(stored: &'a [String], normal: &str) -> Option<Candidate<'a>> {
    let id = &normal[..ID_LENGTH];
    let hashed = stored.iter().enumerate().find_map(|(index, entry)| {
        let (entry_id, hash) = entry.split_once(':')?;
        (entry_id == id).then_some(Candidate::Hashed { index, hash })
    });
    if hashed.is_some() {
        return hashed;
    }
    let wanted = hex::encode(Sha256::digest(normal.as_bytes()));
    let mut found = None;
    for (index, entry) in stored.iter().enumerate() {
        // Every legacy digest compared, in constant time.
        if !entry.contains(':')
            && constant_time_eq(entry.as_bytes(), wanted.as_bytes())
            && found.is_none()
        {
            found = Some(Candidate::Legacy { index });
        }
    }
    found
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn codes_are_distinct_strong_and_found_as_typed() {
        let codes = generate();
        assert_eq!(codes.len(), COUNT);
        let ids: std::collections::HashSet<_> = codes.iter().map(|c| &c[..4]).collect();
        assert_eq!(ids.len(), COUNT, "distinct first four characters");
        // 12 symbols of 32: 60 bits each.
        assert!((LENGTH as f64) * (ALPHABET.len() as f64).log2() >= 60.0);
        let stored: Vec<String> = codes
            .iter()
            .map(|code| stored(&normal(code).unwrap(), &format!("hash-of-{code}")))
            .collect();
        for (i, code) in codes.iter().enumerate() {
            assert_eq!(code.len(), 14);
            for typed in [code.clone(), code.to_uppercase().replace('-', " ")] {
                let normal = normal(&typed).unwrap();
                let hash = format!("hash-of-{code}");
                assert_eq!(
                    candidate(&stored, &normal),
                    Some(Candidate::Hashed {
                        index: i,
                        hash: &hash
                    })
                );
            }
        }
        for typed in [
            "",
            "aaaa-bbbb",
            "aaaa-bbbb-cccc-d",
            "0000-0000-0000",
            "ａａａａ-bbbb-cccc",
        ] {
            assert_eq!(normal(typed), None, "{typed}");
        }
        assert_eq!(candidate(&stored, "zzzzbbbbcccc"), None);
        for code in &codes {
            let secret = &normal(code).unwrap()[ID_LENGTH..];
            assert!(
                stored.iter().all(|entry| !entry.contains(secret)),
                "no code's secret part is stored in clear"
            );
        }
    }

    #[test]
    fn sets_stored_as_digests_still_work() {
        let code = "abcd-efgh-ijkm";
        let normal = normal(code).unwrap();
        let legacy = vec![
            hex::encode(Sha256::digest(b"zzzzzzzzzzzz")),
            hex::encode(Sha256::digest(normal.as_bytes())),
        ];
        assert_eq!(
            candidate(&legacy, &normal),
            Some(Candidate::Legacy { index: 1 })
        );
        assert_eq!(candidate(&legacy, "abcdefghijkn"), None);
    }
}
