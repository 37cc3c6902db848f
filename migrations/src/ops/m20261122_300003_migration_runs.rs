//! Migration runs: moving data from a source to a target, with counts and a status.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OpsMigrationRuns {
    Table,
    Id,
    ServiceId,
    Source,
    Target,
    Status,
    Expected,
    Migrated,
    Failed,
    StartedAt,
    FinishedAt,
    Actor,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpsMigrationRuns::Table)
                    .col(
                        ColumnDef::new(OpsMigrationRuns::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OpsMigrationRuns::ServiceId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OpsMigrationRuns::Source).string().not_null())
                    .col(ColumnDef::new(OpsMigrationRuns::Target).string().not_null())
                    .col(ColumnDef::new(OpsMigrationRuns::Status).string().not_null())
                    .col(
                        ColumnDef::new(OpsMigrationRuns::Expected)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpsMigrationRuns::Migrated)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpsMigrationRuns::Failed)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpsMigrationRuns::StartedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpsMigrationRuns::FinishedAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(ColumnDef::new(OpsMigrationRuns::Actor).string().not_null())
                    .to_owned(),
            )
            .await?;
        // Readiness reads the latest run of a service.
        manager
            .create_index(
                Index::create()
                    .name("ops_migration_runs_service_id")
                    .table(OpsMigrationRuns::Table)
                    .col(OpsMigrationRuns::ServiceId)
                    .col(OpsMigrationRuns::Id)
                    .to_owned(),
            )
            .await
    }
}
