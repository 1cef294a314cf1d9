//! Compile-time behaviour of the macros: every error has a case under
//! `tests/ui/<macro>/fail/` with its expected message, and the accepted
//! shapes compile and run under `tests/ui/<macro>/pass/`.
//!
//! Compiler output changes between Rust releases, so the expected `.stderr`
//! files are pinned to the toolchain CI uses. Regenerate them with
//! `TRYBUILD=overwrite cargo test -p auth-tests --test ui`.

#[rustversion::attr(not(stable(1.95)), ignore = "stderr files are pinned to Rust 1.95")]
#[test]
fn ui() {
    let t = trybuild::TestCases::new();
    t.compile_fail("ui/*/fail/*.rs");
    t.pass("ui/*/pass/*.rs");
}
