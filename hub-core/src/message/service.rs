//! Message rules: the sender is always the caller; only the sender and the recipients see a
//! message; domain-limited callers neither see nor send messages of other domains.

use std::collections::HashMap;
use std::sync::LazyLock;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::{Expr, Query};
use sea_orm::{
    ActiveValue::Set, ColumnTrait, Condition, ConnectionTrait, DbBackend, DbErr, EntityTrait,
    Iterable, PaginatorTrait, QueryFilter, QueryOrder, QuerySelect, QueryTrait, Select,
};
use serde::Serialize;

use super::model::{Delivery, Importance, message, recipient};
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::db::Cells;
use crate::error::{HubError, Validator, is_slug};

/// Most recipients one message may have.
pub const MAX_RECIPIENTS: usize = 100;
const MAX_SUBJECT: usize = 200;
const MAX_BODY: usize = 65_536;
const MAX_ADDRESS: usize = 200;
const MAX_QUERY: usize = 500;

/// A new message's fields; the sender is the calling principal.
#[derive(Debug, Clone)]
pub struct NewMessage {
    /// `agent` (this hub) or `agent@hub`.
    pub recipients: Vec<String>,
    pub subject: String,
    pub body: String,
    /// An existing thread the caller can read; `None` starts a thread.
    pub thread_id: Option<String>,
    pub importance: Importance,
    pub ack_required: bool,
    pub domain: Option<String>,
}

/// A reply's fields.
#[derive(Debug, Clone)]
pub struct NewReply {
    pub body: String,
    /// Defaults to `Re: <subject>`.
    pub subject: Option<String>,
    pub importance: Option<Importance>,
    /// Also to every other recipient of the original.
    pub all: bool,
}

/// A message with every recipient row.
#[derive(Debug, Clone)]
pub struct Full {
    pub message: message::Model,
    pub recipients: Vec<recipient::Model>,
}

/// A message as one caller sees it in a list: with the caller's own state of it, if it is a
/// recipient.
#[derive(Debug, Clone, PartialEq)]
pub struct Seen {
    pub message: message::Model,
    pub mine: Option<Mine>,
}

/// A recipient's own state of a message: when it read and acknowledged it.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct Mine {
    pub read_at: Option<DateTime<Utc>>,
    pub acked_at: Option<DateTime<Utc>>,
}

impl From<&recipient::Model> for Mine {
    fn from(r: &recipient::Model) -> Self {
        Self {
            read_at: r.read_at,
            acked_at: r.acked_at,
        }
    }
}

/// The event data of `message.created` (the body stays out of the event stream).
#[derive(Serialize)]
struct CreatedEvent<'a> {
    id: &'a str,
    sender: &'a str,
    recipients: Vec<&'a str>,
    subject: &'a str,
    thread_id: &'a str,
    importance: Importance,
    domain: Option<&'a str>,
}

/// The event data of `message.read` and `message.acked`.
#[derive(Serialize)]
struct StateEvent<'a> {
    id: &'a str,
    recipient: &'a str,
    at: DateTime<Utc>,
}

/// A recipient address in its stored form.
#[derive(Debug, Clone, PartialEq, Eq)]
struct Address {
    /// A local `sub`, or `agent@hub` for another hub.
    recipient: String,
    hub: String,
}

/// Reads `agent` or `agent@hub`. Only a hub-name-shaped suffix makes a remote address, so a
/// `sub` that is an e-mail address (`alice@example.com`) stays a local recipient; `agent@<this hub>`
/// is the local `agent`.
fn parse_address(raw: &str, this_hub: &str) -> Option<Address> {
    if raw.is_empty()
        || raw.chars().count() > MAX_ADDRESS
        || raw.chars().any(|c| c.is_whitespace() || c.is_control())
    {
        return None;
    }
    let local = |name: &str| Address {
        recipient: name.to_owned(),
        hub: this_hub.to_owned(),
    };
    match raw.rsplit_once('@') {
        Some(("", _)) => None,
        Some((agent, hub)) if is_slug(hub) => Some(if hub == this_hub {
            local(agent)
        } else {
            Address {
                recipient: raw.to_owned(),
                hub: hub.to_owned(),
            }
        }),
        _ => Some(local(raw)),
    }
}

