//! Evidence records: smoke tests, probes, reviews… about a service, deployment or run.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OpsEvidence {
    Table,
    Id,
    Kind,
    ServiceId,
    DeploymentId,
    RunId,
    Status,
    Summary,
    Fields,
    Actor,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpsEvidence::Table)
                    .col(
                        ColumnDef::new(OpsEvidence::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OpsEvidence::Kind).string().not_null())
                    .col(ColumnDef::new(OpsEvidence::ServiceId).string().null())
                    .col(ColumnDef::new(OpsEvidence::DeploymentId).string().null())
                    .col(ColumnDef::new(OpsEvidence::RunId).string().null())
                    .col(ColumnDef::new(OpsEvidence::Status).string().not_null())
                    .col(ColumnDef::new(OpsEvidence::Summary).text().not_null())
                    .col(ColumnDef::new(OpsEvidence::Fields).json_binary().not_null())
                    .col(ColumnDef::new(OpsEvidence::Actor).string().not_null())
                    .col(
                        ColumnDef::new(OpsEvidence::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Readiness reads the latest evidence of one kind for a service: one index seek.
        manager
            .create_index(
                Index::create()
                    .name("ops_evidence_service_kind_time")
                    .table(OpsEvidence::Table)
                    .col(OpsEvidence::ServiceId)
                    .col(OpsEvidence::Kind)
                    .col(OpsEvidence::RecordedAt)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ops_evidence_deployment_id")
                    .table(OpsEvidence::Table)
                    .col(OpsEvidence::DeploymentId)
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ops_evidence_run_id")
                    .table(OpsEvidence::Table)
                    .col(OpsEvidence::RunId)
                    .to_owned(),
            )
            .await
    }
}
