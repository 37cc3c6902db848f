//! Deployments: a version of a service put into an environment, and how it went.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OpsDeployments {
    Table,
    Id,
    ServiceId,
    Version,
    Environment,
    DeployedAt,
    Actor,
    Outcome,
    Notes,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpsDeployments::Table)
                    .col(
                        ColumnDef::new(OpsDeployments::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(OpsDeployments::ServiceId)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OpsDeployments::Version).string().not_null())
                    .col(
                        ColumnDef::new(OpsDeployments::Environment)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpsDeployments::DeployedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OpsDeployments::Actor).string().not_null())
                    .col(ColumnDef::new(OpsDeployments::Outcome).string().not_null())
                    .col(ColumnDef::new(OpsDeployments::Notes).text().not_null())
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ops_deployments_service_id")
                    .table(OpsDeployments::Table)
                    .col(OpsDeployments::ServiceId)
                    .col(OpsDeployments::Id)
                    .to_owned(),
            )
            .await
    }
}
