//! The inbox: applies bus events to this hub exactly once per consumer.
//!
//! A [`BusHandler`] makes its change inside the transaction the inbox gives it, and the inbox
//! records the event id (`processed_events`) in that same transaction: a redelivered event finds
//! its id and changes nothing. A failing handler is retried with backoff up to a limit and then
//! parked on `hubmesh.dlq.<hub>` with the reason; unreadable or invalid input is parked at once.
//! Nothing a message contains stops the consumer.

use std::collections::HashSet;
use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use chrono::Utc;
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QuerySelect, QueryTrait, Set};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

use super::batch::{self, Item};
use super::model as processed;
use super::{Backoff, BusError, ConsumerSpec, Delivery, Outgoing, dlq_subject};
use crate::ctx::{Ctx, Tx};
use crate::error::HubError;
use crate::outbox::Event;

/// Attempts before a failing event is parked.
pub const MAX_ATTEMPTS: u64 = 5;
/// Delay before the second attempt; doubles with each further one.
const RETRY_FIRST: Duration = Duration::from_millis(200);
const RETRY_MAX: Duration = Duration::from_secs(5);
/// Events applied in one transaction when they arrive together (the deliveries that carry them
/// are taken in whole, so a transaction may hold a batch's worth more).
const MAX_BATCH: usize = 500;

/// Applies bus events to the hub. Runs after the producing hub committed; its change and the
/// inbox record commit together, so it runs to effect once per event.
#[async_trait]
pub trait BusHandler: Send + Sync + 'static {
    /// Makes the change `event` asks for inside `tx` (which may also `emit` events).
    /// `HubError::BadRequest` / `Invalid` mean the input can never apply: it is parked at once;
    /// any other error is retried.
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError>;

    /// Makes the changes of `events`, which arrived together, inside one `tx`. The default
    /// handles them one by one; a handler overrides it to merge what they share (one receipt
    /// for many messages). A failure here sends each event through `handle` on its own.
    async fn handle_all(&self, tx: &mut Tx<'_>, events: &[&Event]) -> Result<(), HubError> {
        for event in events {
            self.handle(tx, event).await?;
        }
        Ok(())
    }
}

/// A durable subscription of a handler to a subject filter.
#[derive(Clone)]
pub struct Subscription {
    /// Durable consumer name, unique per hub and subscription.
    pub durable: String,
    pub filter: String,
    pub handler: Arc<dyn BusHandler>,
}

/// What `hubmesh.dlq.<hub>` carries for each parked message.
#[derive(Debug, Clone, Serialize, serde::Deserialize, PartialEq)]
pub struct Parked {
    pub hub: String,
    pub consumer: String,
    pub subject: String,
    pub reason: String,
    pub attempts: u64,
    /// The message as received (lossy UTF-8); of a message of several events, the parked one.
    pub payload: String,
    pub parked_at: chrono::DateTime<Utc>,
}

/// Runs the subscription until `stop` is cancelled.
pub fn spawn(ctx: Ctx, sub: Subscription, stop: CancellationToken) {
    tokio::spawn(async move {
        let mut deliveries = ctx.bus.consume(ConsumerSpec {
            durable: sub.durable.clone(),
            filter: sub.filter.clone(),
        });
        loop {
            let first = tokio::select! {
                _ = stop.cancelled() => return,
                d = deliveries.recv() => match d { Some(d) => d, None => return },
            };
            let mut batch = Batch::default();
            batch.read(&ctx, &sub, first).await;
            while batch.events.len() < MAX_BATCH {
                match deliveries.try_recv() {
                    Ok(d) => batch.read(&ctx, &sub, d).await,
                    Err(_) => break,
                }
            }
            batch.apply(&ctx, &sub).await;
        }
    });
}

/// Deliveries that arrived together, with their events.
#[derive(Default)]
struct Batch {
    deliveries: Vec<Received>,
    /// Each event with the index of its delivery.
    events: Vec<(usize, Event)>,
}

/// A delivery, whether it is one event alone, and whether it is to come again (with the delay)
/// instead of being acked.
struct Received {
    delivery: Delivery,
    alone: bool,
    retry: Option<Duration>,
}

impl Batch {
    /// Takes in `delivery`'s events; parks what does not read as an event.
    async fn read(&mut self, ctx: &Ctx, sub: &Subscription, delivery: Delivery) {
        let at = self.deliveries.len();
        let mut received = Received {
            delivery,
            alone: true,
            retry: None,
        };
        let d = &received.delivery;
        let mut unreadable = Vec::new();
        match batch::unpack(&d.payload) {
            Ok(items) => {
                received.alone = items.len() == 1;
                for item in items {
                    match item {
                        Item::Event(event) => self.events.push((at, event)),
                        Item::Unreadable { text, error } => unreadable.push((text, error)),
                    }
                }
            }
            Err(e) => unreadable.push((
                String::from_utf8_lossy(&d.payload).into_owned(),
                e.to_string(),
            )),
        }
        for (text, error) in unreadable {
            let reason = format!("malformed event: {error}");
            if park(ctx, sub, d, text, None, &reason).await.is_err() {
                received.retry = Some(RETRY_MAX);
            }
        }
        self.deliveries.push(received);
    }

