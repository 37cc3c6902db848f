//! Messages across hubs. A message to `agent@ops` leaves the sending hub as a `fed.ops.msg`
//! outbox event (written with the message, so it is never lost) on `hubmesh.fed.ops.msg`;
//! ops-hub's inbox delivers it into the agent's inbox and answers with a receipt on
//! `hubmesh.fed.<sender hub>.msg`, which sets the sender's per-recipient delivery state. The
//! messages an inbox applies together are answered together: one event carries their receipts.

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
    /// The receiving hub's answers about messages the sender's hub sent.
    Receipts { receipts: Vec<Receipt> },
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
    #[serde(serialize_with = "crate::api::time::rfc3339")]
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
        self.handle_all(tx, &[event]).await
    }

    async fn handle_all(&self, tx: &mut Tx<'_>, events: &[&Event]) -> Result<(), HubError> {
        let mut answers: BTreeMap<&str, Vec<Receipt>> = BTreeMap::new();
        let mut delivered = Delivered::default();
        for event in events {
            let origin = event.hub();
            match event.data_as()? {
                Envelope::Message(m) => answers
                    .entry(origin)
                    .or_default()
                    .extend(deliver(tx, &mut delivered, origin, m).await?),
                Envelope::Receipts { receipts } => {
                    for update in updates(receipts) {
                        record(tx, origin, update);
                    }
                }
            }
        }
        // Messages before their recipients, whose rows refer to them.
        tx.queue_insert_all(delivered.messages);
        tx.queue_insert_all(delivered.recipients);
        for (origin, receipts) in answers {
            answer(tx, origin, receipts).await?;
        }
        Ok(())
    }
}

/// The rows of the messages delivered in one transaction, inserted together.
#[derive(Default)]
struct Delivered {
    messages: Vec<message::ActiveModel>,
    recipients: Vec<recipient::ActiveModel>,
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

/// Delivers `m` here (its rows join `delivered`); returns the receipts that answer it.
async fn deliver(
    tx: &mut Tx<'_>,
    delivered: &mut Delivered,
    origin: &str,
    m: Carried,
) -> Result<Vec<Receipt>, HubError> {
    let here = tx.hub().to_owned();
    let address = |a: &String| format!("{a}@{here}");
    let receipt = |recipients, delivery, error| Receipt {
        message_id: m.id.clone(),
        recipients,
        delivery,
        error,
    };
    if let Some(reason) = refusal(&m) {
        let all = m.recipients.iter().map(address).collect();
        return Ok(vec![receipt(all, Delivery::Failed, Some(reason))]);
    }
    let (mut agents, unknown): (Vec<String>, Vec<String>) =
        m.recipients.iter().cloned().partition(|a| is_agent_name(a));
    let mut receipts = Vec::new();
    if !unknown.is_empty() {
        let reason = format!("no agent named {} at {here}", unknown.join(", "));
        let failed = unknown.iter().map(address).collect();
        receipts.push(receipt(failed, Delivery::Failed, Some(reason)));
    }
    if agents.is_empty() {
        return Ok(receipts);
    }
    agents.sort();
    agents.dedup();
    receipts.push(receipt(
        agents.iter().map(address).collect(),
        Delivery::Delivered,
        None,
    ));
    // A domain unknown here is dropped rather than refusing the message.
    let domain = match m.domain {
        Some(d) => crate::domain::model::Entity::find_by_id(d.as_str())
            .one(&**tx)
            .await?
            .map(|_| d),
        None => None,
    };
    delivered.messages.push(message::ActiveModel {
        id: Set(m.id.clone()),
        sender: Set(format!("{}@{origin}", m.sender)),
        subject: Set(m.subject),
        body: Set(m.body),
        thread_id: Set(m.thread_id),
        importance: Set(m.importance),
        ack_required: Set(m.ack_required),
        domain: Set(domain),
        created_at: Set(m.created_at),
    });
    delivered
        .recipients
        .extend(agents.iter().map(|a| recipient::ActiveModel {
            message_id: Set(m.id.clone()),
            recipient: Set(a.clone()),
            hub: Set(here.clone()),
            delivery: Set(Delivery::Delivered),
            delivery_error: Set(None),
            read_at: Set(None),
            acked_at: Set(None),
        }));
    tx.emit(
        "message",
        "received",
        &m.id,
        &ReceivedEvent {
            id: &m.id,
            origin,
            recipients: &agents,
        },
    )
    .await?;
    Ok(receipts)
}

/// The event data of `message.received`: a message from another hub was delivered here.
#[derive(Serialize)]
struct ReceivedEvent<'a> {
    id: &'a str,
    origin: &'a str,
    recipients: &'a [String],
}

/// Most recipient addresses one receipts event carries: an address is at most about 210 bytes,
/// a failure reason names the addresses it is about, so an event stays below half a megabyte,
/// well within the bus's message size limit.
const RECEIPT_ADDRESSES_PER_EVENT: usize = 1000;

