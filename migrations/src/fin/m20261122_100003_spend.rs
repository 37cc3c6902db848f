//! The spend ledger and its roll-up of totals per domain, month, service and currency.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinSpend {
    Table,
    Id,
    Date,
    Period,
    Amount,
    Currency,
    Domain,
    ServiceId,
    Vendor,
    Source,
    ExternalId,
    ImportId,
    CreatedAt,
}

#[derive(DeriveIden)]
enum FinSpendTotals {
    Table,
    Domain,
    Period,
    Service,
    Currency,
    Total,
    Entries,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FinSpend::Table)
                    .col(
                        ColumnDef::new(FinSpend::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FinSpend::Date).date().not_null())
                    .col(ColumnDef::new(FinSpend::Period).string().not_null())
                    .col(ColumnDef::new(FinSpend::Amount).big_integer().not_null())
                    .col(ColumnDef::new(FinSpend::Currency).string().not_null())
                    .col(ColumnDef::new(FinSpend::Domain).string().not_null())
                    .col(ColumnDef::new(FinSpend::ServiceId).string().null())
                    .col(ColumnDef::new(FinSpend::Vendor).string().null())
                    .col(ColumnDef::new(FinSpend::Source).string().not_null())
                    .col(ColumnDef::new(FinSpend::ExternalId).string().not_null())
                    .col(ColumnDef::new(FinSpend::ImportId).string().null())
                    .col(
                        ColumnDef::new(FinSpend::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Re-ingesting an external id never double-counts: inserts skip on this key.
        manager
            .create_index(
                Index::create()
                    .name("fin_spend_source_external_id")
                    .table(FinSpend::Table)
                    .col(FinSpend::Source)
                    .col(FinSpend::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Lists run newest first (id DESC), filtered by domain.
        manager
            .create_index(
                Index::create()
                    .name("fin_spend_domain_id")
                    .table(FinSpend::Table)
                    .col(FinSpend::Domain)
                    .col(FinSpend::Id)
                    .to_owned(),
            )
            .await?;
        // Burn, budget and cost queries read these totals instead of summing the ledger.
        manager
            .create_table(
                Table::create()
                    .table(FinSpendTotals::Table)
                    .col(ColumnDef::new(FinSpendTotals::Domain).string().not_null())
                    .col(ColumnDef::new(FinSpendTotals::Period).string().not_null())
                    .col(ColumnDef::new(FinSpendTotals::Service).string().not_null())
                    .col(ColumnDef::new(FinSpendTotals::Currency).string().not_null())
                    .col(
                        ColumnDef::new(FinSpendTotals::Total)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinSpendTotals::Entries)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(FinSpendTotals::Domain)
                            .col(FinSpendTotals::Period)
                            .col(FinSpendTotals::Service)
                            .col(FinSpendTotals::Currency),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("fin_spend_totals_period_service")
                    .table(FinSpendTotals::Table)
                    .col(FinSpendTotals::Period)
                    .col(FinSpendTotals::Service)
                    .to_owned(),
            )
            .await
    }
}
