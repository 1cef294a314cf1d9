//! What the code `#[derive(AuthUser)]` generates calls into (reached
//! through `auth::__private`).

/// `Date::today` in UTC, the default of a required date field.
pub fn today() -> crate::kernel::Date {
    crate::kernel::DateTime::now_utc().date()
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
