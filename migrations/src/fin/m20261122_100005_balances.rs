//! Balance snapshots: cash on hand at a date, the start of every runway.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinBalances {
    Table,
    Id,
    Date,
    Amount,
    Currency,
    Note,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FinBalances::Table)
                    .col(
                        ColumnDef::new(FinBalances::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FinBalances::Date).date().not_null())
                    .col(ColumnDef::new(FinBalances::Amount).big_integer().not_null())
                    .col(ColumnDef::new(FinBalances::Currency).string().not_null())
                    .col(ColumnDef::new(FinBalances::Note).text().not_null())
                    .col(
                        ColumnDef::new(FinBalances::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // One snapshot per date; the latest is found by this index.
        manager
            .create_index(
                Index::create()
                    .name("fin_balances_date")
                    .table(FinBalances::Table)
                    .col(FinBalances::Date)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
