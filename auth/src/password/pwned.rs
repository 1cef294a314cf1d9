//! [`PwnedPasswordValidator`]: refuses passwords that appear in a list of
//! breached passwords (OWASP ASVS 6.2.12), read from a local file of
//! SHA-1 hashes as Have I Been Pwned publishes them: one `HASH` or
//! `HASH:COUNT` per line, upper-case hex, sorted. The file is searched
//! with a binary search over its bytes (about 20 short reads for a billion
//! lines), never loaded into memory; the password itself never leaves the
//! process.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

use sha1::{Digest, Sha1};

use super::validation::PasswordValidator;
use crate::{AbstractUser, ValidationError};

/// Refuses passwords found in a sorted file of breached passwords' SHA-1
/// hashes (`AUTH_PWNED_PASSWORDS_FILE`). A file that cannot be read at
/// check time lets the password through with a logged error: an outage
/// of the list must not stop every password change.
#[derive(Clone, Debug)]
pub struct PwnedPasswordValidator {
    path: PathBuf,
}

impl PwnedPasswordValidator {
    /// The validator on the list at `path`; an error when it cannot be
    /// opened.
    pub fn from_file(path: impl AsRef<Path>) -> std::io::Result<Self> {
        let path = path.as_ref().to_owned();
        File::open(&path)?;
        Ok(PwnedPasswordValidator { path })
    }

    /// Whether `password` is in the list.
    pub fn contains(&self, password: &str) -> std::io::Result<bool> {
        let digest = Sha1::digest(password.as_bytes());
        let target = hex::encode_upper(digest);
        let mut file = File::open(&self.path)?;
        let len = file.metadata()?.len();
        search(&mut file, len, target.as_bytes())
    }
}

/// Binary search for a line starting with `target` (40 hex characters) in
/// a sorted file of `len` bytes. `lo` is always the start of a line, and
/// every line starting before `lo` sorts before the target; no line
/// starting at or after `hi` can hold it.
fn search(file: &mut File, len: u64, target: &[u8]) -> std::io::Result<bool> {
    let (mut lo, mut hi) = (0u64, len);
    while lo < hi {
        let mid = lo + (hi - lo) / 2;
        let Some((start, next, hash)) = line_from(file, mid.max(lo))? else {
            hi = mid;
            continue;
        };
        if start >= hi {
            hi = mid;
            continue;
        }
        match hash.as_slice().cmp(target) {
            std::cmp::Ordering::Equal => return Ok(true),
            std::cmp::Ordering::Less => lo = next,
            std::cmp::Ordering::Greater => hi = start,
        }
    }
    Ok(false)
}

/// The first line starting at or after `pos`: its start, the start of the
/// line after it, and its first 40 bytes (the hash, upper-cased).
fn line_from(file: &mut File, pos: u64) -> std::io::Result<Option<(u64, u64, Vec<u8>)>> {
    let mut start = pos;
    let mut reader;
    if pos == 0 {
        file.seek(SeekFrom::Start(0))?;
        reader = BufReader::with_capacity(256, file);
    } else {
        // Whether `pos` starts a line: the byte before it is a newline.
        file.seek(SeekFrom::Start(pos - 1))?;
        reader = BufReader::with_capacity(256, file);
        let mut skipped = Vec::new();
        let read = reader.read_until(b'\n', &mut skipped)? as u64;
        if read == 0 || skipped.last() != Some(&b'\n') {
            return Ok(None);
        }
        start = pos - 1 + read;
    }
    let mut line = Vec::with_capacity(64);
    let read = reader.by_ref().take(4096).read_until(b'\n', &mut line)? as u64;
    if read == 0 {
        return Ok(None);
    }
    let mut hash: Vec<u8> = line.iter().copied().take(40).collect();
    hash.make_ascii_uppercase();
    Ok(Some((start, start + read, hash)))
}

impl PasswordValidator for PwnedPasswordValidator {
    fn validate(
        &self,
        password: &str,
        _user: Option<&AbstractUser>,
    ) -> Result<(), ValidationError> {
        match self.contains(password) {
            Ok(true) => Err(ValidationError::new(
                "password_pwned",
                "This password has appeared in a data breach and can’t be used. Choose a \
                 different one.",
            )),
            Ok(false) => Ok(()),
            Err(err) => {
                tracing::error!(
                    error = %err,
                    path = %self.path.display(),
                    "the breached-password list cannot be read; the password is let through"
                );
                Ok(())
            }
        }
    }

    fn help_text(&self) -> String {
        "Your password can’t be one that has appeared in a known data breach.".into()
    }
}

#[cfg(test)]
mod tests {
    use std::{collections::BTreeSet, io::Write};

    use super::*;

    fn sha1_hex(text: &str) -> String {
        hex::encode_upper(Sha1::digest(text.as_bytes()))
    }

    /// A list of `n` breached passwords (`breached-<i>`), with counts and
    /// CRLF line ends as the published files have them.
    fn list(n: usize) -> (tempfile_path::TempPath, BTreeSet<String>) {
        let hashes: BTreeSet<String> = (0..n).map(|i| sha1_hex(&format!("breached-{i}"))).collect();
        let path = tempfile_path::TempPath::new();
        let mut file = std::io::BufWriter::new(File::create(&path.0).unwrap());
        for (i, hash) in hashes.iter().enumerate() {
            write!(file, "{hash}:{}\r\n", i % 97 + 1).unwrap();
        }
        file.flush().unwrap();
        (path, hashes)
    }

    /// A file deleted when dropped.
    mod tempfile_path {
        pub(super) struct TempPath(pub(super) std::path::PathBuf);
        impl TempPath {
            pub(super) fn new() -> Self {
                let name = format!("pwned-{}.txt", uuid::Uuid::new_v4().simple());
                TempPath(std::env::temp_dir().join(name))
            }
        }
        impl Drop for TempPath {
            fn drop(&mut self) {
                let _ = std::fs::remove_file(&self.0);
            }
        }
    }

    #[test]
    fn finds_exactly_the_listed_passwords() {
        for n in [0, 1, 2, 3, 10, 1000, 20_000] {
            let (path, _) = list(n);
            let validator = PwnedPasswordValidator::from_file(&path.0).unwrap();
            for i in 0..n.min(300) {
                assert!(
                    validator.contains(&format!("breached-{i}")).unwrap(),
                    "n={n} i={i}"
                );
            }
            if n > 0 {
                assert!(validator.contains(&format!("breached-{}", n - 1)).unwrap());
            }
            for i in 0..300 {
                assert!(!validator.contains(&format!("clean-{i}")).unwrap(), "n={n}");
            }
        }
    }

    #[test]
    fn refuses_with_the_breach_message_and_lets_through_when_unreadable() {
        let (path, _) = list(50);
        let validator = PwnedPasswordValidator::from_file(&path.0).unwrap();
        let refused = validator.validate("breached-7", None).unwrap_err();
        assert_eq!(refused.code(), "password_pwned");
        assert!(
            refused
                .message()
                .starts_with("This password has appeared in a data breach")
        );
        assert!(validator.validate("a fine passphrase", None).is_ok());
        drop(path);
        assert!(validator.validate("breached-7", None).is_ok(), "fails open");
        assert!(PwnedPasswordValidator::from_file("/nonexistent/pwned.txt").is_err());
    }
}
