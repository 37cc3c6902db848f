//! Tasks with their claims, and the dependencies between tasks.

use sea_orm_migration::prelude::*;

use super::{index, time};

#[derive(DeriveMigrationName)]
pub struct Migration;

#[derive(DeriveIden)]
enum DevTasks {
    Table,
    Id,
    WorkplanId,
    Domain,
    Title,
    Body,
    Status,
    Priority,
    Assignee,
    Phase,
    Workstream,
    Position,
    Extra,
    ClaimedBy,
    ClaimExpiresAt,
    CreatedAt,
    UpdatedAt,
}

#[derive(DeriveIden)]
enum DevTaskDeps {
    Table,
    TaskId,
    DependsOn,
}

#[async_trait::async_trait]
impl MigrationTrait for Migration {
    async fn up(&self, manager: &SchemaManager) -> Result<(), DbErr> {
        manager
            .create_table(
                Table::create()
                    .table(DevTasks::Table)
                    .col(
                        ColumnDef::new(DevTasks::Id)
                            .string()
                            .not_null()
                            .primary_key(),
                    )
                    .col(ColumnDef::new(DevTasks::WorkplanId).string().not_null())
                    .col(ColumnDef::new(DevTasks::Domain).string().not_null())
                    .col(ColumnDef::new(DevTasks::Title).string().not_null())
                    .col(ColumnDef::new(DevTasks::Body).text().not_null())
                    .col(ColumnDef::new(DevTasks::Status).string().not_null())
                    .col(ColumnDef::new(DevTasks::Priority).integer().not_null())
                    .col(ColumnDef::new(DevTasks::Assignee).string().null())
                    .col(ColumnDef::new(DevTasks::Phase).string().null())
                    .col(ColumnDef::new(DevTasks::Workstream).string().null())
                    .col(ColumnDef::new(DevTasks::Position).integer().not_null())
                    .col(ColumnDef::new(DevTasks::Extra).json_binary().not_null())
                    .col(ColumnDef::new(DevTasks::ClaimedBy).string().null())
                    .col(
                        ColumnDef::new(DevTasks::ClaimExpiresAt)
                            .timestamp_with_time_zone()
                            .null(),
                    )
                    .col(time(DevTasks::CreatedAt))
                    .col(time(DevTasks::UpdatedAt))
                    .to_owned(),
            )
            .await?;
        // "Next" walks the open tasks in its own order (priority down, id up) and stops early:
        // over every task, within one workplan, and within one domain.
        for (name, scope) in [
            ("dev_tasks_status_priority_id", None),
            ("dev_tasks_workplan_next", Some(DevTasks::WorkplanId)),
            ("dev_tasks_domain_next", Some(DevTasks::Domain)),
        ] {
            let mut idx = Index::create().name(name).table(DevTasks::Table).to_owned();
            if let Some(col) = scope {
                idx.col(col);
            }
            idx.col(DevTasks::Status)
                .col((DevTasks::Priority, IndexOrder::Desc))
                .col(DevTasks::Id);
            manager.create_index(idx).await?;
        }
        let ix = |c: DevTasks| c.into_iden();
        // A workplan's tasks in document order; task lists filter by assignee; the lease sweep
        // finds expired claims.
        for (name, cols) in [
            (
                "dev_tasks_workplan_position",
                vec![ix(DevTasks::WorkplanId), ix(DevTasks::Position)],
            ),
            (
                "dev_tasks_assignee_id",
                vec![ix(DevTasks::Assignee), ix(DevTasks::Id)],
            ),
            (
                "dev_tasks_claim_expires",
                vec![ix(DevTasks::ClaimExpiresAt)],
            ),
        ] {
            index(manager, name, DevTasks::Table, cols, false).await?;
        }
        manager
            .create_table(
                Table::create()
                    .table(DevTaskDeps::Table)
                    .col(ColumnDef::new(DevTaskDeps::TaskId).string().not_null())
                    .col(ColumnDef::new(DevTaskDeps::DependsOn).string().not_null())
                    .primary_key(
                        Index::create()
                            .col(DevTaskDeps::TaskId)
                            .col(DevTaskDeps::DependsOn),
                    )
                    .to_owned(),
            )
            .await?;
        // Who depends on a task (blocked queries, cycle checks walk both ways).
        index(
            manager,
            "dev_task_deps_depends_on",
            DevTaskDeps::Table,
            vec![DevTaskDeps::DependsOn.into_iden()],
            false,
        )
        .await
    }
}
