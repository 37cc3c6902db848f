//! Service rows, their dependency edges and the lifecycle enum.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// Where a service is in its life; only `active` services are probed.
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
pub enum Lifecycle {
    #[default]
    #[sea_orm(string_value = "planned")]
    Planned,
    #[sea_orm(string_value = "active")]
    Active,
    #[sea_orm(string_value = "deprecated")]
    Deprecated,
    #[sea_orm(string_value = "retired")]
    Retired,
}

pub mod service {
    use sea_orm::entity::prelude::*;

    use super::Lifecycle;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ops_services")]
    pub struct Model {
        /// A slug chosen by the operator.
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        pub name: String,
        pub kind: String,
        /// The owning domain.
        pub domain: String,
        pub environment: String,
        pub location: String,
        /// `[{"name": …, "url": …}]`.
        pub endpoints: Json,
        pub health_url: Option<String>,
        pub repo: Option<String>,
        /// `["tag", …]`.
        pub tags: Json,
        pub lifecycle: Lifecycle,
        pub created_at: DateTimeUtc,
        pub updated_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}

/// `service_id` depends on `depends_on`.
pub mod dependency {
    use sea_orm::entity::prelude::*;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "ops_service_deps")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub service_id: String,
        #[sea_orm(primary_key, auto_increment = false)]
        pub depends_on: String,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {}

    impl ActiveModelBehavior for ActiveModel {}
}
