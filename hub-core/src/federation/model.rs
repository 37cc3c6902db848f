//! The federation alerts view: one row per (hub, kind, key), the latest state its signals reported.

use sea_orm::entity::prelude::*;

use crate::progress::model::{Severity, State, StateKind};

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "federation_alerts")]
pub struct Model {
    /// `<hub>:<kind>:<key>`: the row's identity and the list's sort key.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub hub: String,
    pub kind: StateKind,
    pub key: String,
    pub state: State,
    /// Whether `state` counts as open (`open` or `acknowledged`).
    pub open: bool,
    pub severity: Severity,
    pub escalated: bool,
    pub domain: Option<String>,
    pub summary: String,
    pub event_type: String,
    pub updated_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
