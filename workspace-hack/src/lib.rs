//! Nothing to use: this crate only exists for its `Cargo.toml`, which turns
//! on in the example's build the dependency features the tests turn on, so
//! `cargo test --workspace` after `cargo run -p accounts` reuses what the
//! run compiled.
