//! The session store behind one type, so the layer's type does not depend
//! on where sessions live (Django's `SESSION_ENGINE`).
//!
//! Every store keeps tower-sessions' contract and ours on top: `create`
//! always picks a fresh random id (an id chosen by a client, or left over
//! from a flushed session, is never adopted), `save` never resurrects a
//! session deleted meanwhile, and loading an unknown key creates nothing.

use std::sync::Arc;

use async_trait::async_trait;
use tower_sessions::{
    SessionStore,
    session::{Id, Record},
    session_store,
};

use super::cached_session::CachedSession;
use crate::kernel::error::Result;

/// The store error of a save that found its session deleted meanwhile (a
/// logout in another tab): the layer answers it with a 400, any other
/// store error with a 503.
pub(crate) const INTERRUPTED: &str = "the session was deleted while in use";

/// A store call within `timeout`; a failure or a timeout is a store error.
pub(crate) async fn timed<T, E: std::fmt::Display>(
    timeout: std::time::Duration,
    fut: impl Future<Output = std::result::Result<T, E>>,
) -> session_store::Result<T> {
    match tokio::time::timeout(timeout, fut).await {
        Ok(Ok(value)) => Ok(value),
        Ok(Err(err)) => Err(session_store::Error::Backend(err.to_string())),
        Err(_) => Err(session_store::Error::Backend(
            "the session store did not answer in time".into(),
        )),
    }
}

/// The error of a save that found its session gone.
pub(crate) fn interrupted() -> session_store::Error {
    session_store::Error::Backend(INTERRUPTED.into())
}

/// What the runtime needs of a session store beyond tower-sessions'
/// `SessionStore`.
#[async_trait]
pub(crate) trait Store: SessionStore + std::fmt::Debug {
    /// The unexpired session `id` if an in-process cache holds it, shared
    /// rather than copied; `None` otherwise (then `load` it).
    fn peek(&self, _id: &Id) -> Option<Arc<CachedSession>> {
        None
    }
    /// Deletes expired sessions (Django's `clearsessions`); how many.
    async fn clear_expired(&self) -> Result<u64>;
    /// The in-process cache's counts, when one is in front.
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    fn cache_stats(&self) -> Option<&crate::session::cache::Stats> {
        None
    }
    /// Whether [`Store::sessions_of`] works.
    fn lists_sessions(&self) -> bool {
        false
    }
    /// The unexpired sessions of user `user_id` (the session registry:
    /// the user id is indexed beside each session), their pending logins
    /// included (see `keys::owner_in`). A store that keeps no such index
    /// says so.
    async fn sessions_of(&self, _user_id: i64) -> Result<Vec<Record>> {
        Err(crate::kernel::error::Error::Config(
            "this session store cannot list a user's sessions; use the database's or Redis".into(),
        ))
    }
    /// How many sessions exist (a test hook).
    #[cfg(feature = "test-util")]
    async fn count(&self) -> Result<u64>;
    /// Deletes every session; how many (`endsessions --all`, and tests).
    async fn clear_all(&self) -> Result<u64>;
    /// Forgets what an in-process cache holds, without touching the
    /// store (a test hook).
    #[cfg(feature = "test-util")]
    fn clear_cache(&self) {}
    /// The barrier between a read and its cache fill (a test hook).
    #[cfg(feature = "test-util")]
    fn cache_gate(&self) -> Option<std::sync::Arc<crate::session::cache::Gate>> {
        None
    }
    /// Whether an in-process cache is on and trusted (`None`: no cache).
    #[cfg(feature = "test-util")]
    fn cache_live(&self) -> Option<bool> {
        None
    }
    /// How many invalidations an in-process cache took (a test hook).
    #[cfg(feature = "test-util")]
    fn cache_invalidations(&self) -> u64 {
        0
    }
}

/// The app's session store, behind one type (it appears in the type of
/// the layer's service; apps never need to name it).
#[derive(Clone, Debug)]
pub(crate) struct DynStore(Arc<dyn Store>);

impl DynStore {
    pub(crate) fn new(store: impl Store + 'static) -> Self {
        DynStore(Arc::new(store))
    }

