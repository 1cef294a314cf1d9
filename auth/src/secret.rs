//! The secret key (Django's `SECRET_KEY` and `SECRET_KEY_FALLBACKS`) and
//! the HMACs made with it.

use std::path::Path;

use hmac::{Hmac, Mac};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::{Error, Result, Settings};

/// The current secret key and the older ones still accepted.
#[derive(Clone)]
pub struct SecretKeys {
    current: String,
    fallbacks: Vec<String>,
}

impl std::fmt::Debug for SecretKeys {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("SecretKeys")
            .field("fallbacks", &self.fallbacks.len())
            .finish_non_exhaustive()
    }
}

/// Shortest secret key accepted.
const MIN_SECRET_LENGTH: usize = 32;

impl SecretKeys {
    /// Keys given directly.
    pub fn new(current: impl Into<String>, fallbacks: Vec<String>) -> Result<Self> {
        let current = current.into();
        if current.len() < MIN_SECRET_LENGTH {
            return Err(Error::Config(format!(
                "the secret key must be at least {MIN_SECRET_LENGTH} characters long"
            )));
        }
        Ok(SecretKeys { current, fallbacks })
    }

    /// The keys from the settings; without `secret_key`, a development key
    /// read from (or generated into) `settings.secret_key_file`, with a
    /// warning.
    pub fn from_settings(settings: &Settings) -> Result<Self> {
        let current = match &settings.secret_key {
            Some(key) => key.clone(),
            None => development_key(&settings.secret_key_file)?,
        };
        Self::new(current, settings.secret_key_fallbacks.clone())
    }

    /// Django's `salted_hmac(key_salt, value)`: HMAC-SHA256 keyed with
    /// `sha256(key_salt + secret)`, as lowercase hex.
    pub fn salted_hmac(&self, key_salt: &str, value: &[u8]) -> String {
        salted_hmac(&self.current, key_salt, value)
    }

    /// Whether `expected` equals the salted HMAC under the current key
    /// (`Some(true)`), under a fallback key (`Some(false)`), or none
    /// (`None`). Compared in constant time.
    pub fn verify_salted_hmac(&self, key_salt: &str, value: &[u8], expected: &str) -> Option<bool> {
        let matches = |secret: &str| -> bool {
            bool::from(
                salted_hmac(secret, key_salt, value)
                    .as_bytes()
                    .ct_eq(expected.as_bytes()),
            )
        };
        if matches(&self.current) {
            Some(true)
        } else if self.fallbacks.iter().any(|key| matches(key)) {
            Some(false)
        } else {
            None
        }
    }
}

impl SecretKeys {
    /// The HMACs for one key salt, keyed once, for hot paths.
    pub(crate) fn salted(&self, key_salt: &str) -> SaltedMac {
        SaltedMac {
            current: keyed_mac(&self.current, key_salt),
            fallbacks: self
                .fallbacks
                .iter()
                .map(|secret| keyed_mac(secret, key_salt))
                .collect(),
        }
    }
}

/// `salted_hmac` with the key derivation done in advance.
#[derive(Clone)]
pub(crate) struct SaltedMac {
    current: Hmac<Sha256>,
    fallbacks: Vec<Hmac<Sha256>>,
}

impl SaltedMac {
    /// The HMAC of `value` under the current key, as lowercase hex.
    pub(crate) fn hex(&self, value: &[u8]) -> String {
        let mut mac = self.current.clone();
        mac.update(value);
        hex(&mac.finalize().into_bytes())
    }

    /// As [`SecretKeys::verify_salted_hmac`].
    pub(crate) fn verify(&self, value: &[u8], expected: &str) -> Option<bool> {
        let expected = unhex(expected)?;
        let matches = |mac: &Hmac<Sha256>| {
            let mut mac = mac.clone();
            mac.update(value);
            mac.verify_slice(&expected).is_ok()
        };
        if matches(&self.current) {
            Some(true)
        } else if self.fallbacks.iter().any(matches) {
            Some(false)
        } else {
            None
        }
    }
}

fn keyed_mac(secret: &str, key_salt: &str) -> Hmac<Sha256> {
    let key = Sha256::new()
        .chain_update(key_salt)
        .chain_update(secret)
        .finalize();
    Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts any key length")
}

fn unhex(text: &str) -> Option<Vec<u8>> {
    if !text.len().is_multiple_of(2) {
        return None;
    }
    let digit = |c: u8| (c as char).to_digit(16).map(|d| d as u8);
    text.as_bytes()
        .chunks(2)
        .map(|pair| Some(digit(pair[0])? << 4 | digit(pair[1])?))
        .collect()
}

