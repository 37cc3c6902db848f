//! Spend ledger rows and the totals kept per domain, month, service and currency.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a ledger entry came from.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Source {
    #[sea_orm(string_value = "import")]
    Import,
    #[sea_orm(string_value = "token")]
    Token,
    #[sea_orm(string_value = "manual")]
    Manual,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "fin_spend")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub date: Date,
    /// `YYYY-MM` of `date`, kept for the totals.
    pub period: String,
    pub amount: i64,
    pub currency: String,
    pub domain: String,
    pub service_id: Option<String>,
    pub vendor: Option<String>,
    pub source: Source,
    /// Unique per source: ingesting it again adds nothing.
    pub external_id: String,
    pub import_id: Option<String>,
    pub created_at: DateTimeUtc,
    /// `migrations::fin::key_hash` of source and external id, by which SQLite finds repeats.
    #[serde(skip)]
    pub key_hash: i64,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// Ledger totals, updated in the transaction that adds the entries.
pub mod totals {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "fin_spend_totals")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub domain: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub period: String,
        /// The service id, or `""` for spend attributed to none.
        #[sea_orm(primary_key, auto_increment = false)]
        pub service: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub currency: String,
        pub total: i64,
        pub entries: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
