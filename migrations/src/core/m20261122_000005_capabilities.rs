//! Capabilities: the catalog of what principals offer, and the requests made against it.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Capabilities {
    Table,
    Name,
    Provider,
    Hub,
    Description,
    InputSchema,
    Domain,
    CreatedAt,
}

#[derive(DeriveIden)]
enum CapabilityRequests {
    Table,
    Id,
    Capability,
    Requester,
    Provider,
    Domain,
    Status,
    Input,
    Note,
    StatusNote,
    Result,
    CreatedAt,
    UpdatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Capabilities::Table)
                    .col(
                        ColumnDef::new(Capabilities::Name)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(Capabilities::Provider).string().not_null())
                    .col(ColumnDef::new(Capabilities::Hub).string().not_null())
                    .col(
                        ColumnDef::new(Capabilities::Description)
                            .text()
                            .not_null()
                            .default(""),
                    )
                    .col(
                        ColumnDef::new(Capabilities::InputSchema)
                            .json_binary()
                            .null(),
                    )
                    .col(ColumnDef::new(Capabilities::Domain).string().null())
                    .col(
                        ColumnDef::new(Capabilities::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Catalog lists filter by provider or domain and page by name.
        for (name, col) in [
            ("capabilities_provider", Capabilities::Provider),
            ("capabilities_domain", Capabilities::Domain),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(Capabilities::Table)
                        .col(col)
                        .col(Capabilities::Name)
                        .to_owned(),
                )
                .await?;
        }

        manager
            .create_table(
                Table::create()
                    .table(CapabilityRequests::Table)
                    .col(
                        ColumnDef::new(CapabilityRequests::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(CapabilityRequests::Capability)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CapabilityRequests::Requester)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CapabilityRequests::Provider)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(CapabilityRequests::Domain).string().null())
                    .col(
                        ColumnDef::new(CapabilityRequests::Status)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CapabilityRequests::Input)
                            .json_binary()
                            .null(),
                    )
                    .col(ColumnDef::new(CapabilityRequests::Note).text().null())
                    .col(ColumnDef::new(CapabilityRequests::StatusNote).text().null())
                    .col(
                        ColumnDef::new(CapabilityRequests::Result)
                            .json_binary()
                            .null(),
                    )
                    .col(
                        ColumnDef::new(CapabilityRequests::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(CapabilityRequests::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("capability_requests_capability")
                            .from(CapabilityRequests::Table, CapabilityRequests::Capability)
                            .to(Capabilities::Table, Capabilities::Name),
                    )
                    .to_owned(),
            )
            .await?;
        // Request lists: the caller's own or addressed to them, newest first; open counts by status.
        for (name, cols) in [
            (
                "capability_requests_requester",
                [CapabilityRequests::Requester, CapabilityRequests::Id],
            ),
            (
                "capability_requests_provider",
                [CapabilityRequests::Provider, CapabilityRequests::Id],
            ),
            (
                "capability_requests_status",
                [CapabilityRequests::Status, CapabilityRequests::Domain],
            ),
        ] {
            let mut index = Index::create();
            index.name(name).table(CapabilityRequests::Table);
            for col in cols {
                index.col(col);
            }
            manager.create_index(index.to_owned()).await?;
        }
        Ok(())
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(CapabilityRequests::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(Capabilities::Table).to_owned())
            .await
    }
}
