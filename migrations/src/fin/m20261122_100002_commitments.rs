//! Commitments: recurring or one-off payments promised to vendors.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinCommitments {
    Table,
    Id,
    Kind,
    Vendor,
    Domain,
    ServiceId,
    Amount,
    Currency,
    Cadence,
    StartDate,
    EndDate,
    Description,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FinCommitments::Table)
                    .col(
                        ColumnDef::new(FinCommitments::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FinCommitments::Kind).string().not_null())
                    .col(ColumnDef::new(FinCommitments::Vendor).string().not_null())
                    .col(ColumnDef::new(FinCommitments::Domain).string().not_null())
                    .col(ColumnDef::new(FinCommitments::ServiceId).string().null())
                    .col(
                        ColumnDef::new(FinCommitments::Amount)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FinCommitments::Currency).string().not_null())
                    .col(ColumnDef::new(FinCommitments::Cadence).string().not_null())
                    .col(ColumnDef::new(FinCommitments::StartDate).date().not_null())
                    .col(ColumnDef::new(FinCommitments::EndDate).date().null())
                    .col(
                        ColumnDef::new(FinCommitments::Description)
                            .text()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinCommitments::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("fin_commitments_domain_id")
                    .table(FinCommitments::Table)
                    .col(FinCommitments::Domain)
                    .col(FinCommitments::Id)
                    .to_owned(),
            )
            .await
    }
}
