//! `Ctx::begin` / `Tx::commit` under concurrent writers: on SQLite they share commits (group
//! commit), so these check that sharing changes nothing a writer can observe: a writer that gives
//! up or whose queued statements fail at commit leaves nothing, and the others commit.

use std::sync::Arc;

use hub_core::HubError;
use hub_core::domain::model as domain;
use hub_core::outbox::model as outbox;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde_json::json;

use crate::both;
use crate::support::TestHub;

const WRITERS: usize = 50;

/// How writer `i` writes its domain row and event, and how it ends.
#[derive(Debug, PartialEq)]
enum Fate {
    /// A `Tx`: the row written at once, the event queued.
    Commits,
    /// As `Commits`, but returns an error before `commit`, dropping the transaction.
    GivesUp,
    /// As `Commits`, but also queues a row whose key exists, so `commit` itself fails.
    FailsAtCommit,
    /// `Ctx::apply`: row and event queued, run together with other writers' writes.
    Applies,
    /// As `Applies`, with a row whose key exists among its writes.
    ApplyFails,
}

fn fate(i: usize) -> Fate {
    match i % 5 {
        0 => Fate::Commits,
        1 => Fate::GivesUp,
        2 => Fate::FailsAtCommit,
        3 => Fate::Applies,
        _ => Fate::ApplyFails,
    }
}

fn commits(i: usize) -> bool {
    matches!(fate(i), Fate::Commits | Fate::Applies)
}

fn domain(slug: &str) -> domain::ActiveModel {
    domain::ActiveModel {
        slug: Set(slug.to_owned()),
        name: Set(slug.to_owned()),
        description: Set(String::new()),
        owner: Set(None),
        created_at: Set(chrono::Utc::now()),
    }
}

/// Writer `i`: a domain row and an event, then its fate.
async fn write(ctx: &hub_core::Ctx, i: usize) -> Result<(), HubError> {
    if matches!(fate(i), Fate::Applies | Fate::ApplyFails) {
        let mut writes = ctx.writes();
        writes.queue(&domain::Entity::insert(domain(&format!("w-{i}"))));
        writes.emit("test", "written", &i.to_string(), &json!({ "i": i }))?;
        if fate(i) == Fate::ApplyFails {
            writes.queue(&domain::Entity::insert(domain("taken")));
        }
        return ctx.apply(writes).await;
    }
    let mut tx = ctx.begin().await?;
    domain::Entity::insert(domain(&format!("w-{i}")))
        .exec_without_returning(&*tx)
        .await?;
    tx.emit("test", "written", &i.to_string(), &json!({ "i": i }))
        .await?;
    match fate(i) {
        Fate::Commits | Fate::Applies | Fate::ApplyFails => {}
        Fate::GivesUp => return Err(HubError::Conflict(format!("writer {i} gives up"))),
        Fate::FailsAtCommit => tx.queue(&domain::Entity::insert(domain("taken"))),
    }
    tx.commit().await
}

async fn visible(ctx: &hub_core::Ctx, i: usize) -> (bool, bool) {
    let event = outbox::Entity::find()
        .filter(outbox::Column::EventType.eq("hubmesh.test.written"))
        .filter(outbox::Column::Subject.eq(i.to_string()))
        .one(&ctx.db)
        .await
        .expect("read the outbox")
        .is_some();
    let row = domain::Entity::find_by_id(format!("w-{i}"))
        .one(&ctx.db)
        .await
        .expect("read the domains")
        .is_some();
    (row, event)
}

both!(
    concurrent_writers_commit_or_roll_back_alone,
    |hub: TestHub| async move {
        let ctx = Arc::new(hub.ctx().clone());
        domain::Entity::insert(domain("taken"))
            .exec_without_returning(&ctx.db)
            .await
            .expect("the taken slug");
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
            assert_eq!(ok, commits(i), "writer {i} ({:?}) outcome", fate(i));
            assert_eq!(
                seen,
                (ok, ok),
                "writer {i}: committed {ok} but (row, event) visible {seen:?}"
            );
        }
        let mut subjects: Vec<usize> = hub
            .events("test.written")
            .await
            .iter()
            .map(|d| d["i"].as_u64().expect("i") as usize)
            .collect();
        subjects.sort();
        let committers: Vec<usize> = (0..WRITERS).filter(|&i| commits(i)).collect();
        assert_eq!(
            subjects, committers,
            "only the committed writers' rows are stored"
        );
        // Post-commit handlers get exactly the committed events.
        let mut handed_on = Vec::new();
        while let Ok(e) = committed.try_recv() {
            handed_on.push(e.subject.parse::<usize>().expect("subject"));
        }
        handed_on.sort();
        assert_eq!(handed_on, committers);
    }
);

both!(
    a_transaction_writes_more_outbox_rows_than_one_statement_binds,
    |hub: TestHub| async move {
        // 10,000 rows of 8 columns: more bind parameters than SQLite or PostgreSQL take in one
        // statement, so the rows must be split across inserts.
        let n = 10_000;
        let ctx = hub.ctx();
        let mut tx = ctx.begin().await.expect("begin");
        for i in 0..n {
            tx.emit("test", "many", &i.to_string(), &json!({ "i": i }))
                .await
                .expect("emit");
        }
        tx.commit().await.expect("commit");
        let mut written: Vec<u64> = hub
            .events("test.many")
            .await
            .iter()
            .map(|d| d["i"].as_u64().expect("i"))
            .collect();
        written.sort();
        assert_eq!(written, (0..n).collect::<Vec<u64>>());
    }
);

/// Between commits the SQLite writer keeps its transaction begun, but holds no lock: another
/// process (`<hub> mcp` over stdio, `hubmesh migrate`) writes the same file without waiting, and
/// the hub then writes and reads on as before.
#[tokio::test]
async fn an_idle_sqlite_writer_holds_no_lock() {
    let hub = TestHub::new(testkit::Backend::Sqlite).await;
    let (url, ctx) = (&hub.url, hub.ctx());
    let mut writes = ctx.writes();
    writes.queue(&domain::Entity::insert(domain("hub-first")));
    ctx.apply(writes).await.expect("the hub writes");

    // No busy timeout: a lock held by the hub fails this at once instead of waiting it out.
    let mut opts = sea_orm::ConnectOptions::new(url.clone());
    opts.sqlx_logging(false)
        .map_sqlx_sqlite_opts(|o| o.busy_timeout(std::time::Duration::ZERO));
    let other = sea_orm::Database::connect(opts).await.expect("connect");
    use sea_orm::{ConnectionTrait, QueryTrait};
    let insert =
        domain::Entity::insert(domain("other-process")).build(other.get_database_backend());
    other
        .execute_raw(insert)
        .await
        .expect("another connection writes while the hub is idle");

    let mut writes = ctx.writes();
    writes.queue(&domain::Entity::insert(domain("hub-again")));
    ctx.apply(writes).await.expect("the hub writes after it");
    for slug in ["hub-first", "other-process", "hub-again"] {
        let row = domain::Entity::find_by_id(slug)
            .one(&ctx.db)
            .await
            .expect("read");
        assert!(row.is_some(), "{slug} is stored and visible to the hub");
    }
}
