//! Throttling attempts (what django-axes adds to Django), shared by every
//! instance of the app through the store the sessions use (the
//! `auth_throttle_counter` table, or Redis when sessions are in Redis).
//!
//! # What is counted
//!
//! A login (and the old password of the password-change form, and a
//! re-authentication) counts against three keys, each with its limit per
//! `AUTH_LOGIN_FAILURE_WINDOW`:
//!
//! | key | limit | bounds |
//! |---|---|---|
//! | username + client address | `AUTH_LOGIN_FAILURE_LIMIT` (10) | guessing one account from one place; the owner elsewhere is not locked out |
//! | username | `AUTH_LOGIN_FAILURE_LIMIT_PER_USER` (100) | guessing one account from many addresses |
//! | client address | `AUTH_LOGIN_FAILURE_LIMIT_PER_IP` (100) | one address trying many accounts |
//!
//! A login that presents a device cookie of its username (set by an
//! earlier successful login on that browser) counts against that device
//! instead (`AUTH_LOGIN_FAILURE_LIMIT`): guessing from anywhere else
//! cannot lock the owner out of their own device. The second step of a
//! two-factor login counts against the user's own second-factor limits
//! (`AUTH_MFA_FAILURE_LIMIT` per window, `AUTH_MFA_FAILURE_LIMIT_PER_DAY`),
//! which a correct password does not reset. See `counters.rs`.
//!
//! An IPv6 client counts by its /64, an IPv4-mapped IPv6 address as the
//! IPv4 address; behind a trusted proxy, requests whose header is missing
//! or garbled count as one shared `unknown` address.
//!
//! # When it is counted: [`Throttle::attempt`]
//!
//! An attempt *reserves* its slot on every key before the work it guards
//! (the password check), in one atomic step per key whose result decides:
//! a burst of parallel attempts cannot all pass a check made before any
//! of them is counted. Each key counts its window's attempts and, of
//! those, the ones still in flight:
//!
//! - when the failures alone (attempts not in flight) reach the limit,
//!   the attempt is refused without the work (429), and its slots are
//!   given back, so attempts during a lockout do not extend it;
//! - when the limit is reached only because attempts are still in flight
//!   (20 correct logins at once), the attempt gives its slots back and
//!   waits for them, up to [`BUSY_WAIT`], trying again: most of those
//!   succeed and give their slots back. Of N parallel wrong passwords, at
//!   most the limit reach the hasher all the same.
//!
//! The work's verdict then settles the slots: a failure keeps them
//! (attempts stay counted); a success clears the keys that reset on
//! success (the username + address key, as django-axes resets on
//! success) and gives back its slot on the others, so the owner's logins
//! never eat into them; an attempt that did not happen (the hasher was
//! saturated) gives every slot back. An attempt dropped without a verdict
//! (an error, a cancelled request) counts as a failure.
//!
//! The counted values (usernames, addresses, user ids) are stored as
//! HMACs under the secret key, never in clear. A key's window starts at
//! its first attempt and lasts `AUTH_LOGIN_FAILURE_WINDOW` (or the
//! counter's own length): in the table an upsert that starts a new window
//! when the old one has passed, in Redis a script that sets the expiry in
//! the same step, so a counter never outlives its window.

mod counters;
pub(crate) mod device;
#[cfg(feature = "redis")]
mod redis;
mod table;

use std::{
    collections::HashMap,
    sync::{Arc, Mutex},
    time::Duration,
};

use sea_orm::{DatabaseConnection, DbErr};
use time::OffsetDateTime;

pub(crate) use counters::{
    client_key, device_counters, login_counters, reset_mail_counters, reset_request_counters,
};
#[cfg(feature = "mfa")]
pub(crate) use counters::{counts_per_address, per_address};

use crate::{
    kernel::error::{Error, Result},
    settings::secret::SaltedMac,
};

/// The key salt of the counters' HMAC.
pub(crate) const THROTTLE_SALT: &str = "auth.throttle";

