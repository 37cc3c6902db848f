//! Decisions (linked to workplans and tasks) and progress notes on any dev resource.

use sea_orm_migration::prelude::*;

use super::{index, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DevDecisions {
    Table,
    Id,
    Domain,
    WorkplanId,
    Title,
    Choice,
    Rationale,
    Status,
    Section,
    Position,
    Tasks,
    CreatedBy,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DevNotes {
    Table,
    Id,
    SubjectKind,
    SubjectId,
    Domain,
    Body,
    Author,
    CreatedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DevDecisions::Table)
                    .col(
                        ColumnDef::new(DevDecisions::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DevDecisions::Domain).string().not_null())
                    .col(ColumnDef::new(DevDecisions::WorkplanId).string().null())
                    .col(ColumnDef::new(DevDecisions::Title).string().not_null())
                    .col(ColumnDef::new(DevDecisions::Choice).text().not_null())
                    .col(ColumnDef::new(DevDecisions::Rationale).text().not_null())
                    .col(ColumnDef::new(DevDecisions::Status).string().not_null())
                    .col(ColumnDef::new(DevDecisions::Section).string().null())
                    .col(ColumnDef::new(DevDecisions::Position).integer().not_null())
                    .col(ColumnDef::new(DevDecisions::Tasks).json_binary().not_null())
                    .col(ColumnDef::new(DevDecisions::CreatedBy).string().not_null())
                    .col(time(DevDecisions::CreatedAt))
                    .col(time(DevDecisions::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "dev_decisions_workplan_position",
            DevDecisions::Table,
            vec![
                DevDecisions::WorkplanId.into_iden(),
                DevDecisions::Position.into_iden(),
            ],
            false,
        )
        .await?;
        index(
            manager,
            "dev_decisions_domain_id",
            DevDecisions::Table,
            vec![
                DevDecisions::Domain.into_iden(),
                DevDecisions::Id.into_iden(),
            ],
            false,
        )
        .await?;
        manager
            .create_table(
                Table::create()
                    .table(DevNotes::Table)
                    .col(
                        ColumnDef::new(DevNotes::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DevNotes::SubjectKind).string().not_null())
                    .col(ColumnDef::new(DevNotes::SubjectId).string().not_null())
                    .col(ColumnDef::new(DevNotes::Domain).string().not_null())
                    .col(ColumnDef::new(DevNotes::Body).text().not_null())
                    .col(ColumnDef::new(DevNotes::Author).string().not_null())
                    .col(time(DevNotes::CreatedAt))
                    .to_owned(),
            )
            .await?;
        index(
            manager,
            "dev_notes_subject_id",
            DevNotes::Table,
            vec![
                DevNotes::SubjectKind.into_iden(),
                DevNotes::SubjectId.into_iden(),
                DevNotes::Id.into_iden(),
            ],
            false,
        )
        .await
    }
}
