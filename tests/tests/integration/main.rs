//! The integration tests, one module per concept, in one test binary.
//!
//! One binary instead of one per file: each binary linked the whole
//! runtime with every database driver and monomorphised the same generic
//! code again, which made most of the test build. Counters (hashes
//! computed, hashes at once) belong to each app's hasher, so tests that
//! count run here beside the others. `shadowed_names.rs` stays a binary of
//! its own: it shadows the prelude at a crate root.
//!
//! Backend tests are named `<module>::<test>::<backend>` (see
//! `auth_tests::backend_tests!`): `cargo test -p auth-tests --test
//! integration sessions::` runs one module, `::postgres` one backend.

mod backends;
mod checks;
mod cli;
mod coherence;
mod csrf;
mod deployment;
mod docs;
mod early_refusals;
mod error_pages;
mod events;
mod failover;
mod flood;
mod foundation;
mod guards;
mod hash_count;
mod headers;
mod hosts;
mod logs;
mod macros;
mod mfa;
mod password_reset;
mod permissions;
mod pwned;
mod random_input;
mod redaction;
mod redirects;
mod session_store;
mod sessions;
mod throttle;
mod tokens;
mod user_sessions;
mod views;
