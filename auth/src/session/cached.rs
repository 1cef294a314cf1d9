//! A write-through in-process cache in front of any session store (see
//! [`crate::cache`] for why a fill racing a delete is dropped, and
//! `coherence/` for how writes made elsewhere reach it).

use std::sync::Arc;

use async_trait::async_trait;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use super::{
    cached_session::CachedSession,
    store::{DynStore, Store},
};
#[cfg(feature = "test-util")]
use crate::session::cache::Gate;
use crate::session::coherence::SessionCache;

/// A write-through cache in front of a session store.
#[derive(Debug)]
pub(crate) struct CachedStore {
    inner: DynStore,
    cache: SessionCache,
}

impl CachedStore {
    pub(crate) fn new(inner: DynStore, cache: SessionCache) -> Self {
        CachedStore { inner, cache }
    }
}

#[async_trait]
impl SessionStore for CachedStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.inner.create(record).await?;
        self.cache
            .put(record.id, Arc::new(CachedSession::new(record)));
        Ok(())
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        // The same check as a read's fill: an invalidation that lands
        // between the write and the fill (a logout on another instance
        // deleted the row just after this update) wins.
        let ticket = self.cache.ticket();
        let saved = self.inner.save(record).await;
        match &saved {
            Ok(()) => {
                self.cache
                    .fill_after_gate(record.id, Arc::new(CachedSession::new(record)), ticket)
                    .await
            }
            Err(_) => self.cache.remove(&record.id),
        }
        saved
    }

    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        if let Some(cached) = self.cache.get(id) {
            if cached.is_expired() {
                self.cache.remove(id);
                return Ok(None);
            }
            return Ok(Some(cached.record()));
        }
        let ticket = self.cache.ticket();
        let loaded = self.inner.load(id).await?;
        match &loaded {
            Some(record) => {
                let cached = Arc::new(CachedSession::new(record));
                self.cache.fill_after_gate(*id, cached, ticket).await;
            }
            None => self.cache.pause().await,
        }
        Ok(loaded)
    }

    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.cache.remove(id);
        let deleted = self.inner.delete(id).await;
        // Again: a read between the first removal and the delete may have
        // loaded the row that was still there.
        self.cache.remove(id);
        deleted
    }
}

#[async_trait]
impl Store for CachedStore {
    /// The cached session itself, not a copy: the request layer reads the
    /// user's keys from it without loading the request's session.
    fn peek(&self, id: &Id) -> Option<Arc<CachedSession>> {
        self.cache.get(id).filter(|cached| !cached.is_expired())
    }

    async fn clear_expired(&self) -> crate::kernel::error::Result<u64> {
        // Expired entries are refused on load; the rows go here.
        self.inner.clear_expired().await
    }

    fn cache_stats(&self) -> Option<&crate::session::cache::Stats> {
        Some(self.cache.stats())
    }

    fn lists_sessions(&self) -> bool {
        self.inner.lists_sessions()
    }

    /// From the store itself: every write goes through to it.
    async fn sessions_of(&self, user_id: i64) -> crate::kernel::error::Result<Vec<Record>> {
        self.inner.sessions_of(user_id).await
    }

    #[cfg(feature = "test-util")]
    async fn count(&self) -> crate::kernel::error::Result<u64> {
        self.inner.count().await
    }
    async fn clear_all(&self) -> crate::kernel::error::Result<u64> {
        self.cache.clear();
        self.inner.clear_all().await
    }

    #[cfg(feature = "test-util")]
    fn clear_cache(&self) {
        self.cache.clear();
    }

    #[cfg(feature = "test-util")]
    fn cache_gate(&self) -> Option<Arc<Gate>> {
        Some(self.cache.gate())
    }

    #[cfg(feature = "test-util")]
    fn cache_live(&self) -> Option<bool> {
        Some(self.cache.is_live())
    }

    #[cfg(feature = "test-util")]
    fn cache_invalidations(&self) -> u64 {
        self.cache.invalidations()
    }
}