fn salted_hmac(secret: &str, key_salt: &str, value: &[u8]) -> String {
    let key = Sha256::new()
        .chain_update(key_salt)
        .chain_update(secret)
        .finalize();
    let mut mac = Hmac::<Sha256>::new_from_slice(&key).expect("HMAC accepts any key length");
    mac.update(value);
    hex(&mac.finalize().into_bytes())
}

pub(crate) fn hex(bytes: &[u8]) -> String {
    const DIGITS: &[u8; 16] = b"0123456789abcdef";
    let mut out = String::with_capacity(bytes.len() * 2);
    for b in bytes {
        out.push(char::from(DIGITS[usize::from(b >> 4)]));
        out.push(char::from(DIGITS[usize::from(b & 0xf)]));
    }
    out
}

fn development_key(path: &Path) -> Result<String> {
    if let Ok(existing) = std::fs::read_to_string(path) {
        let existing = existing.trim().to_owned();
        if existing.len() >= MIN_SECRET_LENGTH {
            tracing::warn!(
                file = %path.display(),
                "AUTH_SECRET_KEY is not set; using the development key in this file. Set AUTH_SECRET_KEY in production."
            );
            return Ok(existing);
        }
    }
    let key = crate::password::random_string(50);
    write_private(path, &key).map_err(|e| {
        Error::Config(format!(
            "AUTH_SECRET_KEY is not set and a development key could not be saved to {}: {e}",
            path.display()
        ))
    })?;
    tracing::warn!(
        file = %path.display(),
        "AUTH_SECRET_KEY is not set; generated a development key and saved it to this file. Set AUTH_SECRET_KEY in production."
    );
    Ok(key)
}

fn write_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create(true).truncate(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents.as_bytes())?;
    file.write_all(b"\n")
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn salted_hmac_matches_djangos_construction() {
        // Python: hmac.new(sha256(b"salt" + b"k"*32).digest(), b"value", sha256).hexdigest()
        let keys = SecretKeys::new("k".repeat(32), vec![]).unwrap();
        assert_eq!(
            keys.salted_hmac("salt", b"value"),
            "bb2e41988d4136d59e659e57bbd8f7576915029c71a4c6be609c0c48e66a16a4"
        );
        assert_ne!(
            keys.salted_hmac("salt", b"value"),
            keys.salted_hmac("salt2", b"value")
        );
    }

    #[test]
    fn fallbacks_verify_but_are_reported() {
        let old = SecretKeys::new("o".repeat(32), vec![]).unwrap();
        let rotated = SecretKeys::new("n".repeat(32), vec!["o".repeat(32)]).unwrap();
        let made_with_old = old.salted_hmac("s", b"v");
        assert_eq!(
            rotated.verify_salted_hmac("s", b"v", &made_with_old),
            Some(false)
        );
        assert_eq!(
            rotated.verify_salted_hmac("s", b"v", &rotated.salted_hmac("s", b"v")),
            Some(true)
        );
        assert_eq!(rotated.verify_salted_hmac("s", b"v", "garbage"), None);
        let no_fallback = SecretKeys::new("n".repeat(32), vec![]).unwrap();
        assert_eq!(
            no_fallback.verify_salted_hmac("s", b"v", &made_with_old),
            None
        );
    }

    #[test]
    fn short_keys_are_refused() {
        assert!(SecretKeys::new("short", vec![]).is_err());
    }

    #[test]
    fn development_key_is_generated_once_and_reused() {
        let path =
            std::env::temp_dir().join(format!("auth-secret-{}", uuid::Uuid::new_v4().simple()));
        let settings = Settings {
            secret_key_file: path.clone(),
            ..Settings::default()
        };
        let first = SecretKeys::from_settings(&settings).unwrap();
        let second = SecretKeys::from_settings(&settings).unwrap();
        assert_eq!(first.current, second.current);
        assert_eq!(first.current.len(), 50);
        std::fs::remove_file(path).unwrap();
    }
}

#[cfg(test)]
mod salted_tests {
    use super::*;

    #[test]
    fn the_keyed_form_agrees_with_the_plain_one() {
        let keys = SecretKeys::new("n".repeat(32), vec!["o".repeat(32)]).unwrap();
        let old = SecretKeys::new("o".repeat(32), vec![]).unwrap();
        let mac = keys.salted("salt");
        assert_eq!(mac.hex(b"value"), keys.salted_hmac("salt", b"value"));
        assert_eq!(
            mac.verify(b"value", &keys.salted_hmac("salt", b"value")),
            Some(true)
        );
        assert_eq!(
            mac.verify(b"value", &old.salted_hmac("salt", b"value")),
            Some(false)
        );
        assert_eq!(mac.verify(b"value", "zz"), None);
        assert_eq!(mac.verify(b"value", &"0".repeat(64)), None);
    }
}
