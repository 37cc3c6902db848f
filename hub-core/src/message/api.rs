//! REST: `/api/v1/messages` and `/api/v1/threads`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{Delivery, Importance, message};
use super::service;
use crate::api::extract::{Json, Path, Query};
use crate::api::page::{Page, PageParams, PageRequest};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(messages_create))
        .routes(routes!(messages_inbox))
        .routes(routes!(messages_search))
        .routes(routes!(messages_get))
        .routes(routes!(messages_read))
        .routes(routes!(messages_ack))
        .routes(routes!(messages_reply))
        .routes(routes!(threads_get))
}

/// A new message. The sender is always the caller: the body has no sender field.
#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateMessage {
    /// 1 to 100 addresses: `agent` on this hub or `agent@hub`.
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    /// An existing thread to continue; by default the message starts its own.
    pub thread_id: Option<String>,
    #[serde(default)]
    pub importance: Importance,
    #[serde(default)]
    pub ack_required: bool,
    pub domain: Option<String>,
}

/// A reply to a message.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyMessage {
    pub body: String,
    /// Defaults to `Re: <subject>`.
    pub subject: Option<String>,
    /// Defaults to `normal`.
    pub importance: Option<Importance>,
    /// Also to every other recipient of the original.
    #[serde(default)]
    pub all: bool,
}

/// A message as the caller sees it, with the caller's own read/ack state (null when unset or
/// when the caller is not a recipient).
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Message {
    pub id: String,
    pub sender: String,
    pub subject: String,
    pub body: String,
    pub thread_id: String,
    pub importance: Importance,
    pub ack_required: bool,
    pub domain: Option<String>,
    #[serde(serialize_with = "crate::api::time::rfc3339")]
    pub created_at: DateTime<Utc>,
    #[serde(serialize_with = "crate::api::time::rfc3339_opt")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::api::time::rfc3339_opt")]
    pub acked_at: Option<DateTime<Utc>>,
}

/// One recipient of a message and its state.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Recipient {
    /// `agent` on this hub or `agent@hub`.
    pub address: String,
    pub hub: String,
    pub delivery: Delivery,
    /// Why delivery failed, when `delivery` is `failed`.
    pub delivery_error: Option<String>,
    #[serde(serialize_with = "crate::api::time::rfc3339_opt")]
    pub read_at: Option<DateTime<Utc>>,
    #[serde(serialize_with = "crate::api::time::rfc3339_opt")]
    pub acked_at: Option<DateTime<Utc>>,
}

/// A message with all its recipients.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MessageDetail {
    #[serde(flatten)]
    pub message: Message,
    pub recipients: Vec<Recipient>,
}

impl Message {
    pub(crate) fn new(m: message::Model, mine: Option<service::Mine>) -> Self {
        Self {
            id: m.id,
            sender: m.sender,
            subject: m.subject,
            body: m.body,
            thread_id: m.thread_id,
            importance: m.importance,
            ack_required: m.ack_required,
            domain: m.domain,
            created_at: m.created_at,
            read_at: mine.and_then(|r| r.read_at),
            acked_at: mine.and_then(|r| r.acked_at),
        }
    }
}

impl From<service::Seen> for Message {
    fn from(s: service::Seen) -> Self {
        Self::new(s.message, s.mine)
    }
}

impl MessageDetail {
    pub(crate) fn new(full: service::Full, who: &Principal) -> Self {
        let mine = full
            .recipients
            .iter()
            .find(|r| r.recipient == who.sub)
            .map(service::Mine::from);
        Self {
            message: Message::new(full.message, mine),
            recipients: full
                .recipients
                .into_iter()
                .map(|r| Recipient {
                    address: r.recipient,
                    hub: r.hub,
                    delivery: r.delivery,
                    delivery_error: r.delivery_error,
                    read_at: r.read_at,
                    acked_at: r.acked_at,
                })
                .collect(),
        }
    }
}

/// `unread=true` lists only unread messages.
#[derive(Debug, Deserialize, IntoParams)]
pub struct InboxParams {
    pub unread: Option<bool>,
}