/// How long an attempt waits, at most, for attempts in flight to give
/// their slots back before it is refused.
pub(crate) const BUSY_WAIT: Duration = Duration::from_secs(5);

/// One thing counted, with its limit (0: not counted).
#[derive(Clone, Debug)]
pub(crate) struct Counter {
    /// `login-user-ip`, `login-user`, `login-ip`, …
    pub(crate) kind: &'static str,
    /// The counted value (a username, an address, a user id), in clear.
    pub(crate) value: String,
    /// Failures allowed per window.
    pub(crate) limit: u32,
    /// Whether a success resets it (else a success only gives back its
    /// own slot).
    reset_on_success: bool,
    /// The window's length, when not the throttle's.
    window: Option<Duration>,
}

impl Counter {
    pub(crate) fn new(kind: &'static str, value: String, limit: u32) -> Self {
        Counter {
            kind,
            value,
            limit,
            reset_on_success: false,
            window: None,
        }
    }

    /// A success clears this counter.
    pub(crate) fn reset_on_success(mut self) -> Self {
        self.reset_on_success = true;
        self
    }

    /// Counts in windows of `length` instead of the throttle's.
    #[cfg_attr(not(any(feature = "mfa", feature = "notify")), allow(dead_code))]
    pub(crate) fn window(mut self, length: Duration) -> Self {
        self.window = Some(length);
        self
    }
}

/// How an attempt went: what its slots become.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Verdict {
    /// It succeeded: counters that reset are cleared, the others get
    /// their slot back.
    Passed,
    /// It failed: its slots stay counted.
    Failed,
    /// It did not happen (refused for another reason, such as a saturated
    /// hasher): every slot is given back.
    DidNotHappen,
}

/// An attempt refused: a counter's failures reached its limit.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct Refused {
    /// The kind of the counter that refused it.
    pub(crate) counter: &'static str,
    /// Whether this is this instance's first refusal of that key in its
    /// window: what an audit event is written for (the rest of a lockout
    /// only counts).
    pub(crate) first: bool,
}

impl From<Refused> for Error {
    fn from(_: Refused) -> Self {
        Error::Throttled
    }
}

/// What a slot's attempt becomes.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
enum Release {
    /// The counter is deleted.
    Clear,
    /// The attempt stays counted, no longer in flight.
    Failed,
    /// The attempt is taken back.
    GiveBack,
}

/// One counted slot: the key, the window it was counted in (its end, in
/// milliseconds), so a slot given back late never takes one from the
/// next window, and that window's length.
#[derive(Clone, Debug)]
struct Slot {
    key: String,
    window: i64,
    length: i64,
    limit: u32,
    kind: &'static str,
    reset_on_success: bool,
}

/// Where the counts live.
#[derive(Clone)]
enum Backend {
    Table(DatabaseConnection),
    #[cfg(feature = "redis")]
    Redis {
        client: fred::clients::Client,
        prefix: String,
    },
}

/// Counts attempts per key within a window (see the module docs).
#[derive(Clone)]
pub(crate) struct Throttle(Arc<Inner>);

struct Inner {
    backend: Backend,
    mac: SaltedMac,
    window: Duration,
    timeout: Duration,
    /// The keys this instance refused in their current window (key →
    /// window end): a lockout is reported once per key and window.
    refused: Mutex<HashMap<String, i64>>,
}

/// The most keys remembered as refused; past it, the expired go, then
/// all.
const REFUSED_MEMORY: usize = 10_000;

/// The slots an attempt holds, until it says how it went. Dropped without
/// a verdict (an error, a cancelled request), the attempt counts as a
/// failure.
#[must_use = "give the attempt its verdict"]
pub(crate) struct Reservation {
    slots: Vec<Slot>,
    throttle: Throttle,
}

