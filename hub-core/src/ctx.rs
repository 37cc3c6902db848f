//! The service context: the database handle and the hub identity services need, and
//! [`Tx`], a transaction that carries the outbox events of the change it makes.

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::sea_query::SelectStatement;
use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, DbErr,
    EntityTrait, Iterable, QueryTrait, Set, Statement, TransactionTrait,
};
use serde::Serialize;
use tokio::sync::{Mutex as AsyncMutex, Notify, OwnedMutexGuard, mpsc, oneshot};

use crate::auth::ServiceTokenSource;
use crate::bus::Bus;
use crate::config::{DEFAULT_OUTBOX_RETENTION, DEFAULT_REQUEST_TIMEOUT};
use crate::db::checkpoint::Wal;
use crate::db::{Cells, InlineReads};
use crate::error::HubError;
use crate::federation::registry::Registry;
use crate::outbox::{Event, model as outbox};

mod merge;

/// What services work with: cheap to clone.
#[derive(Clone)]
pub struct Ctx {
    pub db: DatabaseConnection,
    /// The hub's short name (`dev`, `ops`, `fin`).
    pub hub: Arc<str>,
    /// The federation bus. A trait object: services never see which implementation it is.
    pub bus: Arc<dyn Bus>,
    /// The hubs this hub has heard from over the bus.
    pub registry: Arc<Registry>,
    committed: Arc<Mutex<Vec<mpsc::UnboundedSender<Arc<Event>>>>>,
    /// Woken after every commit that wrote outbox rows, so the relay needs no polling delay.
    pub outbox_wake: Arc<Notify>,
    /// The hub's own service account: the one way to call another hub's HTTP API
    /// (`federation::peer::get`, or `request`/`token_for` with the target's audience). A hub
    /// never forwards a token it received. `None` when the hub has no service account.
    pub service_tokens: Option<Arc<ServiceTokenSource>>,
    /// How long a request to another hub may take (`nats.request_timeout_ms`).
    pub request_timeout: Duration,
    /// How long the relay keeps sent outbox rows (`nats.outbox_retention_days`).
    pub outbox_retention: Duration,
    /// SQLite has one writer at a time: writers queue here (instead of failing with
    /// `SQLITE_BUSY_SNAPSHOT` when a transaction that read first tries to write) and share
    /// commits. `None` on PostgreSQL, whose writers run side by side.
    writer: Option<Arc<Writer>>,
    /// A SQLite file's reads that run on the calling thread (`db::InlineReads`), for the hottest
    /// queries. `None` on PostgreSQL and in-memory SQLite: those queries go through `db`.
    pub inline_reads: Option<Arc<InlineReads>>,
}

/// SQLite's one writer: the batch that holds the open transaction, and the writes of
/// [`Ctx::apply`] waiting for it. They wait apart from the batch, so that a writer hands in its
/// writes at once while the batch is busy committing the previous ones.
#[derive(Default)]
struct Writer {
    batch: Arc<AsyncMutex<Batch>>,
    staging: Mutex<Staging>,
    /// The connection batches write through, when the hub has one apart from its pool.
    db: Option<DatabaseConnection>,
    /// Between the writer and the checkpoints of its log (`db::checkpoint`).
    wal: Arc<Wal>,
}

#[derive(Default)]
struct Staging {
    writes: Vec<(Writes, Outcome)>,
    /// A commit of the batch is queued for its lock and has not yet taken these writes.
    commit_queued: bool,
}

impl Writer {
    fn staging(&self) -> std::sync::MutexGuard<'_, Staging> {
        self.staging.lock().expect("staging poisoned")
    }
}

/// Most transactions one SQLite commit carries.
const MAX_BATCH: usize = 64;

/// Most rows one queued multi-row insert carries.
const ROWS_PER_INSERT: usize = 1000;

/// Most bind parameters one queued multi-row insert takes: below what a statement may have
/// (SQLite 32,766, PostgreSQL 65,535), so that a wide table gets fewer rows a statement.
const PARAMETERS_PER_INSERT: usize = 30_000;

/// The savepoint every writer of a SQLite batch works in: opened with the batch, released and
/// opened again by each writer's commit (in the same round trip as its queued statements), rolled
/// back to when a writer gave up.
const SAVEPOINT: &str = "hub_tx";

