//! Hooks for this crate's own tests and benchmarks. Not a public API: no
//! stability promise, hidden from the docs.

use std::sync::Arc;

pub use crate::cache::Gate;
use crate::{Auth, Result, user::AuthUser};

pub use crate::password::hash_computations;

/// How many times the model backend loaded permissions (one query each).
pub fn permission_loads<U: AuthUser>(auth: &Auth<U>) -> u64 {
    auth.core
        .permission_loads
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// How many sessions the app's session store holds.
pub async fn session_count<U: AuthUser>(auth: &Auth<U>) -> Result<u64> {
    auth.core.sessions.count().await
}

/// Deletes every session in the app's session store.
pub async fn clear_sessions<U: AuthUser>(auth: &Auth<U>) -> Result<u64> {
    auth.core.sessions.clear_all().await
}

/// The app's session store (the database's, Redis, or the app's own).
pub fn session_store<U: AuthUser>(auth: &Auth<U>) -> crate::session::store::DynStore {
    auth.core.sessions.clone()
}

/// Forgets what the in-process caches hold (sessions and users), without
/// touching the stores, so the next read misses.
pub fn forget_cached<U: AuthUser>(auth: &Auth<U>) {
    auth.core.sessions.clear_cache();
    if let Some(users) = &auth.core.users {
        users.clear();
    }
}

/// The barrier between a session read and its cache fill (with the cache on).
pub fn session_cache_gate<U: AuthUser>(auth: &Auth<U>) -> Option<Arc<Gate>> {
    auth.core.sessions.cache_gate()
}

/// The barrier between a user read and its cache fill (with the cache on).
pub fn user_cache_gate<U: AuthUser>(auth: &Auth<U>) -> Option<Arc<Gate>> {
    auth.core.users.as_ref().map(|users| users.gate())
}
