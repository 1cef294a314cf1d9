//! [`Sessions`]: an app's sessions as its shared state holds them.

use std::sync::Arc;

use super::{auth_hash::AuthHash, lifetime::Lifetime};
use crate::{
    kernel::error::Result,
    session::{cookie::SessionCookie, db::DbStore, store::DynStore},
};

/// An app's sessions: where they live, their cookie, their auth hash, and
/// the session table of the app's database (created by `migrate` even when
/// sessions live in Redis).
pub(crate) struct Sessions {
    /// Where sessions live (behind the cache when it is on).
    pub(crate) store: Arc<DynStore>,
    /// The session table in the app's database.
    pub(crate) table: DbStore,
    pub(crate) cookie: SessionCookie,
    pub(crate) auth_hash: AuthHash,
    /// The timeouts, in seconds.
    pub(crate) lifetime: Lifetime,
}

impl Sessions {
    /// Creates the session table if missing.
    pub(crate) async fn migrate(&self) -> Result<()> {
        Ok(self.table.migrate().await?)
    }

    /// Deletes expired sessions (Django's `clearsessions`); how many.
    pub(crate) async fn clear_expired(&self) -> Result<u64> {
        self.store.clear_expired().await
    }
}
