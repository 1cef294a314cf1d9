//! Procedural macros of the `auth` crate. Use them through `auth`
//! (`auth::AuthUser`), which re-exports them; this crate is not meant to be
//! named directly.

mod attr;
mod callback;
mod ctxt;
mod guard;
mod krate;
mod permissions;
mod urls;
mod user;

use proc_macro::TokenStream;

/// Derives a user model (Django's `class User(AbstractUser)`) from a struct
/// with one `#[auth(base)]` field of type `auth::AbstractUser` and any number
/// of extra fields.
///
/// ```
/// #[derive(Clone, Debug, auth::AuthUser)]
/// #[auth(table = "notes_member")]
/// pub struct Member {
///     #[auth(base)]
///     pub base: auth::AbstractUser,        // id, username, password, email, names, flags, dates
///     #[auth(unique, max_length = 60)]
///     pub display_name: String,            // required: createsuperuser asks for it
///     #[auth(default = 0)]
///     pub karma: i32,                      // optional, 0 unless given
///     pub joined_via: Option<String>,      // optional, NULL unless given
/// }
/// # fn main() {}
/// ```
///
/// Generates, next to the struct:
/// - a module (`<snake_name>_entity`, here `member_entity`, or
///   `#[auth(entity = "...")]`) holding the SeaORM entity (`Entity`,
///   `Model`, `ActiveModel`, `Column`) of the user table: the base columns
///   plus one column per extra field, usable with ordinary SeaORM queries
///   through `auth::sea_orm`;
/// - `From` conversions between the struct and the entity's `Model`;
/// - `Deref`/`DerefMut` to the base fields, so `user.username` works;
/// - the `auth::AuthUser` impl, through which the runtime creates the table,
///   looks users up, stores passwords, renders `{{ user.<field> }}` and
///   asks for required fields in `createsuperuser`;
/// - an axum extractor: a handler argument of the struct's type is the
///   logged-in user (anonymous requests are redirected to the login page).
///
/// # On the struct
///
/// - `#[auth(table = "accounts_user")]`: the table name (letters, digits,
///   underscores). Default: the snake-case plural of the struct name
///   (`User` → `users`, `StaffMember` → `staff_members`).
/// - `#[auth(entity = "user_table")]`: the entity module's name.
/// - `#[auth(crate = "authn")]`: the name the runtime is imported by, when
///   Cargo.toml renames it (`authn = { package = "contrib-auth", … }`);
///   every macro takes the same key (serde's and tokio's convention).
///
/// # On a field
///
/// - `#[auth(base)]`: the `auth::AbstractUser` field (exactly one; no other
///   key next to it).
/// - `#[auth(column = "name")]`: the column name (default: the field name).
/// - `#[auth(unique)]`, `#[auth(indexed)]`: a unique or plain index.
/// - `#[auth(max_length = N)]` (`String` only): `VARCHAR(N)` instead of
///   `TEXT` (unique and indexed strings are `VARCHAR(255)` by default).
/// - `#[auth(default = <literal>)]`: the value `create_user` and the
///   commands give when none is given: a string, integer, float or
///   boolean literal matching the type.
/// - `#[auth(required)]`: `createsuperuser`/`createuser` ask for it
///   (Django's `REQUIRED_FIELDS`). A non-`Option` text, number or boolean
///   field without a `default` is required anyway.
///
/// # Field types
///
/// `String`, `bool`, `i32`, `i64`, `f64`, `auth::Date`, `auth::DateTime`,
/// `auth::Uuid`, and `Option` of each (`NULL`, optional). Without a
/// `default`, a date is today, a datetime now, a UUID random, and text,
/// numbers and booleans empty, zero and false.
///
/// Mistakes (no base field, two of them, an unsupported type, an unknown or
/// repeated key, a default of the wrong type, a column colliding with a
/// base column, a generic struct, an enum) are compile errors pointing at
/// the tokens, with what to write instead.
#[proc_macro_derive(AuthUser, attributes(auth))]
pub fn derive_auth_user(input: TokenStream) -> TokenStream {
    user::derive(input.into()).into()
}

/// The second stage of `#[derive(AuthUser)]`: the runtime's list of base
/// columns calls it back with the struct and the list. Not a public API.
#[doc(hidden)]
#[proc_macro]
pub fn derive_auth_user_with_columns(input: TokenStream) -> TokenStream {
    user::expand_with_columns(input.into()).into()
}

