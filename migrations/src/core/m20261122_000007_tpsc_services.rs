//! Third-party services and tools (TPSC) a domain uses, with their GDPR facts.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum TpscServices {
    Table,
    Id,
    Name,
    Domain,
    Vendor,
    Description,
    Url,
    DataCategories,
    ProcessingPurpose,
    Region,
    DpaInPlace,
    SubProcessors,
    PersonalData,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(TpscServices::Table)
                    .col(
                        ColumnDef::new(TpscServices::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(TpscServices::Name).string().not_null())
                    .col(ColumnDef::new(TpscServices::Domain).string().not_null())
                    .col(ColumnDef::new(TpscServices::Vendor).string().null())
                    .col(
                        ColumnDef::new(TpscServices::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(ColumnDef::new(TpscServices::Url).string().null())
                    .col(
                        ColumnDef::new(TpscServices::DataCategories)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TpscServices::ProcessingPurpose)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(ColumnDef::new(TpscServices::Region).string().not_null())
                    .col(
                        ColumnDef::new(TpscServices::DpaInPlace)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TpscServices::SubProcessors)
                            .json_binary()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TpscServices::PersonalData)
                            .boolean()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TpscServices::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(TpscServices::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Names are unique per hub; ingest upserts by name and lists sort by it.
        manager
            .create_index(
                Index::create()
                    .name("tpsc_services_name")
                    .table(TpscServices::Table)
                    .col(TpscServices::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Lists and the GDPR report filter by domain, sorted by name.
        manager
            .create_index(
                Index::create()
                    .name("tpsc_services_domain_name")
                    .table(TpscServices::Table)
                    .col(TpscServices::Domain)
                    .col(TpscServices::Name)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(TpscServices::Table).to_owned())
            .await
    }
}
