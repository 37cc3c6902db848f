//! Progress rules: events are appended, never changed; the six risk/alert event types move
//! their key's state in `progress_states` in the same transaction, refusing illegal moves.

use chrono::{DateTime, Utc};
use sea_orm::{
    ActiveModelTrait, ColumnTrait, ConnectionTrait, EntityTrait, PaginatorTrait, QueryFilter,
    QueryOrder, QuerySelect, Select, Set,
};
use serde::Deserialize;
use serde_json::{Map, Value};
use utoipa::ToSchema;

use super::model::{Severity, State, StateKind, event, state};
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::{Ctx, Tx};
use crate::domain;
use crate::error::{HubError, Validator};

/// A new progress event; the actor and time come from the caller and the clock.
#[derive(Debug, Clone, Default)]
pub struct NewEvent {
    /// snake_case, 1-64 characters.
    pub event_type: String,
    pub domain: Option<String>,
    pub subject_refs: Map<String, Value>,
    pub summary: String,
    pub severity: Severity,
    /// Required for the risk/alert types: the identity of the risk or alert.
    pub key: Option<String>,
}

/// An appended event and, for a risk/alert event, its key's state afterwards.
#[derive(Debug, Clone, PartialEq)]
pub struct Recorded {
    pub event: event::Model,
    pub state: Option<state::Model>,
}

/// How a risk/alert event moves its key's state.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Move {
    /// Opens the key, or keeps an open key open (idempotent).
    Open,
    /// Like `Open`, and marks the risk escalated.
    Escalate,
    /// An open alert becomes acknowledged.
    Acknowledge,
    /// An open key closes into this state.
    Close(State),
}

/// The canonical risk/alert vocabulary.
fn tracked(event_type: &str) -> Option<(StateKind, Move)> {
    Some(match event_type {
        "risk_surfaced" => (StateKind::Risk, Move::Open),
        "risk_escalated" => (StateKind::Risk, Move::Escalate),
        "risk_mitigated" => (StateKind::Risk, Move::Close(State::Mitigated)),
        "alert_raised" => (StateKind::Alert, Move::Open),
        "alert_acknowledged" => (StateKind::Alert, Move::Acknowledge),
        "alert_resolved" => (StateKind::Alert, Move::Close(State::Resolved)),
        _ => return None,
    })
}

fn is_snake_case(s: &str) -> bool {
    (1..=64).contains(&s.len())
        && s.starts_with(|c: char| c.is_ascii_lowercase())
        && !s.ends_with('_')
        && !s.contains("__")
        && s.chars()
            .all(|c| c.is_ascii_lowercase() || c.is_ascii_digit() || c == '_')
}

/// Appends an event; a risk/alert event also moves its key's state, or is refused with a
/// conflict when the move is illegal (closing or acknowledging a key that is not open).
pub async fn record(ctx: &Ctx, who: &Principal, new: NewEvent) -> Result<Recorded, HubError> {
    let mut tx = ctx.begin().await?;
    let recorded = record_in(&mut tx, who, new).await?;
    tx.commit().await?;
    Ok(recorded)
}

