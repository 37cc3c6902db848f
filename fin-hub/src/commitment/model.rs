//! Commitment rows and their kinds and cadences.

use schemars::JsonSchema;
use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// What a commitment is for.
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
pub enum CommitmentKind {
    #[sea_orm(string_value = "subscription")]
    Subscription,
    #[sea_orm(string_value = "contract")]
    Contract,
    #[sea_orm(string_value = "salary")]
    Salary,
    #[sea_orm(string_value = "other")]
    Other,
}

/// How often the amount is due.
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
pub enum Cadence {
    #[sea_orm(string_value = "monthly")]
    Monthly,
    #[sea_orm(string_value = "quarterly")]
    Quarterly,
    #[sea_orm(string_value = "yearly")]
    Yearly,
    #[sea_orm(string_value = "one_off")]
    OneOff,
}

impl Cadence {
    /// The months one amount covers (a one-off covers its start day only).
    pub fn months(self) -> u32 {
        match self {
            Cadence::Monthly | Cadence::OneOff => 1,
            Cadence::Quarterly => 3,
            Cadence::Yearly => 12,
        }
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "fin_commitments")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub kind: CommitmentKind,
    pub vendor: String,
    pub domain: String,
    pub service_id: Option<String>,
    /// Minor units per cadence period.
    pub amount: i64,
    pub currency: String,
    pub cadence: Cadence,
    pub start_date: Date,
    /// Inclusive.
    pub end_date: Option<Date>,
    pub description: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// The terms the burn and runway arithmetic works with.
    pub fn terms(&self) -> crate::burn::calc::Terms {
        crate::burn::calc::Terms {
            amount: self.amount,
            currency: self.currency.clone(),
            cadence: self.cadence,
            start: self.start_date,
            end: self.end_date,
        }
    }
}
