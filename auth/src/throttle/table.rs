//! Counters in the app's database: the `auth_throttle_counter` table, one
//! row per key counting the attempts of a window that starts at the key's
//! first attempt, and how many of them are still in flight.

use sea_orm::{
    ColumnTrait, ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, QueryFilter,
    Statement,
};

use super::{Release, Slot};

/// The table of counters.
pub(crate) mod entity {
    use sea_orm::entity::prelude::*;

    /// One counter.
    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "auth_throttle_counter")]
    pub(crate) struct Model {
        /// What is counted: a kind and the HMAC of the value.
        #[sea_orm(
            primary_key,
            auto_increment = false,
            column_type = "String(StringLen::N(96))"
        )]
        pub counter_key: String,
        /// Attempts counted in the current window (failed, and in flight).
        pub attempts: i64,
        /// Of those, the ones still in flight (their verdict not given).
        #[sea_orm(default_value = 0)]
        pub in_flight: i64,
        /// When the window ends, in milliseconds since the Unix epoch.
        #[sea_orm(indexed)]
        pub expires_at: i64,
    }

    /// Counters have no relations.
    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub(crate) enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The counters' table.
const TABLE: &str = "auth_throttle_counter";

/// Creates the table if missing, and adds `in_flight` to a table made
/// before attempts in flight were told apart.
pub(super) async fn migrate(db: &DatabaseConnection) -> Result<(), DbErr> {
    crate::kernel::database::add_column_if_missing(
        db,
        TABLE,
        "in_flight",
        "BIGINT NOT NULL DEFAULT 0",
        crate::kernel::database::ColumnIndex::None,
    )
    .await?;
    crate::kernel::database::create_table::<entity::Entity>(db).await
}

/// Deletes counters whose window ended by `now` (ms); how many.
pub(super) async fn prune(db: &DatabaseConnection, now: i64) -> Result<u64, DbErr> {
    let deleted = entity::Entity::delete_many()
        .filter(entity::Column::ExpiresAt.lte(now))
        .exec(db)
        .await?;
    Ok(deleted.rows_affected)
}

/// What counting one attempt on a key left: its attempts, those in
/// flight, and its window's end (ms).
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(super) struct Counted {
    pub(super) attempts: u64,
    pub(super) in_flight: u64,
    pub(super) window: i64,
}

fn read(row: Option<sea_orm::QueryResult>) -> Result<Counted, DbErr> {
    let row = row.ok_or_else(|| DbErr::RecordNotFound("the counter just written".into()))?;
    let attempts: i64 = row.try_get("", "attempts")?;
    let in_flight: i64 = row.try_get("", "in_flight")?;
    let expires_at: i64 = row.try_get("", "expires_at")?;
    Ok(Counted {
        attempts: u64::try_from(attempts).unwrap_or(0),
        in_flight: u64::try_from(in_flight).unwrap_or(0),
        window: expires_at,
    })
}

/// A statement's placeholders, numbered on PostgreSQL.
struct Params {
    backend: DbBackend,
    values: Vec<sea_orm::Value>,
}

impl Params {
    fn new(backend: DbBackend) -> Self {
        Params {
            backend,
            values: Vec::new(),
        }
    }

    fn bind(&mut self, value: impl Into<sea_orm::Value>) -> String {
        self.values.push(value.into());
        if self.backend == DbBackend::Postgres {
            format!("${}", self.values.len())
        } else {
            "?".to_owned()
        }
    }

    fn statement(self, sql: String) -> Statement {
        Statement::from_sql_and_values(self.backend, sql, self.values)
    }
}

