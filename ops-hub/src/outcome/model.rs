//! Outcome rows and the judgement enum.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Judgement {
    #[sea_orm(string_value = "positive")]
    Positive,
    #[sea_orm(string_value = "neutral")]
    Neutral,
    #[sea_orm(string_value = "negative")]
    Negative,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "ops_outcomes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub service_id: String,
    pub deployment_id: Option<String>,
    /// What is measured or judged: `error_rate`, `p99_latency`, `user_feedback`…
    pub name: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub judgement: Option<Judgement>,
    pub summary: String,
    pub actor: String,
    pub recorded_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
