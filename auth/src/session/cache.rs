//! An in-process cache of sessions and users (like Django's `cached_db`
//! session engine), kept coherent with the database, so requests can skip
//! it without ever acting on a logout, password change or deactivation
//! that already happened.
//!
//! - Every write made through this process updates or invalidates the
//!   cached entry before the response is sent.
//! - Writes made by anyone else arrive as change notifications (see
//!   `coherence/`), within `AUTH_CACHE_MAX_STALENESS`; while they cannot
//!   arrive (a lost connection), the cache is off and every read goes to
//!   the store.
//! - A read that misses loads from the store and fills the cache, but only
//!   if nothing invalidated that key since the read began: the read takes a
//!   [`Ticket`] first, every invalidation leaves a tombstone stamped with a
//!   newer tick, and a fill older than the key's tombstone is dropped. So a
//!   load racing a logout or a password change can never put the dead state
//!   back.
//! - At most `AUTH_CACHE_MAX_ENTRIES` entries; the least recently used go
//!   first.

#[cfg(feature = "test-util")]
use std::sync::Arc;
use std::{
    collections::HashMap,
    hash::Hash,
    sync::{
        Mutex,
        atomic::{AtomicBool, Ordering},
    },
    time::{Duration, Instant},
};

/// The clock reading a read took before loading; see the module docs.
#[derive(Clone, Copy, Debug)]
pub(crate) struct Ticket(u64);

enum Slot<V> {
    Value(V),
    /// Invalidated at this tick, at this time.
    Tombstone(u64, Instant),
}

struct Entry<V> {
    slot: Slot<V>,
    /// When it was last read or written (a use counter), for eviction.
    used: u64,
}

struct State<K, V> {
    /// Keys are server-made (random session ids, primary keys): a fast
    /// seeded hasher is enough.
    entries: HashMap<K, Entry<V>, foldhash::fast::RandomState>,
    /// Ticks once per invalidation.
    clock: u64,
    /// Fills with a ticket older than this are dropped (after a `clear`,
    /// or after tombstones were pruned).
    floor: u64,
    /// Ticks once per use.
    uses: u64,
}

/// A bounded map of cached values, safe against stale fills.
pub(crate) struct CacheMap<K, V> {
    capacity: usize,
    /// How long a tombstone must outlive its invalidation: longer than any
    /// read of the store can take (the database timeout).
    guard: Duration,
    /// Off while change notifications cannot arrive: every read misses and
    /// nothing is filled.
    live: AtomicBool,
    state: Mutex<State<K, V>>,
    #[cfg(feature = "test-util")]
    gate: Arc<Gate>,
    /// Hits, misses and invalidations so far (for metrics).
    stats: Stats,
}

/// What a cache counted, for metrics.
#[derive(Debug, Default)]
pub(crate) struct Stats {
    pub(crate) hits: std::sync::atomic::AtomicU64,
    pub(crate) misses: std::sync::atomic::AtomicU64,
    pub(crate) invalidations: std::sync::atomic::AtomicU64,
}

impl<K, V> std::fmt::Debug for CacheMap<K, V> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CacheMap")
            .field("capacity", &self.capacity)
            .field("live", &self.live.load(Ordering::Relaxed))
            .finish_non_exhaustive()
    }
}

impl<K: Eq + Hash + Clone, V: Clone> CacheMap<K, V> {
    /// An empty cache of at most `capacity` entries, live or not.
    pub(crate) fn new(capacity: usize, guard: Duration, live: bool) -> Self {
        CacheMap {
            capacity: capacity.max(1),
            guard,
            live: AtomicBool::new(live),
            state: Mutex::new(State {
                entries: HashMap::default(),
                clock: 0,
                floor: 0,
                uses: 0,
            }),
            #[cfg(feature = "test-util")]
            gate: Arc::default(),
            stats: Stats::default(),
        }
    }

    /// How many keys were invalidated so far.
    #[cfg(feature = "test-util")]
    pub(crate) fn invalidations(&self) -> u64 {
        self.stats.invalidations.load(Ordering::Acquire)
    }