/// Counts one attempt on each of `slots` (their keys sorted, so two
/// attempts sharing counters lock them in one order and cannot
/// deadlock): an upsert that starts a new window (each slot's own
/// length) when the old one has passed, so the k-th attempt of a burst
/// sees exactly k, as `INCR` does. What each key holds now, by key.
pub(super) async fn count(
    db: &DatabaseConnection,
    slots: &[&Slot],
    now: i64,
) -> Result<Vec<(String, Counted)>, DbErr> {
    if db.get_database_backend() == DbBackend::MySql {
        let mut counted = Vec::with_capacity(slots.len());
        for slot in slots {
            counted.push((slot.key.clone(), count_mysql(db, slot, now).await?));
        }
        return Ok(counted);
    }
    let backend = db.get_database_backend();
    let mut params = Params::new(backend);
    let rows: Vec<String> = slots
        .iter()
        .map(|slot| {
            let key = params.bind(slot.key.clone());
            let end = params.bind(now.saturating_add(slot.length));
            format!("({key}, 1, 1, {end})")
        })
        .collect();
    let (a, b, c) = (params.bind(now), params.bind(now), params.bind(now));
    let sql = format!(
        "INSERT INTO {TABLE} (counter_key, attempts, in_flight, expires_at) VALUES {} \
         ON CONFLICT (counter_key) DO UPDATE SET \
         attempts = CASE WHEN {TABLE}.expires_at <= {a} THEN 1 ELSE {TABLE}.attempts + 1 END, \
         in_flight = CASE WHEN {TABLE}.expires_at <= {b} THEN 1 ELSE {TABLE}.in_flight + 1 END, \
         expires_at = CASE WHEN {TABLE}.expires_at <= {c} THEN excluded.expires_at \
         ELSE {TABLE}.expires_at END \
         RETURNING counter_key, attempts, in_flight, expires_at",
        rows.join(", ")
    );
    let found = db.query_all_raw(params.statement(sql)).await?;
    found
        .into_iter()
        .map(|row| {
            let key: String = row.try_get("", "counter_key")?;
            Ok((key, read(Some(row))?))
        })
        .collect()
}

/// MySQL has no `RETURNING`: the upsert and the read in one transaction
/// (the row stays locked by the upsert until the commit). Its
/// assignments run left to right, each seeing the ones before: the
/// window's end is assigned last.
async fn count_mysql(db: &DatabaseConnection, slot: &Slot, now: i64) -> Result<Counted, DbErr> {
    use sea_orm::TransactionTrait;
    let end = now.saturating_add(slot.length);
    let txn = db.begin().await?;
    let upsert = format!(
        "INSERT INTO {TABLE} (counter_key, attempts, in_flight, expires_at) VALUES (?, 1, 1, ?) \
         ON DUPLICATE KEY UPDATE \
         attempts = IF(expires_at <= ?, 1, attempts + 1), \
         in_flight = IF(expires_at <= ?, 1, in_flight + 1), \
         expires_at = IF(expires_at <= ?, ?, expires_at)"
    );
    txn.execute_raw(Statement::from_sql_and_values(
        DbBackend::MySql,
        upsert,
        [
            slot.key.clone().into(),
            end.into(),
            now.into(),
            now.into(),
            now.into(),
            end.into(),
        ],
    ))
    .await?;
    let row = txn
        .query_one_raw(Statement::from_sql_and_values(
            DbBackend::MySql,
            format!("SELECT attempts, in_flight, expires_at FROM {TABLE} WHERE counter_key = ?"),
            [slot.key.clone().into()],
        ))
        .await?;
    let counted = read(row)?;
    txn.commit().await?;
    Ok(counted)
}

/// Gives `slot`'s attempt its verdict: the key deleted, or its counts
/// lowered, in the window it was counted in only (a slot given back late
/// never takes one from the next window), never below zero.
pub(super) async fn release(
    db: &DatabaseConnection,
    slot: &Slot,
    release: Release,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let mut params = Params::new(backend);
    let sql = match release {
        Release::Clear => {
            let key = params.bind(slot.key.clone());
            format!("DELETE FROM {TABLE} WHERE counter_key = {key}")
        }
        Release::Failed => {
            let (key, window) = (params.bind(slot.key.clone()), params.bind(slot.window));
            format!(
                "UPDATE {TABLE} SET in_flight = in_flight - 1 \
                 WHERE counter_key = {key} AND expires_at = {window} AND in_flight > 0"
            )
        }
        Release::GiveBack => {
            let (key, window) = (params.bind(slot.key.clone()), params.bind(slot.window));
            format!(
                "UPDATE {TABLE} SET attempts = attempts - 1, \
                 in_flight = CASE WHEN in_flight > 0 THEN in_flight - 1 ELSE 0 END \
                 WHERE counter_key = {key} AND expires_at = {window} AND attempts > 0"
            )
        }
    };
    db.execute_raw(params.statement(sql)).await?;
    Ok(())
}

/// A deadlock or a serialization failure: the statement can be retried.
pub(super) fn is_retryable(err: &DbErr) -> bool {
    let text = err.to_string();
    text.contains("Deadlock")
        || text.contains("deadlock detected")
        || text.contains("1213")
        || text.contains("40001")
        || text.contains("40P01")
}
