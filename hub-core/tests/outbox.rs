//! The outbox table across migrations: rows written before the `data` column became text
//! (migration 12; `jsonb` on PostgreSQL until then) are sent on afterwards as the same JSON.

use hub_core::outbox::{Event, model as outbox};
use sea_orm::{ConnectionTrait, EntityTrait};
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};

use crate::support::{Backend, fresh_database};

/// Migrations before the outbox's `data` became text.
const BEFORE_TEXT_DATA: u32 = 11;

async fn rows_survive_the_data_column_becoming_text(backend: Backend) {
    let (url, _dir) = fresh_database(backend).await;
    let db = hub_core::db::connect(&url).await.expect("database");
    migrations::core::Migrator::up(&db, Some(BEFORE_TEXT_DATA))
        .await
        .expect("migrations up to 11");
    db.execute_unprepared(
        "INSERT INTO outbox (id, source, event_type, subject, time, data, attempts) VALUES \
         ('e1', '/hubs/dev', 'hubmesh.message.created', 'm1', '2026-12-07T05:00:00Z', \
          '{\"recipients\": [\"bob\", \"carol@ops\"], \"note\": \"a \\\"quoted\\\" line\"}', 0)",
    )
    .await
    .expect("a row written by the old schema");
    let expected = json!({"recipients": ["bob", "carol@ops"], "note": "a \"quoted\" line"});

    migrations::core::Migrator::up(&db, None)
        .await
        .expect("the rest of the migrations");
    let rows = outbox::Entity::find().all(&db).await.expect("outbox rows");
    assert_eq!(rows.len(), 1);
    let event = Event::from(rows[0].clone());
    assert_eq!(event.data_as::<Value>().expect("JSON data"), expected);

    // Down again (13, then 12): the column takes the text back as JSON.
    migrations::core::Migrator::down(&db, Some(2))
        .await
        .expect("migrations 13 and 12 down");
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            "SELECT CAST(data AS TEXT) FROM outbox",
        ))
        .await
        .expect("read back")
        .expect("the row");
    let text: String = row.try_get_by_index(0).expect("text");
    assert_eq!(
        serde_json::from_str::<Value>(&text).expect("JSON"),
        expected
    );
}

#[tokio::test]
async fn rows_survive_the_data_column_becoming_text_sqlite() {
    rows_survive_the_data_column_becoming_text(Backend::Sqlite).await;
}

#[tokio::test]
async fn rows_survive_the_data_column_becoming_text_postgres() {
    rows_survive_the_data_column_becoming_text(Backend::Postgres).await;
}
