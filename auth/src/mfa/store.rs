//! The `auth_authenticator` table: one row per factor of a user (`totp`,
//! `recovery_codes`, one `webauthn` row per passkey), its state as JSON,
//! when it was added and last used. A passkey's row also holds the
//! SHA-256 of its credential id under a unique index: a login with a
//! passkey alone finds the one row of that credential, across users.
//! Every change to a row's state is a compare-and-swap on the old state,
//! so two requests that race to use the same code cannot both succeed.

use sea_orm::{
    ActiveValue::{NotSet, Set},
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, QueryOrder,
    sea_query::Expr,
};
use time::OffsetDateTime;

/// The table's entity.
pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    /// One factor of one user.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_authenticator")]
    pub(crate) struct Model {
        /// Row id.
        #[sea_orm(primary_key)]
        pub id: i64,
        /// The user.
        #[sea_orm(indexed)]
        pub user_id: i64,
        /// `totp`, `recovery_codes`, `webauthn`.
        #[sea_orm(column_type = "String(StringLen::N(32))")]
        pub kind: String,
        /// The factor's state (JSON).
        #[sea_orm(column_type = "Text")]
        pub data: String,
        /// A passkey's credential id, as the hex of its SHA-256: unique
        /// across users (`NULL` for the other kinds).
        #[sea_orm(unique, nullable, column_type = "String(StringLen::N(64))")]
        pub credential: Option<String>,
        /// When it was added.
        pub created_at: TimeDateTimeWithTimeZone,
        /// When it last let the user in.
        #[sea_orm(nullable)]
        pub last_used_at: Option<TimeDateTimeWithTimeZone>,
    }

    /// Factors have no relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

pub(crate) use entity::Model as Row;

/// Creates the table if missing; to a table made before passkeys were
/// found by their credential, adds that column and fills it in.
pub(crate) async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    use crate::kernel::database::{ColumnIndex, add_column_if_missing};
    let added = add_column_if_missing(
        db,
        "auth_authenticator",
        "credential",
        "VARCHAR(64) NULL",
        ColumnIndex::Unique,
    )
    .await?;
    crate::kernel::database::create_table::<entity::Entity>(db).await?;
    if added {
        backfill_credentials(db).await?;
    }
    Ok(())
}

/// The credential column of a passkey row whose state names
/// `credential` (base64url), as [`credential_key`] makes it.
fn credential_of_state(data: &str) -> Option<String> {
    use base64::{Engine as _, engine::general_purpose::URL_SAFE_NO_PAD};
    let state: serde_json::Value = serde_json::from_str(data).ok()?;
    let id = URL_SAFE_NO_PAD
        .decode(state.get("credential")?.as_str()?)
        .ok()?;
    Some(credential_key(&id))
}

/// Fills the credential column of passkey rows made before it existed.
/// A credential two users hold (which registration now refuses) is left
/// out, with a warning: neither can log in with it until re-added.
async fn backfill_credentials(db: &DatabaseConnection) -> Result<(), DbErr> {
    let rows = entity::Entity::find()
        .filter(entity::Column::Kind.eq("webauthn"))
        .filter(entity::Column::Credential.is_null())
        .all(db)
        .await?;
    for row in rows {
        let Some(key) = credential_of_state(&row.data) else {
            continue;
        };
        let update = entity::Entity::update_many()
            .col_expr(entity::Column::Credential, Expr::value(Some(key)))
            .filter(entity::Column::Id.eq(row.id))
            .exec(db)
            .await;
        if let Err(err) = update {
            tracing::warn!(row = row.id, error = %err, "a passkey's credential is held twice; left out");
        }
    }
    Ok(())
}

/// The credential column's value for credential id `id`: the hex of its
/// SHA-256 (ids are up to 1,023 bytes; an index holds 64 characters).
pub(crate) fn credential_key(id: &[u8]) -> String {
    use sha2::{Digest, Sha256};
    hex::encode(Sha256::digest(id))
}

/// The passkey row of credential id `id`, whoever's it is.
#[cfg(feature = "passkeys")]
pub(crate) async fn find_credential(
    db: &DatabaseConnection,
    id: &[u8],
) -> Result<Option<Row>, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::Credential.eq(credential_key(id)))
        .filter(entity::Column::Kind.eq("webauthn"))
        .one(db)
        .await
}

/// Every factor of `user_id`, oldest first.
pub(crate) async fn list(db: &DatabaseConnection, user_id: i64) -> Result<Vec<Row>, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::UserId.eq(user_id))
        .order_by_asc(entity::Column::Id)
        .all(db)
        .await
}

/// The factor of `kind` of `user_id`, if any.
pub(crate) async fn find(
    db: &DatabaseConnection,
    user_id: i64,
    kind: &str,
) -> Result<Option<Row>, DbErr> {
    entity::Entity::find()
        .filter(entity::Column::UserId.eq(user_id))
        .filter(entity::Column::Kind.eq(kind))
        .order_by_asc(entity::Column::Id)
        .one(db)
        .await
}

/// Adds a factor (a passkey with its `credential` id).
pub(crate) async fn insert(
    db: &DatabaseConnection,
    user_id: i64,
    kind: &str,
    data: String,
    credential: Option<&[u8]>,
    now: OffsetDateTime,
) -> Result<(), DbErr> {
    let row = entity::ActiveModel {
        id: NotSet,
        user_id: Set(user_id),
        kind: Set(kind.to_owned()),
        data: Set(data),
        credential: Set(credential.map(credential_key)),
        created_at: Set(now),
        last_used_at: Set(None),
    };
    entity::Entity::insert(row)
        .exec_without_returning(db)
        .await?;
    Ok(())
}

/// Replaces row `id`'s state `old` with `new` (and, when `used`, its last
/// use); false when the state was no longer `old` (another request
/// changed it first).
pub(crate) async fn swap(
    db: &DatabaseConnection,
    id: i64,
    old: &str,
    new: String,
    used: Option<OffsetDateTime>,
) -> Result<bool, DbErr> {
    let mut update = entity::Entity::update_many()
        .col_expr(entity::Column::Data, Expr::value(new))
        .filter(entity::Column::Id.eq(id))
        .filter(entity::Column::Data.eq(old));
    if let Some(at) = used {
        update = update.col_expr(entity::Column::LastUsedAt, Expr::value(Some(at)));
    }
    Ok(update.exec(db).await?.rows_affected == 1)
}

/// Removes row `id` if it is `user_id`'s; whether it was.
#[cfg(feature = "passkeys")]
pub(crate) async fn delete_row(
    db: &DatabaseConnection,
    user_id: i64,
    id: i64,
) -> Result<bool, DbErr> {
    let deleted = entity::Entity::delete_many()
        .filter(entity::Column::Id.eq(id))
        .filter(entity::Column::UserId.eq(user_id))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected == 1)
}

/// Removes `user_id`'s factors of `kind` (every kind when `None`); how
/// many.
pub(crate) async fn delete(
    db: &DatabaseConnection,
    user_id: i64,
    kind: Option<&str>,
) -> Result<u64, DbErr> {
    let mut delete = entity::Entity::delete_many().filter(entity::Column::UserId.eq(user_id));
    if let Some(kind) = kind {
        delete = delete.filter(entity::Column::Kind.eq(kind));
    }
    Ok(delete.exec(db).await?.rows_affected)
}
