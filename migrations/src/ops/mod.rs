//! Migrations of the ops hub's module: the service inventory and its dependencies, deployments,
//! migration runs, evidence, outcome signals and costs per service.

use sea_orm_migration::prelude::*;

mod m20261122_300001_services;
mod m20261122_300002_deployments;
mod m20261122_300003_migration_runs;
mod m20261122_300004_evidence;
mod m20261122_300005_outcomes;
mod m20261122_300006_costs;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        "ops_migrations".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_300001_services::Migration),
            Box::new(m20261122_300002_deployments::Migration),
            Box::new(m20261122_300003_migration_runs::Migration),
            Box::new(m20261122_300004_evidence::Migration),
            Box::new(m20261122_300005_outcomes::Migration),
            Box::new(m20261122_300006_costs::Migration),
        ]
    }
}