    pub(crate) async fn clear_expired(&self) -> Result<u64> {
        self.0.clear_expired().await
    }

    /// See [`Store::cache_stats`].
    #[cfg_attr(not(feature = "prometheus"), allow(dead_code))]
    pub(crate) fn cache_stats(&self) -> Option<&crate::session::cache::Stats> {
        self.0.cache_stats()
    }

    /// See [`Store::lists_sessions`].
    pub(crate) fn lists_sessions(&self) -> bool {
        self.0.lists_sessions()
    }

    /// Deletes session `id` (from the cache too, when one is in front).
    pub(crate) async fn delete_session(&self, id: &Id) -> Result<()> {
        self.0
            .delete(id)
            .await
            .map_err(|err| tower_sessions::session::Error::Store(err).into())
    }

    /// See [`Store::sessions_of`]: the user's sessions, pending logins
    /// included (what ending them all must reach).
    pub(crate) async fn sessions_of(&self, user_id: i64) -> Result<Vec<Record>> {
        self.0.sessions_of(user_id).await
    }

    /// The sessions user `user_id` is logged in on (what lists and the
    /// cap on sessions count): [`sessions_of`](Self::sessions_of) without
    /// the pending logins.
    pub(crate) async fn logged_in_sessions_of(&self, user_id: i64) -> Result<Vec<Record>> {
        let mut records = self.0.sessions_of(user_id).await?;
        records.retain(|record| super::keys::user_id_in(&record.data) == Some(user_id));
        Ok(records)
    }

    /// See [`Store::peek`].
    pub(crate) fn peek(&self, id: &Id) -> Option<Arc<CachedSession>> {
        self.0.peek(id)
    }

    #[cfg(feature = "test-util")]
    pub(crate) async fn count(&self) -> Result<u64> {
        self.0.count().await
    }

    /// Deletes every session; how many.
    #[cfg_attr(
        not(any(feature = "user-sessions", feature = "test-util")),
        allow(dead_code)
    )]
    pub(crate) async fn clear_all(&self) -> Result<u64> {
        self.0.clear_all().await
    }

    #[cfg(feature = "test-util")]
    pub(crate) fn clear_cache(&self) {
        self.0.clear_cache();
    }

    #[cfg(feature = "test-util")]
    pub(crate) fn cache_gate(&self) -> Option<Arc<crate::session::cache::Gate>> {
        self.0.cache_gate()
    }

    #[cfg(feature = "test-util")]
    pub(crate) fn cache_live(&self) -> Option<bool> {
        self.0.cache_live()
    }

    #[cfg(feature = "test-util")]
    pub(crate) fn cache_invalidations(&self) -> u64 {
        self.0.cache_invalidations()
    }
}

#[async_trait]
impl SessionStore for DynStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

/// A store given by the app ([`AuthBuilder::session_store`](crate::AuthBuilder::session_store)):
/// tower-sessions' contract only, so `clearsessions` leaves expiry to it.
#[derive(Debug)]
pub(crate) struct Custom<S>(pub(crate) S);

#[async_trait]
impl<S: SessionStore> SessionStore for Custom<S> {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        // Never adopt the id the record came with (see the module docs).
        record.id = Id::default();
        self.0.create(record).await
    }
    async fn save(&self, record: &Record) -> session_store::Result<()> {
        self.0.save(record).await
    }
    async fn load(&self, id: &Id) -> session_store::Result<Option<Record>> {
        self.0.load(id).await
    }
    async fn delete(&self, id: &Id) -> session_store::Result<()> {
        self.0.delete(id).await
    }
}

#[async_trait]
impl<S: SessionStore> Store for Custom<S> {
    async fn clear_expired(&self) -> Result<u64> {
        Ok(0)
    }
    #[cfg(feature = "test-util")]
    async fn count(&self) -> Result<u64> {
        Err(crate::kernel::error::Error::Config(
            "a custom session store cannot count its sessions".into(),
        ))
    }
    async fn clear_all(&self) -> Result<u64> {
        Err(crate::kernel::error::Error::Config(
            "a custom session store cannot be cleared".into(),
        ))
    }
}