/// Requires a logged-in user for an axum handler, like Django's
/// `@login_required`.
///
/// Anonymous requests get `303 See Other` to the login URL with
/// `next=<the requested path and query>` (percent-encoded as Django does).
/// The handler keeps its name, visibility, attributes and extractors; the
/// macro adds one guard extractor in front of them.
///
/// - `#[login_required]`: redirect to `settings.login_url()`: the
///   `AUTH_LOGIN_URL` setting, else the `LoginView` route declared with
///   `auth_urls!`, else Django's `/accounts/login/`.
/// - `#[login_required(login_url = "/login/")]`, or a path to a
///   `&'static str` const (`login_url = urls::LOGIN`).
/// - `redirect_field_name = "goto"`: the query parameter (default `next`).
/// - `crate = "authn"`: the runtime's name when the dependency is renamed
///   (every guard takes it).
#[proc_macro_attribute]
pub fn login_required(attr: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::LoginRequired, attr.into(), item.into()).into()
}

/// Requires permissions for an axum handler, with the semantics of
/// Django's `PermissionRequiredMixin`.
///
/// ```
/// # #[derive(Clone, Debug, auth::AuthUser)]
/// # pub struct User { #[auth(base)] pub base: auth::AbstractUser }
/// auth::permissions! { accounts: view_report = "Can view reports" }
///
/// #[auth::permission_required(perms::accounts::VIEW_REPORT)]
/// async fn reports() -> &'static str { "..." }
///
/// #[auth::permission_required(["accounts.view_report", "accounts.publish_report"], raise_exception = true)]
/// async fn publish() -> &'static str { "..." }
/// # fn main() {}
/// ```
///
/// - An anonymous user gets `303 See Other` to the login URL with `next`
///   (a 403 with `raise_exception = true`).
/// - A logged-in user lacking a permission gets a 403 page (Django's
///   decorator would send them to the login page, which loops).
/// - With every permission (a list needs all), the handler runs. The
///   user's permissions are loaded once per request.
///
/// The permission is a constant declared with [`permissions!`] (the
/// compiler checks it exists) or a string literal `"app_label.codename"`
/// (its shape is checked here). Also `login_url = ...` and
/// `redirect_field_name = "..."` as for [`macro@login_required`].
#[proc_macro_attribute]
pub fn permission_required(attr: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::PermissionRequired, attr.into(), item.into()).into()
}

/// Requires a recent authentication for an axum handler ("sudo mode",
/// django-allauth's `reauthentication_required`).
///
/// ```
/// # #[derive(Clone, Debug, auth::AuthUser)]
/// # pub struct User { #[auth(base)] pub base: auth::AbstractUser }
/// #[auth::reauth_required(max_age = 300)]
/// async fn delete_account(user: User) -> &'static str { "..." }
/// # fn main() {}
/// ```
///
/// A user whose login or last re-authentication on this session is older
/// than `max_age` seconds (default: the `AUTH_REAUTHENTICATION_TIMEOUT`
/// setting, 300) gets `303 See Other` to the declared
/// `ReauthenticateView` with `next`: the page itself for a GET, the page
/// that holds the form for an unsafe request (which is not replayed).
/// Anonymous users go to the login page.
#[proc_macro_attribute]
pub fn reauth_required(attr: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::ReauthRequired, attr.into(), item.into()).into()
}

/// Requires a user passing a test for an axum handler, like Django's
/// `@user_passes_test`.
///
/// ```
/// # #[derive(Clone, Debug, auth::AuthUser)]
/// # pub struct User { #[auth(base)] pub base: auth::AbstractUser }
/// fn is_staff(user: &User) -> bool { user.is_staff }
///
/// #[auth::user_passes_test(is_staff, login_url = "/login/")]
/// async fn staff() -> &'static str { "..." }
/// # fn main() {}
/// ```
///
/// The predicate takes `&User` (the model names itself through the
/// predicate's argument) and returns `bool`, or is an `async fn` returning
/// `bool`. Anonymous users and users failing the test get `303 See Other`
/// to the login URL with `next`, as Django's decorator does. Also
/// `login_url` and `redirect_field_name` as for [`macro@login_required`].
#[proc_macro_attribute]
pub fn user_passes_test(attr: TokenStream, item: TokenStream) -> TokenStream {
    guard::expand(guard::Kind::UserPassesTest, attr.into(), item.into()).into()
}