/// [`record`] inside `tx`, for a change that records progress with its own effect (a bus
/// handler, a watch that also emits a signal): both commit together or not at all.
pub async fn record_in(
    tx: &mut Tx<'_>,
    who: &Principal,
    new: NewEvent,
) -> Result<Recorded, HubError> {
    who.require(tx.hub(), Access::Write)?;
    let track = tracked(&new.event_type);
    let mut v = Validator::new();
    v.check(
        is_snake_case(&new.event_type),
        "event_type",
        "must be 1-64 characters of snake_case (a-z, 0-9, '_'), starting with a letter",
    )
    .opt_text(new.domain.as_deref(), "domain", 64)
    .text(&new.summary, "summary", 4000)
    .opt_text(new.key.as_deref(), "key", 200);
    if track.is_some() {
        v.check(
            new.key.is_some(),
            "key",
            format!("is required for {}", new.event_type),
        );
    }
    v.finish()?;

    let current = match (track, &new.key) {
        (Some((kind, _)), Some(key)) => {
            state::Entity::find_by_id((kind, key.clone()))
                .lock_exclusive()
                .one(&**tx)
                .await?
        }
        _ => None,
    };
    // An open key keeps its domain: later events may omit it, but not change it.
    let held = current.as_ref().filter(|s| s.state.is_open());
    let domain = match (new.domain, held) {
        (Some(given), Some(s)) if s.domain.as_deref() != Some(given.as_str()) => {
            return Err(HubError::Conflict(format!(
                "{} {} belongs to {}",
                s.kind,
                s.key,
                s.domain
                    .as_ref()
                    .map_or("no domain".to_owned(), |d| format!("domain {d}"))
            )));
        }
        (given, held) => given.or_else(|| held.and_then(|s| s.domain.clone())),
    };
    match &domain {
        Some(d) => domain::service::check_usable(&**tx, who, d, "domain").await?,
        None if who.domains.is_some() => {
            return Err(HubError::invalid(
                "domain",
                "is required for a principal limited to domains",
            ));
        }
        None => {}
    }

    let row = event::ActiveModel {
        id: Set(crate::ids::new_id()),
        event_type: Set(new.event_type),
        domain: Set(domain),
        subject_refs: Set(Value::Object(new.subject_refs)),
        summary: Set(new.summary.trim().to_owned()),
        severity: Set(new.severity),
        key: Set(new.key),
        actor: Set(who.sub.clone()),
        time: Set(Utc::now()),
    }
    .insert(&**tx)
    .await?;
    let state = match (track, &row.key) {
        (Some((kind, mv)), Some(key)) => Some(advance(&**tx, kind, key, mv, current, &row).await?),
        _ => None,
    };
    tx.emit("progress", "recorded", &row.id, &row).await?;
    if let Some(after) = &state {
        super::bus::signal(tx, &row, after).await?;
    }
    Ok(Recorded { event: row, state })
}

/// Writes the state of `key` after `ev`, or refuses an illegal move.
async fn advance(
    db: &impl ConnectionTrait,
    kind: StateKind,
    key: &str,
    mv: Move,
    current: Option<state::Model>,
    ev: &event::Model,
) -> Result<state::Model, HubError> {
    let not_open = || HubError::Conflict(format!("{kind} {key} is not open"));
    let opens = matches!(mv, Move::Open | Move::Escalate);
    let Some(cur) = current else {
        if !opens {
            return Err(not_open());
        }
        return state::ActiveModel {
            kind: Set(kind),
            key: Set(key.to_owned()),
            state: Set(State::Open),
            severity: Set(ev.severity),
            escalated: Set(mv == Move::Escalate),
            domain: Set(ev.domain.clone()),
            summary: Set(ev.summary.clone()),
            opened_at: Set(ev.time),
            updated_at: Set(ev.time),
            last_actor: Set(ev.actor.clone()),
            event_count: Set(1),
        }
        .insert(db)
        .await
        // Two first events for one key at once: the loser retries.
        .map_err(|e| {
            HubError::from_db_unique(e, || format!("{kind} {key} changed concurrently, retry"))
        });
    };
    let was_open = cur.state.is_open();
    let mut next = state::ActiveModel::from(cur.clone());
    next.summary = Set(ev.summary.clone());
    next.updated_at = Set(ev.time);
    next.last_actor = Set(ev.actor.clone());
    next.event_count = Set(cur.event_count + 1);
    match mv {
        Move::Open | Move::Escalate if !was_open => {
            // A closed key opens again: a new open period.
            next.state = Set(State::Open);
            next.severity = Set(ev.severity);
            next.escalated = Set(mv == Move::Escalate);
            next.domain = Set(ev.domain.clone());
            next.opened_at = Set(ev.time);
        }
        _ if !was_open => return Err(not_open()),
        Move::Open | Move::Escalate | Move::Acknowledge => {
            next.severity = Set(cur.severity.max(ev.severity));
            next.escalated = Set(cur.escalated || mv == Move::Escalate);
            if mv == Move::Acknowledge {
                next.state = Set(State::Acknowledged);
            }
        }
        Move::Close(to) => next.state = Set(to),
    }
    Ok(next.update(db).await?)
}

impl NewEvent {
    /// `alert_raised` for `key`.
    fn alert_raised(key: &str, summary: &str, severity: Severity, domain: Option<&str>) -> Self {
        Self {
            event_type: "alert_raised".into(),
            domain: domain.map(str::to_owned),
            summary: summary.to_owned(),
            severity,
            key: Some(key.to_owned()),
            ..Default::default()
        }
    }

