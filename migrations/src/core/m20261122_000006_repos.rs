//! Repos: the repositories each domain manages.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum Repos {
    Table,
    Id,
    Domain,
    Name,
    Location,
    DefaultBranch,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum Domains {
    Table,
    Slug,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(Repos::Table)
                    .col(ColumnDef::new(Repos::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(Repos::Domain).string().not_null())
                    .col(ColumnDef::new(Repos::Name).string().not_null())
                    .col(ColumnDef::new(Repos::Location).text().not_null())
                    .col(ColumnDef::new(Repos::DefaultBranch).string().not_null())
                    .col(
                        ColumnDef::new(Repos::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(Repos::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .foreign_key(
                        ForeignKey::create()
                            .name("repos_domain")
                            .from(Repos::Table, Repos::Domain)
                            .to(Domains::Table, Domains::Slug),
                    )
                    .to_owned(),
            )
            .await?;
        // A name is unique within its domain.
        manager
            .create_index(
                Index::create()
                    .name("repos_domain_name")
                    .table(Repos::Table)
                    .col(Repos::Domain)
                    .col(Repos::Name)
                    .unique()
                    .to_owned(),
            )
            .await?;
        // Lists filter by domain and page by id.
        manager
            .create_index(
                Index::create()
                    .name("repos_domain_id")
                    .table(Repos::Table)
                    .col(Repos::Domain)
                    .col(Repos::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(Repos::Table).to_owned())
            .await
    }
}
