//! Task rows, their dependency edges, and the task enums.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a task stands. `done` and `cancel` close a task; the others are open.
#[derive(
    Debug,
    Clone,
    Copy,
    Default,
    PartialEq,
    Eq,
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
pub enum TaskStatus {
    #[default]
    #[sea_orm(string_value = "todo")]
    Todo,
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    #[sea_orm(string_value = "wait")]
    Wait,
    #[sea_orm(string_value = "done")]
    Done,
    #[sea_orm(string_value = "cancel")]
    Cancel,
}

impl TaskStatus {
    pub const NAMES: &str = "todo, in_progress, wait, done, cancel";
    pub const CLOSED: [TaskStatus; 2] = [TaskStatus::Done, TaskStatus::Cancel];

    pub fn is_open(self) -> bool {
        !Self::CLOSED.contains(&self)
    }

    pub fn as_str(self) -> &'static str {
        match self {
            TaskStatus::Todo => "todo",
            TaskStatus::InProgress => "in_progress",
            TaskStatus::Wait => "wait",
            TaskStatus::Done => "done",
            TaskStatus::Cancel => "cancel",
        }
    }
}

/// How urgent a task is; stored as a number so that "next" can walk an index by priority.
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
#[sea_orm(rs_type = "i32", db_type = "Integer")]
#[serde(rename_all = "snake_case")]
pub enum Priority {
    #[sea_orm(num_value = 0)]
    Low,
    #[default]
    #[sea_orm(num_value = 1)]
    Medium,
    #[sea_orm(num_value = 2)]
    High,
    #[sea_orm(num_value = 3)]
    Critical,
}

impl Priority {
    pub const NAMES: &str = "low, medium, high, critical";

    pub fn as_str(self) -> &'static str {
        match self {
            Priority::Low => "low",
            Priority::Medium => "medium",
            Priority::High => "high",
            Priority::Critical => "critical",
        }
    }
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel, Serialize)]
#[sea_orm(table_name = "dev_tasks")]
pub struct Model {
    /// The human id, e.g. `CUST-WP-0025-T03`.
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub workplan_id: String,
    /// The workplan's domain, kept here for domain-scoped task queries.
    pub domain: String,
    pub title: String,
    pub body: String,
    pub status: TaskStatus,
    pub priority: Priority,
    pub assignee: Option<String>,
    /// The heading of the workplan section (phase) the task is in.
    pub phase: Option<String>,
    pub workstream: Option<String>,
    /// Order within the workplan document.
    pub position: i32,
    /// Task block keys the hub does not know, kept for export.
    pub extra: Json,
    pub claimed_by: Option<String>,
    pub claim_expires_at: Option<DateTimeUtc>,
    pub created_at: DateTimeUtc,
    pub updated_at: DateTimeUtc,
}

impl Model {
    /// The live claim's holder: a claim past its lease is no claim.
    pub fn holder(&self, now: chrono::DateTime<chrono::Utc>) -> Option<&str> {
        match (&self.claimed_by, self.claim_expires_at) {
            (Some(by), Some(until)) if until > now => Some(by),
            _ => None,
        }
    }
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

/// One edge: `task_id` depends on `depends_on`.
pub mod dep {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, Eq, DeriveEntityModel)]
    #[sea_orm(table_name = "dev_task_deps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub task_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub depends_on: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
