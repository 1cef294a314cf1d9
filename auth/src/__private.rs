//! What generated code needs, so user crates need no direct dependency on
//! these crates. Not a public API.

pub use axum;
pub use http;
pub use minijinja;
pub use sea_orm;
pub use time;
pub use uuid;

pub use crate::login_required::{LoginRedirect, LoginRequired, LoginUrl, require_user};
pub use crate::permission_required::{PermissionCheck, PermissionRequired};
pub use crate::templates::TemplateField;
pub use crate::urls::{Declared, declare};
pub use crate::user::{BaseColumn, ExtraField, FromInput, unknown_field};
pub use crate::user_passes_test::{
    AnyUser, AsyncVerdict, TestFuture, UserPassesTest, UserTest, Verdict, outcome, user_for_test,
};

/// `Date::today` in UTC, the default of a required date field.
pub fn today() -> crate::Date {
    crate::DateTime::now_utc().date()
}

/// The entity a user model with a derive error points to, so the error is
/// the only one (see `auth-macros/src/user/fallback.rs`).
#[allow(missing_docs)]
pub mod stub {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "__auth_stub")]
    pub struct Model {
        #[sea_orm(primary_key)]
        pub id: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
