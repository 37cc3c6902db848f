//! Outcome signals: a metric or a judgement about a service or one of its deployments.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OpsOutcomes {
    Table,
    Id,
    ServiceId,
    DeploymentId,
    Name,
    Value,
    Unit,
    Judgement,
    Summary,
    Actor,
    RecordedAt,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpsOutcomes::Table)
                    .col(
                        ColumnDef::new(OpsOutcomes::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OpsOutcomes::ServiceId).string().not_null())
                    .col(ColumnDef::new(OpsOutcomes::DeploymentId).string().null())
                    .col(ColumnDef::new(OpsOutcomes::Name).string().not_null())
                    .col(ColumnDef::new(OpsOutcomes::Value).double().null())
                    .col(ColumnDef::new(OpsOutcomes::Unit).string().null())
                    .col(ColumnDef::new(OpsOutcomes::Judgement).string().null())
                    .col(ColumnDef::new(OpsOutcomes::Summary).text().not_null())
                    .col(ColumnDef::new(OpsOutcomes::Actor).string().not_null())
                    .col(
                        ColumnDef::new(OpsOutcomes::RecordedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("ops_outcomes_service_id")
                    .table(OpsOutcomes::Table)
                    .col(OpsOutcomes::ServiceId)
                    .col(OpsOutcomes::Id)
                    .to_owned(),
            )
            .await
    }
}
