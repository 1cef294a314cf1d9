//! How a session-store failure reaches the response.
//!
//! tower-sessions saves the session after the handler ran and answers a
//! failed save with a bare 500. The store records here, for the request
//! being served, why it failed, so the outer layer can answer with the
//! right status and a clear page: 503 when the store is unreachable, 400
//! when the session was deleted while in use (as Django's
//! `SessionInterrupted`).

use std::sync::{Arc, Mutex};

/// Why a store call failed.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum StoreFault {
    /// The backing service failed or timed out.
    Unavailable,
    /// The session was deleted by another request while this one used it.
    Interrupted,
}

tokio::task_local! {
    static FAULT: Arc<Mutex<Option<StoreFault>>>;
}

/// Notes a failure for the request being served (no-op outside one).
pub(crate) fn record_fault(fault: StoreFault) {
    let _ = FAULT.try_with(|slot| {
        if let Ok(mut slot) = slot.lock() {
            slot.get_or_insert(fault);
        }
    });
}

/// Runs `fut` with a fresh fault slot; returns its output and the fault.
pub(crate) async fn watch<F: Future>(fut: F) -> (F::Output, Option<StoreFault>) {
    let slot = Arc::new(Mutex::new(None));
    let out = FAULT.scope(slot.clone(), fut).await;
    let fault = slot.lock().ok().and_then(|s| *s);
    (out, fault)
}

/// Runs a store call with a time limit; failures are recorded as
/// [`StoreFault::Unavailable`] and returned as store errors.
pub(crate) async fn timed<T, E: std::fmt::Display>(
    timeout: std::time::Duration,
    fut: impl Future<Output = Result<T, E>>,
) -> tower_sessions::session_store::Result<T> {
    use tower_sessions::session_store::Error;
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => {
            record_fault(StoreFault::Unavailable);
            Err(Error::Backend(err.to_string()))
        }
        Err(_) => {
            record_fault(StoreFault::Unavailable);
            Err(Error::Backend(
                "the session store did not answer in time".into(),
            ))
        }
    }
}