    /// Hits, misses and invalidations so far.
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn stats(&self) -> &Stats {
        &self.stats
    }

    fn state(&self) -> std::sync::MutexGuard<'_, State<K, V>> {
        self.state.lock().unwrap_or_else(|p| p.into_inner())
    }

    pub(crate) fn is_live(&self) -> bool {
        self.live.load(Ordering::Acquire)
    }

    /// Turns the cache on (notifications flow again) or off (they may have
    /// been lost); either way everything cached so far is dropped, and so
    /// is any fill from a read that began before.
    pub(crate) fn set_live(&self, live: bool) {
        let mut state = self.state();
        state.clock += 1;
        state.floor = state.clock;
        state.entries.clear();
        self.live.store(live, Ordering::Release);
    }

    /// The cached value, if any.
    pub(crate) fn get(&self, key: &K) -> Option<V> {
        if !self.is_live() {
            return None;
        }
        let mut state = self.state();
        state.uses += 1;
        let uses = state.uses;
        let found = match state.entries.get_mut(key) {
            Some(Entry {
                slot: Slot::Value(value),
                used,
            }) => {
                *used = uses;
                Some(value.clone())
            }
            _ => None,
        };
        let counter = match found {
            Some(_) => &self.stats.hits,
            None => &self.stats.misses,
        };
        counter.fetch_add(1, Ordering::Relaxed);
        found
    }

    /// Taken before reading the backing store for a fill.
    pub(crate) fn ticket(&self) -> Ticket {
        Ticket(self.state().clock)
    }

    /// Caches a value read from the backing store, unless the key (or the
    /// whole cache) was invalidated since `ticket` was taken.
    pub(crate) fn fill(&self, key: K, value: V, ticket: Ticket) {
        let mut state = self.state();
        if !self.is_live() || ticket.0 < state.floor {
            return;
        }
        if let Some(Entry {
            slot: Slot::Tombstone(at, _),
            ..
        }) = state.entries.get(&key)
            && *at > ticket.0
        {
            return;
        }
        self.insert(&mut state, key, Slot::Value(value));
    }

    /// Caches a value this process just wrote (always the newest).
    pub(crate) fn put(&self, key: K, value: V) {
        let mut state = self.state();
        if !self.is_live() {
            return;
        }
        self.insert(&mut state, key, Slot::Value(value));
    }

    fn insert(&self, state: &mut State<K, V>, key: K, slot: Slot<V>) {
        if state.entries.len() >= self.capacity && !state.entries.contains_key(&key) {
            self.evict(state);
        }
        state.uses += 1;
        let used = state.uses;
        state.entries.insert(key, Entry { slot, used });
    }

    /// Makes room: tombstones past their guard go (raising the floor, so
    /// the fills they guarded against are still dropped), then the least
    /// recently used eighth of the values.
    fn evict(&self, state: &mut State<K, V>) {
        let guard = self.guard;
        let mut floor = state.floor;
        state.entries.retain(|_, entry| match entry.slot {
            Slot::Value(_) => true,
            Slot::Tombstone(tick, at) => {
                let keep = at.elapsed() < guard;
                if !keep {
                    floor = floor.max(tick + 1);
                }
                keep
            }
        });
        state.floor = floor;
        if state.entries.len() < self.capacity {
            return;
        }
        let mut values: Vec<(u64, K)> = state
            .entries
            .iter()
            .filter(|(_, entry)| matches!(entry.slot, Slot::Value(_)))
            .map(|(key, entry)| (entry.used, key.clone()))
            .collect();
        if values.is_empty() {
            // Only young tombstones: forget everything, safely.
            state.entries.clear();
            state.clock += 1;
            state.floor = state.clock;
            return;
        }
        let evicted = (values.len() / 8).max(1);
        values.select_nth_unstable_by_key(evicted - 1, |(used, _)| *used);
        for (_, key) in values.into_iter().take(evicted) {
            state.entries.remove(&key);
        }
    }

    /// Invalidates `key`: gone now, and a fill that began earlier is
    /// dropped.
    pub(crate) fn remove(&self, key: &K) {
        let mut state = self.state();
        state.clock += 1;
        let tick = state.clock;
        self.insert(
            &mut state,
            key.clone(),
            Slot::Tombstone(tick, Instant::now()),
        );
        self.stats.invalidations.fetch_add(1, Ordering::Release);
    }

    /// Invalidates everything.
    pub(crate) fn clear(&self) {
        let mut state = self.state();
        state.clock += 1;
        state.floor = state.clock;
        state.entries.clear();
    }

    /// How many values are cached (tombstones aside).
    #[cfg(any(test, feature = "test-util"))]
    pub(crate) fn len(&self) -> usize {
        self.state()
            .entries
            .values()
            .filter(|entry| matches!(entry.slot, Slot::Value(_)))
            .count()
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
        if let Some(value) = &loaded {
            self.fill_after_gate(key, value.clone(), ticket).await;
        } else {
            self.pause().await;
        }
        Ok(loaded)
    }

    /// [`fill`](CacheMap::fill), after the test barrier: for a value read
    /// from, or written to, the store since `ticket` was taken.
    pub(crate) async fn fill_after_gate(&self, key: K, value: V, ticket: Ticket) {
        self.pause().await;
        self.fill(key, value, ticket);
    }

    /// Waits at the test barrier, when one is armed.
    pub(crate) async fn pause(&self) {
        #[cfg(feature = "test-util")]
        self.gate.pause().await;
    }

    /// The barrier between a read and its fill (a test hook).
    #[cfg(feature = "test-util")]
    pub(crate) fn gate(&self) -> Arc<Gate> {
        self.gate.clone()
    }
}

