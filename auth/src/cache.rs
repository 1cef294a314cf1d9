//! An optional in-process cache of sessions and users (like Django's
//! `cached_db` session engine), for single-instance deployments that want
//! requests to skip the database.
//!
//! Every write made through this process updates or clears the cached
//! entry at once (login, logout, password change, saving a user), so this
//! process never serves stale state it caused. Changes made elsewhere
//! (another instance, the CLI, SQL) are seen within `Settings::cache_ttl`.
//! Off by default (`cache_ttl` zero): with several instances, leave it off.

use std::{
    collections::HashMap,
    hash::Hash,
    sync::Mutex,
    time::{Duration, Instant},
};

use async_trait::async_trait;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use crate::session::store::{DynStore, Store};

/// Most entries a cache holds before it starts over.
const CAPACITY: usize = 100_000;

/// A map whose entries are trusted for `ttl`.
pub(crate) struct TtlMap<K, V> {
    ttl: Duration,
    entries: Mutex<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlMap<K, V> {
    pub(crate) fn new(ttl: Duration) -> Self {
        TtlMap {
            ttl,
            entries: Mutex::new(HashMap::new()),
        }
    }

    pub(crate) fn get(&self, key: &K) -> Option<V> {
        let entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        entries
            .get(key)
            .filter(|(_, at)| at.elapsed() < self.ttl)
            .map(|(v, _)| v.clone())
    }

    pub(crate) fn put(&self, key: K, value: V) {
        let mut entries = self.entries.lock().unwrap_or_else(|p| p.into_inner());
        if entries.len() >= CAPACITY {
            let ttl = self.ttl;
            entries.retain(|_, (_, at)| at.elapsed() < ttl);
            if entries.len() >= CAPACITY {
                entries.clear();
            }
        }
        entries.insert(key, (value, Instant::now()));
    }

    pub(crate) fn clear(&self) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .clear();
    }

    pub(crate) fn remove(&self, key: &K) {
        self.entries
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .remove(key);
    }
}

/// A write-through cache in front of a session store.
#[derive(Debug)]
pub(crate) struct CachedStore {
    inner: DynStore,
    cache: TtlMap<Id, Record>,
}

impl std::fmt::Debug for TtlMap<Id, Record> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TtlMap")
            .field("ttl", &self.ttl)
            .finish_non_exhaustive()
    }
}

impl CachedStore {
    pub(crate) fn new(inner: DynStore, ttl: Duration) -> Self {
        CachedStore {
            inner,
            cache: TtlMap::new(ttl),
        }
    }
}

#[async_trait]
impl SessionStore for CachedStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.cache.put(record.id, record.clone());
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let saved = self.inner.save(record).await;
        match &saved {
            Ok(()) => self.cache.put(record.id, record.clone()),
            Err(_) => self.cache.remove(&record.id),
        }
        saved
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(record) = self.cache.get(id) {
            if record.expiry_date > time::OffsetDateTime::now_utc() {
                return Ok(Some(record));
            }
            self.cache.remove(id);
            return Ok(None);
        }
        let loaded = self.inner.load(id).await?;
        if let Some(record) = &loaded {
            self.cache.put(*id, record.clone());
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.cache.remove(id);
        self.inner.delete(id).await
    }
}

#[async_trait]
impl Store for CachedStore {
    async fn clear_expired(&self) -> crate::Result<u64> {
        // Expired entries are refused on load; the rows go here.
        self.inner.clear_expired().await
    }

    async fn count(&self) -> crate::Result<u64> {
        self.inner.count().await
    }

    async fn clear_all(&self) -> crate::Result<u64> {
        self.cache.clear();
        self.inner.clear_all().await
    }
}
