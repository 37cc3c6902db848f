//! Capability catalog and capability request rows.

use sea_orm::sea_query::StringLen;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// A catalog entry: something a provider offers to do on request.
pub mod capability {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "capabilities")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub name: String,
        /// The `sub` of the principal that registered it.
        pub provider: String,
        /// The hub that serves it.
        pub hub: String,
        pub description: String,
        pub input_schema: Option<Json>,
        pub domain: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// A request for a catalog entry, addressed to its provider.
pub mod request {
    use sea_orm::entity::prelude::*;

    use super::Status;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "capability_requests")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The catalog entry's name.
        pub capability: String,
        pub requester: String,
        pub provider: String,
        pub domain: Option<String>,
        pub status: Status,
        pub input: Option<Json>,
        /// The requester's note at creation.
        pub note: Option<String>,
        /// The note given with the latest status change.
        pub status_note: Option<String>,
        pub result: Option<Json>,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// Where a capability request stands. The allowed moves are `service::transition_allowed`.
#[derive(
    Debug,
    Clone,
    Copy,
    PartialEq,
    Eq,
    Hash,
    sea_orm::EnumIter,
    sea_orm::DeriveActiveEnum,
    Serialize,
    Deserialize,
    ToSchema,
    schemars::JsonSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "snake_case")]
pub enum Status {
    #[sea_orm(string_value = "requested")]
    Requested,
    #[sea_orm(string_value = "accepted")]
    Accepted,
    #[sea_orm(string_value = "in_progress")]
    InProgress,
    #[sea_orm(string_value = "fulfilled")]
    Fulfilled,
    #[sea_orm(string_value = "rejected")]
    Rejected,
    #[sea_orm(string_value = "cancelled")]
    Cancelled,
}

impl Status {
    /// The states in which a request still needs work.
    pub const OPEN: [Status; 3] = [Status::Requested, Status::Accepted, Status::InProgress];
}

impl std::fmt::Display for Status {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str(&sea_orm::ActiveEnum::to_value(self))
    }
}
