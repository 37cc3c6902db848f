//! The service context: the database handle and the hub identity services need, and
//! [`Tx`], a transaction that carries the outbox events of the change it makes.

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{
    ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, EntityTrait, Set,
    TransactionTrait,
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

/// Group commit on SQLite: the open database transaction that queued writers share. Each [`Tx`]
/// is a savepoint inside it, so a failing one rolls back alone; the batch commits once the
/// writers that were queued when it opened have had their turn (or it is full), and only then
/// do their `commit` calls return. One commit for many changes writes each touched page once.
#[derive(Default)]
struct Batch {
    txn: Option<DatabaseTransaction>,
    events: Vec<Event>,
    waiting: Vec<oneshot::Sender<Result<(), String>>>,
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
                txn: self.db.begin().await?,
                events: Vec::new(),
                batch: None,
            });
        };
        let mut batch = writer.clone().lock_owned().await;
        if batch.txn.is_none() {
            let txn = self.db.begin().await?;
            // Take SQLite's write lock first. Another process may write the same file (`<hub> mcp`
            // over stdio): a transaction that read before writing then fails with
            // SQLITE_BUSY_SNAPSHOT, while one that starts with a write waits out the busy timeout.
            txn.execute_unprepared("UPDATE outbox SET attempts = attempts WHERE 0")
                .await?;
            batch.txn = Some(txn);
            // The mutex is fair: this flush queues behind the writers already waiting, so they
            // join the batch, and commits it when its turn comes.
            let (writer, ctx) = (writer.clone(), self.clone());
            tokio::spawn(async move { ctx.commit_batch(&mut *writer.lock().await).await });
        }
        let open = batch.txn.as_ref().expect("the batch is open");
        let txn = open.begin().await?;
        Ok(Tx {
            ctx: self,
            txn,
            events: Vec::new(),
            batch: Some(batch),
        })
    }

    /// Commits the open batch, if any, then answers its writers and hands on its events.
    async fn commit_batch(&self, batch: &mut Batch) {
        let Some(txn) = batch.txn.take() else { return };
        let waiting = std::mem::take(&mut batch.waiting);
        let events = std::mem::take(&mut batch.events);
        let outcome = txn.commit().await.map_err(|e| e.to_string());
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
pub struct Tx<'a> {
    ctx: &'a Ctx,
    /// On SQLite a savepoint inside the batch's transaction.
    txn: DatabaseTransaction,
    events: Vec<Event>,
    // Dropped after `txn`: the batch stays this writer's until its savepoint is released or
    // rolled back.
    batch: Option<OwnedMutexGuard<Batch>>,
}

impl Deref for Tx<'_> {
    type Target = DatabaseTransaction;

    fn deref(&self) -> &DatabaseTransaction {
        &self.txn
    }
}

impl Tx<'_> {
    /// The hub the transaction writes to.
    pub fn hub(&self) -> &str {
        &self.ctx.hub
    }

    /// Writes the event `<resource>.<action>` about `subject` to the outbox, inside this transaction.
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
        outbox::Entity::insert(outbox::ActiveModel {
            id: Set(event.id.clone()),
            source: Set(event.source.clone()),
            event_type: Set(event.event_type.clone()),
            subject: Set(event.subject.clone()),
            time: Set(event.time),
            data: Set(event.data.clone()),
            sent_at: Set(None),
            attempts: Set(0),
        })
        .exec_without_returning(&self.txn)
        .await?;
        self.events.push(event);
        Ok(())
    }

    /// Commits the change and its events, then hands the events to post-commit handlers.
    /// Returns once the change is durable in the database (on SQLite: once its batch committed).
    pub async fn commit(self) -> Result<(), HubError> {
        let Tx {
            ctx,
            txn,
            events,
            batch,
        } = self;
        txn.commit().await?;
        let Some(mut batch) = batch else {
            ctx.committed(events);
            return Ok(());
        };
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
