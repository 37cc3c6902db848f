//! Workplan rows and their status.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a workplan stands.
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
pub enum WorkplanStatus {
    #[default]
    #[sea_orm(string_value = "draft")]
    Draft,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "archived")]
    Archived,
}

impl WorkplanStatus {
    pub const NAMES: &str = "draft, active, done, archived";

    /// Draft and active workplans are open.
    pub const OPEN: [WorkplanStatus; 2] = [WorkplanStatus::Draft, WorkplanStatus::Active];
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dev_workplans")]
pub struct Model {
    /// The human id, e.g. `CUST-WP-0025`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub title: String,
    pub domain: String,
    pub status: WorkplanStatus,
    pub owner: Option<String>,
    pub topic: Option<String>,
    /// The prose before the first section.
    pub body: String,
    /// The document's `## …` sections in order: `[{"heading", "body"}]`.
    pub sections: Json,
    /// Front matter keys the hub does not know, kept for export.
    pub extra: Json,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
