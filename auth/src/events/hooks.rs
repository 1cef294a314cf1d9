//! The app's event hooks (Django's signal receivers): async functions
//! registered on the builder, each run in a task of its own for every
//! event, after the action it reports. A hook that fails, panics or takes
//! longer than [`HOOK_TIMEOUT`] is logged and never reaches the request.

use std::{sync::Arc, time::Duration};

use futures_util::FutureExt;

use super::Event;
use crate::kernel::future::BoxFuture;

/// The longest a hook may run for one event.
pub(crate) const HOOK_TIMEOUT: Duration = Duration::from_secs(10);

/// One registered hook.
pub(crate) type Hook = Arc<dyn Fn(Arc<Event>) -> BoxFuture<'static, ()> + Send + Sync>;

/// The registered hooks, in registration order.
#[derive(Clone, Default)]
pub(crate) struct Hooks(Vec<Hook>);

impl Hooks {
    pub(crate) fn push(&mut self, hook: Hook) {
        self.0.push(hook);
    }

    /// Starts every hook on `event` (outside a runtime, as in a
    /// synchronous test, none runs).
    pub(crate) fn run(&self, event: &Arc<Event>) {
        if self.0.is_empty() {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        for hook in &self.0 {
            let call = hook(event.clone());
            let kind = event.kind;
            let span = super::trace::span(event);
            let run = async move {
                let guarded = std::panic::AssertUnwindSafe(call).catch_unwind();
                match tokio::time::timeout(HOOK_TIMEOUT, guarded).await {
                    Ok(Ok(())) => {}
                    Ok(Err(_)) => tracing::error!(kind = kind.as_str(), "an event hook panicked"),
                    Err(_) => tracing::warn!(kind = kind.as_str(), "an event hook ran out of time"),
                }
            };
            runtime.spawn(tracing::Instrument::instrument(run, span));
        }
    }
}
