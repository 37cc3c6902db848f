//! Note rows and what they are about.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// The kind of resource a note is about.
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
pub enum SubjectKind {
    #[sea_orm(string_value = "workplan")]
    Workplan,
    #[sea_orm(string_value = "task")]
    Task,
    #[sea_orm(string_value = "decision")]
    Decision,
    #[sea_orm(string_value = "topic")]
    Topic,
}

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "dev_notes")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub subject_kind: SubjectKind,
    pub subject_id: String,
    /// The subject's domain.
    pub domain: String,
    pub body: String,
    pub author: String,
    pub created_at: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl SubjectKind {
    pub fn name(self) -> &'static str {
        match self {
            SubjectKind::Workplan => "workplan",
            SubjectKind::Task => "task",
            SubjectKind::Decision => "decision",
            SubjectKind::Topic => "topic",
        }
    }
}