/// A one-shot barrier between a read of the backing store and the cache
/// fill that follows it, so tests can put a write in between without
/// timing (with the `test-util` feature).
#[cfg(feature = "test-util")]
#[derive(Debug, Default)]
pub struct Gate {
    armed: AtomicBool,
    paused: tokio::sync::Notify,
    release: tokio::sync::Notify,
}

#[cfg(feature = "test-util")]
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

    fn map() -> CacheMap<&'static str, i32> {
        CacheMap::new(100, Duration::from_secs(60), true)
    }

    #[test]
    fn a_fill_that_began_before_an_invalidation_is_dropped() {
        let map = map();
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

    #[test]
    fn an_off_cache_reads_through_and_a_switch_drops_earlier_fills() {
        let map = map();
        map.put("k", 1);
        let ticket = map.ticket();
        map.set_live(false);
        assert_eq!(map.get(&"k"), None);
        map.put("k", 2);
        map.fill("k", 3, ticket);
        assert_eq!(map.get(&"k"), None);
        let before = map.ticket();
        map.set_live(true);
        map.fill("k", 4, before);
        assert_eq!(
            map.get(&"k"),
            None,
            "a read from before the switch does not land"
        );
        let after = map.ticket();
        map.fill("k", 5, after);
        assert_eq!(map.get(&"k"), Some(5));
    }

    #[test]
    fn the_least_recently_used_go_first_and_the_size_stays_bounded() {
        let keys: Vec<&'static str> = (0..200)
            .map(|i| &*Box::leak(format!("k{i}").into_boxed_str()))
            .collect();
        let map: CacheMap<&'static str, usize> = CacheMap::new(16, Duration::ZERO, true);
        map.put(keys[0], 0);
        for (i, key) in keys.iter().enumerate().skip(1) {
            map.put(key, i);
            // k0 is read all the time: it stays.
            assert_eq!(map.get(&keys[0]), Some(0));
            assert!(map.len() <= 16);
        }
        assert_eq!(map.get(&keys[199]), Some(199));
        assert_eq!(map.get(&keys[1]), None, "evicted long ago");
        // Tombstones count too, and old ones are pruned.
        for key in &keys {
            map.remove(key);
        }
        assert!(map.state().entries.len() <= 16);
    }
}
