//! Federation alerts: the current state of every hub's risks and alerts, as signals report them.

use sea_orm_migration::prelude::*;

#[derive(DeriveIden)]
enum FederationAlerts {
    Table,
    Id,
    Hub,
    Kind,
    Key,
    State,
    Open,
    Severity,
    Escalated,
    Domain,
    Summary,
    EventType,
    UpdatedAt,
}

#[derive(DeriveMigrationName)]
pub struct Migration;

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        use FederationAlerts as F;
        manager
            .create_table(
                Table::create()
                    .table(F::Table)
                    .col(ColumnDef::new(F::Id).string().not_null().primary_key())
                    .col(ColumnDef::new(F::Hub).string().not_null())
                    .col(ColumnDef::new(F::Kind).string().not_null())
                    .col(ColumnDef::new(F::Key).string().not_null())
                    .col(ColumnDef::new(F::State).string().not_null())
                    .col(ColumnDef::new(F::Open).boolean().not_null())
                    .col(ColumnDef::new(F::Severity).string().not_null())
                    .col(ColumnDef::new(F::Escalated).boolean().not_null())
                    .col(ColumnDef::new(F::Domain).string().null())
                    .col(ColumnDef::new(F::Summary).text().not_null())
                    .col(ColumnDef::new(F::EventType).string().not_null())
                    .col(
                        ColumnDef::new(F::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        manager
            .create_index(
                Index::create()
                    .name("federation_alerts_open_id")
                    .table(F::Table)
                    .col(F::Open)
                    .col(F::Id)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(FederationAlerts::Table).to_owned())
            .await
    }
}
