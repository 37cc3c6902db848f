//! Token spend: what agents' model calls cost, per provider and model.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum FinTokenSpend {
    Table,
    Id,
    Provider,
    Model,
    TokensIn,
    TokensOut,
    Cost,
    Currency,
    Priced,
    SessionId,
    Agent,
    Domain,
    Time,
    ExternalId,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(FinTokenSpend::Table)
                    .col(
                        ColumnDef::new(FinTokenSpend::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(FinTokenSpend::Provider).string().not_null())
                    .col(ColumnDef::new(FinTokenSpend::Model).string().not_null())
                    .col(
                        ColumnDef::new(FinTokenSpend::TokensIn)
                            .big_integer()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinTokenSpend::TokensOut)
                            .big_integer()
                            .not_null(),
                    )
                    .col(ColumnDef::new(FinTokenSpend::Cost).big_integer().not_null())
                    .col(ColumnDef::new(FinTokenSpend::Currency).string().not_null())
                    .col(ColumnDef::new(FinTokenSpend::Priced).boolean().not_null())
                    .col(ColumnDef::new(FinTokenSpend::SessionId).string().null())
                    .col(ColumnDef::new(FinTokenSpend::Agent).string().not_null())
                    .col(ColumnDef::new(FinTokenSpend::Domain).string().not_null())
                    .col(
                        ColumnDef::new(FinTokenSpend::Time)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinTokenSpend::ExternalId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(FinTokenSpend::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("fin_token_spend_external_id")
                    .table(FinTokenSpend::Table)
                    .col(FinTokenSpend::ExternalId)
                    .unique()
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("fin_token_spend_domain_id")
                    .table(FinTokenSpend::Table)
                    .col(FinTokenSpend::Domain)
                    .col(FinTokenSpend::Id)
                    .to_owned(),
            )
            .await
    }
}
