//! Creating the tables (`migrate`): every statement is "create if not
//! exists", generated from the SeaORM entities for the connected backend, so
//! running it again is harmless.

use sea_orm::{ConnectionTrait, DbErr, EntityTrait, Schema};

/// Creates `entity`'s table and its indexes if they do not exist yet.
pub async fn create_table<E: EntityTrait + Default>(
    db: &impl ConnectionTrait,
) -> Result<(), DbErr> {
    let schema = Schema::new(db.get_database_backend());
    let mut table = schema.create_table_from_entity(E::default());
    table.if_not_exists();
    db.execute(&table).await?;
    for mut index in schema.create_index_from_entity(E::default()) {
        index.if_not_exists();
        db.execute(&index).await?;
    }
    Ok(())
}
