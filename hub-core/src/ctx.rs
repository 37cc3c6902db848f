//! The service context: the database handle and the hub identity services need, and
//! [`Tx`], a transaction that carries the outbox events of the change it makes.

use std::ops::Deref;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use sea_orm::{
    ActiveModelTrait, ConnectionTrait, DatabaseConnection, DatabaseTransaction, DbBackend, Set,
    TransactionTrait,
};
use serde::Serialize;
use tokio::sync::{Mutex as AsyncMutex, Notify, OwnedMutexGuard, mpsc};

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
    /// How long a request to another hub may take (`nats.request_timeout_ms`).
    pub request_timeout: Duration,
    /// How long the relay keeps sent outbox rows (`nats.outbox_retention_days`).
    pub outbox_retention: Duration,
    /// SQLite has one writer at a time: writers queue here instead of failing with
    /// `SQLITE_BUSY_SNAPSHOT` when a transaction that read first tries to write. `None` on PostgreSQL.
    write_lock: Option<Arc<AsyncMutex<()>>>,
}

impl Ctx {
    pub fn new(db: DatabaseConnection, hub: &str, bus: Arc<dyn Bus>) -> Self {
        let write_lock = (db.get_database_backend() == DbBackend::Sqlite).then(Arc::default);
        Self {
            db,
            hub: hub.into(),
            bus,
            registry: Arc::default(),
            committed: Arc::default(),
            outbox_wake: Arc::new(Notify::new()),
            request_timeout: DEFAULT_REQUEST_TIMEOUT,
            outbox_retention: DEFAULT_OUTBOX_RETENTION,
            write_lock,
        }
    }

    /// Starts a transaction whose events are written to the outbox with it.
    pub async fn begin(&self) -> Result<Tx<'_>, HubError> {
        let guard = match &self.write_lock {
            Some(lock) => Some(lock.clone().lock_owned().await),
            None => None,
        };
        let txn = self.db.begin().await?;
        if guard.is_some() {
            // Take SQLite's write lock first. Another process may write the same file (`<hub> mcp`
            // over stdio): a transaction that read before writing then fails with
            // SQLITE_BUSY_SNAPSHOT, while one that starts with a write waits out the busy timeout.
            txn.execute_unprepared("UPDATE outbox SET attempts = attempts WHERE 0")
                .await?;
        }
        Ok(Tx {
            ctx: self,
            txn,
            events: Vec::new(),
            _guard: guard,
        })
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
    txn: DatabaseTransaction,
    events: Vec<Event>,
    // Dropped after `txn`: the lock outlives the transaction's commit or rollback.
    _guard: Option<OwnedMutexGuard<()>>,
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
        outbox::ActiveModel {
            id: Set(event.id.clone()),
            source: Set(event.source.clone()),
            event_type: Set(event.event_type.clone()),
            subject: Set(event.subject.clone()),
            time: Set(event.time),
            data: Set(event.data.clone()),
            sent_at: Set(None),
            attempts: Set(0),
        }
        .insert(&self.txn)
        .await?;
        self.events.push(event);
        Ok(())
    }

    /// Commits the change and its events, then hands the events to post-commit handlers.
    pub async fn commit(self) -> Result<(), HubError> {
        self.txn.commit().await?;
        if !self.events.is_empty() {
            self.ctx.outbox_wake.notify_one();
            let mut subscribers = self.ctx.committed.lock().expect("subscriber list poisoned");
            for event in self.events.into_iter().map(Arc::new) {
                // A closed receiver belongs to a stopped handler: forget it.
                subscribers.retain(|s| s.send(event.clone()).is_ok());
            }
        }
        Ok(())
    }
}