    /// A follow-up (`alert_acknowledged`, `alert_resolved`) of the alert `key`.
    fn alert_follow_up(event_type: &str, key: &str, note: Option<&str>) -> Self {
        Self {
            event_type: event_type.into(),
            summary: note.unwrap_or(&event_type.replace('_', " ")).to_owned(),
            key: Some(key.to_owned()),
            ..Default::default()
        }
    }
}

/// Raises the alert `key` (or records a repeat of an open one).
pub async fn raise_alert(
    ctx: &Ctx,
    who: &Principal,
    key: &str,
    summary: &str,
    severity: Severity,
    domain: Option<&str>,
) -> Result<Recorded, HubError> {
    let new = NewEvent::alert_raised(key, summary, severity, domain);
    record(ctx, who, new).await
}

/// [`raise_alert`] inside `tx`.
pub async fn raise_alert_in(
    tx: &mut Tx<'_>,
    who: &Principal,
    key: &str,
    summary: &str,
    severity: Severity,
    domain: Option<&str>,
) -> Result<Recorded, HubError> {
    let new = NewEvent::alert_raised(key, summary, severity, domain);
    record_in(tx, who, new).await
}

/// Acknowledges the open alert `key`; a conflict when no alert of that key is open.
pub async fn acknowledge_alert(
    ctx: &Ctx,
    who: &Principal,
    key: &str,
    note: Option<&str>,
) -> Result<Recorded, HubError> {
    let new = NewEvent::alert_follow_up("alert_acknowledged", key, note);
    record(ctx, who, new).await
}

/// Resolves the open alert `key`; a conflict when no alert of that key is open.
pub async fn resolve_alert(
    ctx: &Ctx,
    who: &Principal,
    key: &str,
    note: Option<&str>,
) -> Result<Recorded, HubError> {
    let new = NewEvent::alert_follow_up("alert_resolved", key, note);
    record(ctx, who, new).await
}

/// [`resolve_alert`] inside `tx`.
pub async fn resolve_alert_in(
    tx: &mut Tx<'_>,
    who: &Principal,
    key: &str,
    note: Option<&str>,
) -> Result<Recorded, HubError> {
    let new = NewEvent::alert_follow_up("alert_resolved", key, note);
    record_in(tx, who, new).await
}

/// True when the alert `key` is open (or acknowledged).
pub async fn alert_is_open(db: &impl ConnectionTrait, key: &str) -> Result<bool, HubError> {
    Ok(
        state::Entity::find_by_id((StateKind::Alert, key.to_owned()))
            .one(db)
            .await?
            .is_some_and(|s| s.state.is_open()),
    )
}

/// A condition watched elsewhere (a budget over a threshold, runway too short) and its alert.
#[derive(Debug, Clone, Copy)]
pub struct AlertCondition<'a> {
    pub key: &'a str,
    /// True while the condition holds; false once it cleared.
    pub holds: bool,
    /// The raise's summary, or the resolution's note.
    pub summary: &'a str,
    pub severity: Severity,
    pub domain: Option<&'a str>,
}

/// Keeps the alert of a condition in step with it, inside `tx`: while it holds the alert is
/// raised (a repeat while open); once it cleared the open alert is resolved, and a clearing with
/// no open alert (told twice, or before any raise) changes nothing. Returns what was recorded.
pub async fn track_alert(
    tx: &mut Tx<'_>,
    who: &Principal,
    c: AlertCondition<'_>,
) -> Result<Option<Recorded>, HubError> {
    if c.holds {
        let raised = raise_alert_in(tx, who, c.key, c.summary, c.severity, c.domain).await?;
        return Ok(Some(raised));
    }
    if !alert_is_open(&**tx, c.key).await? {
        return Ok(None);
    }
    Ok(Some(
        resolve_alert_in(tx, who, c.key, Some(c.summary)).await?,
    ))
}

/// Filters of the event list.
#[derive(Debug, Clone, Default)]
pub struct EventFilter {
    pub domain: Option<String>,
    pub event_type: Option<String>,
    /// Only events at or after this time.
    pub since: Option<DateTime<Utc>>,
}

