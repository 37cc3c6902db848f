//! The outbox relay: publishes committed outbox rows on the bus, in order per subject and per
//! resource, packed into as few messages as that allows (`batch`), and marks them sent once the
//! bus acknowledged them. A message's id is its event's id, or a digest of its events' ids.
//!
//! It wakes right after a commit (`Ctx::outbox_wake`) and also sweeps on an interval; at most
//! once per sweep interval it also deletes sent rows older than `Ctx::outbox_retention`. While the
//! bus is down it backs off and the hub keeps accepting writes; the rows wait and drain later.
//! On PostgreSQL a batch is claimed with `FOR UPDATE SKIP LOCKED`, so replicas of one hub share
//! the outbox without publishing a row twice at the same time.

use std::time::Duration;

use chrono::Utc;
use sea_orm::sea_query::{Expr, ExprTrait, LockBehavior, LockType};
use sea_orm::{
    ColumnTrait, DbBackend, EntityTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait,
    TransactionTrait, UpdateMany,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::batch::Packer;
use super::{Backoff, BusError, Outgoing};
use crate::ctx::Ctx;
use crate::error::HubError;
use crate::outbox::{Event, model as outbox};

/// Rows published per round trip: publishes are pipelined and acks awaited together.
pub const BATCH: u64 = 1000;
/// How often the relay looks for rows nobody woke it for (rows of a crashed replica, say).
const SWEEP: Duration = Duration::from_secs(2);

/// Runs the relay of `ctx`'s hub until `stop` is cancelled.
pub async fn run(ctx: Ctx, stop: CancellationToken) {
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    let mut pruned_at: Option<Instant> = None;
    loop {
        if pruned_at.is_none_or(|t| t.elapsed() >= SWEEP) {
            pruned_at = Some(Instant::now());
            if let Err(e) = prune_sent(&ctx, ctx.outbox_retention).await {
                tracing::warn!(hub = %ctx.hub, error = %e, "outbox relay: cannot prune sent rows; will retry");
            }
        }
        let pause = match relay_batch(&ctx, BATCH).await {
            Ok(n) if n as u64 == BATCH => {
                backoff.reset();
                if stop.is_cancelled() {
                    return;
                }
                continue;
            }
            Ok(_) => {
                backoff.reset();
                None
            }
            Err(e) => {
                tracing::warn!(hub = %ctx.hub, error = %e, "outbox relay: bus or database unavailable; will retry");
                Some(backoff.next_delay())
            }
        };
        tokio::select! {
            _ = stop.cancelled() => return,
            // After a failure only the backoff wakes the relay: commits must not make it spin.
            _ = ctx.outbox_wake.notified(), if pause.is_none() => {}
            _ = tokio::time::sleep(pause.unwrap_or(SWEEP)) => {}
        }
    }
}

/// Publishes up to `limit` unsent rows; returns how many were sent. Fails if any publish failed
/// (those rows stay unsent with `attempts` counted up).
pub async fn relay_batch(ctx: &Ctx, limit: u64) -> Result<usize, HubError> {
    let unsent = || {
        outbox::Entity::find()
            .filter(outbox::Column::SentAt.is_null())
            .order_by_asc(outbox::Column::Id)
            .limit(limit)
    };
    if ctx.db.get_database_backend() == DbBackend::Postgres {
        // Row locks held while publishing keep other replicas off these rows, not off new writes.
        let txn = ctx.db.begin().await?;
        let rows = unsent()
            .lock_with_behavior(LockType::Update, LockBehavior::SkipLocked)
            .all(&txn)
            .await?;
        let outcome = publish_rows(ctx, rows).await;
        for update in marks(&outcome) {
            update.exec(&txn).await?;
        }
        txn.commit().await?;
        outcome.into_result()
    } else {
        // SQLite has one writer: publish outside any transaction so writes never wait on the bus.
        let rows = ctx
            .read_rows(&unsent().into_query(), outbox::Model::read)
            .await?;
        if rows.is_empty() {
            return Ok(0);
        }
        let outcome = publish_rows(ctx, rows).await;
        let mut writes = ctx.writes();
        for update in marks(&outcome) {
            writes.queue(&update);
        }
        ctx.apply(writes).await?;
        outcome.into_result()
    }
}

struct Outcome {
    sent: Vec<String>,
    failed: Vec<String>,
    first_error: Option<BusError>,
}

impl Outcome {
    fn into_result(self) -> Result<usize, HubError> {
        match self.first_error {
            Some(e) => Err(e.into()),
            None => Ok(self.sent.len()),
        }
    }
}

async fn publish_rows(ctx: &Ctx, rows: Vec<outbox::Model>) -> Outcome {
    let mut packer = Packer::default();
    for row in rows {
        packer.push(&Event::from(row));
    }
    let (messages, ids): (Vec<Outgoing>, Vec<Vec<String>>) = packer.finish().into_iter().unzip();
    let results = ctx.bus.publish(messages).await;
    let mut outcome = Outcome {
        sent: Vec::new(),
        failed: Vec::new(),
        first_error: None,
    };
    for (ids, res) in ids.into_iter().zip(results) {
        match res {
            Ok(()) => outcome.sent.extend(ids),
            Err(e) => {
                outcome.first_error.get_or_insert(e);
                outcome.failed.extend(ids);
            }
        }
    }
    outcome
}

/// The updates that record an outcome: sent rows get `sent_at`, every row one more attempt.
fn marks(outcome: &Outcome) -> Vec<UpdateMany<outbox::Entity>> {
    let mut updates = Vec::new();
    if !outcome.sent.is_empty() {
        updates.push(
            outbox::Entity::update_many()
                .col_expr(outbox::Column::SentAt, Expr::value(Utc::now()))
                .col_expr(
                    outbox::Column::Attempts,
                    Expr::col(outbox::Column::Attempts).add(1),
                )
                .filter(outbox::Column::Id.is_in(outcome.sent.iter().cloned())),
        );
    }
    if !outcome.failed.is_empty() {
        updates.push(
            outbox::Entity::update_many()
                .col_expr(
                    outbox::Column::Attempts,
                    Expr::col(outbox::Column::Attempts).add(1),
                )
                .filter(outbox::Column::Id.is_in(outcome.failed.iter().cloned())),
        );
    }
    updates
}

/// Deletes rows the bus acknowledged more than `retention` ago; returns how many.
/// Unsent rows are never deleted, however old.
pub async fn prune_sent(ctx: &Ctx, retention: Duration) -> Result<u64, HubError> {
    // A retention beyond what a date can hold keeps everything.
    let Some(cutoff) = chrono::TimeDelta::from_std(retention)
        .ok()
        .and_then(|d| Utc::now().checked_sub_signed(d))
    else {
        return Ok(0);
    };
    let tx = ctx.begin().await?;
    let res = outbox::Entity::delete_many()
        .filter(outbox::Column::SentAt.is_not_null())
        .filter(outbox::Column::SentAt.lt(cutoff))
        .exec(&*tx)
        .await?;
    tx.commit().await?;
    Ok(res.rows_affected)
}

/// Rows not yet acknowledged by the bus.
pub async fn unsent_count(ctx: &Ctx) -> Result<u64, HubError> {
    use sea_orm::PaginatorTrait;
    Ok(outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .count(&ctx.db)
        .await?)
}
