//! MCP tools for messages: send, inbox, thread, read/ack, reply; and the `hub://inbox` resource,
//! whose subscribers hear of every message addressed to them.

use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{CreateMessage, Message, MessageDetail};
use super::model::Importance;
use super::service;
use crate::api::page::{Page, PageRequest};
use crate::auth::{Access, Principal};
use crate::error::HubError;
use crate::mcp::{McpResource, McpTool, ToolCall, page, profile};
use crate::outbox::Event;

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "send_message",
            "Send a message to other agents (`agent` on this hub, `agent@hub` on another). You are the sender. \
             Pass `thread_id` to continue a thread; set `ack_required` when you need an acknowledgement.",
            Access::Write,
            send_message,
        ),
        McpTool::new(
            "get_messages",
            "Your inbox, newest first: messages addressed to you, with your read/ack state. \
             `unread_only` narrows to unread ones; page with `limit` and `cursor`.",
            Access::Read,
            get_messages,
        ),
        McpTool::new(
            "get_thread",
            "The messages of a thread you take part in, oldest first.",
            Access::Read,
            get_thread,
        ),
        McpTool::new(
            "mark_message_read",
            "Mark a message addressed to you as read (idempotent).",
            Access::Read,
            mark_message_read,
        ),
        McpTool::new(
            "acknowledge_message",
            "Acknowledge a message addressed to you; this also marks it read (idempotent).",
            Access::Read,
            acknowledge_message,
        ),
        McpTool::new(
            "reply_to_message",
            "Reply to a message in its thread: to its sender, or with `all` also to every other recipient.",
            Access::Write,
            reply_to_message,
        ),
    ]
    .into_iter()
    .map(|t| t.profile(profile::MESSAGING))
    .collect()
}

pub fn resources() -> Vec<McpResource> {
    vec![
        McpResource::new(
            "hub://inbox",
            "inbox",
            "Your newest 50 messages with read/ack state. Subscribe to hear of each new one.",
            |call: ToolCall| async move {
                let page =
                    service::inbox(call.ctx(), &call.who, false, &PageRequest::first(50)).await?;
                Ok(page.map(Message::from))
            },
        )
        .updated_by(inbox_changed),
    ]
}

/// A message to `who` arrived, or `who` read or acknowledged one.
fn inbox_changed(event: &Event, who: &Principal) -> bool {
    /// The part of `message.created` (recipients) and `message.read`/`acked` (recipient) looked at.
    #[derive(serde::Deserialize)]
    struct Addressed {
        #[serde(default)]
        recipients: Vec<String>,
        recipient: Option<String>,
    }
    let addressed = || event.data_as::<Addressed>();
    match event.kind() {
        "message.created" => addressed().is_ok_and(|a| a.recipients.contains(&who.sub)),
        "message.read" | "message.acked" => {
            addressed().is_ok_and(|a| a.recipient.as_deref() == Some(who.sub.as_str()))
        }
        _ => false,
    }
}

async fn send_message(call: ToolCall, args: CreateMessage) -> Result<MessageDetail, HubError> {
    let new = service::NewMessage {
        recipients: args.recipients,
        subject: args.subject,
        body: args.body,
        thread_id: args.thread_id,
        importance: args.importance,
        ack_required: args.ack_required,
        domain: args.domain,
    };
    let full = service::send(call.ctx(), &call.who, new).await?;
    Ok(MessageDetail::new(full, &call.who))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct InboxArgs {
    /// Only messages you have not read yet (default false).
    #[serde(default)]
    pub unread_only: bool,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn get_messages(call: ToolCall, args: InboxArgs) -> Result<Page<Message>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let res = service::inbox(call.ctx(), &call.who, args.unread_only, &page).await?;
    Ok(res.map(Message::from))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ThreadArgs {
    /// The thread id (a message's `thread_id`).
    pub thread_id: String,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn get_thread(call: ToolCall, args: ThreadArgs) -> Result<Page<Message>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let res = service::thread(call.ctx(), &call.who, &args.thread_id, &page).await?;
    Ok(res.map(Message::from))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct MessageId {
    /// The message id.
    pub id: String,
}

async fn mark_message_read(call: ToolCall, args: MessageId) -> Result<Message, HubError> {
    Ok(service::mark_read(call.ctx(), &call.who, &args.id)
        .await?
        .into())
}

async fn acknowledge_message(call: ToolCall, args: MessageId) -> Result<Message, HubError> {
    Ok(service::ack(call.ctx(), &call.who, &args.id).await?.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReplyArgs {
    /// The message you reply to.
    pub id: String,
    pub body: String,
    /// Defaults to `Re: <subject>`.
    pub subject: Option<String>,
    /// Defaults to `normal`.
    pub importance: Option<Importance>,
    /// Also reply to every other recipient of the original (default false).
    #[serde(default)]
    pub all: bool,
}

async fn reply_to_message(call: ToolCall, args: ReplyArgs) -> Result<MessageDetail, HubError> {
    let new = service::NewReply {
        body: args.body,
        subject: args.subject,
        importance: args.importance,
        all: args.all,
    };
    let full = service::reply(call.ctx(), &call.who, &args.id, new).await?;
    Ok(MessageDetail::new(full, &call.who))
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::*;

    fn event(action: &str, data: serde_json::Value) -> Event {
        Event::new("dev", "message", action, "m1", &data).unwrap()
    }

    /// `hub://inbox` changes for the recipients of a new message and for whoever read or
    /// acknowledged one; not for anybody else, other events, or data of another shape.
    #[test]
    fn the_inbox_changes_for_its_own_agent_only() {
        let (bob, carol) = (
            Principal::reading_agent("bob"),
            Principal::reading_agent("carol"),
        );
        let created = event(
            "created",
            json!({"id": "m1", "recipients": ["bob", "dave@ops"]}),
        );
        assert!(inbox_changed(&created, &bob));
        assert!(!inbox_changed(&created, &carol));
        for action in ["read", "acked"] {
            let state = event(
                action,
                json!({"id": "m1", "recipient": "carol", "at": "2026-12-07T06:00:00Z"}),
            );
            assert!(inbox_changed(&state, &carol), "{action}");
            assert!(!inbox_changed(&state, &bob), "{action}");
        }
        let other = Event::new(
            "dev",
            "domain",
            "created",
            "d1",
            &json!({"recipient": "bob"}),
        )
        .unwrap();
        assert!(!inbox_changed(&other, &bob));
        let odd = event("created", json!({"recipients": "bob"}));
        assert!(!inbox_changed(&odd, &bob));
    }
}
