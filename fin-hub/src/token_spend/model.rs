//! Token spend rows: one model call (or a usage line) of an agent.

use sea_orm::entity::prelude::*;
use serde::Serialize;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "fin_token_spend")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub provider: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost: i64,
    pub currency: String,
    /// True when the cost came from the configured price table.
    pub priced: bool,
    pub session_id: Option<String>,
    /// The agent's `sub`.
    pub agent: String,
    pub domain: String,
    pub time: DateTimeUtc,
    pub external_id: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