/// What a writer learns of its commit.
type Outcome = oneshot::Sender<Result<(), sea_orm::DbErr>>;

/// Group commit on SQLite: the open database transaction that queued writers share. Each [`Tx`]
/// works inside the savepoint [`SAVEPOINT`], so a failing one rolls back alone; the batch commits
/// once the writers that were queued when it opened have had their turn (or it is full), and only
/// then do their `commit` calls return. One commit for many changes writes each touched page once.
/// [`Ctx::apply`]'s writes run together, in one round trip, when the batch commits or before the
/// next [`Tx`] starts.
#[derive(Default)]
struct Batch {
    /// Kept across commits: a commit begins the next transaction in the same round trip, so the
    /// writer's connection never goes back to sqlx's pool (which pings it on its thread each time).
    txn: Option<DatabaseTransaction>,
    /// The transaction holds SQLite's write lock and the savepoint: it has been opened for
    /// writing since its last commit.
    locked: bool,
    events: Vec<Event>,
    waiting: Vec<Outcome>,
    /// The last writer did not commit (an error, or its future was dropped): what it wrote inside
    /// the savepoint is rolled back before anybody else uses the transaction.
    undo: bool,
}

impl Batch {
    fn txn(&self) -> &DatabaseTransaction {
        self.txn.as_ref().expect("a writer holds an open batch")
    }

    /// Opens the batch's transaction for writing unless it is open.
    async fn open(&mut self, db: &DatabaseConnection) -> Result<(), sea_orm::DbErr> {
        if self.locked {
            return Ok(());
        }
        if self.txn.is_none() {
            self.txn = Some(db.begin().await?);
        }
        // Take SQLite's write lock first. Another process may write the same file (`<hub> mcp`
        // over stdio): a transaction that read before writing then fails with
        // SQLITE_BUSY_SNAPSHOT, while one that starts with a write waits out the busy timeout.
        let locking =
            format!("UPDATE outbox SET attempts = attempts WHERE 0; SAVEPOINT {SAVEPOINT}");
        if let Err(e) = self.txn().execute_unprepared(&locking).await {
            // A write that timed out may leave the transaction reading an old snapshot, which
            // every later write in it would fail on: the next `open` begins anew.
            self.discard();
            return Err(e);
        }
        self.locked = true;
        self.undo = false;
        Ok(())
    }

    /// Drops (rolls back) the transaction; the next `open` begins anew.
    fn discard(&mut self) {
        self.txn = None;
        self.locked = false;
    }

    /// Commits the open transaction and begins the next one in the same round trip. A deferred
    /// `BEGIN` takes no lock and reads nothing until the next `open`, so an idle hub holds
    /// nothing another process or a checkpoint waits for. On failure the transaction is dropped
    /// ([`Batch::discard`]).
    async fn commit(&mut self) -> Result<(), sea_orm::DbErr> {
        self.locked = false;
        self.undo = false;
        // `BEGIN` runs only after `COMMIT` succeeded, and a deferred one fails only when SQLite
        // cannot allocate: an error here is the commit's.
        let Err(e) = self.txn().execute_unprepared("COMMIT; BEGIN").await else {
            return Ok(());
        };
        self.discard();
        Err(e)
    }

    /// Copies the rest of the log into the database file between two transactions, so that the
    /// next one starts the log over (`db::checkpoint`). Not the commit's concern: a failure only
    /// drops the (empty) transaction.
    async fn copy_log_back(&mut self) {
        if self.locked || self.txn.is_none() {
            return;
        }
        let copy = "COMMIT; PRAGMA wal_checkpoint(PASSIVE); BEGIN";
        if let Err(e) = self.txn().execute_unprepared(copy).await {
            tracing::debug!(error = %e, "the writer could not copy the log back");
            self.discard();
        }
    }

    /// Rolls back what a writer that gave up left in the savepoint.
    async fn undo_pending(&mut self) -> Result<(), sea_orm::DbErr> {
        if self.undo && self.txn.is_some() {
            self.txn()
                .execute_unprepared(&format!("ROLLBACK TO {SAVEPOINT}"))
                .await?;
        }
        self.undo = false;
        Ok(())
    }