impl Drop for Reservation {
    fn drop(&mut self) {
        if self.slots.is_empty() {
            return;
        }
        let slots = std::mem::take(&mut self.slots);
        let throttle = self.throttle.clone();
        if let Ok(runtime) = tokio::runtime::Handle::try_current() {
            runtime.spawn(async move {
                if let Err(err) = throttle.settle(&slots, Verdict::Failed).await {
                    tracing::warn!(error = %err, "a dropped attempt was not settled");
                }
            });
        }
    }
}

/// The outcome of counting: the slots, or why not.
enum Counting {
    Reserved(Vec<Slot>),
    Refused(Refused),
    Busy,
}

impl Throttle {
    /// Counts in the app's database.
    pub(crate) fn table(
        db: DatabaseConnection,
        mac: SaltedMac,
        window: Duration,
        timeout: Duration,
    ) -> Self {
        Self::new(Backend::Table(db), mac, window, timeout)
    }

    /// Counts in Redis, under `prefix`.
    #[cfg(feature = "redis")]
    pub(crate) fn redis(
        client: fred::clients::Client,
        prefix: String,
        mac: SaltedMac,
        window: Duration,
        timeout: Duration,
    ) -> Self {
        Self::new(Backend::Redis { client, prefix }, mac, window, timeout)
    }

    fn new(backend: Backend, mac: SaltedMac, window: Duration, timeout: Duration) -> Self {
        Throttle(Arc::new(Inner {
            backend,
            mac,
            window,
            timeout,
            refused: Mutex::default(),
        }))
    }

    /// Runs `work` as one attempt counted on `counters` (see the module
    /// docs): refused before it runs when a counter's failures reached
    /// its limit, else run, and its slots settled by the verdict it
    /// returns with its result.
    pub(crate) async fn attempt<T>(
        &self,
        counters: &[Counter],
        work: impl Future<Output = (Verdict, Result<T>)>,
    ) -> Result<std::result::Result<T, Refused>> {
        let reservation = match self.reserve(counters).await? {
            Ok(reservation) => reservation,
            Err(refused) => return Ok(Err(refused)),
        };
        let (verdict, result) = work.await;
        self.finish(reservation, verdict).await?;
        Ok(Ok(result?))
    }

    /// Counts one event on `counters` that is a failure by nature (a
    /// reset message, a request for options, a challenge's use): refused
    /// when a counter reached its limit.
    pub(crate) async fn count(
        &self,
        counters: &[Counter],
    ) -> Result<std::result::Result<(), Refused>> {
        self.attempt(counters, async { (Verdict::Failed, Ok(())) })
            .await
    }

    /// Counts one attempt on every counter with a limit, atomically per
    /// counter, waiting while only attempts in flight hold the limit.
    pub(crate) async fn reserve(
        &self,
        counters: &[Counter],
    ) -> Result<std::result::Result<Reservation, Refused>> {
        let deadline = tokio::time::Instant::now() + BUSY_WAIT;
        let mut pause = Duration::from_millis(5);
        loop {
            match self.count_once(counters).await? {
                Counting::Reserved(slots) => {
                    return Ok(Ok(Reservation {
                        slots,
                        throttle: self.clone(),
                    }));
                }
                Counting::Refused(refused) => return Ok(Err(refused)),
                Counting::Busy if tokio::time::Instant::now() + pause >= deadline => {
                    tracing::warn!(
                        "attempt refused: its limit stayed held by attempts in flight for {} s",
                        BUSY_WAIT.as_secs()
                    );
                    return Ok(Err(Refused {
                        counter: "busy",
                        first: false,
                    }));
                }
                Counting::Busy => {
                    let jitter =
                        Duration::from_micros(rand::random_range(0..=pause.as_micros() as u64));
                    tokio::time::sleep(pause + jitter).await;
                    pause = (pause * 2).min(Duration::from_millis(100));
                }
            }
        }
    }

    /// Gives `reservation`'s attempt its verdict.
    pub(crate) async fn finish(
        &self,
        mut reservation: Reservation,
        verdict: Verdict,
    ) -> Result<()> {
        let slots = std::mem::take(&mut reservation.slots);
        self.settle(&slots, verdict).await
    }

