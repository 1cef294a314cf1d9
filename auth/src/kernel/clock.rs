//! The time password-reset tokens are made and checked at: the system
//! clock, plus (with the `test-util` feature) an offset tests move forward
//! to expire a token without waiting (`auth::testing::advance_clock`).

#[cfg(feature = "test-util")]
use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// The system clock, shifted by a test offset under `test-util`.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    #[cfg(feature = "test-util")]
    offset_seconds: AtomicI64,
}

impl Clock {
    /// Now, in UTC.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let now = OffsetDateTime::now_utc();
        #[cfg(feature = "test-util")]
        let now = now + time::Duration::seconds(self.offset_seconds.load(Ordering::Relaxed));
        now
    }

    /// Moves this clock forward by `seconds`.
    #[cfg(feature = "test-util")]
    pub(crate) fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}
