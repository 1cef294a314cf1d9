//! The offline list: a local file of SHA-1 hashes as Have I Been Pwned
//! publishes them (one `HASH` or `HASH:COUNT` per line, upper-case hex,
//! sorted), searched with a binary search over its bytes (about 20 short
//! reads for a billion lines), never loaded into memory.

use std::{
    fs::File,
    io::{BufRead, BufReader, Read, Seek, SeekFrom},
    path::{Path, PathBuf},
};

/// A sorted file of breached passwords' SHA-1 hashes.
#[derive(Clone, Debug)]
pub(super) struct BreachFile {
    path: PathBuf,
}

impl BreachFile {
    /// The list at `path`; an error when it cannot be opened.
    pub(super) fn open(path: &Path) -> std::io::Result<Self> {
        File::open(path)?;
        Ok(BreachFile {
            path: path.to_owned(),
        })
    }

    /// Where the list is.
    pub(super) fn path(&self) -> &Path {
        &self.path
    }

    /// Whether the list holds `digest` (40 upper-case hex characters).
    pub(super) fn contains(&self, digest: &str) -> std::io::Result<bool> {
        let mut file = File::open(&self.path)?;
        let len = file.metadata()?.len();
        search(&mut file, len, digest.as_bytes())
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

#[cfg(test)]
pub(super) mod tests {
    use std::{collections::BTreeSet, io::Write};

    use sha1::{Digest, Sha1};

    use super::*;

    fn sha1_hex(text: &str) -> String {
        hex::encode_upper(Sha1::digest(text.as_bytes()))
    }

    /// A list of `n` breached passwords (`breached-<i>`), with counts and
    /// CRLF line ends as the published files have them.
    pub(in crate::password::pwned) fn list(
        n: usize,
    ) -> (tempfile_path::TempPath, BTreeSet<String>) {
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
    pub(in crate::password::pwned) mod tempfile_path {
        pub(in crate::password::pwned) struct TempPath(
            pub(in crate::password::pwned) std::path::PathBuf,
        );
        impl TempPath {
            pub(in crate::password::pwned) fn new() -> Self {
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
            let file = BreachFile::open(&path.0).unwrap();
            let has = |password: &str| file.contains(&sha1_hex(password)).unwrap();
            for i in 0..n.min(300) {
                assert!(has(&format!("breached-{i}")), "n={n} i={i}");
            }
            if n > 0 {
                assert!(has(&format!("breached-{}", n - 1)));
            }
            for i in 0..300 {
                assert!(!has(&format!("clean-{i}")), "n={n}");
            }
        }
    }
}
