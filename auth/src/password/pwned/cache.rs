//! The range responses already fetched: a bounded cache, least recently
//! used out first, each entry good for the TTL (`AUTH_PWNED_CACHE_TTL`).
//! A range is ~800 suffixes of 18 bytes, so the cache holds at most
//! [`CAPACITY`] × ~15 KiB.

use std::{
    collections::HashMap,
    sync::{Arc, Mutex, PoisonError},
    time::{Duration, Instant},
};

/// How many ranges are kept (of 2^20).
pub(super) const CAPACITY: usize = 512;

/// One range: the 35-hex-digit suffixes of the breached hashes that share
/// a 5-digit prefix, each packed into 18 bytes, sorted.
#[derive(Debug, Default)]
pub(super) struct Range {
    suffixes: Vec<[u8; 18]>,
}

impl Range {
    /// The range of the suffixes given (35 hex digits each).
    pub(super) fn new(mut suffixes: Vec<[u8; 18]>) -> Self {
        suffixes.sort_unstable();
        suffixes.dedup();
        Range { suffixes }
    }

    /// A suffix (35 hex digits, either case) packed for [`Range`]; `None`
    /// when it is not 35 hex digits.
    pub(super) fn pack(suffix: &str) -> Option<[u8; 18]> {
        if suffix.len() != 35 {
            return None;
        }
        let mut padded = [b'0'; 36];
        padded[1..].copy_from_slice(suffix.as_bytes());
        let mut packed = [0u8; 18];
        hex::decode_to_slice(padded, &mut packed).ok()?;
        Some(packed)
    }

    /// Whether the range holds `suffix` (35 hex digits).
    pub(super) fn contains(&self, suffix: &str) -> bool {
        Range::pack(suffix).is_some_and(|packed| self.suffixes.binary_search(&packed).is_ok())
    }

    /// How many suffixes the range holds.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.suffixes.len()
    }
}

struct Entry {
    range: Arc<Range>,
    fetched: Instant,
    used: u64,
}

/// The cache: prefix (20 bits) → range.
pub(super) struct RangeCache {
    ttl: Duration,
    capacity: usize,
    inner: Mutex<(HashMap<u32, Entry>, u64)>,
}

impl RangeCache {
    /// An empty cache whose entries last `ttl` (zero: nothing is kept).
    pub(super) fn new(ttl: Duration, capacity: usize) -> Self {
        RangeCache {
            ttl,
            capacity,
            inner: Mutex::default(),
        }
    }

    /// The range of `prefix` if it was fetched less than the TTL before
    /// `now`.
    pub(super) fn get(&self, prefix: u32, now: Instant) -> Option<Arc<Range>> {
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (entries, clock) = &mut *inner;
        *clock += 1;
        let entry = entries.get_mut(&prefix)?;
        if now.saturating_duration_since(entry.fetched) >= self.ttl {
            entries.remove(&prefix);
            return None;
        }
        entry.used = *clock;
        Some(entry.range.clone())
    }

    /// Keeps `range` for `prefix`, fetched at `now`, making room by
    /// dropping the least recently used range.
    pub(super) fn put(&self, prefix: u32, range: Arc<Range>, now: Instant) {
        if self.ttl.is_zero() || self.capacity == 0 {
            return;
        }
        let mut inner = self.inner.lock().unwrap_or_else(PoisonError::into_inner);
        let (entries, clock) = &mut *inner;
        *clock += 1;
        if entries.len() >= self.capacity && !entries.contains_key(&prefix) {
            let oldest = entries
                .iter()
                .min_by_key(|(_, entry)| entry.used)
                .map(|(prefix, _)| *prefix);
            if let Some(oldest) = oldest {
                entries.remove(&oldest);
            }
        }
        entries.insert(
            prefix,
            Entry {
                range,
                fetched: now,
                used: *clock,
            },
        );
    }

    /// How many ranges are kept.
    #[cfg(test)]
    pub(super) fn len(&self) -> usize {
        self.inner
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .0
            .len()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn range(suffix: &str) -> Arc<Range> {
        Arc::new(Range::new(vec![Range::pack(suffix).unwrap()]))
    }

    const A: &str = "0018A45C4D1DEF81644B54AB7F969B88D65";
    const B: &str = "00D4F6E8FA6EECAD2A3AA415EEC418D38EC";

    #[test]
    fn suffixes_are_matched_exactly_in_either_case() {
        let r = Range::new(vec![Range::pack(A).unwrap(), Range::pack(B).unwrap()]);
        assert!(r.contains(A) && r.contains(B));
        assert!(r.contains(&A.to_ascii_lowercase()));
        assert!(!r.contains("0018A45C4D1DEF81644B54AB7F969B88D66"));
        assert!(!r.contains(&A[..34]), "too short");
        assert!(!r.contains("ZZ18A45C4D1DEF81644B54AB7F969B88D65"));
        assert_eq!(Range::pack(&format!("{A}0")), None);
    }

    #[test]
    fn entries_expire_after_the_ttl() {
        let cache = RangeCache::new(Duration::from_secs(60), 4);
        let t0 = Instant::now();
        cache.put(7, range(A), t0);
        assert!(cache.get(7, t0 + Duration::from_secs(59)).is_some());
        assert!(cache.get(7, t0 + Duration::from_secs(60)).is_none());
        assert_eq!(cache.len(), 0, "an expired entry is dropped");
        let off = RangeCache::new(Duration::ZERO, 4);
        off.put(7, range(A), t0);
        assert!(off.get(7, t0).is_none());
    }

    #[test]
    fn the_least_recently_used_range_goes_first() {
        let cache = RangeCache::new(Duration::from_secs(60), 3);
        let now = Instant::now();
        for prefix in 0..3 {
            cache.put(prefix, range(A), now);
        }
        assert!(cache.get(0, now).is_some(), "0 is now the most recent");
        cache.put(3, range(A), now);
        assert_eq!(cache.len(), 3);
        assert!(cache.get(1, now).is_none(), "1 was the least recent");
        for prefix in [0, 2, 3] {
            assert!(cache.get(prefix, now).is_some(), "{prefix}");
        }
        for prefix in 10..1000 {
            cache.put(prefix, range(B), now);
        }
        assert_eq!(cache.len(), 3, "bounded");
    }
}
