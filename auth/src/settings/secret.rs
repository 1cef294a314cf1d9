//! The secret key (Django's `SECRET_KEY` and `SECRET_KEY_FALLBACKS`) and
//! the HMACs made with it (Django's `salted_hmac`).

use std::path::Path;

use super::Settings;
use crate::kernel::{
    crypto::random_string,
    error::{Error, Result},
};
use hmac::{Hmac, KeyInit, Mac};
use sha2::{Digest, Sha256};

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

    /// The HMAC of `value` under each key, current first, as lowercase hex.
    pub(crate) fn hex_each(&self, value: &[u8]) -> Vec<String> {
        std::iter::once(&self.current)
            .chain(&self.fallbacks)
            .map(|mac| {
                let mut mac = mac.clone();
                mac.update(value);
                hex::encode(mac.finalize().into_bytes())
            })
            .collect()
    }

    /// Which key made `expected` (lowercase hex, as [`hex`](Self::hex)
    /// writes it: another spelling of the same bytes is not it) for
    /// `value`; compared in constant time.
    pub(crate) fn verify(&self, value: &[u8], expected: &str) -> KeyMatch {
        if expected.bytes().any(|b| b.is_ascii_uppercase()) {
            return KeyMatch::NoMatch;
        }
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

/// The development key in `path`, generated on first use. The file must be
/// a regular file (not a symlink) readable by its owner only, holding at
/// least [`MIN_SECRET_LENGTH`] characters of UTF-8; anything else is an
/// error naming the file, never overwritten.
fn development_key(path: &Path) -> Result<String> {
    let shown = std::path::absolute(path).unwrap_or_else(|_| path.to_owned());
    let refuse = |reason: String| {
        Error::Config(format!(
            "AUTH_SECRET_KEY is not set and the development key file {} {reason}",
            shown.display()
        ))
    };
    // Not logged here: every command builds the app, and the system check
    // auth.W005 says it once where it matters (`serve`, `check`).
    if let Some(key) = read_private(path).map_err(refuse)? {
        return Ok(key);
    }
    let key = random_string(50);
    match publish_private(path, &key) {
        Ok(()) => Ok(key),
        // Another process's first start won the race: its key, whole.
        Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => read_private(path)
            .map_err(refuse)?
            .ok_or_else(|| refuse("disappeared while it was being created".into())),
        Err(e) => Err(refuse(format!("could not be created: {e}"))),
    }
}

/// Writes `contents` to a private file beside `path`, then links it in
/// place: the key appears whole or not at all, and whatever exists at
/// `path` (another start's key, a symlink) is left alone (`AlreadyExists`).
fn publish_private(path: &Path, contents: &str) -> std::io::Result<()> {
    let name = path.file_name().unwrap_or_default().to_string_lossy();
    let draft = path.with_file_name(format!(".{name}.{}.tmp", random_string(12)));
    create_private(&draft, contents)?;
    let linked = std::fs::hard_link(&draft, path);
    let _ = std::fs::remove_file(&draft);
    linked
}

/// The key in an existing file; `None` when there is no file.
fn read_private(path: &Path) -> std::result::Result<Option<String>, String> {
    use std::io::Read;
    let mut options = std::fs::OpenOptions::new();
    options.read(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::custom_flags(&mut options, libc::O_NOFOLLOW);
    let mut file = match options.open(path) {
        Ok(file) => file,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(None),
        Err(e) if e.raw_os_error() == Some(ELOOP) => {
            return Err("is a symbolic link; replace it with a regular file".into());
        }
        Err(e) => return Err(format!("cannot be read: {e}")),
    };
    let meta = file
        .metadata()
        .map_err(|e| format!("cannot be read: {e}"))?;
    if !meta.is_file() {
        return Err("is not a regular file".into());
    }
    #[cfg(unix)]
    {
        use std::os::unix::fs::PermissionsExt;
        let mode = meta.permissions().mode() & 0o777;
        if mode & 0o077 != 0 {
            return Err(format!(
                "is readable by others (mode {mode:o}); run `chmod 600` on it"
            ));
        }
    }
    let mut bytes = Vec::new();
    file.read_to_end(&mut bytes)
        .map_err(|e| format!("cannot be read: {e}"))?;
    let text = String::from_utf8(bytes)
        .map_err(|_| "is not UTF-8 text; delete it to generate a new key".to_owned())?;
    let key = text.trim();
    if key.len() < MIN_SECRET_LENGTH {
        return Err(format!(
            "holds fewer than {MIN_SECRET_LENGTH} characters; delete it to generate a new key"
        ));
    }
    Ok(Some(key.to_owned()))
}

#[cfg(unix)]
const ELOOP: i32 = libc::ELOOP;
#[cfg(not(unix))]
const ELOOP: i32 = -1;

/// Writes a new file readable by its owner only; fails if anything exists
/// at `path` (a file, or a symlink, dangling or not).
fn create_private(path: &Path, contents: &str) -> std::io::Result<()> {
    use std::io::Write;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    {
        use std::os::unix::fs::OpenOptionsExt;
        options.mode(0o600).custom_flags(libc::O_NOFOLLOW);
    }
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

    fn temp_path() -> std::path::PathBuf {
        std::env::temp_dir().join(format!("auth-secret-{}", uuid::Uuid::new_v4().simple()))
    }

    fn key_from(path: &Path) -> Result<SecretKeys> {
        SecretKeys::from_settings(&Settings {
            secret_key_file: path.to_owned(),
            ..Settings::default()
        })
    }

    /// Two first starts at once (two commands, two test processes): both
    /// get the one key written, neither an error nor a half-written file.
    #[test]
    fn first_starts_at_once_share_one_key() {
        for _ in 0..20 {
            let path = temp_path();
            let barrier = std::sync::Barrier::new(8);
            let keys: Vec<_> = std::thread::scope(|scope| {
                let starts: Vec<_> = (0..8)
                    .map(|_| {
                        scope.spawn(|| {
                            barrier.wait();
                            development_key(&path).map_err(|e| e.to_string())
                        })
                    })
                    .collect();
                starts.into_iter().map(|s| s.join().unwrap()).collect()
            });
            let written = std::fs::read_to_string(&path).unwrap();
            for key in keys {
                assert_eq!(key.as_deref(), Ok(written.trim()));
            }
            std::fs::remove_file(&path).unwrap();
        }
    }

    #[cfg(unix)]
    #[test]
    fn the_key_file_is_private_and_never_overwritten() {
        use std::os::unix::fs::PermissionsExt;
        // Generated with mode 0600.
        let path = temp_path();
        key_from(&path).unwrap();
        let mode = std::fs::metadata(&path).unwrap().permissions().mode() & 0o777;
        assert_eq!(mode, 0o600);
        std::fs::remove_file(&path).unwrap();

        // A symlink (to an attacker's file, or dangling) is refused, and
        // its target is not written.
        let target = temp_path();
        std::fs::write(&target, "k".repeat(40)).unwrap();
        std::fs::set_permissions(&target, std::fs::Permissions::from_mode(0o600)).unwrap();
        let link = temp_path();
        std::os::unix::fs::symlink(&target, &link).unwrap();
        let err = key_from(&link).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "{err}");
        std::fs::remove_file(&target).unwrap();
        let err = key_from(&link).unwrap_err().to_string();
        assert!(err.contains("symbolic link"), "dangling: {err}");
        assert!(!target.exists(), "nothing written through the link");
        std::fs::remove_file(&link).unwrap();

        // A world-readable file is refused.
        let open = temp_path();
        std::fs::write(&open, "k".repeat(40)).unwrap();
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o644)).unwrap();
        let err = key_from(&open).unwrap_err().to_string();
        assert!(err.contains("chmod 600"), "{err}");

        // Short or non-UTF-8 keys are errors, and the file is left as it was.
        std::fs::set_permissions(&open, std::fs::Permissions::from_mode(0o600)).unwrap();
        for contents in [b"short".to_vec(), vec![0xff; 64]] {
            std::fs::write(&open, &contents).unwrap();
            let err = key_from(&open).unwrap_err().to_string();
            assert!(err.contains("delete it"), "{err}");
            assert_eq!(std::fs::read(&open).unwrap(), contents);
        }
        std::fs::remove_file(&open).unwrap();

        // A directory is not a key file.
        let dir = temp_path();
        std::fs::create_dir(&dir).unwrap();
        assert!(key_from(&dir).is_err());
        std::fs::remove_dir(&dir).unwrap();
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
