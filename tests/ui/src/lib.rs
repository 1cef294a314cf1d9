//! The trybuild cases of the auth macros live next to this crate
//! (`<macro>/{pass,fail}/*.rs`); `tests/ui.rs` runs them.
