//! What Django keeps in `django.utils.crypto`, at the bottom of the crate
//! (it uses nothing of it): the constant-time comparison every secret
//! value a request sends is checked with (`constant_time_compare`), and
//! random strings (`get_random_string`).

use subtle::ConstantTimeEq;

/// Whether `a` and `b` are equal, in a time that depends only on their
/// lengths (Django's `constant_time_compare`): for every secret, token,
/// code or hash a request sends. The differences of every eight bytes are
/// gathered without a branch and compared to zero once, with `subtle`
/// (whose comparison of byte slices goes one byte at a time, ~600
/// instructions for a 64-character hash on every logged-in request).
pub(crate) fn constant_time_eq(a: &[u8], b: &[u8]) -> bool {
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

/// The letters and digits random strings are made of (Django's
/// `RANDOM_STRING_CHARS`; its CSRF tokens use the same).
pub(crate) const RANDOM_STRING_CHARS: &[u8] =
    b"abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789";

/// Fills `out` with letters and digits, each uniformly at random from
/// the thread's CSPRNG: a random byte's top six bits pick one of 64
/// places, and the two that are past the 62 characters are drawn again
/// (rand's `Alphanumeric` does the same with one `u32` call per
/// character; the bytes here come 64 at a time).
pub(crate) fn fill_random_chars(out: &mut [u8]) {
    use rand::RngCore;
    let mut rng = rand::rng();
    let mut bytes = [0u8; 64];
    let mut filled = 0;
    while filled < out.len() {
        rng.fill_bytes(&mut bytes);
        for byte in bytes {
            if let Some(&c) = RANDOM_STRING_CHARS.get(usize::from(byte >> 2)) {
                out[filled] = c;
                filled += 1;
                if filled == out.len() {
                    return;
                }
            }
        }
    }
}

/// `len` letters and digits, each uniformly at random from the thread's
/// CSPRNG (Django's `get_random_string`).
pub(crate) fn random_string(len: usize) -> String {
    let mut chars = vec![0u8; len];
    fill_random_chars(&mut chars);
    String::from_utf8(chars).expect("ASCII")
}

/// The prefix of every unusable password (Django's `UNUSABLE_PASSWORD_PREFIX`).
pub const UNUSABLE_PASSWORD_PREFIX: char = '!';
/// How many random characters follow it.
pub(crate) const UNUSABLE_PASSWORD_SUFFIX_LENGTH: usize = 40;

/// A password that never verifies: `!` followed by 40 random characters
/// (Django's `make_password(None)`).
pub fn make_unusable_password() -> String {
    format!(
        "{UNUSABLE_PASSWORD_PREFIX}{}",
        random_string(UNUSABLE_PASSWORD_SUFFIX_LENGTH)
    )
}

/// Whether `encoded` can ever verify (it is not an unusable password).
pub fn is_password_usable(encoded: &str) -> bool {
    !encoded.starts_with(UNUSABLE_PASSWORD_PREFIX)
}

#[cfg(test)]
mod tests {
    use super::*;

    /// Every character is as likely as any other: over 200,000 draws
    /// (about 3,226 each, a standard deviation of 56) each count is within
    /// 10% of the mean. Taking random bytes mod 62 would make eight
    /// characters 21% likelier, and fail this.
    #[test]
    fn random_characters_are_uniform() {
        assert_eq!(random_string(40).len(), 40);
        let mut drawn = vec![0u8; 200_000];
        fill_random_chars(&mut drawn);
        let mut counts = [0usize; 256];
        for &c in &drawn {
            counts[usize::from(c)] += 1;
        }
        let mean = 200_000 / RANDOM_STRING_CHARS.len();
        for (i, &count) in counts.iter().enumerate() {
            let c = u8::try_from(i).unwrap();
            if RANDOM_STRING_CHARS.contains(&c) {
                assert!(
                    count.abs_diff(mean) < mean / 10,
                    "{:?}: {count}",
                    char::from(c)
                );
            } else {
                assert_eq!(count, 0, "{c}");
            }
        }
    }

    /// `constant_time_eq` answers as a plain comparison does, over random
    /// slices of every length up to 80 (a session auth hash is 64), equal
    /// ones, ones that differ in one bit at every place (the first, the
    /// last, the eighth), and ones of other lengths.
    #[test]
    fn constant_time_eq_agrees_with_a_plain_comparison() {
        use rand::{Rng, RngCore};
        let mut rng = rand::rng();
        for len in 0..=80 {
            let mut a = vec![0u8; len];
            rng.fill_bytes(&mut a);
            assert!(constant_time_eq(&a, &a.clone()), "len {len}");
            for place in 0..len {
                let mut b = a.clone();
                b[place] ^= 1 << rng.random_range(0..8);
                assert_eq!(constant_time_eq(&a, &b), a == b, "len {len}, place {place}");
            }
            let mut longer = a.clone();
            longer.push(a.last().copied().unwrap_or(0));
            assert!(
                !constant_time_eq(&a, &longer) && !constant_time_eq(&longer, &a),
                "len {len}"
            );
            let zeros = vec![0u8; len];
            assert_eq!(constant_time_eq(&a, &zeros), a == zeros, "len {len}");
        }
    }
}