    /// Runs the writers' statements in the open batch and releases them into it, in one
    /// multi-statement call (its `?` parameters number on across the statements), their inserts
    /// of one text merged ([`merge::coalesce`]); on failure rolls them back.
    async fn run<'s>(
        &mut self,
        writers: impl IntoIterator<Item = &'s [Statement]>,
    ) -> Result<(), sea_orm::DbErr> {
        let mut sql = String::new();
        let mut values = Vec::new();
        for statement in merge::coalesce(writers) {
            statement.write_sql(&mut sql);
            sql.push_str(";\n");
            values.extend(statement.values);
        }
        sql.push_str(&format!("RELEASE {SAVEPOINT}; SAVEPOINT {SAVEPOINT}"));
        let statement = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
        let Err(e) = self.txn().execute_raw(statement).await else {
            return Ok(());
        };
        self.undo = true;
        if let Err(undo) = self.undo_pending().await {
            // `undo` stays set: the next user of the batch tries again.
            tracing::warn!(error = %undo, "cannot roll back a failed write");
        }
        Err(e)
    }

    /// Runs staged writes: all in one call, or, if that fails, one by one so that only the
    /// failing ones fail.
    async fn flush(&mut self, staged: Vec<(Writes, Outcome)>) {
        if staged.is_empty() {
            return;
        }
        let together = staged.len() > 1;
        if together
            && self
                .run(staged.iter().map(|(w, _)| &w.statements[..]))
                .await
                .is_ok()
        {
            for (writes, done) in staged {
                self.join(writes, done);
            }
            return;
        }
        for (writes, done) in staged {
            match self.run([&writes.statements[..]]).await {
                Ok(()) => self.join(writes, done),
                Err(e) => {
                    let _ = done.send(Err(e));
                }
            }
        }
    }

    /// Makes run writes part of the batch: their events go out and their writer hears of the
    /// batch's commit.
    fn join(&mut self, writes: Writes, done: Outcome) {
        self.events.extend(writes.events);
        self.waiting.push(done);
    }
}

impl Ctx {
    pub fn new(db: DatabaseConnection, hub: &str, bus: Arc<dyn Bus>) -> Self {
        let writer = (db.get_database_backend() == DbBackend::Sqlite).then(Arc::default);
        Self {
            db,
            hub: hub.into(),
            bus,
            registry: Arc::default(),
            service_tokens: None,
            committed: Arc::default(),
            outbox_wake: Arc::new(Notify::new()),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            outbox_retention: DEFAULT_OUTBOX_RETENTION,
            writer,
            inline_reads: None,
        }
    }

    /// Batches write through `db`, a connection of their own (`db::connect_writer`), instead of
    /// whichever connection of the pool is free, so its page cache stays warm. SQLite only.
    pub fn with_writer_connection(mut self, db: DatabaseConnection) -> Self {
        if self.writer.is_some() {
            self.writer = Some(Arc::new(Writer {
                db: Some(db),
                ..Writer::default()
            }));
        }
        self
    }

    /// What the checkpoints of the writer's log work with (`db::checkpoint::run`): `None` unless
    /// batches write through a connection of their own.
    pub fn wal(&self) -> Option<Arc<Wal>> {
        let writer = self.writer.as_ref()?;
        writer.db.as_ref().map(|_| writer.wal.clone())
    }

    /// Runs a hot query and reads each row by position (`db::Cells`, the select's column
    /// order): inline on a SQLite file (`db::InlineReads`), otherwise through `db`.
    pub async fn read_rows<T>(
        &self,
        q: &SelectStatement,
        mut read: impl FnMut(&mut Cells) -> Result<T, DbErr>,
    ) -> Result<Vec<T>, DbErr> {
        match &self.inline_reads {
            Some(reads) => reads.select(q, read),
            None => self
                .db
                .query_all(q)
                .await?
                .iter()
                .map(|row| read(&mut Cells::new(row)))
                .collect(),
        }
    }

    /// The connection a batch opens its transaction on.
    fn write_db(&self) -> &DatabaseConnection {
        self.writer
            .as_ref()
            .and_then(|w| w.db.as_ref())
            .unwrap_or(&self.db)
    }

