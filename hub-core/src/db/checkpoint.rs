//! WAL checkpoints off the writer's path, for a SQLite file.
//!
//! SQLite copies its write-ahead log back into the database file when a commit leaves the log
//! longer than `wal_autocheckpoint` pages, inside that commit, while every queued writer waits.
//! With the default 1,000 pages that was a 4–9 ms stall about every 46 ms at 1,000 changes/s,
//! most of the federation benchmark's p99 (docs/BENCHMARKS.md, session 19). Here a connection of
//! its own copies the log after commits, in passive passes that never block the writer; the
//! writer's own threshold stays only as a safety net ([`WRITER_AUTOCHECKPOINT`]).
//!
//! A passive pass cannot start the log over: new commits keep arriving behind it. SQLite starts
//! the log over at the first write after a checkpoint that left nothing behind, so when a pass
//! leaves only a few pages, it asks the writer ([`Wal::take_restart`]) to copy those itself,
//! between two of its transactions; the log file then stays small.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use sea_orm::{ConnectionTrait, DatabaseConnection, DbBackend, DbErr, Statement};
use tokio::sync::Notify;
use tokio_util::sync::CancellationToken;

/// The writer connection's own `wal_autocheckpoint`, in pages (40 MiB of 4 KiB pages): reached
/// only if the passes stop or fall far behind.
pub const WRITER_AUTOCHECKPOINT: u32 = 10_000;

/// Least time between two passes: each pass syncs the log and the database file, so under a
/// steady load one pass takes in what 10 ms of commits wrote.
const PASS_GAP: Duration = Duration::from_millis(10);

/// Pages the log must hold before it is worth starting over.
const RESTART_FROM: u64 = 1_000;

/// Most pages a pass may leave for the writer to copy when it starts the log over: a copy of
/// this size takes the writer well under a millisecond.
const WRITER_COPIES_AT_MOST: u64 = 512;

/// What the writer and the checkpointer tell each other.
#[derive(Default)]
pub struct Wal {
    /// The writer committed: the log has pages to copy.
    written: Notify,
    /// The last pass left few pages: the writer is to copy them and start the log over.
    restart: AtomicBool,
}

impl Wal {
    /// Called by the writer after each commit.
    pub fn written(&self) {
        self.written.notify_one();
    }

    /// Takes in a pass: one that left only a few pages of a long log asks the writer to copy
    /// them.
    pub fn after_pass(&self, pass: Pass) {
        if pass.log >= RESTART_FROM && pass.log - pass.copied <= WRITER_COPIES_AT_MOST {
            self.restart.store(true, Ordering::Relaxed);
        }
    }

    /// Whether the writer is to copy the rest of the log now; asks it once.
    pub fn take_restart(&self) -> bool {
        self.restart.swap(false, Ordering::Relaxed)
    }
}

/// One pass's outcome, as `PRAGMA wal_checkpoint` reports it.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Pass {
    /// Pages in the log.
    pub log: u64,
    /// Of those, pages now in the database file.
    pub copied: u64,
}

/// Copies what it can of the log into the database file without waiting for anybody.
async fn pass(db: &DatabaseConnection) -> Result<Pass, DbErr> {
    let row = db
        .query_one_raw(Statement::from_string(
            DbBackend::Sqlite,
            "PRAGMA wal_checkpoint(PASSIVE)",
        ))
        .await?
        .ok_or_else(|| DbErr::Custom("wal_checkpoint returned no row".into()))?;
    // -1 for both when the database is not in WAL mode.
    let pages = |i| row.try_get_by_index::<i64>(i).map(|n| n.max(0) as u64);
    Ok(Pass {
        log: pages(1)?,
        copied: pages(2)?,
    })
}

/// Runs passes on `db`, a connection of its own, after the writer's commits until `stop` is
/// cancelled. A failed pass is logged; the writer's own checkpoints cover for it.
pub async fn run(db: DatabaseConnection, wal: std::sync::Arc<Wal>, stop: CancellationToken) {
    loop {
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = wal.written.notified() => {}
        }
        match pass(&db).await {
            Ok(p) => wal.after_pass(p),
            Err(e) => {
                tracing::warn!(error = %e, "WAL checkpoint failed; the writer checkpoints by itself")
            }
        }
        tokio::select! {
            _ = stop.cancelled() => return,
            _ = tokio::time::sleep(PASS_GAP) => {}
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn only_a_pass_that_left_few_pages_of_a_long_log_asks_the_writer() {
        let wal = Wal::default();
        let asks = |log, copied| {
            wal.after_pass(Pass { log, copied });
            wal.take_restart()
        };
        assert!(asks(RESTART_FROM, RESTART_FROM), "all copied");
        assert!(asks(5_000, 5_000 - WRITER_COPIES_AT_MOST), "few left");
        assert!(
            !asks(5_000, 5_000 - WRITER_COPIES_AT_MOST - 1),
            "too many left"
        );
        assert!(!asks(RESTART_FROM - 1, RESTART_FROM - 1), "a short log");
        wal.after_pass(Pass {
            log: 2_000,
            copied: 2_000,
        });
        assert!(wal.take_restart());
        assert!(!wal.take_restart(), "asked once");
    }
}
