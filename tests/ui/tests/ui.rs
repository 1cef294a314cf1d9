//! Compile-time errors of the macros: every error has a case under
//! `<macro>/fail/` with its expected message. The accepted shapes are
//! ordinary tests (`tests/tests/integration/macros.rs`), so trybuild only type-checks
//! (`cargo check`) and never links.
//!
//! Compiler output changes between Rust releases, so the expected `.stderr`
//! files are pinned to the toolchain CI uses. Regenerate them with
//! `TRYBUILD=overwrite cargo test -p auth-ui-tests`.

#[rustversion::attr(not(stable(1.95)), ignore = "stderr files are pinned to Rust 1.95")]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("*/fail/*.rs");
}
