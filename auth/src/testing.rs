//! Hooks for this crate's own tests and benchmarks. Not a public API: no
//! stability promise, hidden from the docs.

use crate::{Auth, Result, user::AuthUser};

pub use crate::password::hash_computations;

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
