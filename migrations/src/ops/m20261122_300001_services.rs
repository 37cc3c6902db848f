//! The service inventory and the dependency edges between services.

use sea_orm_migration::prelude::*;

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum OpsServices {
    Table,
    Id,
    Name,
    Kind,
    Domain,
    Environment,
    Location,
    Endpoints,
    HealthUrl,
    Repo,
    Tags,
    Lifecycle,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum OpsServiceDeps {
    Table,
    ServiceId,
    DependsOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(OpsServices::Table)
                    .col(
                        ColumnDef::new(OpsServices::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(OpsServices::Name).string().not_null())
                    .col(ColumnDef::new(OpsServices::Kind).string().not_null())
                    .col(ColumnDef::new(OpsServices::Domain).string().not_null())
                    .col(ColumnDef::new(OpsServices::Environment).string().not_null())
                    .col(ColumnDef::new(OpsServices::Location).string().not_null())
                    .col(
                        ColumnDef::new(OpsServices::Endpoints)
                            .json_binary()
                            .not_null(),
                    )
                    .col(ColumnDef::new(OpsServices::HealthUrl).string().null())
                    .col(ColumnDef::new(OpsServices::Repo).string().null())
                    .col(ColumnDef::new(OpsServices::Tags).json_binary().not_null())
                    .col(ColumnDef::new(OpsServices::Lifecycle).string().not_null())
                    .col(
                        ColumnDef::new(OpsServices::CreatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpsServices::UpdatedAt)
                            .timestamp_with_time_zone()
                            .not_null(),
                    )
                    .to_owned(),
            )
            .await?;
        // The probe loop reads the active services with a health URL.
        manager
            .create_index(
                Index::create()
                    .name("ops_services_lifecycle_id")
                    .table(OpsServices::Table)
                    .col(OpsServices::Lifecycle)
                    .col(OpsServices::Id)
                    .to_owned(),
            )
            .await?;
        manager
            .create_table(
                Table::create()
                    .table(OpsServiceDeps::Table)
                    .col(
                        ColumnDef::new(OpsServiceDeps::ServiceId)
                            .string()
                            .not_null(),
                    )
                    .col(
                        ColumnDef::new(OpsServiceDeps::DependsOn)
                            .string()
                            .not_null(),
                    )
                    .primary_key(
                        Index::create()
                            .col(OpsServiceDeps::ServiceId)
                            .col(OpsServiceDeps::DependsOn),
                    )
                    .to_owned(),
            )
            .await?;
        // Who depends on a service: a retired service must not be depended upon.
        manager
            .create_index(
                Index::create()
                    .name("ops_service_deps_depends_on")
                    .table(OpsServiceDeps::Table)
                    .col(OpsServiceDeps::DependsOn)
                    .to_owned(),
            )
            .await
    }
}