/// PostgreSQL refuses NUL characters in text.
fn no_nul(v: &mut Validator, value: &str, field: &str) {
    v.check(
        !value.contains('\0'),
        field,
        "must not contain NUL characters",
    );
}

/// Messages a domain-limited principal may see: those without a domain or of its domains.
fn domain_allowed(who: &Principal) -> Condition {
    match &who.domains {
        Some(ds) => Condition::any()
            .add(message::Column::Domain.is_null())
            .add(message::Column::Domain.is_in(ds.iter().cloned())),
        None => Condition::all(),
    }
}

/// Messages the principal may read: it sent them or is a recipient, in a domain it may use.
fn visible(who: &Principal) -> Condition {
    let mine = Query::select()
        .column(recipient::Column::MessageId)
        .from(recipient::Entity)
        .and_where(recipient::Column::Recipient.eq(who.sub.as_str()))
        .to_owned();
    Condition::all()
        .add(
            Condition::any()
                .add(message::Column::Sender.eq(who.sub.as_str()))
                .add(message::Column::Id.in_subquery(mine)),
        )
        .add(domain_allowed(who))
}

/// Sends a message from the caller: one transaction with the message, its recipient rows and
/// the `message.created` event.
pub async fn send(ctx: &Ctx, who: &Principal, new: NewMessage) -> Result<Full, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let mut v = Validator::new();
    v.check(
        (1..=MAX_RECIPIENTS).contains(&new.recipients.len()),
        "recipients",
        format!("must name 1 to {MAX_RECIPIENTS} recipients"),
    );
    let mut to = Vec::with_capacity(new.recipients.len());
    for (i, raw) in new.recipients.iter().enumerate() {
        match parse_address(raw, &ctx.hub) {
            Some(a) => to.push(a),
            None => {
                v.check(
                    false,
                    &format!("recipients[{i}]"),
                    "must be `agent` or `agent@hub` without spaces, at most 200 characters",
                );
            }
        }
    }
    v.text(&new.subject, "subject", MAX_SUBJECT)
        .text(&new.body, "body", MAX_BODY);
    no_nul(&mut v, &new.subject, "subject");
    no_nul(&mut v, &new.body, "body");
    v.finish()?;
    // Reads come before the transaction so that, on SQLite, the transaction starts with a write
    // and never has to upgrade a read lock under concurrent senders.
    if let Some(domain) = &new.domain {
        crate::domain::service::check_usable(&ctx.db, who, domain, "domain").await?;
    }
    if let Some(thread) = &new.thread_id {
        let known = message::Entity::find()
            .select_only()
            .column(message::Column::Id)
            .filter(message::Column::ThreadId.eq(thread.as_str()))
            .filter(visible(who))
            .into_tuple::<String>()
            .one(&ctx.db)
            .await?;
        if known.is_none() {
            return Err(HubError::invalid(
                "thread_id",
                format!("unknown thread {thread}"),
            ));
        }
    }
    let id = crate::ids::new_id();
    let row = message::Model {
        thread_id: new.thread_id.unwrap_or_else(|| id.clone()),
        id,
        sender: who.sub.clone(),
        subject: new.subject.trim().to_owned(),
        body: new.body,
        importance: new.importance,
        ack_required: new.ack_required,
        domain: new.domain,
        created_at: crate::db::now(),
    };
    write(ctx, row, to).await
}

