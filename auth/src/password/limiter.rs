//! The bound on password hashing: at most `concurrency` hashes run at once
//! (each argon2 hash holds its memory cost, 19 MiB by default, while it
//! runs), and at most `queue` more wait for a turn. Past that a hash is
//! refused at once with [`Error::Overloaded`], which is a `503` with
//! `Retry-After`, so a flood of login attempts costs bounded memory and
//! never queues without limit.

use std::sync::Arc;
#[cfg(feature = "test-util")]
use std::sync::atomic::{AtomicUsize, Ordering};

use tokio::sync::Semaphore;

use crate::{Error, Result};

/// The bound, shared by every clone of a [`Hasher`](super::Hasher).
#[derive(Debug)]
pub(crate) struct Limiter {
    /// Running or waiting: `concurrency + queue` tickets.
    admission: Arc<Semaphore>,
    /// Running: `concurrency` permits.
    running: Arc<Semaphore>,
    concurrency: usize,
    queue: usize,
    /// Hashes running now, and the most seen at once (test hooks).
    #[cfg(feature = "test-util")]
    in_flight: Arc<AtomicUsize>,
    #[cfg(feature = "test-util")]
    peak: Arc<AtomicUsize>,
}

/// In a debug build, says once how to make hashing fast when a hash takes
/// longer than an optimised one ever should (argon2 unoptimised costs
/// about a second per login).
fn warn_if_unoptimised(took: std::time::Duration) {
    static WARNED: std::sync::Once = std::sync::Once::new();
    if cfg!(debug_assertions) && took > std::time::Duration::from_millis(250) {
        WARNED.call_once(|| {
            tracing::warn!(
                millis = took.as_millis() as u64,
                "a password hash took this long because argon2 is built without optimisations \
                 in this debug build; add to your Cargo.toml:\n\
                 [profile.dev.package.argon2]\nopt-level = 3\n\
                 [profile.dev.package.blake2]\nopt-level = 3"
            );
        });
    }
}

impl Limiter {
    /// `concurrency` hashes at once (0: one per core) and `queue` waiting.
    pub(crate) fn new(concurrency: usize, queue: usize) -> Self {
        let concurrency = if concurrency == 0 {
            std::thread::available_parallelism().map_or(2, usize::from)
        } else {
            concurrency
        };
        Limiter {
            admission: Arc::new(Semaphore::new(concurrency + queue)),
            running: Arc::new(Semaphore::new(concurrency)),
            concurrency,
            queue,
            #[cfg(feature = "test-util")]
            in_flight: Arc::default(),
            #[cfg(feature = "test-util")]
            peak: Arc::default(),
        }
    }

    /// The most hashes that ran at once since the last reset.
    #[cfg(feature = "test-util")]
    pub(crate) fn peak(&self) -> usize {
        self.peak.load(Ordering::Relaxed)
    }

    /// Forgets the peak.
    #[cfg(feature = "test-util")]
    pub(crate) fn reset_peak(&self) {
        self.peak
            .store(self.in_flight.load(Ordering::Relaxed), Ordering::Relaxed);
    }

    /// How many hashes may run at once, and wait.
    pub(crate) fn bounds(&self) -> (usize, usize) {
        (self.concurrency, self.queue)
    }

    /// Runs `work` on tokio's blocking pool within the bound. The permits
    /// go with the work, so a request that gives up while its hash runs
    /// does not let another one start early.
    pub(crate) async fn run<T: Send + 'static>(
        &self,
        work: impl FnOnce() -> T + Send + 'static,
    ) -> Result<T> {
        let Ok(ticket) = self.admission.clone().try_acquire_owned() else {
            metrics::counter!("auth_password_hash_refused_total").increment(1);
            tracing::warn!(
                concurrency = self.concurrency,
                queue = self.queue,
                "password hashing is saturated; refusing with 503"
            );
            return Err(Error::Overloaded);
        };
        let waiting =
            (self.concurrency + self.queue).saturating_sub(self.admission.available_permits());
        metrics::gauge!("auth_password_hash_queue").set(waiting as f64);
        let permit = self
            .running
            .clone()
            .acquire_owned()
            .await
            .map_err(|_| Error::Overloaded)?;
        #[cfg(feature = "test-util")]
        let (in_flight, peak) = (self.in_flight.clone(), self.peak.clone());
        let task = tokio::task::spawn_blocking(move || {
            #[cfg(feature = "test-util")]
            peak.fetch_max(
                in_flight.fetch_add(1, Ordering::Relaxed) + 1,
                Ordering::Relaxed,
            );
            let started = std::time::Instant::now();
            let out = work();
            let took = started.elapsed();
            metrics::histogram!("auth_password_hash_seconds").record(took.as_secs_f64());
            warn_if_unoptimised(took);
            #[cfg(feature = "test-util")]
            in_flight.fetch_sub(1, Ordering::Relaxed);
            drop((permit, ticket));
            out
        });
        match task.await {
            Ok(value) => Ok(value),
            // The closures hashing passwords do not panic; if one ever did,
            // surface it here.
            Err(err) => std::panic::resume_unwind(err.into_panic()),
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn past_the_queue_work_is_refused_at_once() {
        let limiter = Arc::new(Limiter::new(1, 1));
        let (release, wait) = std::sync::mpsc::channel::<()>();
        let wait = Arc::new(std::sync::Mutex::new(wait));
        let running = {
            let (limiter, wait) = (limiter.clone(), wait.clone());
            tokio::spawn(async move {
                limiter
                    .run(move || wait.lock().unwrap().recv().unwrap())
                    .await
            })
        };
        // Let the first one take the running permit.
        while limiter.running.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        let waiting = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.run(|| 2).await })
        };
        while limiter.admission.available_permits() > 0 {
            tokio::task::yield_now().await;
        }
        assert!(matches!(limiter.run(|| 3).await, Err(Error::Overloaded)));
        release.send(()).unwrap();
        running.await.unwrap().unwrap();
        assert_eq!(waiting.await.unwrap().unwrap(), 2);
        assert_eq!(limiter.run(|| 4).await.unwrap(), 4, "room again");
    }
}
