//! Hooks for this crate's own tests and benchmarks. Not a public API: no
//! stability promise, hidden from the docs.

use std::sync::Arc;

pub use crate::session::cache::Gate;

/// The re-authentication form's error for a wrong password.
pub const REAUTH_INCORRECT: &str = crate::forms::reauthenticate::REAUTH_INCORRECT;
/// The login page's notice after a session timed out.
pub const SESSION_EXPIRED: &str = crate::views::SESSION_EXPIRED;

/// Django's `iri_to_uri`: the percent-encoding a redirect's target gets.
pub fn iri_to_uri(iri: &str) -> String {
    crate::http::redirect::iri_to_uri(iri)
}

/// Whether `url`, which Django's `url_has_allowed_host_and_scheme` would
/// accept, is refused here on purpose (the cases where this crate is
/// stricter).
pub fn stricter_than_django(url: &str) -> bool {
    crate::http::redirect::stricter_than_django(url)
}
use crate::{app::Auth, kernel::error::Result, user::AuthUser};

/// How many password hashes `auth`'s hasher computed so far.
pub fn hash_computations<U: AuthUser>(auth: &Auth<U>) -> u64 {
    auth.shared.hasher.computed()
}

/// The most password hashes that ran at once in `auth` since the last
/// [`reset_peak_concurrent_hashes`].
pub fn peak_concurrent_hashes<U: AuthUser>(auth: &Auth<U>) -> usize {
    auth.shared.hasher.peak_concurrency()
}

/// Forgets the peak of [`peak_concurrent_hashes`].
pub fn reset_peak_concurrent_hashes<U: AuthUser>(auth: &Auth<U>) {
    auth.shared.hasher.reset_peak();
}

/// How many times the model backend loaded permissions (one query each).
pub fn permission_loads<U: AuthUser>(auth: &Auth<U>) -> u64 {
    auth.shared
        .permissions
        .loads
        .load(std::sync::atomic::Ordering::Relaxed)
}

/// Moves the clock password-reset tokens are made and checked with
/// forward by `seconds` (to expire a token without waiting).
pub fn advance_clock<U: AuthUser>(auth: &Auth<U>, seconds: i64) {
    auth.shared.clock.advance(seconds);
}

/// Waits until every password-reset message in preparation is sent (or
/// failed).
pub async fn mail_idle<U: AuthUser>(auth: &Auth<U>) {
    auth.shared.mail.idle().await;
}

/// The `uidb64` of a user id in reset links.
pub fn encode_uid(id: i64) -> String {
    crate::tokens::encode_uid(id)
}

/// How many sessions the app's session store holds.
pub async fn session_count<U: AuthUser>(auth: &Auth<U>) -> Result<u64> {
    auth.shared.sessions.store.count().await
}

/// Deletes every session in the app's session store.
pub async fn clear_sessions<U: AuthUser>(auth: &Auth<U>) -> Result<u64> {
    auth.shared.sessions.store.clear_all().await
}

/// The app's session store (the database's, Redis, or the app's own).
pub fn session_store<U: AuthUser>(auth: &Auth<U>) -> impl tower_sessions::SessionStore + Clone {
    crate::session::store::DynStore::clone(&auth.shared.sessions.store)
}

/// Forgets what the in-process caches hold (sessions and users), without
/// touching the stores, so the next read misses.
pub fn forget_cached<U: AuthUser>(auth: &Auth<U>) {
    auth.shared.sessions.store.clear_cache();
    if let Some(users) = auth.shared.users.cache() {
        users.clear();
    }
}

/// Whether the session and user caches are on and trusted (`None`: no
/// such cache).
pub fn cache_live<U: AuthUser>(auth: &Auth<U>) -> (Option<bool>, Option<bool>) {
    (
        auth.shared.sessions.store.cache_live(),
        auth.shared.users.cache().map(|users| users.is_live()),
    )
}

/// How many invalidations the session and user caches took so far (from
/// this process's writes and from change notifications).
pub fn cache_invalidations<U: AuthUser>(auth: &Auth<U>) -> u64 {
    auth.shared.sessions.store.cache_invalidations()
        + auth
            .shared
            .users
            .cache()
            .map_or(0, |users| users.invalidations())
}

/// How many users the cache holds.
pub fn cached_users<U: AuthUser>(auth: &Auth<U>) -> usize {
    auth.shared.users.cache().map_or(0, |users| users.len())
}

/// The barrier between a session read and its cache fill (with the cache on).
pub fn session_cache_gate<U: AuthUser>(auth: &Auth<U>) -> Option<Arc<Gate>> {
    auth.shared.sessions.store.cache_gate()
}

/// The barrier between a user read and its cache fill (with the cache on).
pub fn user_cache_gate<U: AuthUser>(auth: &Auth<U>) -> Option<Arc<Gate>> {
    auth.shared.users.cache().map(|users| users.gate())
}

/// The session key a logged-in session keeps its metadata under (times,
/// address, device), for tests of sessions made before it existed.
pub const SESSION_METADATA_KEY: &str = crate::session::metadata::METADATA_KEY;
