//! The bound on password hashing: at most `concurrency` hashes run at once
//! (each argon2 hash holds its memory cost, 19 MiB by default, while it
//! runs), and at most `queue` more wait for a turn. Past that a hash is
//! refused at once with [`Error::Overloaded`], which is a `503` with
//! `Retry-After`, so a flood of login attempts costs bounded memory and
//! never queues without limit.
//!
//! The hashes run on `concurrency` threads of their own, started at the
//! first hash, each taking the next waiting hash as soon as it finishes
//! one. Handing every hash to tokio's blocking pool instead left the cores
//! idle between two hashes (the finished hash woke a task, which woke a
//! pool thread) and moved the hashes over more threads than cores.

#[cfg(feature = "test-util")]
use std::sync::atomic::{AtomicUsize, Ordering};
use std::{
    panic::{AssertUnwindSafe, catch_unwind, resume_unwind},
    sync::{Arc, Mutex, OnceLock, mpsc},
};

use tokio::sync::{Semaphore, oneshot};

use crate::kernel::error::{Error, Result};

/// A hash waiting for a hashing thread.
type Job = Box<dyn FnOnce() + Send>;

/// The bound, shared by every clone of a [`Hasher`](super::Hasher).
#[derive(Debug)]
pub(crate) struct Limiter {
    /// Running or waiting: `concurrency + queue` tickets.
    admission: Arc<Semaphore>,
    /// The hashing threads' queue, once they started (`None`: none could).
    runners: OnceLock<Option<mpsc::Sender<Job>>>,
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

/// Starts `count` threads that run the jobs sent to the returned queue,
/// one at a time each, until the queue is dropped with its limiter.
/// `None` when not one thread could start.
fn start_runners(count: usize) -> Option<mpsc::Sender<Job>> {
    let (sender, receiver) = mpsc::channel::<Job>();
    let receiver = Arc::new(Mutex::new(receiver));
    let mut started = 0;
    for _ in 0..count {
        let receiver = receiver.clone();
        let spawned = std::thread::Builder::new()
            .name("auth-hasher".into())
            .spawn(move || {
                loop {
                    // One thread waits on the queue at a time; the lock is
                    // let go before the job runs.
                    let next = receiver.lock().unwrap_or_else(|p| p.into_inner()).recv();
                    match next {
                        Ok(job) => job(),
                        Err(_) => return,
                    }
                }
            });
        match spawned {
            Ok(_) => started += 1,
            Err(err) => tracing::error!(%err, "cannot start a password hashing thread"),
        }
    }
    (started > 0).then_some(sender)
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
            runners: OnceLock::new(),
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

    /// Runs `work` on a hashing thread within the bound. The ticket goes
    /// with the work, so a request that gives up while its hash runs does
    /// not let another one start early; one that gives up while its hash
    /// waits costs no hash.
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
        let Some(runners) = self.runners.get_or_init(|| start_runners(self.concurrency)) else {
            return Err(Error::Overloaded);
        };
        #[cfg(feature = "test-util")]
        let (in_flight, peak) = (self.in_flight.clone(), self.peak.clone());
        let (done, outcome) = oneshot::channel();
        let job: Job = Box::new(move || {
            if done.is_closed() {
                return drop(ticket);
            }
            #[cfg(feature = "test-util")]
            peak.fetch_max(
                in_flight.fetch_add(1, Ordering::Relaxed) + 1,
                Ordering::Relaxed,
            );
            let started = std::time::Instant::now();
            let out = catch_unwind(AssertUnwindSafe(work));
            let took = started.elapsed();
            metrics::histogram!("auth_password_hash_seconds").record(took.as_secs_f64());
            warn_if_unoptimised(took);
            #[cfg(feature = "test-util")]
            in_flight.fetch_sub(1, Ordering::Relaxed);
            drop(ticket);
            let _ = done.send(out);
        });
        runners.send(job).map_err(|_| Error::Overloaded)?;
        match outcome.await {
            Ok(Ok(value)) => Ok(value),
            // The closures hashing passwords do not panic; if one ever did,
            // surface it here.
            Ok(Err(panic)) => resume_unwind(panic),
            Err(_) => Err(Error::Overloaded),
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
        // Let the first one take the only hashing thread.
        while limiter.admission.available_permits() > 1 {
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

    /// Blocks the only hashing thread of `limiter` until the returned
    /// sender sends (or is dropped).
    async fn occupy(
        limiter: &Arc<Limiter>,
    ) -> (mpsc::Sender<()>, tokio::task::JoinHandle<Result<()>>) {
        let (release, wait) = mpsc::channel::<()>();
        let (started, running) = oneshot::channel();
        let task = {
            let limiter = limiter.clone();
            tokio::spawn(async move {
                limiter
                    .run(move || {
                        let _ = started.send(());
                        let _ = wait.recv();
                    })
                    .await
            })
        };
        running.await.unwrap();
        (release, task)
    }

    #[tokio::test]
    async fn a_request_that_gives_up_while_waiting_costs_no_hash() {
        let limiter = Arc::new(Limiter::new(1, 2));
        let (release, first) = occupy(&limiter).await;
        let ran = Arc::new(std::sync::atomic::AtomicBool::new(false));
        let gave_up = {
            let (limiter, ran) = (limiter.clone(), ran.clone());
            tokio::spawn(async move {
                limiter
                    .run(move || ran.store(true, std::sync::atomic::Ordering::SeqCst))
                    .await
            })
        };
        while limiter.admission.available_permits() > 1 {
            tokio::task::yield_now().await;
        }
        gave_up.abort();
        assert!(gave_up.await.unwrap_err().is_cancelled());
        release.send(()).unwrap();
        first.await.unwrap().unwrap();
        // The next hash runs after the abandoned one was taken off the
        // queue, on the same single thread.
        assert_eq!(limiter.run(|| 5).await.unwrap(), 5);
        assert!(
            !ran.load(std::sync::atomic::Ordering::SeqCst),
            "the abandoned hash ran"
        );
        assert_eq!(
            limiter.admission.available_permits(),
            3,
            "every ticket is back"
        );
    }

    #[tokio::test]
    async fn hashes_run_on_the_limiters_own_threads_one_after_another() {
        let limiter = Arc::new(Limiter::new(2, 8));
        let mut names = std::collections::BTreeSet::new();
        let mut threads = std::collections::BTreeSet::new();
        for _ in 0..20 {
            let (name, id) = limiter
                .run(|| {
                    let current = std::thread::current();
                    (current.name().map(str::to_owned), current.id())
                })
                .await
                .unwrap();
            names.insert(name);
            threads.insert(format!("{id:?}"));
        }
        assert_eq!(
            names.into_iter().collect::<Vec<_>>(),
            [Some("auth-hasher".to_owned())]
        );
        assert!(
            threads.len() <= 2,
            "{threads:?}: more threads than the bound"
        );
    }

    #[tokio::test]
    async fn a_panicking_hash_panics_in_its_caller_and_the_thread_goes_on() {
        let limiter = Arc::new(Limiter::new(1, 1));
        let caller = {
            let limiter = limiter.clone();
            tokio::spawn(async move { limiter.run(|| -> u8 { panic!("hash failed") }).await })
        };
        assert!(caller.await.unwrap_err().is_panic());
        assert_eq!(limiter.run(|| 6).await.unwrap(), 6, "the thread survived");
    }
}