/// Events newest first, of the domains the caller may see.
pub async fn list_events(
    ctx: &Ctx,
    who: &Principal,
    filter: &EventFilter,
    page: &PageRequest,
) -> Result<Page<event::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = event::Entity::find()
        .order_by_desc(event::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(event::Column::Id.lt(after.as_str()));
    }
    q = in_domains(q, who, filter.domain.as_deref(), event::Column::Domain)?;
    if let Some(t) = &filter.event_type {
        q = q.filter(event::Column::EventType.eq(t.as_str()));
    }
    if let Some(since) = filter.since {
        q = q.filter(event::Column::Time.gte(since));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |e| e.id.clone()))
}

/// Limits `q` to `domain` (which the caller must be allowed) or to the caller's domains.
fn in_domains<E: EntityTrait>(
    q: Select<E>,
    who: &Principal,
    domain: Option<&str>,
    column: impl ColumnTrait,
) -> Result<Select<E>, HubError> {
    Ok(match (domain, &who.domains) {
        (Some(d), _) => {
            who.require_domain(d)?;
            q.filter(column.eq(d))
        }
        (None, Some(allowed)) => q.filter(column.is_in(allowed.iter().cloned())),
        (None, None) => q,
    })
}

/// Which risks/alerts a list shows.
#[derive(
    Debug, Clone, Copy, Default, PartialEq, Eq, Deserialize, ToSchema, schemars::JsonSchema,
)]
#[serde(rename_all = "snake_case")]
pub enum StatusFilter {
    /// Open risks; open and acknowledged alerts.
    #[default]
    Open,
    /// Mitigated risks; resolved alerts.
    Closed,
    All,
}

/// Filters of the risk and alert lists.
#[derive(Debug, Clone, Default)]
pub struct StateFilter {
    pub status: StatusFilter,
    pub domain: Option<String>,
}

/// The current state of each risk key, by key.
pub async fn list_risks(
    ctx: &Ctx,
    who: &Principal,
    filter: &StateFilter,
    page: &PageRequest,
) -> Result<Page<state::Model>, HubError> {
    list_states(ctx, who, StateKind::Risk, filter, page).await
}

/// The current state of each alert key, by key.
pub async fn list_alerts(
    ctx: &Ctx,
    who: &Principal,
    filter: &StateFilter,
    page: &PageRequest,
) -> Result<Page<state::Model>, HubError> {
    list_states(ctx, who, StateKind::Alert, filter, page).await
}

async fn list_states(
    ctx: &Ctx,
    who: &Principal,
    kind: StateKind,
    filter: &StateFilter,
    page: &PageRequest,
) -> Result<Page<state::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = state::Entity::find()
        .filter(state::Column::Kind.eq(kind))
        .order_by_asc(state::Column::Key)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(state::Column::Key.gt(after.as_str()));
    }
    q = match filter.status {
        StatusFilter::Open => q.filter(state::Column::State.is_in(State::OPEN)),
        StatusFilter::Closed => q.filter(state::Column::State.is_not_in(State::OPEN)),
        StatusFilter::All => q,
    };
    q = in_domains(q, who, filter.domain.as_deref(), state::Column::Domain)?;
    Ok(page_of(q.all(&ctx.db).await?, page, |s| s.key.clone()))
}

/// The number of open risks or alerts (acknowledged alerts count as open), of one domain or of all.
pub async fn count_open(
    db: &impl ConnectionTrait,
    kind: StateKind,
    domain: Option<&str>,
) -> Result<u64, HubError> {
    let mut q = state::Entity::find()
        .filter(state::Column::Kind.eq(kind))
        .filter(state::Column::State.is_in(State::OPEN));
    if let Some(d) = domain {
        q = q.filter(state::Column::Domain.eq(d));
    }
    Ok(q.count(db).await?)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn event_types_are_snake_case() {
        for ok in ["risk_surfaced", "deploy", "build2_done"] {
            assert!(is_snake_case(ok), "{ok}");
        }
        let long = "a".repeat(65);
        for bad in [
            "",
            "Risk",
            "1st",
            "a-b",
            "a__b",
            "end_",
            "a b",
            long.as_str(),
        ] {
            assert!(!is_snake_case(bad), "{bad}");
        }
    }

    #[test]
    fn the_canonical_vocabulary_is_tracked() {
        assert_eq!(
            tracked("risk_mitigated"),
            Some((StateKind::Risk, Move::Close(State::Mitigated)))
        );
        assert_eq!(
            tracked("alert_acknowledged"),
            Some((StateKind::Alert, Move::Acknowledge))
        );
        assert_eq!(tracked("risk_accepted"), None);
    }
}
