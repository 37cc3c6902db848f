//! Capability requests across hubs. A request for `name@hub` is sent to that hub on
//! `hubmesh.fed.<hub>.cap` (request-reply, bounded by `Ctx::request_timeout`); the provider hub
//! creates the request and answers, and the requester's hub keeps a mirror row with the same id.
//! Each later status change at the provider travels back as a `fed.<requester hub>.cap_status`
//! outbox event on `hubmesh.fed.<hub>.cap_status`, which the requester's inbox applies once.

use std::sync::Arc;

use async_trait::async_trait;
use bytes::Bytes;
use chrono::{DateTime, Utc};
use sea_orm::EntityTrait;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use tokio_util::sync::CancellationToken;

use super::model::{Status, request};
use super::service::{self, NewRequest, StatusChange};
use crate::bus::BusError;
use crate::bus::inbox::{BusHandler, Subscription};
use crate::ctx::{Ctx, Tx};
use crate::error::{FieldError, HubError};
use crate::module::durable_name;
use crate::outbox::Event;

/// The request-reply subject of hub `hub`'s capabilities.
pub fn request_subject(hub: &str) -> String {
    format!("hubmesh.fed.{hub}.cap")
}

/// What the requester's hub sends on `hubmesh.fed.<hub>.cap`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Routed {
    /// Chosen by the requester's hub, so a retried request is recognised.
    pub id: String,
    /// The requester's hub.
    pub hub: String,
    /// The authenticated requester's `sub` at its hub.
    pub requester: String,
    /// The capability's name at the provider hub (without `@hub`).
    pub capability: String,
    pub input: Option<Value>,
    pub note: Option<String>,
}

/// The provider hub's answer to a [`Routed`] request.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(tag = "outcome", rename_all = "snake_case")]
pub enum Answer {
    /// The request now exists at the provider hub.
    Created {
        /// The provider's `sub` at its hub.
        provider: String,
        created_at: DateTime<Utc>,
    },
    /// The request breaks the provider hub's rules (unknown capability, say).
    Refused { errors: Vec<FieldError> },
    /// The provider hub could not take the request now.
    Failed { message: String },
}

/// A status change at the provider hub, as it travels back to the requester's hub.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct StatusBack {
    pub id: String,
    pub status: Status,
    pub status_note: Option<String>,
    pub result: Option<Value>,
}

/// Sends `routed` to hub `hub` and waits for its answer. Nobody serving the subject is an
/// unknown hub (422 naming the capability); no answer in time is a 503 that says so.
pub(super) async fn ask(ctx: &Ctx, hub: &str, routed: &Routed) -> Result<Answer, HubError> {
    let payload = Bytes::from(serde_json::to_vec(routed).expect("a request serializes"));
    let address = format!("{}@{hub}", routed.capability);
    match ctx
        .bus
        .request(&request_subject(hub), payload, ctx.request_timeout)
        .await
    {
        Ok(answer) => serde_json::from_slice(&answer).map_err(|e| {
            HubError::Unavailable(format!("hub {hub} answered unreadably for {address}: {e}"))
        }),
        Err(BusError::NoResponders(_)) => Err(HubError::invalid(
            "capability",
            format!("no hub {hub} answers for capability {address}"),
        )),
        Err(BusError::Timeout { after, .. }) => Err(HubError::Unavailable(format!(
            "hub {hub} did not answer for capability {address} within {} ms",
            after.as_millis()
        ))),
        Err(e @ (BusError::Unavailable(_) | BusError::Refused(_))) => Err(e.into()),
    }
}

/// Answers the capability requests other hubs route to this one, until `stop` is cancelled.
pub fn serve(ctx: Ctx, stop: CancellationToken) {
    let mut requests = ctx
        .bus
        .serve(&request_subject(&ctx.hub), &format!("{}-cap", ctx.hub));
    tokio::spawn(async move {
        loop {
            let req = tokio::select! {
                _ = stop.cancelled() => return,
                r = requests.recv() => match r { Some(r) => r, None => return },
            };
            let ctx = ctx.clone();
            tokio::spawn(async move {
                let answer = answer(&ctx, &req.payload).await;
                req.respond(Bytes::from(
                    serde_json::to_vec(&answer).expect("an answer serializes"),
                ));
            });
        }
    });
}

async fn answer(ctx: &Ctx, payload: &[u8]) -> Answer {
    let routed: Routed = match serde_json::from_slice(payload) {
        Ok(r) => r,
        Err(e) => {
            return Answer::Refused {
                errors: vec![FieldError::new("body", format!("unreadable request: {e}"))],
            };
        }
    };
    let new = NewRequest {
        capability: routed.capability,
        input: routed.input,
        note: routed.note,
        domain: None,
    };
    match service::create_routed(ctx, &routed.hub, &routed.requester, &routed.id, new).await {
        Ok(row) => Answer::Created {
            provider: row.provider,
            created_at: row.created_at,
        },
        Err(HubError::Invalid(errors)) => Answer::Refused { errors },
        Err(e) => {
            tracing::warn!(error = %e, "routed capability request failed");
            Answer::Failed {
                message: "the provider hub could not take the request".into(),
            }
        }
    }
}

/// Writes the event that carries `row`'s new status back to its requester's hub, if the
/// requester is at another hub (`sub@hub`).
pub(super) async fn send_back(tx: &mut Tx<'_>, row: &request::Model) -> Result<(), HubError> {
    let Some((_, hub)) = row.requester.rsplit_once('@') else {
        return Ok(());
    };
    let back = StatusBack {
        id: row.id.clone(),
        status: row.status,
        status_note: row.status_note.clone(),
        result: row.result.clone(),
    };
    tx.emit(&format!("fed.{hub}"), "cap_status", &row.id, &back)
        .await
}

/// The subscription every hub runs: status changes of requests it routed to other hubs.
pub fn subscription(hub: &str) -> Subscription {
    Subscription {
        durable: durable_name(&[hub, "core", "fed-cap"]),
        filter: format!("hubmesh.fed.{hub}.cap_status"),
        handler: Arc::new(StatusBackHandler),
    }
}

struct StatusBackHandler;

#[async_trait]
impl BusHandler for StatusBackHandler {
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError> {
        let back: StatusBack = event.data_as()?;
        apply_status_back(tx, event.hub(), back).await
    }
}

/// Moves the mirror of a request routed to `origin` to the status the provider reports. A status
/// for a request this hub does not mirror, or one the mirror already passed (a late or repeated
/// event), changes nothing.
async fn apply_status_back(
    tx: &mut Tx<'_>,
    origin: &str,
    back: StatusBack,
) -> Result<(), HubError> {
    let suffix = format!("@{origin}");
    let mirror = request::Entity::find_by_id(back.id.as_str())
        .one(&**tx)
        .await?
        .filter(|r| r.capability.ends_with(&suffix));
    let Some(mirror) = mirror else {
        return Ok(());
    };
    if !service::transition_allowed(mirror.status, back.status) {
        return Ok(());
    }
    let change = StatusChange {
        status: back.status,
        note: back.status_note,
        result: back.result,
    };
    let provider = mirror.provider.clone();
    service::move_status(tx, &mirror, change, &provider).await?;
    Ok(())
}
