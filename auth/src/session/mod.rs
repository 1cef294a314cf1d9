//! Sessions (Django's `contrib.sessions`): where they live, how a request
//! finds its own, and the cache in front of them. Logging in on a session
//! is `login/`, on top of this (the public `auth::sessions` is the
//! `user-sessions` feature's list of a user's sessions).
//!
//! Where sessions live: `db.rs` (the app's database, Django's `db`
//! engine), `redis/` (Django's `cache` engine), or a store the app gives;
//! all behind `store.rs`'s one type, with an in-process cache in front
//! (`cache.rs`, `cached.rs`) kept coherent with writes made elsewhere
//! (`coherence/`). `cookie.rs` opens a request's session and saves it
//! after the handler.

pub(crate) mod cache;
pub(crate) mod cached;
pub(crate) mod cached_session;
pub(crate) mod coherence;
pub(crate) mod cookie;
pub(crate) mod db;
pub(crate) mod keys;
pub(crate) mod metadata;
#[cfg(feature = "redis")]
pub(crate) mod redis;
pub(crate) mod store;