    /// Starts a transaction whose events are written to the outbox with it.
    pub async fn begin(&self) -> Result<Tx<'_>, HubError> {
        let writes = self.writes();
        let Some(writer) = &self.writer else {
            return Ok(Tx {
                ctx: self,
                conn: Conn::Own(self.db.begin().await?),
                writes,
            });
        };
        let mut batch = writer.batch.clone().lock_owned().await;
        batch.open(self.write_db()).await?;
        self.queue_commit(&mut writer.staging());
        batch.undo_pending().await?;
        // What was staged before this writer came is part of what it reads.
        let staged = std::mem::take(&mut writer.staging().writes);
        batch.flush(staged).await;
        // Until this writer commits, whatever it did is to be undone.
        batch.undo = true;
        Ok(Tx {
            ctx: self,
            conn: Conn::Shared(batch),
            writes,
        })
    }

    /// An empty set of writes for [`Ctx::apply`].
    pub fn writes(&self) -> Writes {
        Writes {
            backend: self.db.get_database_backend(),
            hub: self.hub.clone(),
            statements: Vec::new(),
            events: Vec::new(),
            outbox: Vec::new(),
        }
    }

    /// Commits `writes` as a transaction of their own, for a change that reads nothing inside its
    /// transaction. On SQLite the writer never holds the one writer while it waits: its writes join
    /// the open batch and run together with the others'.
    pub async fn apply(&self, mut writes: Writes) -> Result<(), HubError> {
        writes.seal();
        let Some(writer) = &self.writer else {
            let tx = Tx {
                ctx: self,
                conn: Conn::Own(self.db.begin().await?),
                writes,
            };
            return tx.commit().await;
        };
        let (done, outcome) = oneshot::channel();
        {
            let mut staging = writer.staging();
            staging.writes.push((writes, done));
            self.queue_commit(&mut staging);
        }
        Self::outcome(outcome).await
    }

    /// Queues a commit of the batch behind the writers waiting for it now. The mutex is fair, so
    /// they join the batch first.
    fn queue_commit(&self, staging: &mut Staging) {
        if staging.commit_queued {
            return;
        }
        staging.commit_queued = true;
        let (writer, ctx) = (self.writer.clone().expect("SQLite"), self.clone());
        tokio::spawn(async move { ctx.commit_batch(&mut *writer.batch.lock().await).await });
    }

    /// Commits the open batch and the staged writes, then answers their writers and hands on
    /// their events.
    async fn commit_batch(&self, batch: &mut Batch) {
        let writer = self.writer.as_ref().expect("SQLite");
        let staged = {
            let mut staging = writer.staging();
            staging.commit_queued = false;
            std::mem::take(&mut staging.writes)
        };
        if !batch.locked && staged.is_empty() {
            return;
        }
        let ready = match batch.open(self.write_db()).await {
            Ok(()) => batch.undo_pending().await,
            Err(e) => Err(e),
        };
        let outcome = match ready {
            Ok(()) => {
                batch.flush(staged).await;
                batch.commit().await.map_err(|e| e.to_string())
            }
            // A batch that cannot be opened, or whose savepoint cannot be rolled back, is not
            // committed: its writers learn so.
            Err(e) => {
                batch.discard();
                batch
                    .waiting
                    .extend(staged.into_iter().map(|(_, done)| done));
                Err(e.to_string())
            }
        };
        let waiting = std::mem::take(&mut batch.waiting);
        let events = std::mem::take(&mut batch.events);
        if outcome.is_ok() {
            self.committed(events);
        }
        for w in waiting {
            // A writer that stopped waiting has nobody to tell.
            let _ = w.send(outcome.clone().map_err(sea_orm::DbErr::Custom));
        }
        writer.wal.written();
        if writer.wal.take_restart() {
            batch.copy_log_back().await;
        }
    }

    async fn outcome(
        outcome: oneshot::Receiver<Result<(), sea_orm::DbErr>>,
    ) -> Result<(), HubError> {
        Ok(outcome
            .await
            .map_err(|_| HubError::Internal("the hub stopped before the commit".into()))??)
    }

    /// Wakes the relay and hands committed events to post-commit handlers.
    fn committed(&self, events: Vec<Event>) {
        if events.is_empty() {
            return;
        }
        self.outbox_wake.notify_one();
        let mut subscribers = self.committed.lock().expect("subscriber list poisoned");
        for event in events.into_iter().map(Arc::new) {
            // A closed receiver belongs to a stopped handler: forget it.
            subscribers.retain(|s| s.send(event.clone()).is_ok());
        }
    }

    /// Events after their transaction committed, for post-commit handlers in this process.
    /// Unbounded so that a slow handler never blocks or loses a write's events.
    pub fn subscribe_committed(&self) -> mpsc::UnboundedReceiver<Arc<Event>> {
        let (tx, rx) = mpsc::unbounded_channel();
        self.committed
            .lock()
            .expect("subscriber list poisoned")
            .push(tx);
        rx
    }
}

