//! `Ctx::begin` / `Tx::commit` under concurrent writers: on SQLite they share commits (group
//! commit), so these check that sharing changes nothing a writer can observe.

use std::sync::Arc;

use hub_core::HubError;
use hub_core::outbox::model as outbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter};
use serde_json::json;

use crate::both;
use crate::support::TestHub;

const WRITERS: usize = 40;

/// Writer `i` emits one event; odd writers fail after writing and so must leave nothing behind.
async fn write(ctx: &hub_core::Ctx, i: usize) -> Result<(), HubError> {
    let mut tx = ctx.begin().await?;
    tx.emit("test", "written", &i.to_string(), &json!({ "i": i }))
        .await?;
    if i % 2 == 1 {
        return Err(HubError::Conflict(format!("writer {i} gives up")));
    }
    tx.commit().await
}

async fn visible(ctx: &hub_core::Ctx, i: usize) -> bool {
    outbox::Entity::find()
        .filter(outbox::Column::EventType.eq("hubmesh.test.written"))
        .filter(outbox::Column::Subject.eq(i.to_string()))
        .one(&ctx.db)
        .await
        .expect("read the outbox")
        .is_some()
}

both!(
    concurrent_writers_commit_or_roll_back_alone,
    |hub: TestHub| async move {
        let ctx = Arc::new(hub.ctx().clone());
        let mut committed = ctx.subscribe_committed();
        let writers: Vec<_> = (0..WRITERS)
            .map(|i| {
                let ctx = ctx.clone();
                tokio::spawn(async move {
                    let res = write(&ctx, i).await;
                    // Once `commit` returned, every other connection sees the change.
                    let seen = visible(&ctx, i).await;
                    (i, res.is_ok(), seen)
                })
            })
            .collect();
        for w in writers {
            let (i, ok, seen) = w.await.expect("writer");
            assert_eq!(ok, i % 2 == 0, "writer {i} outcome");
            assert_eq!(seen, ok, "writer {i}: committed {ok} but visible {seen}");
        }
        let mut subjects: Vec<usize> = hub
            .events("test.written")
            .await
            .iter()
            .map(|d| d["i"].as_u64().expect("i") as usize)
            .collect();
        subjects.sort();
        let even: Vec<usize> = (0..WRITERS).step_by(2).collect();
        assert_eq!(
            subjects, even,
            "only the committed writers' rows are stored"
        );
        // Post-commit handlers get exactly the committed events.
        let mut handed_on = Vec::new();
        while let Ok(e) = committed.try_recv() {
            handed_on.push(e.subject.parse::<usize>().expect("subject"));
        }
        handed_on.sort();
        assert_eq!(handed_on, even);
    }
);
