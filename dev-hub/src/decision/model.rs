//! Decision rows and their status.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a decision stands; decisions from documents are `accepted`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
    schemars::JsonSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum DecisionStatus {
    #[sea_orm(string_value = "proposed")]
    Proposed,
    #[default]
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "superseded")]
    Superseded,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dev_decisions")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub domain: String,
    pub workplan_id: Option<String>,
    /// Unique within a workplan: a document's decision table row is found again by it.
    pub title: String,
    pub choice: String,
    pub rationale: String,
    pub status: DecisionStatus,
    /// The document section the decision's table stands in (`null`: before the first section).
    pub section: Option<String>,
    pub position: i32,
    /// Ids of the tasks the decision is about (a JSON array).
    pub tasks: Json,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