/// Writes a validated message and its recipients (duplicates dropped) with its event.
async fn write(ctx: &Ctx, row: message::Model, to: Vec<Address>) -> Result<Full, HubError> {
    let mut recipients: Vec<recipient::Model> = Vec::with_capacity(to.len());
    for a in to {
        if recipients.iter().all(|r| r.recipient != a.recipient) {
            recipients.push(recipient::Model {
                message_id: row.id.clone(),
                delivery: if a.hub == *ctx.hub {
                    Delivery::Delivered
                } else {
                    Delivery::Queued
                },
                recipient: a.recipient,
                hub: a.hub,
                delivery_error: None,
                read_at: None,
                acked_at: None,
            });
        }
    }
    let mut writes = ctx.writes();
    writes.queue(&message::Entity::insert(message::ActiveModel {
        id: Set(row.id.clone()),
        sender: Set(row.sender.clone()),
        subject: Set(row.subject.clone()),
        body: Set(row.body.clone()),
        thread_id: Set(row.thread_id.clone()),
        importance: Set(row.importance),
        ack_required: Set(row.ack_required),
        domain: Set(row.domain.clone()),
        created_at: Set(row.created_at),
    }));
    writes.queue(&recipient::Entity::insert_many(recipients.iter().map(
        |r| recipient::ActiveModel {
            message_id: Set(r.message_id.clone()),
            recipient: Set(r.recipient.clone()),
            hub: Set(r.hub.clone()),
            delivery: Set(r.delivery),
            delivery_error: Set(None),
            read_at: Set(None),
            acked_at: Set(None),
        },
    )));
    writes.emit(
        "message",
        "created",
        &row.id,
        &CreatedEvent {
            id: &row.id,
            sender: &row.sender,
            recipients: recipients.iter().map(|r| r.recipient.as_str()).collect(),
            subject: &row.subject,
            thread_id: &row.thread_id,
            importance: row.importance,
            domain: row.domain.as_deref(),
        },
    )?;
    super::bus::forward(&mut writes, &row, &recipients)?;
    ctx.apply(writes).await?;
    Ok(Full {
        message: row,
        recipients,
    })
}

/// One message with its recipients; `NotFound` unless the caller may read it.
pub async fn get(ctx: &Ctx, who: &Principal, id: &str) -> Result<Full, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let not_found = || HubError::not_found("message", id);
    let message = message::Entity::find_by_id(id)
        .one(&ctx.db)
        .await?
        .filter(|m| m.domain.as_deref().is_none_or(|d| who.may_use_domain(d)))
        .ok_or_else(not_found)?;
    let recipients = recipient::Entity::find()
        .filter(recipient::Column::MessageId.eq(id))
        .order_by_asc(recipient::Column::Recipient)
        .all(&ctx.db)
        .await?;
    if message.sender != who.sub && recipients.iter().all(|r| r.recipient != who.sub) {
        return Err(not_found());
    }
    Ok(Full {
        message,
        recipients,
    })
}

/// The inbox's select up to its filters: a message's columns, then the recipient's state (only
/// what a page shows: each column read costs, docs/BENCHMARKS.md, session 21). Built once,
/// since building its columns and join took about 2.5 % of the hub's instructions per MCP inbox
/// page (session 16).
static INBOX_SELECT: LazyLock<Select<recipient::Entity>> = LazyLock::new(|| {
    recipient::Entity::find()
        .select_only()
        .columns(message::Column::iter())
        .columns([recipient::Column::ReadAt, recipient::Column::AckedAt])
        .inner_join(message::Entity)
});

/// The caller's inbox, newest first; `unread_only` leaves out what it has read.
/// One indexed join over the recipient's rows, stopping after a page.
pub async fn inbox(
    ctx: &Ctx,
    who: &Principal,
    unread_only: bool,
    page: &PageRequest,
) -> Result<Page<Seen>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = INBOX_SELECT
        .clone()
        .filter(recipient::Column::Recipient.eq(who.sub.as_str()))
        .filter(domain_allowed(who))
        .order_by_desc(recipient::Column::MessageId)
        .limit(page.limit + 1);
    if unread_only {
        q = q.filter(recipient::Column::ReadAt.is_null());
    }
    if let Some(after) = &page.after {
        q = q.filter(recipient::Column::MessageId.lt(after.as_str()));
    }
    let rows = ctx.read_rows(&q.into_query(), Seen::read).await?;
    Ok(page_of(rows, page, |s| s.message.id.clone()))
}

impl Seen {
    /// A row of a message's columns, then the caller's state (the inbox's select).
    fn read(cells: &mut Cells) -> Result<Self, DbErr> {
        Ok(Seen {
            message: message::Model::read(cells)?,
            mine: Some(Mine {
                read_at: cells.take()?,
                acked_at: cells.take()?,
            }),
        })
    }
}

/// Marks the message read for the calling recipient (idempotent).
pub async fn mark_read(ctx: &Ctx, who: &Principal, id: &str) -> Result<Seen, HubError> {
    set_state(ctx, who, id, false).await
}

/// Acknowledges the message for the calling recipient, which also marks it read (idempotent).
pub async fn ack(ctx: &Ctx, who: &Principal, id: &str) -> Result<Seen, HubError> {
    set_state(ctx, who, id, true).await
}

