//! Progress events (append-only) and the current state of each risk/alert key they track.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum ProgressEvents {
    Table,
    Id,
    EventType,
    Domain,
    SubjectRefs,
    Summary,
    Severity,
    Key,
    Actor,
    Time,
}

#[derive(DeriveIden)]
enum ProgressStates {
    Table,
    Kind,
    Key,
    State,
    Severity,
    Escalated,
    Domain,
    Summary,
    OpenedAt,
    UpdatedAt,
    LastActor,
    EventCount,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(ProgressEvents::Table)
                    .col(
                        ColumnDef::new(ProgressEvents::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(
                        ColumnDef::new(ProgressEvents::EventType)
                            .string()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProgressEvents::Domain).string().null())
                    .col(
                        ColumnDef::new(ProgressEvents::SubjectRefs)
                            .json_binary()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProgressEvents::Summary).text().not_null())
                    .col(ColumnDef::new(ProgressEvents::Severity).string().not_null())
                    .col(ColumnDef::new(ProgressEvents::Key).string().null())
                    .col(ColumnDef::new(ProgressEvents::Actor).string().not_null())
                    .col(
                        ColumnDef::new(ProgressEvents::Time)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // Lists run newest first (id DESC), filtered by domain or by type.
        for (name, col) in [
            ("progress_events_domain_id", ProgressEvents::Domain),
            ("progress_events_type_id", ProgressEvents::EventType),
        ] {
            manager
                .create_index(
                    Index::create()
                        .name(name)
                        .table(ProgressEvents::Table)
                        .col(col)
                        .col(ProgressEvents::Id)
                        .to_owned(),
                )
                .await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(ProgressStates::Table)
                    .col(ColumnDef::new(ProgressStates::Kind).string().not_null())
                    .col(ColumnDef::new(ProgressStates::Key).string().not_null())
                    .col(ColumnDef::new(ProgressStates::State).string().not_null())
                    .col(ColumnDef::new(ProgressStates::Severity).string().not_null())
                    .col(
                        ColumnDef::new(ProgressStates::Escalated)
                            .boolean()
                            .not_null(),
                    )
                    .col(ColumnDef::new(ProgressStates::Domain).string().null())
                    .col(ColumnDef::new(ProgressStates::Summary).text().not_null())
                    .col(
                        ColumnDef::new(ProgressStates::OpenedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProgressStates::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProgressStates::LastActor)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(ProgressStates::EventCount)
                            .big_integer()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(ProgressStates::Kind)
                            .col(ProgressStates::Key),
                    )
                    .to_owned(),
            )
            .await?;
        // Risk/alert views filter by kind and state (and count open ones per domain), sorted by key.
        manager
            .create_index(
                Index::create()
                    .name("progress_states_kind_state_key")
                    .table(ProgressStates::Table)
                    .col(ProgressStates::Kind)
                    .col(ProgressStates::State)
                    .col(ProgressStates::Key)
                    .to_owned(),
            )
            .await
    }

    async fn down(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .drop_table(Table::drop().table(ProgressStates::Table).to_owned())
            .await?;
        manager
            .drop_table(Table::drop().table(ProgressEvents::Table).to_owned())
            .await
    }
}
