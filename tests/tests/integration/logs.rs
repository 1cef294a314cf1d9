//! What the code under test logs: the lines written on this thread while a
//! capture lives.
//!
//! One subscriber serves the whole test binary, set once; a capture is a
//! thread-local buffer it writes into. A subscriber per test
//! (`set_default`) would race: tracing keeps one process-wide level cache
//! (`LevelFilter::current()`), recomputed as other tests' subscribers come
//! and go, and an event below that cache is dropped before any subscriber
//! sees it.

use std::{
    cell::RefCell,
    sync::{Arc, Mutex, Once},
};

use tracing_subscriber::{Layer, filter::dynamic_filter_fn, layer::SubscriberExt};

type Buffer = Arc<Mutex<Vec<u8>>>;

thread_local! {
    /// The capture of this thread: the least severe level kept, and where.
    static CAPTURE: RefCell<Option<(tracing::Level, Buffer)>> = const { RefCell::new(None) };
}

/// Ends a capture, restoring the one it replaced.
pub(crate) struct Capture(Option<(tracing::Level, Buffer)>);

impl Drop for Capture {
    fn drop(&mut self) {
        let previous = self.0.take();
        CAPTURE.with(|capture| *capture.borrow_mut() = previous);
    }
}

/// Log lines at `level` and above written on this thread while the guard
/// lives (tasks of a current-thread runtime included).
pub(crate) fn captured(level: tracing::Level) -> (Capture, Buffer) {
    static SUBSCRIBER: Once = Once::new();
    SUBSCRIBER.call_once(|| {
        // Dynamic: asked at every event, never cached per call site (a
        // call site first reached on a thread without a capture must not
        // stay off for the threads with one).
        let kept = dynamic_filter_fn(|meta, _| {
            CAPTURE.with(|capture| {
                capture
                    .borrow()
                    .as_ref()
                    .is_some_and(|(level, _)| meta.level() <= level)
            })
        });
        let layer = tracing_subscriber::fmt::layer()
            .with_ansi(false)
            .with_writer(|| ThreadWriter)
            .with_filter(kept);
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(layer))
            .expect("no other global subscriber in the tests");
    });
    let buffer = Buffer::default();
    let previous = CAPTURE.with(|capture| capture.borrow_mut().replace((level, buffer.clone())));
    (Capture(previous), buffer)
}

/// The lines captured so far.
pub(crate) fn text(buffer: &Buffer) -> String {
    String::from_utf8_lossy(&buffer.lock().unwrap()).into_owned()
}

/// Writes into the capture of the thread that logs, if any.
struct ThreadWriter;

impl std::io::Write for ThreadWriter {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        CAPTURE.with(|capture| {
            if let Some((_, buffer)) = capture.borrow().as_ref() {
                buffer.lock().unwrap().extend_from_slice(bytes);
            }
        });
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}
