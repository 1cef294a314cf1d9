//! Procedural macros of the `auth` crate. Use them through `auth`
//! (`auth::AuthUser`), which re-exports them; this crate is not meant to be
//! named directly.

mod attr;
mod ctxt;
mod login_required;
mod urls;
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
    user::expand(&input).into()
}

/// Requires a logged-in user for an axum handler, like Django's
/// `@login_required`.
///
/// Anonymous requests get `303 See Other` to the login URL with
/// `next=<the requested path and query>` (percent-encoded as Django does).
/// The handler keeps its name, visibility, attributes and extractors; the
/// macro adds one guard extractor in front of them.
///
/// - `#[login_required]`: redirect to `settings.login_url`.
/// - `#[login_required(login_url = "/login/")]`, or a path to a
///   `&'static str` const (`login_url = urls::LOGIN`).
/// - `redirect_field_name = "goto"`: the query parameter (default `next`).
#[proc_macro_attribute]
pub fn login_required(attr: TokenStream, item: TokenStream) -> TokenStream {
    login_required::expand(attr.into(), item.into()).into()
}

/// Declares the auth routes and names their URLs, like Django's
/// `path("login/", LoginView.as_view(...), name="login")` list.
///
/// ```ignore
/// auth::auth_urls! {
///     login: "/login/" => LoginView { template_name: "accounts/login.html" },
///     logout: "/logout/" => LogoutView { next_page: "/" },
///     password_change: "/password-change/" => PasswordChangeView,
///     password_change_done: "/password-change/done/" => PasswordChangeDoneView,
/// }
/// // → mod urls { const LOGIN, LOGOUT, …; ALL; fn reverse(name); fn router() }
/// ```
///
/// Use it where items go (module level). It generates a module (`urls`, or
/// `pub mod name;` as the first line) with one `&str` const per name,
/// usable as `#[login_required(login_url = urls::LOGIN)]`, plus `reverse`
/// and `router()`. The password change views send anonymous users to the
/// declared login path, and `PasswordChangeView` redirects to the declared
/// `PasswordChangeDoneView` unless given `success_url`.
///
/// Checked at compile time: known views and options per view
/// (`template_name`, `next_page`, `success_url`,
/// `redirect_authenticated_user`), option value types, paths that start and
/// end with `/`, no duplicate names or paths.
#[proc_macro]
pub fn auth_urls(input: TokenStream) -> TokenStream {
    urls::expand(input.into()).into()
}