/// `q`: the words to find in subject or body.
#[derive(Debug, Deserialize, IntoParams)]
pub struct SearchParams {
    #[serde(default)]
    pub q: String,
}

/// Sends a message from the caller.
#[utoipa::path(post, path = "/api/v1/messages", tag = "messages", request_body = CreateMessage,
    responses((status = 201, body = MessageDetail), (status = 400, body = Problem), (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn messages_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateMessage>,
) -> Result<(StatusCode, Json<MessageDetail>), HubError> {
    let new = service::NewMessage {
        recipients: body.recipients,
        subject: body.subject,
        body: body.body,
        thread_id: body.thread_id,
        importance: body.importance,
        ack_required: body.ack_required,
        domain: body.domain,
    };
    let full = service::send(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(MessageDetail::new(full, &who))))
}

/// The caller's inbox, newest first.
#[utoipa::path(get, path = "/api/v1/messages/inbox", tag = "messages", params(PageParams, InboxParams),
    responses((status = 200, body = Page<Message>), (status = 400, body = Problem)))]
async fn messages_inbox(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<InboxParams>,
) -> Result<Json<Page<Message>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let res = service::inbox(hub.ctx(), &who, filter.unread.unwrap_or(false), &page).await?;
    Ok(Json(res.map(Message::from)))
}

/// Full-text search over the messages the caller may read, newest first.
#[utoipa::path(get, path = "/api/v1/messages/search", tag = "messages", params(PageParams, SearchParams),
    responses((status = 200, body = Page<Message>), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn messages_search(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(search): Query<SearchParams>,
) -> Result<Json<Page<Message>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let res = service::search(hub.ctx(), &who, &search.q, &page).await?;
    Ok(Json(res.map(Message::from)))
}

/// One message, for its sender and recipients.
#[utoipa::path(get, path = "/api/v1/messages/{id}", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, body = MessageDetail), (status = 404, body = Problem)))]
async fn messages_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<MessageDetail>, HubError> {
    let full = service::get(hub.ctx(), &who, &id).await?;
    Ok(Json(MessageDetail::new(full, &who)))
}

/// Marks a message read for the calling recipient.
#[utoipa::path(post, path = "/api/v1/messages/{id}/read", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn messages_read(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Message>, HubError> {
    Ok(Json(service::mark_read(hub.ctx(), &who, &id).await?.into()))
}

/// Acknowledges a message for the calling recipient (also marks it read).
#[utoipa::path(post, path = "/api/v1/messages/{id}/ack", tag = "messages", params(("id" = String, Path)),
    responses((status = 200, body = Message), (status = 404, body = Problem), (status = 409, body = Problem)))]
async fn messages_ack(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Message>, HubError> {
    Ok(Json(service::ack(hub.ctx(), &who, &id).await?.into()))
}

/// Replies to a message, in its thread.
#[utoipa::path(post, path = "/api/v1/messages/{id}/reply", tag = "messages", params(("id" = String, Path)),
    request_body = ReplyMessage,
    responses((status = 201, body = MessageDetail), (status = 400, body = Problem), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn messages_reply(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(body): Json<ReplyMessage>,
) -> Result<(StatusCode, Json<MessageDetail>), HubError> {
    let new = service::NewReply {
        body: body.body,
        subject: body.subject,
        importance: body.importance,
        all: body.all,
    };
    let full = service::reply(hub.ctx(), &who, &id, new).await?;
    Ok((StatusCode::CREATED, Json(MessageDetail::new(full, &who))))
}

/// The messages of a thread the caller may read, oldest first.
#[utoipa::path(get, path = "/api/v1/threads/{thread_id}", tag = "messages", params(("thread_id" = String, Path), PageParams),
    responses((status = 200, body = Page<Message>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn threads_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(thread_id): Path<String>,
    Query(params): Query<PageParams>,
) -> Result<Json<Page<Message>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let res = service::thread(hub.ctx(), &who, &thread_id, &page).await?;
    Ok(Json(res.map(Message::from)))
}
