//! Generated code must not depend on the caller's prelude or module
//! names: this crate root shadows them all.

#![deny(warnings)]
#![allow(dead_code, non_camel_case_types)]

// Generated code must not depend on the caller's prelude or module names.
struct Option;
struct Some;
struct Result;
struct String;
struct Box;
struct Vec;
struct Default;
struct i64;
mod sea_orm {}
mod auth {}
mod core {}
mod std {}

#[derive(Clone, Debug, ::auth::AuthUser)]
pub struct User {
    #[auth(base)]
    pub base: ::auth::AbstractUser,
    pub bio: ::std::string::String,
    pub birth_date: ::core::option::Option<::auth::Date>,
}

#[test]
fn compiles() {}