async fn set_state(ctx: &Ctx, who: &Principal, id: &str, ack: bool) -> Result<Seen, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let Full {
        message,
        recipients,
    } = get(ctx, who, id).await?;
    let Some(mine) = recipients.into_iter().find(|r| r.recipient == who.sub) else {
        return Err(HubError::Conflict(format!(
            "only a recipient can mark message {id} read or acknowledged"
        )));
    };
    let reads = mine.read_at.is_none();
    let acks = ack && mine.acked_at.is_none();
    if !reads && !acks {
        return Ok(Seen {
            message,
            mine: Some(Mine::from(&mine)),
        });
    }
    let now = crate::db::now();
    let mut tx = ctx.begin().await?;
    // Each update only touches a still-unset timestamp, so a concurrent call cannot emit twice.
    let changes = [
        (reads, recipient::Column::ReadAt, "read"),
        (acks, recipient::Column::AckedAt, "acked"),
    ];
    for (wanted, column, action) in changes {
        if !wanted {
            continue;
        }
        let res = recipient::Entity::update_many()
            .col_expr(column, Expr::value(now))
            .filter(recipient::Column::MessageId.eq(id))
            .filter(recipient::Column::Recipient.eq(who.sub.as_str()))
            .filter(column.is_null())
            .exec(&*tx)
            .await?;
        if res.rows_affected > 0 {
            let data = StateEvent {
                id,
                recipient: &who.sub,
                at: now,
            };
            tx.emit("message", action, id, &data).await?;
        }
    }
    tx.commit().await?;
    let mine = recipient::Entity::find_by_id((id.to_owned(), who.sub.clone()))
        .one(&ctx.db)
        .await?;
    Ok(Seen {
        message,
        mine: mine.as_ref().map(Mine::from),
    })
}

/// Replies to a message the caller can read: to its sender, and with `all` to its other
/// recipients too, in the same thread and domain.
pub async fn reply(ctx: &Ctx, who: &Principal, id: &str, new: NewReply) -> Result<Full, HubError> {
    who.require(&ctx.hub, Access::Write)?;
    let original = get(ctx, who, id).await?;
    let mut v = Validator::new();
    v.text(&new.body, "body", MAX_BODY)
        .opt_text(new.subject.as_deref(), "subject", MAX_SUBJECT);
    no_nul(&mut v, &new.body, "body");
    no_nul(
        &mut v,
        new.subject.as_deref().unwrap_or_default(),
        "subject",
    );
    v.finish()?;
    let orig = original.message;
    let subject = match new.subject {
        Some(s) => s.trim().to_owned(),
        None if orig.subject.starts_with("Re: ") => orig.subject.clone(),
        None => format!("Re: {}", orig.subject),
    };
    // The sender of a message that came from another hub is `agent@thathub`.
    let mut to = vec![parse_address(&orig.sender, &ctx.hub).unwrap_or(Address {
        recipient: orig.sender.clone(),
        hub: ctx.hub.to_string(),
    })];
    if new.all {
        to.extend(
            original
                .recipients
                .into_iter()
                .filter(|r| r.recipient != who.sub)
                .map(|r| Address {
                    recipient: r.recipient,
                    hub: r.hub,
                }),
        );
    }
    let row = message::Model {
        id: crate::ids::new_id(),
        sender: who.sub.clone(),
        subject,
        body: new.body,
        thread_id: orig.thread_id,
        importance: new.importance.unwrap_or_default(),
        ack_required: false,
        domain: orig.domain,
        created_at: crate::db::now(),
    };
    write(ctx, row, to).await
}

/// The messages of a thread the caller may read, oldest first; `NotFound` when it sees none.
pub async fn thread(
    ctx: &Ctx,
    who: &Principal,
    thread_id: &str,
    page: &PageRequest,
) -> Result<Page<Seen>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = message::Entity::find()
        .filter(message::Column::ThreadId.eq(thread_id))
        .filter(visible(who))
        .order_by_asc(message::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(message::Column::Id.gt(after.as_str()));
    }
    let rows = q.all(&ctx.db).await?;
    if rows.is_empty() && page.after.is_none() {
        return Err(HubError::not_found("thread", thread_id));
    }
    with_mine(ctx, who, page_of(rows, page, |m| m.id.clone())).await
}

