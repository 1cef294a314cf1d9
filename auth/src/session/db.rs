//! Sessions in the application's own database (Django's `db` session
//! engine): one row per session with its key, JSON data and expiry.

use std::time::Duration;

use async_trait::async_trait;
use sea_orm::{
    ColumnTrait, DatabaseConnection, DbErr, EntityTrait, QueryFilter, Set, SqlErr, sea_query::Expr,
};
use time::OffsetDateTime;
use tower_sessions::{
    ExpiredDeletion, SessionStore,
    session::{Id, Record},
    session_store,
};

use super::{
    keys::owner_in,
    store::{Store, interrupted, timed},
};

/// The session table's entity (`auth_session`: Django's `session_key`,
/// `session_data`, `expire_date`, and the logged-in user's id, indexed,
/// for the session registry).
pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    /// A stored session.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_session")]
    pub(crate) struct Model {
        /// The session id, as sent in the cookie.
        #[sea_orm(
            primary_key,
            auto_increment = false,
            column_type = "String(StringLen::N(40))"
        )]
        pub session_key: String,
        /// The session's data, as a JSON object.
        #[sea_orm(column_type = "Text")]
        pub session_data: String,
        /// When the session stops being valid.
        #[sea_orm(indexed)]
        pub expire_date: TimeDateTimeWithTimeZone,
        /// The logged-in user's id (`None` for an anonymous session).
        #[sea_orm(indexed, nullable)]
        pub user_id: Option<i64>,
    }

    /// Sessions have no relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A tower-sessions store on a SeaORM connection.
///
/// `create` never overwrites an existing session, loading an unknown or
/// expired key creates nothing, and `save` never brings back a session
/// that was deleted meanwhile (a logout in another tab wins).
#[derive(Clone, Debug)]
pub(crate) struct DbStore {
    db: DatabaseConnection,
    timeout: Duration,
}

impl DbStore {
    /// A store on `db`, giving up on a call after `timeout`.
    pub(crate) fn new(db: DatabaseConnection, timeout: Duration) -> Self {
        DbStore { db, timeout }
    }

    /// Creates the session table if missing, and adds the `user_id`
    /// column to a table made before the session registry.
    pub(crate) async fn migrate(&self) -> Result<(), DbErr> {
        crate::kernel::database::add_column_if_missing(
            &self.db,
            "auth_session",
            "user_id",
            "BIGINT NULL",
            crate::kernel::database::ColumnIndex::Plain,
        )
        .await?;
        crate::kernel::database::create_table::<entity::Entity>(&self.db).await
    }

    /// Deletes expired rows; returns how many.
    async fn delete_expired_rows(&self) -> Result<u64, DbErr> {
        let result = entity::Entity::delete_many()
            .filter(entity::Column::ExpireDate.lt(OffsetDateTime::now_utc()))
            .exec(&self.db)
            .await?;
        Ok(result.rows_affected)
    }

    async fn timed<T>(
        &self,
        fut: impl Future<Output = Result<T, DbErr>>,
    ) -> session_store::Result<T> {
        timed(self.timeout, fut).await
    }
}

fn encode(record: &Record) -> session_store::Result<String> {
    serde_json::to_string(&record.data).map_err(|e| session_store::Error::Encode(e.to_string()))
}

#[async_trait]
impl SessionStore for DbStore {
    async fn create(&self, record: &mut Record) -> session_store::Result<()> {
        let data = encode(record)?;
        // A collision of 128-bit random ids is practically impossible, but
        // never overwrite: a taken id fails the primary key, so pick another.
        for _ in 0..16 {
            // Always a fresh id: the record may carry the id of a session
            // flushed in this request (a login over another user's session),
            // which must stay dead.
            record.id = Id::default();
            let row = entity::ActiveModel {
                session_key: Set(record.id.to_string()),
                session_data: Set(data.clone()),
                expire_date: Set(record.expiry_date),
                user_id: Set(owner_in(&record.data)),
            };
            let insert = entity::Entity::insert(row).exec_without_returning(&self.db);
            match tokio::time::timeout(self.timeout, insert).await {
                Ok(Ok(_)) => return Ok(()),
                Ok(Err(err))
                    if matches!(err.sql_err(), Some(SqlErr::UniqueConstraintViolation(_))) => {}
                Ok(Err(err)) => return Err(session_store::Error::Backend(err.to_string())),
                Err(_) => {
                    return Err(session_store::Error::Backend(
                        "the session store did not answer in time".into(),
                    ));
                }
            }
        }
        Err(session_store::Error::Backend(
            "could not find a free session id".into(),
        ))
    }

