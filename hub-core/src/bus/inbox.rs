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
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set};
use serde::Serialize;
use tokio_util::sync::CancellationToken;

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
/// Deliveries applied in one transaction when they arrive together.
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
    /// The message as received (lossy UTF-8).
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
            let mut batch = vec![first];
            while batch.len() < MAX_BATCH {
                match deliveries.try_recv() {
                    Ok(d) => batch.push(d),
                    Err(_) => break,
                }
            }
            apply_batch(&ctx, &sub, batch).await;
        }
    });
}

/// A delivery with its event, once read.
struct Readable {
    delivery: Delivery,
    event: Event,
}

async fn apply_batch(ctx: &Ctx, sub: &Subscription, batch: Vec<Delivery>) {
    let mut readable = Vec::with_capacity(batch.len());
    for delivery in batch {
        match serde_json::from_slice::<Event>(&delivery.payload) {
            Ok(event) => readable.push(Readable { delivery, event }),
            Err(e) => park(ctx, sub, &delivery, None, &format!("malformed event: {e}")).await,
        }
    }
    if readable.len() > 1 {
        match apply_together(ctx, sub, &readable).await {
            Ok(()) => {
                for r in &readable {
                    ack(&r.delivery).await;
                }
                return;
            }
            // One of them failed: apply them one by one so only that one retries or parks.
            Err(e) => {
                tracing::debug!(consumer = %sub.durable, error = %e, "batch failed; applying one by one")
            }
        }
    }
    for r in readable {
        apply_one(ctx, sub, r).await;
    }
}

/// Applies every readable delivery in one transaction, skipping already processed events.
async fn apply_together(ctx: &Ctx, sub: &Subscription, batch: &[Readable]) -> Result<(), HubError> {
    let mut tx = ctx.begin().await?;
    let ids = batch.iter().map(|r| r.event.id.clone());
    let mut done: HashSet<String> = processed::Entity::find()
        .filter(processed::Column::Consumer.eq(&sub.durable))
        .filter(processed::Column::EventId.is_in(ids))
        .all(&*tx)
        .await?
        .into_iter()
        .map(|p| p.event_id)
        .collect();
    let fresh: Vec<&Event> = batch
        .iter()
        .map(|r| &r.event)
        .filter(|e| done.insert(e.id.clone()))
        .collect();
    if !fresh.is_empty() {
        sub.handler.handle_all(&mut tx, &fresh).await?;
        tx.queue_insert_all(fresh.iter().map(|e| record(sub, e)));
    }
    tx.commit().await
}

fn record(sub: &Subscription, event: &Event) -> processed::ActiveModel {
    processed::ActiveModel {
        consumer: Set(sub.durable.clone()),
        event_id: Set(event.id.clone()),
        processed_at: Set(Utc::now()),
    }
}

async fn apply_one(ctx: &Ctx, sub: &Subscription, r: Readable) {
    let result = async {
        let mut tx = ctx.begin().await?;
        let seen = processed::Entity::find_by_id((sub.durable.clone(), r.event.id.clone()))
            .one(&*tx)
            .await?;
        if seen.is_none() {
            sub.handler.handle(&mut tx, &r.event).await?;
            tx.queue(&processed::Entity::insert(record(sub, &r.event)));
            tx.commit().await?;
        }
        Ok::<_, HubError>(())
    }
    .await;
    match result {
        Ok(()) => ack(&r.delivery).await,
        Err(e @ (HubError::BadRequest { .. } | HubError::Invalid(_))) => {
            park(
                ctx,
                sub,
                &r.delivery,
                Some(&r.event),
                &format!("invalid event: {e}"),
            )
            .await
        }
        Err(e) if r.delivery.attempt >= MAX_ATTEMPTS => {
            let reason = format!("failed {} times, last: {e}", r.delivery.attempt);
            park(ctx, sub, &r.delivery, Some(&r.event), &reason).await
        }
        Err(e) => {
            let delay = Backoff::for_attempt(RETRY_FIRST, RETRY_MAX, r.delivery.attempt);
            tracing::warn!(consumer = %sub.durable, event = %r.event.id, attempt = r.delivery.attempt, error = %e, "bus handler failed; retrying");
            if let Err(e) = r.delivery.nak(delay).await {
                tracing::warn!(consumer = %sub.durable, error = %e, "cannot nak; the bus redelivers after the ack wait");
            }
        }
    }
}

async fn ack(delivery: &Delivery) {
    // A lost ack means a redelivery, which the inbox record turns into a no-op.
    if let Err(e) = delivery.ack().await {
        tracing::warn!(subject = %delivery.subject, error = %e, "cannot ack");
    }
}

/// Puts a delivery on the hub's dead-letter subject and acks it; if parking fails it is retried.
async fn park(
    ctx: &Ctx,
    sub: &Subscription,
    delivery: &Delivery,
    event: Option<&Event>,
    reason: &str,
) {
    tracing::error!(consumer = %sub.durable, subject = %delivery.subject, %reason, "parking bus message");
    let parked = Parked {
        hub: ctx.hub.to_string(),
        consumer: sub.durable.clone(),
        subject: delivery.subject.clone(),
        reason: reason.to_owned(),
        attempts: delivery.attempt,
        payload: String::from_utf8_lossy(&delivery.payload).into_owned(),
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
    match published {
        Some(Ok(())) => ack(delivery).await,
        Some(Err(e)) => retry_later(sub, delivery, e).await,
        None => {
            retry_later(
                sub,
                delivery,
                BusError::Unavailable("no publish result".into()),
            )
            .await
        }
    }
}

async fn retry_later(sub: &Subscription, delivery: &Delivery, e: BusError) {
    tracing::warn!(consumer = %sub.durable, error = %e, "cannot park; retrying later");
    let _ = delivery.nak(RETRY_MAX).await;
}