/// Full-text search over subject and body of the messages the caller may read, newest first.
pub async fn search(
    ctx: &Ctx,
    who: &Principal,
    q: &str,
    page: &PageRequest,
) -> Result<Page<Seen>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let q = q.trim();
    let mut v = Validator::new();
    v.text(q, "q", MAX_QUERY);
    no_nul(&mut v, q, "q");
    v.finish()?;
    let matches = match ctx.db.get_database_backend() {
        DbBackend::Sqlite => Expr::cust_with_values(
            "messages.rowid IN (SELECT rowid FROM messages_fts WHERE messages_fts MATCH ?)",
            [fts5_query(q)],
        ),
        // Exactly the expression of the GIN index, so the index serves the query. (sea-query
        // numbers `$N` for PostgreSQL; a `?` would reach the server unchanged.)
        _ => Expr::cust_with_values(
            "to_tsvector('simple', subject || ' ' || body) @@ plainto_tsquery('simple', $1)",
            [q.to_owned()],
        ),
    };
    let mut query = message::Entity::find()
        .filter(matches)
        .filter(visible(who))
        .order_by_desc(message::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        query = query.filter(message::Column::Id.lt(after.as_str()));
    }
    let rows = query.all(&ctx.db).await?;
    with_mine(ctx, who, page_of(rows, page, |m| m.id.clone())).await
}

/// User text as an FTS5 query: every whitespace-separated term becomes a quoted string (inner
/// quotes doubled), so operators, `*`, `NEAR(` and stray quotes match literally and never
/// make a syntax error; the terms are ANDed.
fn fts5_query(q: &str) -> String {
    q.split_whitespace()
        .map(|t| format!("\"{}\"", t.replace('"', "\"\"")))
        .collect::<Vec<_>>()
        .join(" ")
}

/// Adds the caller's own recipient rows to a page of messages (one query).
async fn with_mine(
    ctx: &Ctx,
    who: &Principal,
    page: Page<message::Model>,
) -> Result<Page<Seen>, HubError> {
    let ids: Vec<String> = page.items.iter().map(|m| m.id.clone()).collect();
    let mut mine: HashMap<String, Mine> = if ids.is_empty() {
        HashMap::new()
    } else {
        recipient::Entity::find()
            .filter(recipient::Column::Recipient.eq(who.sub.as_str()))
            .filter(recipient::Column::MessageId.is_in(ids))
            .all(&ctx.db)
            .await?
            .into_iter()
            .map(|r| (r.message_id.clone(), Mine::from(&r)))
            .collect()
    };
    Ok(page.map(|message| Seen {
        mine: mine.remove(&message.id),
        message,
    }))
}

/// The number of messages stored, optionally only those of `domain`.
pub async fn count(db: &impl ConnectionTrait, domain: Option<&str>) -> Result<u64, HubError> {
    let mut q = message::Entity::find();
    if let Some(d) = domain {
        q = q.filter(message::Column::Domain.eq(d));
    }
    Ok(q.count(db).await?)
}

/// The number of unread messages in a local recipient's inbox.
pub async fn count_unread(db: &impl ConnectionTrait, recipient: &str) -> Result<u64, HubError> {
    Ok(recipient::Entity::find()
        .filter(recipient::Column::Recipient.eq(recipient))
        .filter(recipient::Column::ReadAt.is_null())
        .count(db)
        .await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn addresses_split_into_local_and_remote() {
        let local = |r: &str| {
            Some(Address {
                recipient: r.into(),
                hub: "dev".into(),
            })
        };
        assert_eq!(parse_address("bob", "dev"), local("bob"));
        assert_eq!(parse_address("bob@dev", "dev"), local("bob"));
        assert_eq!(
            parse_address("alice@example.com", "dev"),
            local("alice@example.com")
        );
        assert_eq!(
            parse_address("carol@ops", "dev"),
            Some(Address {
                recipient: "carol@ops".into(),
                hub: "ops".into()
            })
        );
        for bad in ["", "@ops", "a b", "tab\tx"] {
            assert_eq!(parse_address(bad, "dev"), None, "{bad:?}");
        }
    }

    #[test]
    fn fts5_terms_are_quoted() {
        assert_eq!(fts5_query("a \"b"), "\"a\" \"\"\"b\"");
        assert_eq!(fts5_query("NEAR( *"), "\"NEAR(\" \"*\"");
    }
}
