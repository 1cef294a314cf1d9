//! The time password-reset tokens are made and checked at: the system
//! clock, plus an offset tests move forward to expire a token without
//! waiting (`auth::testing::advance_clock`).

use std::sync::atomic::{AtomicI64, Ordering};

use time::OffsetDateTime;

/// The system clock, shifted by a test offset.
#[derive(Debug, Default)]
pub(crate) struct Clock {
    offset_seconds: AtomicI64,
}

impl Clock {
    /// Now, in UTC.
    pub(crate) fn now(&self) -> OffsetDateTime {
        let offset = self.offset_seconds.load(Ordering::Relaxed);
        OffsetDateTime::now_utc() + time::Duration::seconds(offset)
    }

    /// Moves this clock forward by `seconds`.
    pub(crate) fn advance(&self, seconds: i64) {
        self.offset_seconds.fetch_add(seconds, Ordering::Relaxed);
    }
}
