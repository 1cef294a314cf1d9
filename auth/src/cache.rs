//! An in-process cache of sessions and users (like Django's `cached_db`
//! session engine), so requests can skip the database.
//!
//! Every write made through this process updates or invalidates the
//! cached entry before the response is sent. A read that misses loads from
//! the store and fills the cache, but only if nothing invalidated that key
//! since the read began: the read takes a [`Ticket`] first, every
//! invalidation leaves a tombstone stamped with a newer tick, and a fill
//! older than the key's tombstone is dropped. So a load racing a logout or
//! a password change can never put the dead state back.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Arc, Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// Most entries a cache holds before it prunes.
const CAPACITY: usize = 100_000;

/// The clock reading a read took before loading; see the module docs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket(u64);

enum Slot<V> {
    Value(V, Instant),
    /// Invalidated at this tick.
    Tombstone(u64, Instant),
}

struct State<K, V> {
    entries: HashMap<K, Slot<V>>,
    /// Ticks once per invalidation.
    clock: u64,
    /// Fills with a ticket older than this are dropped (after a `clear`,
    /// or after tombstones were pruned).
    floor: u64,
}

/// A map whose entries are trusted for `ttl`, safe against stale fills.
pub(crate) struct TtlMap<K, V> {
    ttl: Duration,
    state: Mutex<State<K, V>>,
    gate: Arc<Gate>,
}

impl<K, V> std::fmt::Debug for TtlMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlMap")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Clone, V: Clone> TtlMap<K, V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        TtlMap {
            ttl,
            state: Mutex::new(State {
                entries: HashMap::new(),
                clock: 0,
                floor: 0,
            }),
            gate: Arc::default(),
        }
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    /// The fresh cached value, if any.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        match self.state().entries.get(key) {
            Some(Slot::Value(value, at)) if at.elapsed() < self.ttl => Some(value.clone()),
            _ => None,
        }
    }

    /// Taken before reading the backing store for a fill.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.state().clock)
    }

    /// Caches a value read from the backing store, unless the key (or the
    /// whole cache) was invalidated since `ticket` was taken.
    pub(crate) fn fill(&self, key: K, value: V, ticket: Ticket) {
        let mut state = self.state();
        if ticket.0 < state.floor {
            return;
        }
        if let Some(Slot::Tombstone(at, _)) = state.entries.get(&key)
            && *at > ticket.0
        {
            return;
        }
        self.insert(&mut state, key, value);
    }

    /// Caches a value this process just wrote (always the newest).
    pub(crate) fn put(&self, key: K, value: V) {
        let mut state = self.state();
        self.insert(&mut state, key, value);
    }

    fn insert(&self, state: &mut State<K, V>, key: K, value: V) {
        if state.entries.len() >= CAPACITY {
            self.prune(state);
        }
        state
            .entries
            .insert(key, Slot::Value(value, Instant::now()));
    }

    /// Drops stale values and old tombstones; a pruned tombstone raises the
    /// floor, so the fills it guarded against are still dropped.
    fn prune(&self, state: &mut State<K, V>) {
        let ttl = self.ttl;
        let mut floor = state.floor;
        state.entries.retain(|_, slot| match slot {
            Slot::Value(_, at) => at.elapsed() < ttl,
            Slot::Tombstone(tick, at) => {
                let keep = at.elapsed() < ttl;
                if !keep {
                    floor = floor.max(*tick + 1);
                }
                keep
            }
        });
        state.floor = floor;
        if state.entries.len() >= CAPACITY {
            state.entries.clear();
            state.floor = state.clock + 1;
        }
    }

    /// Invalidates `key`: gone now, and a fill that began earlier is
    /// dropped.
    pub(crate) fn remove(&self, key: &K) {
        let mut state = self.state();
        state.clock += 1;
        let tick = state.clock;
        state
            .entries
            .insert(key.clone(), Slot::Tombstone(tick, Instant::now()));
    }

    /// Invalidates everything.
    pub(crate) fn clear(&self) {
        let mut state = self.state();
        state.clock += 1;
        state.floor = state.clock;
        state.entries.clear();
    }

    /// The cached value, or `load`'s, cached unless invalidated meanwhile.
    pub(crate) async fn get_or_load<E, F>(&self, key: K, load: F) -> Result<Option<V>, E>
    where
        F: Future<Output = Result<Option<V>, E>>,
    {
        if let Some(value) = self.get(&key) {
            return Ok(Some(value));
        }
        let ticket = self.ticket();
        let loaded = load.await?;
        self.gate.pause().await;
        if let Some(value) = &loaded {
            self.fill(key, value.clone(), ticket);
        }
        Ok(loaded)
    }

    /// The barrier between a read and its fill (a test hook).
    pub(crate) fn gate(&self) -> Arc<Gate> {
        self.gate.clone()
    }
}

/// A one-shot barrier between a read of the backing store and the cache
/// fill that follows it, so tests can put a write in between without
/// timing. Disarmed, it costs one atomic load.
#[doc(hidden)]
#[derive(Debug, Default)]
pub struct Gate {
    armed: AtomicBool,
    paused: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

impl Gate {
    /// The next read stops before its fill, until [`Gate::release`].
    pub fn arm(&self) {
        self.armed.store(true, Ordering::SeqCst);
    }

    /// Waits until a read stopped at the barrier.
    pub async fn paused(&self) {
        self.paused.notified().await;
    }

    /// Lets the stopped read go on.
    pub fn release(&self) {
        self.release.notify_one();
    }

    async fn pause(&self) {
        if self.armed.swap(false, Ordering::SeqCst) {
            self.paused.notify_one();
            self.release.notified().await;
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_fill_that_began_before_an_invalidation_is_dropped() {
        let map = TtlMap::new(Duration::from_secs(60));
        // Read begins, the key is invalidated, then the read fills.
        let ticket = map.ticket();
        map.remove(&"k");
        map.fill("k", 1, ticket);
        assert_eq!(map.get(&"k"), None, "the dead value stays dead");
        // A read that began after the invalidation fills.
        let ticket = map.ticket();
        map.fill("k", 2, ticket);
        assert_eq!(map.get(&"k"), Some(2));
        // Other keys are not affected by a tombstone.
        let ticket = map.ticket();
        map.remove(&"other");
        map.fill("k", 3, ticket);
        assert_eq!(map.get(&"k"), Some(3));
        // A clear drops every earlier fill.
        let ticket = map.ticket();
        map.clear();
        map.fill("k", 4, ticket);
        assert_eq!(map.get(&"k"), None);
        // This process's own writes always land.
        map.put("k", 5);
        assert_eq!(map.get(&"k"), Some(5));
    }
}
