//! The service context: the database handle and the hub identity services need, and
//! [`Tx`], a transaction that carries the outbox events of the change it makes.

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, QueryTrait,
    Set, Statement, TransactionTrait,
};
use serde::Serialize;
use tokio::sync::{Mutex as AsyncMutex, Notify, OwnedMutexGuard, mpsc, oneshot};

use crate::auth::ServiceTokenSource;
use crate::bus::Bus;
use crate::config::{DEFAULT_OUTBOX_RETENTION, DEFAULT_REQUEST_TIMEOUT};
use crate::error::HubError;
use crate::federation::registry::Registry;
use crate::outbox::{Event, model as outbox};

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
    writer: Option<Arc<AsyncMutex<Batch>>>,
}

/// Most transactions one SQLite commit carries.
const MAX_BATCH: usize = 64;

/// The savepoint every writer of a SQLite batch works in: opened with the batch, released and
/// opened again by each writer's commit (in the same round trip as its queued statements), rolled
/// back to when a writer gave up.
const SAVEPOINT: &str = "hub_tx";

/// Group commit on SQLite: the open database transaction that queued writers share. Each [`Tx`]
/// works inside the savepoint [`SAVEPOINT`], so a failing one rolls back alone; the batch commits
/// once the writers that were queued when it opened have had their turn (or it is full), and only
/// then do their `commit` calls return. One commit for many changes writes each touched page once.
#[derive(Default)]
struct Batch {
    txn: Option<DatabaseTransaction>,
    events: Vec<Event>,
    waiting: Vec<oneshot::Sender<Result<(), String>>>,
    /// The last writer did not commit (an error, or its future was dropped): what it wrote inside
    /// the savepoint is rolled back before anybody else uses the transaction.
    undo: bool,
}

impl Batch {
    fn txn(&self) -> &DatabaseTransaction {
        self.txn.as_ref().expect("a writer holds an open batch")
    }

    /// Rolls back what a writer that gave up left in the savepoint.
    async fn undo_pending(&mut self) -> Result<(), HubError> {
        if self.undo && self.txn.is_some() {
            self.txn()
                .execute_unprepared(&format!("ROLLBACK TO {SAVEPOINT}"))
                .await?;
        }
        self.undo = false;
        Ok(())
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
        }
    }

    /// Starts a transaction whose events are written to the outbox with it.
    pub async fn begin(&self) -> Result<Tx<'_>, HubError> {
        let Some(writer) = &self.writer else {
            return Ok(Tx {
                ctx: self,
                conn: Conn::Own(self.db.begin().await?),
                pending: Vec::new(),
                events: Vec::new(),
            });
        };
        let mut batch = writer.clone().lock_owned().await;
        if batch.txn.is_none() {
            let txn = self.db.begin().await?;
            // Take SQLite's write lock first. Another process may write the same file (`<hub> mcp`
            // over stdio): a transaction that read before writing then fails with
            // SQLITE_BUSY_SNAPSHOT, while one that starts with a write waits out the busy timeout.
            txn.execute_unprepared(&format!(
                "UPDATE outbox SET attempts = attempts WHERE 0; SAVEPOINT {SAVEPOINT}"
            ))
            .await?;
            batch.txn = Some(txn);
            batch.undo = false;
            // The mutex is fair: this flush queues behind the writers already waiting, so they
            // join the batch, and commits it when its turn comes.
            let (writer, ctx) = (writer.clone(), self.clone());
            tokio::spawn(async move { ctx.commit_batch(&mut *writer.lock().await).await });
        }
        batch.undo_pending().await?;
        // Until this writer commits, whatever it did is to be undone.
        batch.undo = true;
        Ok(Tx {
            ctx: self,
            conn: Conn::Shared(batch),
            pending: Vec::new(),
            events: Vec::new(),
        })
    }

    /// Commits the open batch, if any, then answers its writers and hands on its events.
    async fn commit_batch(&self, batch: &mut Batch) {
        let outcome = match batch.undo_pending().await {
            Ok(()) => Ok(()),
            Err(e) => Err(e.to_string()),
        };
        let Some(txn) = batch.txn.take() else { return };
        let waiting = std::mem::take(&mut batch.waiting);
        let events = std::mem::take(&mut batch.events);
        // A batch whose savepoint could not be rolled back is not committed: its writers learn so.
        let outcome = match outcome {
            Ok(()) => txn.commit().await.map_err(|e| e.to_string()),
            Err(e) => Err(e),
        };
        if outcome.is_ok() {
            self.committed(events);
        }
        for w in waiting {
            // A writer that stopped waiting has nobody to tell.
            let _ = w.send(outcome.clone());
        }
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
    pending: Vec<Statement>,
    events: Vec<Event>,
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
        let statement = query.build(self.get_database_backend());
        self.pending.push(statement);
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
        let data = serde_json::to_value(data)
            .map_err(|e| HubError::Internal(format!("event data: {e}")))?;
        let event = Event::new(&self.ctx.hub, resource, action, subject, data);
        self.queue(&outbox::Entity::insert(outbox::ActiveModel {
            id: Set(event.id.clone()),
            source: Set(event.source.clone()),
            event_type: Set(event.event_type.clone()),
            subject: Set(event.subject.clone()),
            time: Set(event.time),
            data: Set(event.data.clone()),
            sent_at: Set(None),
            attempts: Set(0),
        }));
        self.events.push(event);
        Ok(())
    }

    /// Commits the change and its events, then hands the events to post-commit handlers.
    /// Returns once the change is durable in the database (on SQLite: once its batch committed).
    pub async fn commit(self) -> Result<(), HubError> {
        let Tx {
            ctx,
            conn,
            pending,
            events,
        } = self;
        let mut batch = match conn {
            Conn::Own(txn) => {
                for statement in pending {
                    txn.execute_raw(statement).await?;
                }
                txn.commit().await?;
                ctx.committed(events);
                return Ok(());
            }
            Conn::Shared(batch) => batch,
        };
        // The queued statements, the release of this writer's savepoint and a fresh one for the
        // next writer, as one multi-statement call (its `?` parameters number on across them).
        let mut sql = String::new();
        let mut values = Vec::new();
        for statement in pending {
            sql.push_str(&statement.sql);
            sql.push_str(";\n");
            values.extend(statement.values.map(|v| v.0).unwrap_or_default());
        }
        sql.push_str(&format!("RELEASE {SAVEPOINT}; SAVEPOINT {SAVEPOINT}"));
        let statement = Statement::from_sql_and_values(DbBackend::Sqlite, sql, values);
        if let Err(e) = batch.txn().execute_raw(statement).await {
            // Leaves `undo` set: the next user of the batch rolls this writer back.
            batch.undo_pending().await?;
            return Err(e.into());
        }
        batch.undo = false;
        batch.events.extend(events);
        let (done, outcome) = oneshot::channel();
        batch.waiting.push(done);
        if batch.waiting.len() >= MAX_BATCH {
            ctx.commit_batch(&mut batch).await;
        }
        drop(batch);
        outcome
            .await
            .map_err(|_| HubError::Internal("the hub stopped before the commit".into()))?
            .map_err(|e| HubError::Db(sea_orm::DbErr::Custom(e)))
    }
}
