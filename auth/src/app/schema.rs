//! Creating the tables (`migrate`): every statement is "create if not
//! exists", generated from the SeaORM entities for the connected backend, so
//! running it again is harmless.

use sea_orm::{ConnectionTrait, DbBackend, DbErr, EntityTrait, Schema};

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
