//! What generated code needs, so user crates need no direct dependency on
//! these crates. Not a public API.

pub use axum;
pub use http;
pub use minijinja;
pub use sea_orm;
pub use time;
pub use uuid;

pub use crate::login_required::{LoginRedirect, LoginRequired, require_user};
pub use crate::templates::TemplateField;
pub use crate::user::BaseColumn;

/// `Date::today` in UTC, the default of a required date field.
pub fn today() -> crate::Date {
    crate::DateTime::now_utc().date()
}
