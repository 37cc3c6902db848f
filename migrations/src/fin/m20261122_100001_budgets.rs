//! Budgets: one allocation per domain and month, with alert thresholds in percent.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinBudgets {
    Table,
    Id,
    Domain,
    Period,
    Currency,
    Allocated,
    Thresholds,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FinBudgets::Table)
                    .col(
                        ColumnDef::new(FinBudgets::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FinBudgets::Domain).string().not_null())
                    .col(ColumnDef::new(FinBudgets::Period).string().not_null())
                    .col(ColumnDef::new(FinBudgets::Currency).string().not_null())
                    .col(
                        ColumnDef::new(FinBudgets::Allocated)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinBudgets::Thresholds)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinBudgets::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinBudgets::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // One budget per domain and month; also the lookup of a budget's status.
        manager
            .create_index(
                Index::create()
                    .name("fin_budgets_domain_period")
                    .table(FinBudgets::Table)
                    .col(FinBudgets::Domain)
                    .col(FinBudgets::Period)
                    .unique()
                    .to_owned(),
            )
            .await
    }
}
