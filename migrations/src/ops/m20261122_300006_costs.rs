//! Cost per service and period, as the fin hub attributes it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OpsCosts {
    Table,
    ServiceId,
    Period,
    Currency,
    Amount,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpsCosts::Table)
                    .col(ColumnDef::new(OpsCosts::ServiceId).string().not_null())
                    .col(ColumnDef::new(OpsCosts::Period).string().not_null())
                    .col(ColumnDef::new(OpsCosts::Currency).string().not_null())
                    .col(ColumnDef::new(OpsCosts::Amount).big_integer().not_null())
                    .col(
                        ColumnDef::new(OpsCosts::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(OpsCosts::ServiceId)
                            .col(OpsCosts::Period)
                            .col(OpsCosts::Currency),
                    )
                    .to_owned(),
            )
            .await
    }
}
