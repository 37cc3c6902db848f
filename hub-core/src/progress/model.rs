//! Progress event rows, the current state of each risk/alert key, and their enums.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How serious an event is; ordered from `info` up to `critical`.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
    PartialOrd,
    Ord,
    Hash,
    EnumIter,
    DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
    schemars::JsonSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    #[default]
    #[sea_orm(string_value = "info")]
    Info,
    #[sea_orm(string_value = "low")]
    Low,
    #[sea_orm(string_value = "medium")]
    Medium,
    #[sea_orm(string_value = "high")]
    High,
    #[sea_orm(string_value = "critical")]
    Critical,
}

/// What a tracked key is.
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
    schemars::JsonSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum StateKind {
    #[sea_orm(string_value = "risk")]
    Risk,
    #[sea_orm(string_value = "alert")]
    Alert,
}

impl std::fmt::Display for StateKind {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(match self {
            StateKind::Risk => "risk",
            StateKind::Alert => "alert",
        })
    }
}

/// The state of a risk (`open`, `mitigated`) or an alert (`open`, `acknowledged`, `resolved`).
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
    schemars::JsonSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum State {
    #[sea_orm(string_value = "open")]
    Open,
    #[sea_orm(string_value = "acknowledged")]
    Acknowledged,
    #[sea_orm(string_value = "mitigated")]
    Mitigated,
    #[sea_orm(string_value = "resolved")]
    Resolved,
}

impl State {
    /// The states that count as open; the rest are closed.
    pub const OPEN: [State; 2] = [State::Open, State::Acknowledged];

    pub fn is_open(self) -> bool {
        Self::OPEN.contains(&self)
    }
}

/// One progress event; never updated or deleted.
pub mod event {
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    use super::Severity;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
    #[sea_orm(table_name = "progress_events")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub event_type: String,
        pub domain: Option<String>,
        /// A JSON object of references (`{"task": "T1"}`), not foreign keys.
        pub subject_refs: Json,
        pub summary: String,
        pub severity: Severity,
        /// The identity of the risk/alert the event is about.
        pub key: Option<String>,
        pub actor: String,
        pub time: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// The current state of one risk or alert key, kept up to date with each event about it.
pub mod state {
    use sea_orm::entity::prelude::*;
    use serde::Serialize;

    use super::{Severity, State, StateKind};

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
    #[sea_orm(table_name = "progress_states")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub kind: StateKind,
        #[sea_orm(primary_key, auto_increment = false)]
        pub key: String,
        pub state: State,
        /// The highest severity seen while open (in the current open period).
        pub severity: Severity,
        /// True once a risk was escalated in the current open period.
        pub escalated: bool,
        pub domain: Option<String>,
        /// The summary of the latest event.
        pub summary: String,
        /// When the current open period began.
        pub opened_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
        pub last_actor: String,
        /// Events about this key, over all its open periods.
        pub event_count: i64,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
