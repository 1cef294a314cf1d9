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
    bytes.iter().map(|b| format!("{b:02x}")).collect()
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
