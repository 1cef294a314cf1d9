//! The secret key (Django's `SECRET_KEY` and `SECRET_KEY_FALLBACKS`) and
//! the HMACs made with it (Django's `salted_hmac`).

use std::path::Path;

use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

use crate::{Error, Result, Settings};

/// The current secret key and the older ones still accepted.
#[derive(Clone)]
pub(crate) struct SecretKeys {
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
    pub(crate) fn new(current: impl Into<String>, fallbacks: Vec<String>) -> Result<Self> {
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
    pub(crate) fn from_settings(settings: &Settings) -> Result<Self> {
        let current = match &settings.secret_key {
            Some(key) => key.clone(),
            None => development_key(&settings.secret_key_file)?,
        };
        Self::new(current, settings.secret_key_fallbacks.clone())
    }

    /// The HMACs for one key salt (Django's `salted_hmac(key_salt, …)`),
    /// keyed once.
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

/// Which key an HMAC was made with.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum KeyMatch {
    /// The current secret key.
    Current,
    /// One of the fallback keys (the caller should re-sign with the current one).
    Fallback,
    /// None of them: the value was not made by this site, or was tampered with.
    NoMatch,
}

/// Django's `salted_hmac` (HMAC-SHA256 keyed with `sha256(key_salt +
/// secret)`), with the key derivation done in advance.
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
        hex::encode(mac.finalize().into_bytes())
    }

    /// Which key made `expected` (lowercase hex) for `value`; compared in
    /// constant time.
    pub(crate) fn verify(&self, value: &[u8], expected: &str) -> KeyMatch {
        let Ok(expected) = hex::decode(expected) else {
            return KeyMatch::NoMatch;
        };
        let matches = |mac: &Hmac<Sha256>| {
            let mut mac = mac.clone();
            mac.update(value);
            mac.verify_slice(&expected).is_ok()
        };
        if matches(&self.current) {
            KeyMatch::Current
        } else if self.fallbacks.iter().any(matches) {
            KeyMatch::Fallback
        } else {
            KeyMatch::NoMatch
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
            keys.salted("salt").hex(b"value"),
            "bb2e41988d4136d59e659e57bbd8f7576915029c71a4c6be609c0c48e66a16a4"
        );
        assert_ne!(
            keys.salted("salt").hex(b"value"),
            keys.salted("salt2").hex(b"value")
        );
    }

    #[test]
    fn fallbacks_verify_but_are_reported() {
        let old = SecretKeys::new("o".repeat(32), vec![]).unwrap();
        let rotated = SecretKeys::new("n".repeat(32), vec!["o".repeat(32)]).unwrap();
        let made_with_old = old.salted("s").hex(b"v");
        let mac = rotated.salted("s");
        assert_eq!(mac.verify(b"v", &made_with_old), KeyMatch::Fallback);
        assert_eq!(mac.verify(b"v", &mac.hex(b"v")), KeyMatch::Current);
        assert_eq!(mac.verify(b"v", "garbage"), KeyMatch::NoMatch);
        assert_eq!(mac.verify(b"v", "zz"), KeyMatch::NoMatch);
        assert_eq!(mac.verify(b"v", &"0".repeat(64)), KeyMatch::NoMatch);
        let no_fallback = SecretKeys::new("n".repeat(32), vec![]).unwrap();
        assert_eq!(
            no_fallback.salted("s").verify(b"v", &made_with_old),
            KeyMatch::NoMatch
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
