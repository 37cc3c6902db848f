//! The outbox's `data` as text on PostgreSQL too: the hub writes it as JSON text and sends it on
//! as that text, so storing it as `jsonb` only cost a parse on the way in and a print on the way
//! out. SQLite already stores it as text.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "ALTER TABLE outbox ALTER COLUMN data TYPE text USING data::text",
        )
        .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        on_postgres(
            manager,
            "ALTER TABLE outbox ALTER COLUMN data TYPE jsonb USING data::jsonb",
        )
        .await
    }
}

/// SQLite's column types are only affinities: its `data` holds text either way.
async fn on_postgres(manager: &SchemaManager<'_>, sql: &str) -> Result<(), DbErr> {
    if manager.get_database_backend() == DbBackend::Postgres {
        manager.get_connection().execute_unprepared(sql).await?;
    }
    Ok(())
}
