//! The app's database: the connection with the one timeout every query
//! runs under ([`Database::run`]), and creating tables (`migrate`): every
//! statement is "create if not exists", generated from the SeaORM entities
//! for the connected backend, so running it again is harmless.

use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, EntityTrait, Schema};

use super::error::{Error, Result};

/// The database connection and the timeout its queries run under
/// (`AUTH_DATABASE_TIMEOUT`: past it, a 503).
#[derive(Clone, Debug)]
pub(crate) struct Database {
    conn: DatabaseConnection,
    timeout: Duration,
}

impl Database {
    pub(crate) fn new(conn: DatabaseConnection, timeout: Duration) -> Self {
        Database { conn, timeout }
    }

    /// The connection.
    pub(crate) fn conn(&self) -> &DatabaseConnection {
        &self.conn
    }

    /// Runs a query within the timeout.
    pub(crate) async fn run<T, E: Into<Error>>(
        &self,
        query: impl Future<Output = std::result::Result<T, E>>,
    ) -> Result<T> {
        match tokio::time::timeout(self.timeout, query).await {
            Ok(result) => result.map_err(Into::into),
            Err(_) => Err(Error::Timeout),
        }
    }
}

/// The names of the tables in the connected database (its current schema
/// on PostgreSQL, its database on MySQL).
pub(crate) async fn table_names(db: &impl ConnectionTrait) -> Result<Vec<String>, DbErr> {
    let backend = db.get_database_backend();
    let sql = match backend {
        DbBackend::Postgres => {
            "SELECT tablename FROM pg_tables WHERE schemaname = current_schema()"
        }
        DbBackend::MySql => {
            "SELECT CAST(table_name AS CHAR) FROM information_schema.tables \
             WHERE table_schema = DATABASE()"
        }
        _ => {
            "SELECT name FROM sqlite_master WHERE type = 'table' AND name NOT LIKE 'sqlite\\_%' ESCAPE '\\'"
        }
    };
    let rows = db
        .query_all_raw(sea_orm::Statement::from_string(backend, sql))
        .await?;
    rows.iter()
        .map(|row| row.try_get_by_index::<String>(0))
        .collect()
}

/// Creates `entity`'s table and its indexes if they do not exist yet.
pub(crate) async fn create_table<E: EntityTrait + Default>(
    db: &impl ConnectionTrait,
) -> Result<(), DbErr> {
    let backend = db.get_database_backend();
    let schema = Schema::new(backend);
    let mut table = schema.create_table_from_entity(E::default());
    table.if_not_exists();
    let mut indexes = schema.create_index_from_entity(E::default());
    if backend == DbBackend::MySql {
        // MySQL has no `CREATE INDEX IF NOT EXISTS`: declare the indexes in
        // the `CREATE TABLE IF NOT EXISTS` itself.
        for index in &mut indexes {
            table.index(index);
        }
        indexes.clear();
    }
    db.execute(&table).await?;
    for mut index in indexes {
        index.if_not_exists();
        db.execute(&index).await?;
    }
    Ok(())
}

/// The index a column added by [`add_column_if_missing`] gets.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum ColumnIndex {
    /// None.
    None,
    /// An index.
    Plain,
    /// A unique index (several `NULL`s allowed, on every backend).
    Unique,
}

/// Adds `column` (of SQL type `definition`) to `table` when a table made
/// by an older version lacks it, with its index (named as SeaORM names
/// the index of a new table, `idx-<table>-<column>`, so a later
/// `create_table` finds it); whether it was added. Run it before
/// `create_table`, whose `CREATE INDEX IF NOT EXISTS` would otherwise
/// meet the missing column. Nothing happens when the table does not
/// exist yet.
pub(crate) async fn add_column_if_missing(
    db: &impl ConnectionTrait,
    table: &str,
    column: &str,
    definition: &str,
    index: ColumnIndex,
) -> Result<bool, DbErr> {
    let backend = db.get_database_backend();
    let answers = async |sql: String| {
        db.execute_raw(sea_orm::Statement::from_string(backend, sql))
            .await
            .is_ok()
    };
    if !answers(format!("SELECT 1 FROM {table} WHERE 1 = 0")).await
        || answers(format!("SELECT {column} FROM {table} WHERE 1 = 0")).await
    {
        return Ok(false);
    }
    tracing::info!(
        table,
        column,
        "adding a column to a table made by an older version"
    );
    db.execute_unprepared(&format!(
        "ALTER TABLE {table} ADD COLUMN {column} {definition}"
    ))
    .await?;
    if index != ColumnIndex::None {
        let quote = if backend == DbBackend::MySql {
            '`'
        } else {
            '"'
        };
        let unique = if index == ColumnIndex::Unique {
            "UNIQUE "
        } else {
            ""
        };
        db.execute_unprepared(&format!(
            "CREATE {unique}INDEX {quote}idx-{table}-{column}{quote} ON {table} ({column})"
        ))
        .await?;
    }
    Ok(true)
}
