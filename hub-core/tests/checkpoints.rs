//! The SQLite writer's log is copied into the database file by the hub's checkpointer
//! (`db::checkpoint`), not inside the writer's commits.

use std::time::Duration;

use hub_core::domain::model as domain;
use sea_orm::{EntityTrait, Set};

use crate::support::{Backend, TestHub};

/// Whether the database file itself, read without its log, holds domain `slug`. The copy may
/// catch the file mid-checkpoint; a copy that does not open counts as not yet.
async fn in_database_file(url: &str, slug: &str) -> bool {
    let path = url
        .trim_start_matches("sqlite://")
        .split('?')
        .next()
        .unwrap();
    let dir = tempfile::tempdir().expect("temp dir");
    let copy = dir.path().join("copy.db");
    std::fs::copy(path, &copy).expect("copy the database file");
    let Ok(db) = sea_orm::Database::connect(format!("sqlite://{}", copy.display())).await else {
        return false;
    };
    matches!(domain::Entity::find_by_id(slug).one(&db).await, Ok(Some(_)))
}

#[tokio::test]
async fn committed_rows_reach_the_database_file_without_the_writer_copying_them() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let ctx = hub.ctx();
    let mut writes = ctx.writes();
    writes.queue(&domain::Entity::insert(domain::ActiveModel {
        slug: Set("copied".into()),
        name: Set("copied".into()),
        description: Set(String::new()),
        owner: Set(None),
        created_at: Set(chrono::Utc::now()),
    }));
    ctx.apply(writes).await.expect("write");
    // The writer's own threshold is thousands of pages away: only the checkpointer copies
    // this one commit into the file.
    testkit::eventually(
        "the row in the database file",
        Duration::from_secs(10),
        || in_database_file(&hub.url, "copied"),
    )
    .await;
    // And the hub still reads it through its own connections.
    let row = domain::Entity::find_by_id("copied")
        .one(&ctx.db)
        .await
        .expect("read");
    assert!(row.is_some());
}
