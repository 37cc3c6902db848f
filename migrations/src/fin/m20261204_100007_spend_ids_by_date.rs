//! Ledger rows whose external id the import computed (`sha256:` and 32 hex digits, from hashing
//! the CSV line) get their charge date in front of it, the form imports now compute, so that
//! importing the same file again still finds them and adds nothing.

use sea_orm_migration::prelude::*;
use sea_orm_migration::sea_orm::DbBackend;

#[derive(DeriveMigrationName)]
pub struct Migration;

/// Computed ids: exactly `sha256:` and 32 lowercase hex digits, written by imports only.
const COMPUTED: &str = "source = 'import' AND length(external_id) = 39 \
     AND substr(external_id, 1, 7) = 'sha256:'";

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // Dates are stored as `YYYY-MM-DD` text on SQLite and as `date` on PostgreSQL.
        let date = match manager.get_database_backend() {
            DbBackend::Postgres => "to_char(date, 'YYYY-MM-DD')",
            _ => "date",
        };
        manager
            .get_connection()
            .execute_unprepared(&format!(
                "UPDATE fin_spend SET external_id = {date} || '/' || external_id WHERE {COMPUTED}"
            ))
            .await?;
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        // `YYYY-MM-DD/` is 11 characters.
        manager
            .get_connection()
            .execute_unprepared(
                "UPDATE fin_spend SET external_id = substr(external_id, 12) \
                 WHERE source = 'import' AND length(external_id) = 50 \
                 AND substr(external_id, 11, 8) = '/sha256:'",
            )
            .await?;
        Ok(())
    }
}
