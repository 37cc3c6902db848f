//! Agent presence rows: one per principal that sent a heartbeat.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "agents")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub sub: String,
    /// The principal kind (`human`, `agent`, `service`) at its last heartbeat.
    pub kind: String,
    pub status: Option<String>,
    pub metadata: Option<Json>,
    pub first_seen: DateTimeUtc,
    pub last_seen: DateTimeUtc,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}
