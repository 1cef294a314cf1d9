//! The `console` backend: each message on standard output, followed by a
//! line of dashes (Django's console backend).

use std::io::Write;

use super::{EmailBackend, EmailMessage};
use crate::kernel::error::Result;

/// Writes messages to standard output.
pub(super) struct ConsoleBackend;

impl EmailBackend for ConsoleBackend {
    async fn send(&self, message: &EmailMessage) -> Result<()> {
        let formatted = message.to_rfc5322()?;
        let mut out = std::io::stdout().lock();
        out.write_all(&formatted)?;
        writeln!(out, "\n{}", "-".repeat(79))?;
        out.flush()?;
        Ok(())
    }
}
