//! Import rows: one CSV file and what importing it did.

use schemars::JsonSchema;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a CSV file holds.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
    JsonSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ImportKind {
    /// Cost lines for the spend ledger.
    #[sea_orm(string_value = "costs")]
    Costs,
    /// Token usage lines.
    #[sea_orm(string_value = "token_usage")]
    TokenUsage,
}

/// The column convention of a CSV file.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
    JsonSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ImportFormat {
    /// FinOps FOCUS columns (`BilledCost`, `BillingCurrency`, `ChargePeriodStart`, …).
    #[sea_orm(string_value = "focus")]
    Focus,
    /// The fin hub's own snake_case columns.
    #[sea_orm(string_value = "native")]
    Native,
    /// Columns named by the caller's mapping.
    #[sea_orm(string_value = "mapped")]
    Mapped,
}

#[derive(
    Debug, Clone, Copy, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum ImportStatus {
    #[sea_orm(string_value = "running")]
    Running,
    /// Every readable row was handled; rejected rows are listed.
    #[sea_orm(string_value = "completed")]
    Completed,
    /// The file could not be read as a whole; nothing was written.
    #[sea_orm(string_value = "failed")]
    Failed,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "fin_imports")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub kind: ImportKind,
    pub format: ImportFormat,
    pub filename: Option<String>,
    pub status: ImportStatus,
    /// Data rows read.
    pub rows: i64,
    pub inserted: i64,
    /// Rows already in the ledger (same external id or same content).
    pub duplicates: i64,
    pub rejected: i64,
    /// The first row errors: `[{"line", "field", "message"}]`.
    pub errors: Json,
    /// Why a failed import failed.
    pub error: Option<String>,
    pub created_by: String,
    pub created_at: DateTimeUtc,
    pub finished_at: Option<DateTimeUtc>,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
