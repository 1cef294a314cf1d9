//! Procedural macros of the `auth` crate. Use them through `auth`
//! (`auth::AuthUser`), which re-exports them; this crate is not meant to be
//! named directly.

mod ctxt;
mod user;

use proc_macro::TokenStream;
use syn::{DeriveInput, parse_macro_input};

/// Derives a user model from a struct with one `#[auth(base)]` field of type
/// `auth::AbstractUser` and any number of extra fields.
///
/// Generates, next to the struct:
/// - a module (`<snake_name>_entity`, or `#[auth(entity = "...")]`) holding
///   the SeaORM entity (`Entity`, `Model`, `ActiveModel`, `Column`) of the
///   user table: the base columns plus one column per extra field;
/// - `From` conversions between the struct and the entity's `Model`;
/// - `Deref`/`DerefMut` to the base fields, so `user.username` works;
/// - the `auth::AuthUser` impl, through which the runtime creates the table,
///   looks users up and stores passwords.
///
/// The table is named `#[auth(table = "...")]`, else the snake-case plural
/// of the struct name (`User` → `users`, `StaffMember` → `staff_members`).
///
/// Extra field types: `String`, `bool`, `i32`, `i64`, `f64`, `auth::Date`,
/// `auth::DateTime`, `auth::Uuid`, and `Option` of each. Field options:
/// `#[auth(column = "name")]`, `#[auth(unique)]`, `#[auth(indexed)]`,
/// `#[auth(max_length = 200)]` (strings), `#[auth(default = <literal>)]`.
#[proc_macro_derive(AuthUser, attributes(auth))]
pub fn derive_auth_user(input: TokenStream) -> TokenStream {
    let input = parse_macro_input!(input as DeriveInput);
    user::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
