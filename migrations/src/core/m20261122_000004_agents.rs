//! Agent presence: one row per principal that sent a heartbeat.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Agents {
    Table,
    Sub,
    Kind,
    Status,
    Metadata,
    FirstSeen,
    LastSeen,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Agents::Table)
                    .col(
                        ColumnDef::new(Agents::Sub)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Agents::Kind).string().not_null())
                    .col(ColumnDef::new(Agents::Status).string().null())
                    .col(ColumnDef::new(Agents::Metadata).json_binary().null())
                    .col(
                        ColumnDef::new(Agents::FirstSeen)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Agents::LastSeen)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Counting the agents online is a range scan on last_seen.
        manager
            .create_index(
                Index::create()
                    .name("agents_last_seen")
                    .table(Agents::Table)
                    .col(Agents::LastSeen)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Agents::Table).to_owned())
            .await
    }
}