    /// One try at counting: every slot counted, and the verdict.
    async fn count_once(&self, counters: &[Counter]) -> Result<Counting> {
        let inner = &self.0;
        let window = millis(inner.window);
        let mut slots: Vec<Slot> = counters
            .iter()
            .filter(|counter| counter.limit > 0)
            .map(|counter| Slot {
                key: format!(
                    "{}:{}",
                    counter.kind,
                    inner.mac.hex(counter.value.as_bytes())
                ),
                window: 0,
                length: counter.window.map_or(window, millis),
                limit: counter.limit,
                kind: counter.kind,
                reset_on_success: counter.reset_on_success,
            })
            .collect();
        if slots.is_empty() {
            return Ok(Counting::Reserved(slots));
        }
        let counted = self.count_slots(&slots).await?;
        let mut refused = None;
        let mut busy = false;
        for (slot, counted) in slots.iter_mut().zip(&counted) {
            slot.window = counted.window;
            let limit = u64::from(slot.limit);
            let failures = counted.attempts.saturating_sub(counted.in_flight);
            if failures >= limit {
                refused.get_or_insert((slot.kind, slot.key.clone(), slot.window));
            } else if counted.attempts > limit {
                busy = true;
            }
        }
        if let Some((kind, key, window)) = refused {
            tracing::warn!(
                counter = kind,
                window_seconds = inner.window.as_secs(),
                "attempt refused: too many failures within the window"
            );
            self.settle(&slots, Verdict::DidNotHappen).await?;
            return Ok(Counting::Refused(Refused {
                counter: kind,
                first: self.first_refusal(key, window),
            }));
        }
        if busy {
            self.settle(&slots, Verdict::DidNotHappen).await?;
            return Ok(Counting::Busy);
        }
        Ok(Counting::Reserved(slots))
    }

    /// Counts one attempt on each slot, in the order the slots are given.
    async fn count_slots(&self, slots: &[Slot]) -> Result<Vec<table::Counted>> {
        let now = now_millis();
        match &self.0.backend {
            Backend::Table(db) => {
                let mut sorted: Vec<&Slot> = slots.iter().collect();
                sorted.sort_unstable_by(|a, b| a.key.cmp(&b.key));
                let counted = self.retrying(|| table::count(db, &sorted, now)).await?;
                slots
                    .iter()
                    .map(|slot| {
                        counted
                            .iter()
                            .find(|(key, _)| *key == slot.key)
                            .map(|(_, counted)| *counted)
                            .ok_or_else(|| {
                                Error::Database(DbErr::RecordNotFound(
                                    "a counter just written".into(),
                                ))
                            })
                    })
                    .collect()
            }
            #[cfg(feature = "redis")]
            Backend::Redis { client, prefix } => {
                let counts = slots
                    .iter()
                    .map(|slot| self.timed_redis(redis::count(client, prefix, slot)));
                futures_util::future::try_join_all(counts).await
            }
        }
    }

    /// Settles `slots` by `verdict`.
    async fn settle(&self, slots: &[Slot], verdict: Verdict) -> Result<()> {
        let release = |slot: &Slot| match verdict {
            Verdict::Passed if slot.reset_on_success => Release::Clear,
            Verdict::Passed | Verdict::DidNotHappen => Release::GiveBack,
            Verdict::Failed => Release::Failed,
        };
        match &self.0.backend {
            Backend::Table(db) => {
                // One row per statement: a statement that locked several
                // rows in its own order could deadlock with the counting
                // upsert, which locks them in key order.
                for slot in slots {
                    self.retrying(|| table::release(db, slot, release(slot)))
                        .await?;
                }
            }
            #[cfg(feature = "redis")]
            Backend::Redis { client, prefix } => {
                let steps = slots.iter().map(|slot| {
                    self.timed_redis(redis::release(client, prefix, slot, release(slot)))
                });
                futures_util::future::try_join_all(steps).await?;
            }
        }
        Ok(())
    }

