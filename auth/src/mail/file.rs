//! The `file` backend: one `.eml` file per message in a directory, named
//! by time and a random id. Each file is written under a temporary name
//! and renamed, so a reader never sees half a message, and is readable by
//! its owner only (mode 0600, whatever the umask): messages carry live
//! password-reset links.

use std::path::PathBuf;

use super::{EmailBackend, EmailMessage};
use crate::kernel::error::{Error, Result};

/// Writes each message to `<dir>/<time>-<id>.eml`.
pub(super) struct FileBackend {
    dir: PathBuf,
}

impl FileBackend {
    /// The directory is created if missing; a path that is not a directory
    /// is an error.
    pub(super) fn new(dir: PathBuf) -> Result<Self> {
        std::fs::create_dir_all(&dir).map_err(|e| {
            Error::Config(format!(
                "AUTH_EMAIL_FILE_PATH {} cannot be used as a directory: {e}",
                dir.display()
            ))
        })?;
        Ok(FileBackend { dir })
    }
}

impl EmailBackend for FileBackend {
    async fn send(&self, message: &EmailMessage) -> Result<()> {
        let formatted = message.to_rfc5322()?;
        let stamp = time::OffsetDateTime::now_utc()
            .format(time::macros::format_description!(
                "[year][month][day]-[hour][minute][second]"
            ))
            .unwrap_or_default();
        let name = format!("{stamp}-{}", uuid::Uuid::new_v4().simple());
        let partial = self.dir.join(format!(".{name}.tmp"));
        let done = self.dir.join(format!("{name}.eml"));
        tokio::task::spawn_blocking(move || {
            write_private(&partial, &formatted)?;
            std::fs::rename(&partial, &done)
        })
        .await
        .map_err(|e| Error::Io(std::io::Error::other(e)))??;
        Ok(())
    }
}

/// Writes a new file that only its owner may read or write.
fn write_private(path: &std::path::Path, contents: &[u8]) -> std::io::Result<()> {
    use std::io::Write as _;
    let mut options = std::fs::OpenOptions::new();
    options.write(true).create_new(true);
    #[cfg(unix)]
    std::os::unix::fs::OpenOptionsExt::mode(&mut options, 0o600);
    let mut file = options.open(path)?;
    file.write_all(contents)?;
    file.sync_all()
}
