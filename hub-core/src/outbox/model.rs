//! Outbox rows.

use sea_orm::entity::prelude::*;

#[derive(Clone, Debug, PartialEq, DeriveEntityModel)]
#[sea_orm(table_name = "outbox")]
pub struct Model {
    #[sea_orm(primary_key, auto_increment = false)]
    pub id: String,
    pub source: String,
    pub event_type: String,
    pub subject: String,
    pub time: DateTimeUtc,
    /// The event's data as JSON text, as it goes on the bus: stored as text, never parsed here.
    pub data: String,
    /// When the relay saw the bus acknowledge it; `None` while unsent.
    pub sent_at: Option<DateTimeUtc>,
    pub attempts: i32,
}

#[derive(Copy, Clone, Debug, EnumIter, DeriveRelation)]
pub enum Relation {}

impl ActiveModelBehavior for ActiveModel {}

impl Model {
    /// Reads the columns of [`Column::iter`], in that order (the fields' order).
    pub(crate) fn read(c: &mut crate::db::Cells) -> Result<Self, DbErr> {
        Ok(Self {
            id: c.take()?,
            source: c.take()?,
            event_type: c.take()?,
            subject: c.take()?,
            time: c.take()?,
            data: c.take()?,
            sent_at: c.take()?,
            attempts: c.take()?,
        })
    }
}

#[cfg(test)]
mod tests {
    use chrono::Utc;
    use sea_orm::{ActiveModelTrait, IntoActiveModel, QueryOrder, QueryTrait};

    use super::*;
    use crate::db::InlineReads;

    /// The relay reads its rows inline on a SQLite file: every column as sea-orm reads it.
    #[tokio::test]
    async fn outbox_rows_read_inline_as_sea_orm_reads_them() {
        let (_dir, url) = crate::db::temp_sqlite_url("outbox.db");
        let db = crate::db::connect(&url).await.expect("pool");
        crate::db::migrate_core(&db).await.expect("migrations");
        let row = |id: &str, sent_at, attempts| Model {
            id: id.into(),
            source: "/hubs/dev".into(),
            event_type: "hubmesh.message.created".into(),
            subject: "m1".into(),
            // Full precision, so a decoding that drops digits shows.
            time: Utc::now(),
            data: r#"{"to":["bob","carol@ops"],"n":2,"deep":{"ok":true}}"#.into(),
            sent_at,
            attempts,
        };
        for model in [row("e1", Some(Utc::now()), 1), row("e2", None, 3)] {
            model.into_active_model().insert(&db).await.expect("insert");
        }
        let q = Entity::find().order_by_asc(Column::Id);
        let reads = InlineReads::for_url(&url).expect("a SQLite file");
        let inline = reads
            .select(&q.clone().into_query(), Model::read)
            .expect("inline read");
        let orm = q.all(&db).await.expect("sea-orm read");
        assert_eq!(inline.len(), 2);
        assert_eq!(inline, orm);
    }
}
