//! Message rows and their per-recipient rows.

use sea_orm::entity::prelude::*;
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// How urgent a message is.
#[derive(
    Clone,
    Copy,
    Debug,
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
#[serde(rename_all = "lowercase")]
pub enum Importance {
    #[sea_orm(string_value = "low")]
    Low,
    #[default]
    #[sea_orm(string_value = "normal")]
    Normal,
    #[sea_orm(string_value = "high")]
    High,
    #[sea_orm(string_value = "urgent")]
    Urgent,
}

/// Where a recipient's copy is: `delivered` into an inbox (here or at its hub), `queued` for
/// another hub, or `failed` there (the reason in `delivery_error`).
#[derive(
    Clone, Copy, Debug, PartialEq, Eq, EnumIter, DeriveActiveEnum, Serialize, Deserialize, ToSchema,
)]
#[sea_orm(rs_type = "String", db_type = "String(StringLen::None)")]
#[serde(rename_all = "lowercase")]
pub enum Delivery {
    #[sea_orm(string_value = "queued")]
    Queued,
    #[sea_orm(string_value = "delivered")]
    Delivered,
    #[sea_orm(string_value = "failed")]
    Failed,
}

impl crate::db::Cell for Importance {
    fn cell(v: rusqlite::types::ValueRef) -> rusqlite::types::FromSqlResult<Self> {
        crate::db::enum_cell(v)
    }
}

pub mod message {
    //! The `messages` table.

    use sea_orm::entity::prelude::*;

    use super::Importance;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "messages")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub id: String,
        /// The sending principal's `sub` (always local).
        pub sender: String,
        pub subject: String,
        pub body: String,
        pub thread_id: String,
        pub importance: Importance,
        pub ack_required: bool,
        pub domain: Option<String>,
        pub created_at: DateTimeUtc,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(has_many = "super::recipient::Entity")]
        Recipient,
    }

    impl Related<super::recipient::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Recipient.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}

    impl Model {
        /// Reads the columns of [`Column::iter`], in that order (the fields' order).
        pub(crate) fn read(c: &mut crate::db::Cells) -> Result<Self, DbErr> {
            Ok(Self {
                id: c.take()?,
                sender: c.take()?,
                subject: c.take()?,
                body: c.take()?,
                thread_id: c.take()?,
                importance: c.take()?,
                ack_required: c.take()?,
                domain: c.take()?,
                created_at: c.take()?,
            })
        }
    }
}

pub mod recipient {
    //! The `message_recipients` table: one row per recipient of a message.

    use sea_orm::entity::prelude::*;

    use super::Delivery;

    #[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
    #[sea_orm(table_name = "message_recipients")]
    pub struct Model {
        #[sea_orm(primary_key, auto_increment = false)]
        pub message_id: String,
        /// The address: a local `sub`, or `agent@hub` for another hub.
        #[sea_orm(primary_key, auto_increment = false)]
        pub recipient: String,
        /// The hub the recipient lives at (this hub for local recipients).
        pub hub: String,
        pub delivery: Delivery,
        /// Why the recipient's hub could not deliver it (`delivery` = `failed`).
        pub delivery_error: Option<String>,
        pub read_at: Option<DateTimeUtc>,
        pub acked_at: Option<DateTimeUtc>,
    }

    #[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
    pub enum Relation {
        #[sea_orm(
            belongs_to = "super::message::Entity",
            from = "Column::MessageId",
            to = "super::message::Column::Id"
        )]
        Message,
    }

    impl Related<super::message::Entity> for Entity {
        fn to() -> RelationDef {
            Relation::Message.def()
        }
    }

    impl ActiveModelBehavior for ActiveModel {}
}
