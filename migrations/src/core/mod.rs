//! Migrations of the generic resources every hub has (hub-core).

use sea_orm_migration::prelude::*;

mod m20261122_000001_outbox;
mod m20261122_000002_domains;
mod m20261122_000003_messages;
mod m20261122_000004_agents;
mod m20261122_000005_capabilities;
mod m20261122_000006_repos;
mod m20261122_000007_tpsc_services;
mod m20261122_000008_progress_events;
mod m20261122_000009_inbox;
mod m20261122_000010_federation;
mod m20261122_000011_federation_alerts;
mod m20261207_000012_outbox_data_text;
mod m20261207_000013_inbox_covering_index;

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
            Box::new(m20261122_000003_messages::Migration),
            Box::new(m20261122_000004_agents::Migration),
            Box::new(m20261122_000005_capabilities::Migration),
            Box::new(m20261122_000006_repos::Migration),
            Box::new(m20261122_000007_tpsc_services::Migration),
            Box::new(m20261122_000008_progress_events::Migration),
            Box::new(m20261122_000009_inbox::Migration),
            Box::new(m20261122_000010_federation::Migration),
            Box::new(m20261122_000011_federation_alerts::Migration),
            Box::new(m20261207_000012_outbox_data_text::Migration),
            Box::new(m20261207_000013_inbox_covering_index::Migration),
        ]
    }
}
