//! Migrations of the generic resources every hub has (hub-core).

use sea_orm_migration::prelude::*;

mod m20261122_000001_outbox;
mod m20261122_000002_domains;
mod m20261122_000009_inbox;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        "core_migrations".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_000001_outbox::Migration),
            Box::new(m20261122_000002_domains::Migration),
            Box::new(m20261122_000009_inbox::Migration),
        ]
    }
}