/// Statements and outbox events a change writes without reading them back, run in order at
/// commit ([`Tx::commit`], [`Ctx::apply`]).
pub struct Writes {
    backend: DbBackend,
    hub: Arc<str>,
    statements: Vec<Statement>,
    events: Vec<Event>,
    /// The outbox rows of `events`: queued together, as the last write.
    outbox: Vec<outbox::ActiveModel>,
}

impl Writes {
    /// Queues a write; a failure surfaces from the commit.
    pub fn queue(&mut self, query: &impl QueryTrait) {
        self.statements.push(query.build(self.backend));
    }

    /// Queues the insert of `rows`, as few statements as the bind parameter limit allows: one
    /// statement for many rows is prepared and run once.
    pub fn queue_insert_all<A>(&mut self, rows: impl IntoIterator<Item = A>)
    where
        A: ActiveModelTrait,
    {
        let columns = <A::Entity as EntityTrait>::Column::iter().count().max(1);
        let per_insert = ROWS_PER_INSERT.min(PARAMETERS_PER_INSERT / columns).max(1);
        let mut rows = rows.into_iter().peekable();
        while rows.peek().is_some() {
            let chunk: Vec<A> = rows.by_ref().take(per_insert).collect();
            self.queue(&A::Entity::insert_many(chunk));
        }
    }

    /// Queues the outbox rows of the events emitted so far.
    fn seal(&mut self) {
        let rows = std::mem::take(&mut self.outbox);
        self.queue_insert_all(rows);
    }

    /// Queues the event `<resource>.<action>` about `subject` and its outbox row.
    pub fn emit(
        &mut self,
        resource: &str,
        action: &str,
        subject: &str,
        data: &impl Serialize,
    ) -> Result<(), HubError> {
        let event = Event::new(&self.hub, resource, action, subject, data)?;
        self.outbox.push(outbox::ActiveModel {
            id: Set(event.id.clone()),
            source: Set(event.source.clone()),
            event_type: Set(event.event_type.clone()),
            subject: Set(event.subject.clone()),
            time: Set(event.time),
            data: Set(event.data.get().to_owned()),
            sent_at: Set(None),
            attempts: Set(0),
        });
        self.events.push(event);
        Ok(())
    }
}

/// A database transaction plus the events its change produces. Dropping it without `commit`
/// rolls both back.
///
/// Statements run on it directly (through `Deref`) run at once; statements handed to
/// [`Tx::queue`], and the outbox rows of [`Tx::emit`], run at `commit`, after them: on SQLite in
/// one round trip to the database together with the savepoint's release, which keeps the time a
/// writer holds SQLite's one writer short.
pub struct Tx<'a> {
    ctx: &'a Ctx,
    conn: Conn,
    writes: Writes,
}

/// Where a [`Tx`] writes.
enum Conn {
    /// PostgreSQL: a transaction of its own.
    Own(DatabaseTransaction),
    /// SQLite: the shared batch, held until this writer committed or gave up.
    Shared(OwnedMutexGuard<Batch>),
}

impl Deref for Tx<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        match &self.conn {
            Conn::Own(txn) => txn,
            Conn::Shared(batch) => batch.txn(),
        }
    }
}

