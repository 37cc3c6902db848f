//! Topics, workplans and the workstreams within a workplan.

use sea_orm_migration::prelude::*;

use super::{index, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DevTopics {
    Table,
    Slug,
    Title,
    Domain,
    CreatedAt,
}

#[derive(DeriveIden)]
enum DevWorkplans {
    Table,
    Id,
    Title,
    Domain,
    Status,
    Owner,
    Topic,
    Body,
    Sections,
    Extra,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DevWorkstreams {
    Table,
    Id,
    WorkplanId,
    Name,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DevTopics::Table)
                    .col(
                        ColumnDef::new(DevTopics::Slug)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DevTopics::Title).string().not_null())
                    .col(ColumnDef::new(DevTopics::Domain).string().not_null())
                    .col(time(DevTopics::CreatedAt))
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(DevWorkplans::Table)
                    .col(
                        ColumnDef::new(DevWorkplans::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DevWorkplans::Title).string().not_null())
                    .col(ColumnDef::new(DevWorkplans::Domain).string().not_null())
                    .col(ColumnDef::new(DevWorkplans::Status).string().not_null())
                    .col(ColumnDef::new(DevWorkplans::Owner).string().null())
                    .col(ColumnDef::new(DevWorkplans::Topic).string().null())
                    .col(ColumnDef::new(DevWorkplans::Body).text().not_null())
                    .col(
                        ColumnDef::new(DevWorkplans::Sections)
                            .json_binary()
                            .not_null(),
                    )
                    .col(ColumnDef::new(DevWorkplans::Extra).json_binary().not_null())
                    .col(time(DevWorkplans::CreatedAt))
                    .col(time(DevWorkplans::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // Workplan lists filter by domain and status, in id order.
        index(
            manager,
            "dev_workplans_domain_id",
            DevWorkplans::Table,
            vec![
                DevWorkplans::Domain.into_iden(),
                DevWorkplans::Id.into_iden(),
            ],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(DevWorkstreams::Table)
                    .col(
                        ColumnDef::new(DevWorkstreams::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(DevWorkstreams::WorkplanId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(DevWorkstreams::Name).string().not_null())
                    .col(time(DevWorkstreams::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "dev_workstreams_workplan_name",
            DevWorkstreams::Table,
            vec![
                DevWorkstreams::WorkplanId.into_iden(),
                DevWorkstreams::Name.into_iden(),
            ],
            true,
        )
        .await
    }
}