    /// Whether `key` was not yet refused in the window ending at
    /// `window` by this instance (and now is).
    fn first_refusal(&self, key: String, window: i64) -> bool {
        let mut refused = self.0.refused.lock().unwrap_or_else(|p| p.into_inner());
        first_in_window(&mut refused, key, window, now_millis())
    }

    /// Deletes counters whose window has passed (the table only; Redis
    /// keys expire); how many.
    pub(crate) async fn prune(&self) -> Result<u64> {
        match &self.0.backend {
            Backend::Table(db) => self.timed(table::prune(db, now_millis())).await,
            #[cfg(feature = "redis")]
            Backend::Redis { .. } => Ok(0),
        }
    }

    /// Creates the counters table if missing (in the database even when
    /// counts live in Redis, as the session table is).
    pub(crate) async fn migrate(&self) -> Result<()> {
        match &self.0.backend {
            Backend::Table(db) => Ok(table::migrate(db).await?),
            #[cfg(feature = "redis")]
            Backend::Redis { .. } => Ok(()),
        }
    }

    /// A counting statement, [`timed`](Self::timed), retried up to three
    /// times after a deadlock (two upserts of a new key can deadlock on
    /// MySQL).
    async fn retrying<T, F: Future<Output = Result<T, DbErr>>>(
        &self,
        mut statement: impl FnMut() -> F,
    ) -> Result<T> {
        let mut tries = 0;
        loop {
            tries += 1;
            match self.timed(statement()).await {
                Err(Error::Database(err)) if tries < 4 && table::is_retryable(&err) => continue,
                other => return other,
            }
        }
    }

    async fn timed<T>(&self, fut: impl Future<Output = Result<T, DbErr>>) -> Result<T> {
        match tokio::time::timeout(self.0.timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout),
        }
    }

    #[cfg(feature = "redis")]
    async fn timed_redis<T>(
        &self,
        fut: impl Future<Output = Result<T, fred::error::Error>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.0.timeout, fut).await {
            Ok(result) => Ok(result?),
            Err(_) => Err(Error::Timeout),
        }
    }
}

/// `duration` in milliseconds, at least one.
fn millis(duration: Duration) -> i64 {
    i64::try_from(duration.as_millis())
        .unwrap_or(i64::MAX)
        .max(1)
}

/// Now, in milliseconds since the Unix epoch.
fn now_millis() -> i64 {
    i64::try_from(OffsetDateTime::now_utc().unix_timestamp_nanos() / 1_000_000).unwrap_or(i64::MAX)
}

/// Whether `key` was not yet refused in the window ending at `window`
/// (milliseconds), as `refused` remembers (and now is). Redis gives a
/// window's end as its clock plus the key's time to live, which can
/// differ by a millisecond between two reads of one window: ends within
/// half a second are one window (the next ends at least a second later).
fn first_in_window(
    refused: &mut std::collections::HashMap<String, i64>,
    key: String,
    window: i64,
    now: i64,
) -> bool {
    if refused
        .get(&key)
        .is_some_and(|end| end.abs_diff(window) <= 500)
    {
        return false;
    }
    if refused.len() >= REFUSED_MEMORY {
        refused.retain(|_, end| *end > now);
        if refused.len() >= REFUSED_MEMORY {
            refused.clear();
        }
    }
    refused.insert(key, window);
    true
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_window_read_a_millisecond_apart_is_refused_once() {
        let mut refused = std::collections::HashMap::new();
        let first = |refused: &mut _, window| first_in_window(refused, "k".into(), window, 0);
        assert!(first(&mut refused, 60_000));
        for end in [60_000, 60_001, 59_999, 60_500, 59_500] {
            assert!(!first(&mut refused, end), "{end}");
        }
        assert!(first(&mut refused, 61_000), "the next window");
        assert!(!first(&mut refused, 61_001));
        assert!(first_in_window(&mut refused, "other".into(), 61_000, 0));
    }
}
