//! Migrations of the dev hub's module: topics, workplans, workstreams, tasks and their
//! dependencies, decisions and notes.

use sea_orm_migration::prelude::*;

mod m20261122_200001_workplans;
mod m20261122_200002_tasks;
mod m20261122_200003_decisions;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        "dev_migrations".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_200001_workplans::Migration),
            Box::new(m20261122_200002_tasks::Migration),
            Box::new(m20261122_200003_decisions::Migration),
        ]
    }
}

/// A timestamp column.
fn time(col: impl IntoIden) -> ColumnDef {
    ColumnDef::new(col)
        .timestamp_with_time_zone()
        .not_null()
        .to_owned()
}

/// Creates a plain (or unique) index named `name` on `cols` of `table`.
async fn index(
    manager: &SchemaManager<'_>,
    name: &str,
    table: impl IntoIden,
    cols: Vec<DynIden>,
    unique: bool,
) -> Result<(), DbErr> {
    let mut idx = Index::create().name(name).table(table).to_owned();
    for col in cols {
        idx.col(col);
    }
    if unique {
        idx.unique();
    }
    manager.create_index(idx).await
}
