//! Migrations of the fin hub's module: budgets, commitments, the spend ledger and its roll-up,
//! token spend, balances, imports and signal marks.

use sea_orm_migration::prelude::*;

mod m20261122_100001_budgets;
mod m20261122_100002_commitments;
mod m20261122_100003_spend;
mod m20261122_100004_token_spend;
mod m20261122_100005_balances;
mod m20261122_100006_imports;
mod m20261204_100007_spend_key_hash;

pub use m20261204_100007_spend_key_hash::key_hash;

pub struct Migrator;

#[async_trait::async_trait]
impl MigratorTrait for Migrator {
    fn migration_table_name() -> DynIden {
        "fin_migrations".into_iden()
    }

    fn migrations() -> Vec<Box<dyn MigrationTrait>> {
        vec![
            Box::new(m20261122_100001_budgets::Migration),
            Box::new(m20261122_100002_commitments::Migration),
            Box::new(m20261122_100003_spend::Migration),
            Box::new(m20261122_100004_token_spend::Migration),
            Box::new(m20261122_100005_balances::Migration),
            Box::new(m20261122_100006_imports::Migration),
            Box::new(m20261204_100007_spend_key_hash::Migration),
        ]
    }
}
