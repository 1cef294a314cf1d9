//! Empty: it makes cargo build this crate's build-dependencies for the
//! host, with the features the tests' proc-macros need.
fn main() {}
