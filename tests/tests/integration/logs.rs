//! What the code under test logs: a subscriber on this thread that keeps
//! every line.

use std::sync::{Arc, Mutex};

/// Log lines at `level` and above written on this thread while the guard
/// lives (tasks of a current-thread runtime included).
pub(crate) fn captured(
    level: tracing::Level,
) -> (tracing::subscriber::DefaultGuard, Arc<Mutex<Vec<u8>>>) {
    let buffer = Arc::new(Mutex::new(Vec::new()));
    let sink = buffer.clone();
    let subscriber = tracing_subscriber::fmt()
        .with_writer(move || Writer(sink.clone()))
        .with_max_level(level)
        .with_ansi(false)
        .finish();
    (tracing::subscriber::set_default(subscriber), buffer)
}

/// The lines captured so far.
pub(crate) fn text(buffer: &Arc<Mutex<Vec<u8>>>) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

struct Writer(Arc<Mutex<Vec<u8>>>);

impl std::io::Write for Writer {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