    /// Applies the events, together if it can, one by one if that fails, then acks each
    /// delivery, or naks it if one of its events is to be tried again.
    async fn apply(mut self, ctx: &Ctx, sub: &Subscription) {
        let together = self.events.len() > 1
            && {
                let events: Vec<&Event> = self.events.iter().map(|(_, e)| e).collect();
                match apply_together(ctx, sub, &events).await {
                    Ok(()) => true,
                    // One of them failed: apply them one by one so only that one retries or parks.
                    Err(e) => {
                        tracing::debug!(consumer = %sub.durable, error = %e, "batch failed; applying one by one");
                        false
                    }
                }
            };
        if !together {
            for (at, event) in &self.events {
                let r = &mut self.deliveries[*at];
                if let Some(delay) = apply_one(ctx, sub, &r.delivery, r.alone, event).await {
                    r.retry = r.retry.max(Some(delay));
                }
            }
        }
        for r in &self.deliveries {
            match r.retry {
                None => ack(&r.delivery).await,
                Some(delay) => {
                    if let Err(e) = r.delivery.nak(delay).await {
                        tracing::warn!(consumer = %sub.durable, error = %e, "cannot nak; the bus redelivers after the ack wait");
                    }
                }
            }
        }
    }
}

/// Applies `events` in one transaction, skipping those already recorded: one alone through
/// [`BusHandler::handle`], several through [`BusHandler::handle_all`].
async fn apply_together(ctx: &Ctx, sub: &Subscription, events: &[&Event]) -> Result<(), HubError> {
    // Only this consumer's task records its events, one batch after another, so what it
    // recorded is read before the transaction (inline on SQLite), which then only writes. A
    // replica applying the same event meanwhile (PostgreSQL) fails on the record's key.
    let ids = events.iter().map(|e| e.id.clone());
    let recorded = processed::Entity::find()
        .select_only()
        .column(processed::Column::EventId)
        .filter(processed::Column::Consumer.eq(&sub.durable))
        .filter(processed::Column::EventId.is_in(ids))
        .into_query();
    let mut done: HashSet<String> = ctx
        .read_rows(&recorded, |c| c.take())
        .await?
        .into_iter()
        .collect();
    let fresh: Vec<&Event> = events
        .iter()
        .copied()
        .filter(|e| done.insert(e.id.clone()))
        .collect();
    if fresh.is_empty() {
        return Ok(());
    }
    let mut tx = ctx.begin().await?;
    match &fresh[..] {
        [one] => sub.handler.handle(&mut tx, one).await?,
        all => sub.handler.handle_all(&mut tx, all).await?,
    }
    tx.queue_insert_all(fresh.iter().map(|e| record(sub, e)));
    tx.commit().await
}

fn record(sub: &Subscription, event: &Event) -> processed::ActiveModel {
    processed::ActiveModel {
        consumer: Set(sub.durable.clone()),
        event_id: Set(event.id.clone()),
        processed_at: Set(Utc::now()),
    }
}

/// Applies `event` of `delivery` (its only one if `alone`); parks it if it can never apply.
/// Returns the delay after which its delivery is to come again, if it is.
async fn apply_one(
    ctx: &Ctx,
    sub: &Subscription,
    delivery: &Delivery,
    alone: bool,
    event: &Event,
) -> Option<Duration> {
    let reason = match apply_together(ctx, sub, &[event]).await {
        Ok(()) => return None,
        Err(e @ (HubError::BadRequest { .. } | HubError::Invalid(_))) => {
            format!("invalid event: {e}")
        }
        Err(e) if delivery.attempt >= MAX_ATTEMPTS => {
            format!("failed {} times, last: {e}", delivery.attempt)
        }
        Err(e) => {
            tracing::warn!(consumer = %sub.durable, event = %event.id, attempt = delivery.attempt, error = %e, "bus handler failed; retrying");
            return Some(Backoff::for_attempt(
                RETRY_FIRST,
                RETRY_MAX,
                delivery.attempt,
            ));
        }
    };
    // A message of one event is parked as received; one of a batch as its own text.
    let text = if alone {
        String::from_utf8_lossy(&delivery.payload).into_owned()
    } else {
        serde_json::to_string(event).expect("an event serializes")
    };
    park(ctx, sub, delivery, text, Some(event), &reason)
        .await
        .err()
        .map(|_| RETRY_MAX)
}

async fn ack(delivery: &Delivery) {
    // A lost ack means a redelivery, which the inbox record turns into a no-op.
    if let Err(e) = delivery.ack().await {
        tracing::warn!(subject = %delivery.subject, error = %e, "cannot ack");
    }
}

/// Puts `text`, an event of `delivery` (or all of it), on the hub's dead-letter subject.
/// If that fails the delivery is to come again, and parking is tried again then.
async fn park(
    ctx: &Ctx,
    sub: &Subscription,
    delivery: &Delivery,
    text: String,
    event: Option<&Event>,
    reason: &str,
) -> Result<(), BusError> {
    tracing::error!(consumer = %sub.durable, subject = %delivery.subject, %reason, "parking bus message");
    let parked = Parked {
        hub: ctx.hub.to_string(),
        consumer: sub.durable.clone(),
        subject: delivery.subject.clone(),
        reason: reason.to_owned(),
        attempts: delivery.attempt,
        payload: text,
        parked_at: Utc::now(),
    };
    let msg_id = match event {
        Some(e) => format!("dlq:{}:{}", sub.durable, e.id),
        None => crate::ids::new_id(),
    };
    let message = Outgoing {
        subject: dlq_subject(&ctx.hub),
        msg_id,
        payload: serde_json::to_vec(&parked)
            .expect("a parked record serializes")
            .into(),
    };
    let published = ctx.bus.publish(vec![message]).await.pop();
    let result =
        published.unwrap_or_else(|| Err(BusError::Unavailable("no publish result".into())));
    if let Err(e) = &result {
        tracing::warn!(consumer = %sub.durable, error = %e, "cannot park; retrying later");
    }
    result
}