/// Sends `receipts` back to `origin`, in as few events as the size limit allows.
async fn answer(tx: &mut Tx<'_>, origin: &str, receipts: Vec<Receipt>) -> Result<(), HubError> {
    for receipts in split(receipts, RECEIPT_ADDRESSES_PER_EVENT) {
        // The event is about the first message it answers; the others ride along.
        let subject = receipts[0].message_id.clone();
        tx.emit(
            &format!("fed.{origin}"),
            "msg",
            &subject,
            &Envelope::Receipts { receipts },
        )
        .await?;
    }
    Ok(())
}

/// `receipts` in order, in groups of at most `max` addresses (a receipt with more stays whole).
fn split(receipts: Vec<Receipt>, max: usize) -> Vec<Vec<Receipt>> {
    let mut groups: Vec<Vec<Receipt>> = Vec::new();
    let mut addresses = 0;
    for r in receipts {
        match groups.last_mut() {
            Some(group) if addresses + r.recipients.len() <= max => {
                addresses += r.recipients.len();
                group.push(r);
            }
            _ => {
                addresses = r.recipients.len();
                groups.push(vec![r]);
            }
        }
    }
    groups
}

/// Most messages one delivery update names.
const MESSAGES_PER_UPDATE: usize = 1000;

/// Consecutive receipts that give the same recipients the same state, as one update. A receipts
/// event mostly answers messages to the same agents, and one statement for its thousand messages
/// is prepared and run once where a thousand were, each prepared anew inside the batch's text.
struct Update {
    message_ids: Vec<String>,
    recipients: Vec<String>,
    delivery: Delivery,
    error: Option<String>,
}

fn updates(receipts: Vec<Receipt>) -> Vec<Update> {
    let mut out: Vec<Update> = Vec::new();
    for r in receipts {
        match out.last_mut() {
            Some(u)
                if u.message_ids.len() < MESSAGES_PER_UPDATE
                    && (u.delivery, &u.error, &u.recipients)
                        == (r.delivery, &r.error, &r.recipients) =>
            {
                u.message_ids.push(r.message_id);
            }
            _ => out.push(Update {
                message_ids: vec![r.message_id],
                recipients: r.recipients,
                delivery: r.delivery,
                error: r.error,
            }),
        }
    }
    out
}

/// Sets the state of the update's recipients of each of its messages: every message of an update
/// has the same recipients, so the rows it names are exactly its receipts' rows.
fn record(tx: &mut Tx<'_>, origin: &str, u: Update) {
    tx.queue(
        &recipient::Entity::update_many()
            .col_expr(recipient::Column::Delivery, Expr::value(u.delivery))
            .col_expr(recipient::Column::DeliveryError, Expr::value(u.error))
            .filter(recipient::Column::MessageId.is_in(u.message_ids))
            .filter(recipient::Column::Hub.eq(origin))
            .filter(recipient::Column::Recipient.is_in(u.recipients)),
    );
}

#[cfg(test)]
mod tests {
    use super::*;

    fn receipt(id: &str, addresses: usize) -> Receipt {
        Receipt {
            message_id: id.into(),
            recipients: (0..addresses).map(|i| format!("a{i}@ops")).collect(),
            delivery: Delivery::Delivered,
            error: None,
        }
    }

    #[test]
    fn consecutive_receipts_of_one_state_for_the_same_recipients_are_one_update() {
        let failed = Receipt {
            error: Some("no agent named x at ops".into()),
            delivery: Delivery::Failed,
            ..receipt("m3", 1)
        };
        let receipts = vec![
            receipt("m1", 1),
            receipt("m2", 1),
            failed,
            receipt("m4", 1),
            receipt("m5", 2),
        ];
        let runs: Vec<(Vec<String>, usize, Delivery)> = updates(receipts)
            .into_iter()
            .map(|u| (u.message_ids, u.recipients.len(), u.delivery))
            .collect();
        let ids = |ids: &[&str]| ids.iter().map(|&i| i.to_owned()).collect::<Vec<_>>();
        assert_eq!(
            runs,
            [
                (ids(&["m1", "m2"]), 1, Delivery::Delivered),
                (ids(&["m3"]), 1, Delivery::Failed),
                (ids(&["m4"]), 1, Delivery::Delivered),
                (ids(&["m5"]), 2, Delivery::Delivered),
            ]
        );
        let many = (0..MESSAGES_PER_UPDATE + 1).map(|i| receipt(&format!("m{i}"), 1));
        let sizes: Vec<usize> = updates(many.collect())
            .iter()
            .map(|u| u.message_ids.len())
            .collect();
        assert_eq!(sizes, [MESSAGES_PER_UPDATE, 1]);
    }

    #[test]
    fn receipts_split_into_events_of_at_most_so_many_addresses() {
        let ids = |groups: &[Vec<Receipt>]| -> Vec<Vec<String>> {
            groups
                .iter()
                .map(|g| g.iter().map(|r| r.message_id.clone()).collect())
                .collect()
        };
        let receipts = vec![
            receipt("m1", 2),
            receipt("m2", 1),
            receipt("m3", 2),
            receipt("m4", 5),
            receipt("m5", 1),
        ];
        assert_eq!(
            ids(&split(receipts, 3)),
            [vec!["m1", "m2"], vec!["m3"], vec!["m4"], vec!["m5"]]
        );
        assert!(split(Vec::new(), 3).is_empty());
    }
}
