//! Messages across hubs. A message to `agent@ops` leaves the sending hub as a `fed.ops.msg`
//! outbox event (written with the message, so it is never lost) on `hubmesh.fed.ops.msg`;
//! ops-hub's inbox delivers it into the agent's inbox and answers with a receipt on
//! `hubmesh.fed.<sender hub>.msg`, which sets the sender's per-recipient delivery state.

use std::collections::BTreeMap;
use std::sync::Arc;

use async_trait::async_trait;
use chrono::{DateTime, Utc};
use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, Set, sea_query::Expr};
use serde::{Deserialize, Serialize};

use super::model::{Delivery, Importance, message, recipient};
use crate::bus::inbox::{BusHandler, Subscription};
use crate::ctx::{Tx, Writes};
use crate::error::HubError;
use crate::module::durable_name;
use crate::outbox::Event;

/// What travels on `hubmesh.fed.<hub>.msg`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Envelope {
    /// A message for agents at the receiving hub.
    Message(Carried),
    /// The receiving hub's answer about a message the sender's hub sent.
    Receipt(Receipt),
}

/// A message as it travels to another hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Carried {
    pub id: String,
    /// The sender's `sub` at its own hub.
    pub sender: String,
    /// Agent names at the receiving hub (without `@hub`).
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    pub thread_id: String,
    pub importance: Importance,
    pub ack_required: bool,
    pub domain: Option<String>,
    pub created_at: DateTime<Utc>,
}

/// Delivery state of some recipients of a message, as their hub reports it.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Receipt {
    pub message_id: String,
    /// Addresses as the sender's hub stores them: `agent@hub`.
    pub recipients: Vec<String>,
    pub delivery: Delivery,
    pub error: Option<String>,
}

/// Writes one `fed.<hub>.msg` event per other hub among `recipients`, inside the message's transaction.
pub(super) fn forward(
    writes: &mut Writes,
    row: &message::Model,
    recipients: &[recipient::Model],
) -> Result<(), HubError> {
    let mut by_hub: BTreeMap<&str, Vec<String>> = BTreeMap::new();
    for r in recipients.iter().filter(|r| r.delivery == Delivery::Queued) {
        let agent = r
            .recipient
            .strip_suffix(&format!("@{}", r.hub))
            .unwrap_or(&r.recipient);
        by_hub.entry(&r.hub).or_default().push(agent.to_owned());
    }
    for (hub, agents) in by_hub {
        let carried = Carried {
            id: row.id.clone(),
            sender: row.sender.clone(),
            recipients: agents,
            subject: row.subject.clone(),
            body: row.body.clone(),
            thread_id: row.thread_id.clone(),
            importance: row.importance,
            ack_required: row.ack_required,
            domain: row.domain.clone(),
            created_at: row.created_at,
        };
        writes.emit(
            &format!("fed.{hub}"),
            "msg",
            &row.id,
            &Envelope::Message(carried),
        )?;
    }
    Ok(())
}

/// The subscription every hub runs: messages and receipts addressed to it.
pub fn subscription(hub: &str) -> Subscription {
    Subscription {
        durable: durable_name(&[hub, "core", "fed-msg"]),
        filter: format!("hubmesh.fed.{hub}.msg"),
        handler: Arc::new(Inbound),
    }
}

struct Inbound;

#[async_trait]
impl BusHandler for Inbound {
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError> {
        let envelope: Envelope = event.data_as()?;
        let origin = event.hub().to_owned();
        match envelope {
            Envelope::Message(m) => deliver(tx, &origin, m).await,
            Envelope::Receipt(r) => record(tx, &origin, r).await,
        }
    }
}

/// Why a carried message cannot be delivered here at all, if it cannot.
fn refusal(m: &Carried) -> Option<String> {
    if m.recipients.is_empty() || m.recipients.len() > super::service::MAX_RECIPIENTS {
        return Some("a message needs 1 to 100 recipients".into());
    }
    if !is_agent_name(&m.sender) {
        return Some("the sender must be an agent name".into());
    }
    if [&m.subject, &m.body].iter().any(|t| t.contains('\0')) {
        return Some("subject and body must not contain NUL characters".into());
    }
    None
}

fn is_agent_name(a: &str) -> bool {
    !a.is_empty() && !a.contains('@') && !a.chars().any(|c| c.is_whitespace() || c.is_control())
}

async fn deliver(tx: &mut Tx<'_>, origin: &str, m: Carried) -> Result<(), HubError> {
    let here = tx.hub().to_owned();
    let address = |a: &String| format!("{a}@{here}");
    if let Some(reason) = refusal(&m) {
        let all = m.recipients.iter().map(address).collect();
        return answer(tx, origin, &m.id, all, Delivery::Failed, Some(reason)).await;
    }
    let (mut agents, unknown): (Vec<String>, Vec<String>) =
        m.recipients.iter().cloned().partition(|a| is_agent_name(a));
    if !unknown.is_empty() {
        let reason = format!("no agent named {} at {here}", unknown.join(", "));
        let failed = unknown.iter().map(address).collect();
        answer(tx, origin, &m.id, failed, Delivery::Failed, Some(reason)).await?;
    }
    if agents.is_empty() {
        return Ok(());
    }
    // A domain unknown here is dropped rather than refusing the message.
    let domain = match m.domain {
        Some(d) => crate::domain::model::Entity::find_by_id(d.as_str())
            .one(&**tx)
            .await?
            .map(|_| d),
        None => None,
    };
    tx.queue(&message::Entity::insert(message::ActiveModel {
        id: Set(m.id.clone()),
        sender: Set(format!("{}@{origin}", m.sender)),
        subject: Set(m.subject),
        body: Set(m.body),
        thread_id: Set(m.thread_id),
        importance: Set(m.importance),
        ack_required: Set(m.ack_required),
        domain: Set(domain),
        created_at: Set(m.created_at),
    }));
    agents.sort();
    agents.dedup();
    tx.queue(&recipient::Entity::insert_many(agents.iter().map(|a| {
        recipient::ActiveModel {
            message_id: Set(m.id.clone()),
            recipient: Set(a.clone()),
            hub: Set(here.clone()),
            delivery: Set(Delivery::Delivered),
            delivery_error: Set(None),
            read_at: Set(None),
            acked_at: Set(None),
        }
    })));
    tx.emit(
        "message",
        "received",
        &m.id,
        &serde_json::json!({ "id": m.id, "origin": origin, "recipients": agents }),
    )
    .await?;
    let delivered = agents.iter().map(address).collect();
    answer(tx, origin, &m.id, delivered, Delivery::Delivered, None).await
}

async fn answer(
    tx: &mut Tx<'_>,
    origin: &str,
    message_id: &str,
    recipients: Vec<String>,
    delivery: Delivery,
    error: Option<String>,
) -> Result<(), HubError> {
    let receipt = Receipt {
        message_id: message_id.to_owned(),
        recipients,
        delivery,
        error,
    };
    tx.emit(
        &format!("fed.{origin}"),
        "msg",
        message_id,
        &Envelope::Receipt(receipt),
    )
    .await
}

async fn record(tx: &mut Tx<'_>, origin: &str, r: Receipt) -> Result<(), HubError> {
    tx.queue(
        &recipient::Entity::update_many()
            .col_expr(recipient::Column::Delivery, Expr::value(r.delivery))
            .col_expr(recipient::Column::DeliveryError, Expr::value(r.error))
            .filter(recipient::Column::MessageId.eq(r.message_id.as_str()))
            .filter(recipient::Column::Hub.eq(origin))
            .filter(recipient::Column::Recipient.is_in(r.recipients)),
    );
    Ok(())
}