    async fn save(&self, record: &Record) -> session_store::Result<()> {
        let data = encode(record)?;
        let updated = self
            .timed(async {
                entity::Entity::update_many()
                    .col_expr(entity::Column::SessionData, Expr::value(data))
                    .col_expr(entity::Column::ExpireDate, Expr::value(record.expiry_date))
                    .col_expr(entity::Column::UserId, Expr::value(owner_in(&record.data)))
                    .filter(entity::Column::SessionKey.eq(record.id.to_string()))
                    .exec(&self.db)
                    .await
            })
            .await?;
        if updated.rows_affected == 0 {
            // Deleted since it was loaded (logged out elsewhere, expired and
            // cleared): refuse to bring it back.
            return Err(interrupted());
        }
        Ok(())
    }

    async fn load(&self, session_id: &Id) -> session_store::Result<Option<Record>> {
        let key = session_id.to_string();
        let row = self
            .timed(async {
                entity::Entity::find_by_id(key)
                    .filter(entity::Column::ExpireDate.gt(OffsetDateTime::now_utc()))
                    .one(&self.db)
                    .await
            })
            .await?;
        let Some(row) = row else {
            return Ok(None);
        };
        Ok(decode(*session_id, &row))
    }

    async fn delete(&self, session_id: &Id) -> session_store::Result<()> {
        self.timed(async {
            entity::Entity::delete_by_id(session_id.to_string())
                .exec(&self.db)
                .await
        })
        .await?;
        Ok(())
    }
}

/// The record of a row; `None` (with a warning) when its data does not
/// decode.
fn decode(id: Id, row: &entity::Model) -> Option<Record> {
    match serde_json::from_str(&row.session_data) {
        Ok(data) => Some(Record {
            id,
            data,
            expiry_date: row.expire_date,
        }),
        Err(err) => {
            tracing::warn!(error = %err, "undecodable session data; treating the session as empty");
            None
        }
    }
}

#[async_trait]
impl ExpiredDeletion for DbStore {
    async fn delete_expired(&self) -> session_store::Result<()> {
        let deleted = self.timed(self.delete_expired_rows()).await?;
        tracing::debug!(deleted, "expired sessions deleted");
        Ok(())
    }
}

#[async_trait]
impl Store for DbStore {
    async fn clear_expired(&self) -> crate::kernel::error::Result<u64> {
        Ok(self.delete_expired_rows().await?)
    }

    fn lists_sessions(&self) -> bool {
        true
    }

    async fn sessions_of(&self, user_id: i64) -> crate::kernel::error::Result<Vec<Record>> {
        let rows = self
            .timed(async {
                entity::Entity::find()
                    .filter(entity::Column::UserId.eq(user_id))
                    .filter(entity::Column::ExpireDate.gt(OffsetDateTime::now_utc()))
                    .all(&self.db)
                    .await
            })
            .await
            .map_err(tower_sessions::session::Error::Store)?;
        Ok(rows
            .iter()
            .filter_map(|row| {
                let id = row.session_key.parse::<Id>().ok()?;
                // The column follows the data; trust the data.
                decode(id, row).filter(|record| owner_in(&record.data) == Some(user_id))
            })
            .collect())
    }

    #[cfg(feature = "test-util")]
    async fn count(&self) -> crate::kernel::error::Result<u64> {
        use sea_orm::PaginatorTrait;
        Ok(entity::Entity::find().count(&self.db).await?)
    }
    async fn clear_all(&self) -> crate::kernel::error::Result<u64> {
        Ok(entity::Entity::delete_many()
            .exec(&self.db)
            .await?
            .rows_affected)
    }
}
