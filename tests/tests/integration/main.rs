//! The integration tests, one module per concept, in one test binary.
//!
//! One binary instead of one per file: each binary linked the whole
//! runtime with every database driver and monomorphised the same generic
//! code again, which made most of the test build. The tests that read
//! process-wide counters (hashes computed, hashes at once) stay binaries of
//! their own (`hash_count.rs`, `flood.rs`), so no other test hashes while
//! they count, and so does `shadowed_names.rs`, which shadows the prelude at
//! a crate root.
//!
//! Backend tests are named `<module>::<test>::<backend>` (see
//! `auth_tests::backend_tests!`): `cargo test -p auth-tests --test
//! integration sessions::` runs one module, `::postgres` one backend.

mod backends;
mod cli;
mod coherence;
mod csrf;
mod deployment;
mod early_refusals;
mod foundation;
mod headers;
mod hosts;
mod macros;
mod password_reset;
mod permissions;
mod random_input;
mod redirects;
mod session_store;
mod sessions;
mod throttle;
mod views;