impl Tx<'_> {
    /// The hub the transaction writes to.
    pub fn hub(&self) -> &str {
        &self.ctx.hub
    }

    /// Queues a write that runs at `commit`, after every statement run directly. For writes the
    /// transaction does not read back; a failure surfaces from `commit`.
    pub fn queue(&mut self, query: &impl QueryTrait) {
        self.writes.queue(query);
    }

    /// Queues the insert of `rows` ([`Writes::queue_insert_all`]).
    pub fn queue_insert_all<A: ActiveModelTrait>(&mut self, rows: impl IntoIterator<Item = A>) {
        self.writes.queue_insert_all(rows);
    }

    /// Writes the event `<resource>.<action>` about `subject` to the outbox with this transaction
    /// (queued: the row is inserted at `commit`).
    pub async fn emit(
        &mut self,
        resource: &str,
        action: &str,
        subject: &str,
        data: &impl Serialize,
    ) -> Result<(), HubError> {
        self.writes.emit(resource, action, subject, data)
    }

    /// Commits the change and its events, then hands the events to post-commit handlers.
    /// Returns once the change is durable in the database (on SQLite: once its batch committed).
    pub async fn commit(self) -> Result<(), HubError> {
        let Tx {
            ctx,
            conn,
            mut writes,
        } = self;
        writes.seal();
        let mut batch = match conn {
            Conn::Own(txn) => {
                for statement in writes.statements {
                    txn.execute_raw(statement).await?;
                }
                txn.commit().await?;
                ctx.committed(writes.events);
                return Ok(());
            }
            Conn::Shared(batch) => batch,
        };
        batch.run([&writes.statements[..]]).await?;
        batch.undo = false;
        batch.events.extend(writes.events);
        let (done, outcome) = oneshot::channel();
        batch.waiting.push(done);
        if batch.waiting.len() >= MAX_BATCH {
            ctx.commit_batch(&mut batch).await;
        }
        drop(batch);
        Ctx::outcome(outcome).await
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::bus::MemoryBus;
    use crate::db::checkpoint::Pass;
    use crate::domain::model as domain;

    /// The writer's log file, whose length only grows while the log never starts over.
    fn log_len(url: &str) -> u64 {
        let path = crate::db::sqlite_path(url).expect("a SQLite file");
        std::fs::metadata(format!("{path}-wal")).map_or(0, |m| m.len())
    }

    async fn write_domains(ctx: &Ctx, names: std::ops::Range<usize>) {
        for i in names {
            let mut writes = ctx.writes();
            writes.queue(&domain::Entity::insert(domain::ActiveModel {
                slug: Set(format!("d-{i}")),
                name: Set(format!("domain {i}")),
                description: Set(String::new()),
                owner: Set(None),
                created_at: Set(chrono::Utc::now()),
            }));
            ctx.apply(writes).await.expect("write");
        }
    }

    #[tokio::test]
    async fn asked_after_a_pass_the_writer_copies_the_log_back_and_it_starts_over() {
        let (_dir, url) = crate::db::temp_sqlite_url("wal.db");
        let db = crate::db::connect(&url).await.expect("pool");
        crate::db::migrate_core(&db).await.expect("migrate");
        let writer = crate::db::connect_writer(&url).await.expect("writer");
        let bus = Arc::new(MemoryBus::new(Duration::from_secs(60)));
        let ctx = Ctx::new(db, "dev", bus).with_writer_connection(writer.expect("a file"));
        let wal = ctx.wal().expect("a writer of its own");

        // No checkpointer runs and the writer's threshold is far off: the log only grows.
        write_domains(&ctx, 0..200).await;
        let grown = log_len(&url);
        write_domains(&ctx, 200..210).await;
        assert!(
            log_len(&url) > grown,
            "the log grows while nothing copies it"
        );

        // A pass that left little: the next commit copies the rest after it commits, and the
        // writes after that start the log over instead of growing it.
        wal.after_pass(Pass {
            log: 5_000,
            copied: 5_000,
        });
        write_domains(&ctx, 210..211).await;
        let before = log_len(&url);
        write_domains(&ctx, 211..260).await;
        assert_eq!(log_len(&url), before, "the log started over");
        assert!(!wal.take_restart(), "the writer took the request");
    }
}