/// Declares an app's permissions as typed constants (Django's
/// `Meta.permissions`).
///
/// ```
/// auth::permissions! {
///     accounts: view_report = "Can view reports", publish_report = "Can publish reports";
/// }
/// // → mod perms { pub mod accounts { pub const VIEW_REPORT: auth::Permission; … } pub const ALL }
/// # fn main() { let _ = (perms::accounts::VIEW_REPORT, perms::ALL); }
/// ```
///
/// Apps are separated by `;`. The module is `perms` unless the first line
/// names it (`pub mod permissions;`). Give `perms::ALL` to
/// `AuthBuilder::permissions` and `migrate` inserts the missing rows; use
/// the constants wherever a permission is named, so a typo does not
/// compile. Checked here: lowercase app labels, codenames up to 100
/// characters, descriptions of 1 to 255, no duplicates. A renamed
/// dependency is named by a first line `#[auth(crate = "authn")]`.
#[proc_macro]
pub fn permissions(input: TokenStream) -> TokenStream {
    permissions::expand(input.into()).into()
}

/// Declares the auth routes and names their URLs, like Django's
/// `path("login/", LoginView.as_view(...), name="login")` list.
///
/// ```
/// auth::auth_urls! {
///     login: "/login/" => LoginView { template_name: "accounts/login.html" },
///     logout: "/logout/" => LogoutView { next_page: "/" },
///     password_change: "/password-change/" => PasswordChangeView,
///     password_change_done: "/password-change/done/" => PasswordChangeDoneView,
/// }
/// // → mod urls { const LOGIN, LOGOUT, …; ALL; fn reverse(name); fn router() }
/// # fn main() { let _: axum::Router = urls::router(); let _ = urls::LOGIN; }
/// ```
///
/// Use it where items go (module level). It generates a module (`urls`, or
/// `pub mod name;` as the first line) with one `&str` const per name,
/// usable as `#[login_required(login_url = urls::LOGIN)]`, plus `reverse`
/// and `router()`. The password change views send anonymous users to the
/// declared login path, and `PasswordChangeView` redirects to the declared
/// `PasswordChangeDoneView` unless given `success_url`.
///
/// The password-reset views join the same list:
///
/// ```
/// # auth::auth_urls! {
/// password_reset: "/password-reset/" => PasswordResetView,
/// password_reset_done: "/password-reset/done/" => PasswordResetDoneView,
/// password_reset_confirm: "/reset/<uidb64>/<token>/" => PasswordResetConfirmView,
/// password_reset_complete: "/reset/done/" => PasswordResetCompleteView,
/// # }
/// # fn main() { let _ = urls::PASSWORD_RESET_CONFIRM; }
/// ```
///
/// `<name>` segments are path parameters; only `PasswordResetConfirmView`
/// takes them, and needs exactly `<uidb64>` and `<token>`. The reset form
/// links to the declared confirm route, and each view redirects to the
/// declared done or complete view unless given `success_url`.
///
/// Checked at compile time, against the runtime's one table of views
/// (`auth/src/views/table.rs`): known views and options per view
/// (`template_name`, `next_page`, `success_url`,
/// `redirect_authenticated_user`, `email_template_name`,
/// `subject_template_name`, `from_email`, `post_reset_login`), option value
/// types, paths that start and end with `/`, parameter segments, no
/// duplicate names or paths, and the views each one needs.
///
/// When Cargo.toml renames the runtime (`authn = { package =
/// "contrib-auth", … }`), say so on the first line:
/// `#[auth(crate = "authn")]`, as on every macro.
#[proc_macro]
pub fn auth_urls(input: TokenStream) -> TokenStream {
    urls::expand(input.into()).into()
}

/// The second stage of [`auth_urls!`]: the runtime's table of views calls
/// it back with the table and the app's entries. Not a public API.
#[doc(hidden)]
#[proc_macro]
pub fn auth_urls_with_views(input: TokenStream) -> TokenStream {
    urls::expand_with_views(input.into()).into()
}
