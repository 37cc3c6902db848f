//! Presence rules: a heartbeat upserts the caller's row; an agent is online while its last
//! heartbeat is younger than the hub's presence timeout.

use std::time::Duration;

use chrono::{DateTime, Utc};
use sea_orm::sea_query::OnConflict;
use sea_orm::{
    ActiveValue::Set, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect,
};
use serde::Serialize;
use serde_json::{Map, Value};

use super::model;
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::error::{HubError, Validator};

const MAX_STATUS: usize = 200;
const MAX_METADATA_BYTES: usize = 16 * 1024;

/// A heartbeat's fields; an absent field keeps its previous value.
#[derive(Debug, Clone, Default)]
pub struct Heartbeat {
    pub status: Option<String>,
    /// Free-form facts such as tokens used.
    pub metadata: Option<Map<String, Value>>,
}

/// An agent with its presence computed against a timeout.
#[derive(Debug, Clone)]
pub struct Presence {
    pub agent: model::Model,
    pub online: bool,
}

/// The event data of `agent.seen`.
#[derive(Serialize)]
struct SeenEvent<'a> {
    sub: &'a str,
    kind: &'a str,
    status: Option<&'a str>,
    came_online: bool,
}

/// The moment before which a heartbeat counts as stale.
fn cutoff(timeout: Duration) -> DateTime<Utc> {
    chrono::Duration::from_std(timeout)
        .ok()
        .and_then(|d| Utc::now().checked_sub_signed(d))
        .unwrap_or(DateTime::<Utc>::MIN_UTC)
}

/// Records a heartbeat of the caller. Needs only read access: it changes nothing but the
/// caller's own presence.
pub async fn heartbeat(
    ctx: &Ctx,
    who: &Principal,
    beat: Heartbeat,
    timeout: Duration,
) -> Result<Presence, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let metadata_len = beat
        .metadata
        .as_ref()
        .map_or(0, |m| Value::Object(m.clone()).to_string().len());
    Validator::new()
        .opt_text(beat.status.as_deref(), "status", MAX_STATUS)
        .check(
            beat.status.as_deref().is_none_or(|s| !s.contains('\0')),
            "status",
            "must not contain NUL characters",
        )
        .check(
            metadata_len <= MAX_METADATA_BYTES,
            "metadata",
            format!("must be at most {MAX_METADATA_BYTES} bytes as JSON"),
        )
        .finish()?;
    let now = crate::db::now();
    let before = model::Entity::find_by_id(who.sub.as_str())
        .one(&ctx.db)
        .await?;
    let kind = serde_json::to_value(who.kind)
        .ok()
        .and_then(|v| v.as_str().map(str::to_owned))
        .unwrap_or_default();
    let status = beat.status.map(|s| s.trim().to_owned());
    let row = model::Model {
        sub: who.sub.clone(),
        kind,
        status: status
            .clone()
            .or_else(|| before.as_ref().and_then(|b| b.status.clone())),
        metadata: beat
            .metadata
            .map(Value::Object)
            .or_else(|| before.as_ref().and_then(|b| b.metadata.clone())),
        first_seen: before.as_ref().map_or(now, |b| b.first_seen),
        last_seen: now,
    };
    let came_online = before
        .as_ref()
        .is_none_or(|b| b.last_seen < cutoff(timeout));
    let status_changed = before
        .as_ref()
        .is_some_and(|b| status.is_some() && b.status != status);
    let mut tx = ctx.begin().await?;
    // An upsert, so two first heartbeats racing each other both succeed.
    model::Entity::insert(model::ActiveModel {
        sub: Set(row.sub.clone()),
        kind: Set(row.kind.clone()),
        status: Set(row.status.clone()),
        metadata: Set(row.metadata.clone()),
        first_seen: Set(row.first_seen),
        last_seen: Set(row.last_seen),
    })
    .on_conflict(
        OnConflict::column(model::Column::Sub)
            .update_columns([
                model::Column::Kind,
                model::Column::Status,
                model::Column::Metadata,
                model::Column::LastSeen,
            ])
            .to_owned(),
    )
    .exec_without_returning(&*tx)
    .await?;
    // Heartbeats come every few seconds per agent; an event for each would flood the outbox and
    // the bus with nothing new. Only what others care about is an event: an agent coming online
    // (first heartbeat or after the timeout) or changing its status.
    if came_online || status_changed {
        let data = SeenEvent {
            sub: &row.sub,
            kind: &row.kind,
            status: row.status.as_deref(),
            came_online,
        };
        tx.emit("agent", "seen", &row.sub, &data).await?;
    }
    tx.commit().await?;
    Ok(Presence {
        agent: row,
        online: true,
    })
}

/// Agents by sub; `online` filters on presence against `timeout`.
pub async fn list(
    ctx: &Ctx,
    who: &Principal,
    online: Option<bool>,
    timeout: Duration,
    page: &PageRequest,
) -> Result<Page<Presence>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let since = cutoff(timeout);
    let mut q = model::Entity::find()
        .order_by_asc(model::Column::Sub)
        .limit(page.limit + 1);
    match online {
        Some(true) => q = q.filter(model::Column::LastSeen.gte(since)),
        Some(false) => q = q.filter(model::Column::LastSeen.lt(since)),
        None => {}
    }
    if let Some(after) = &page.after {
        q = q.filter(model::Column::Sub.gt(after.as_str()));
    }
    let rows = q.all(&ctx.db).await?;
    Ok(
        page_of(rows, page, |a| a.sub.clone()).map(|agent| Presence {
            online: agent.last_seen >= since,
            agent,
        }),
    )
}

/// The number of agents whose last heartbeat is younger than `timeout`.
pub async fn count_online(db: &impl ConnectionTrait, timeout: Duration) -> Result<u64, HubError> {
    Ok(model::Entity::find()
        .filter(model::Column::LastSeen.gte(cutoff(timeout)))
        .count(db)
        .await?)
}
