//! REST: `/api/v1/events`, `/api/v1/risks`, `/api/v1/alerts`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, Severity, StateKind, event, state};
use super::service::{self, EventFilter, NewEvent, Recorded, StateFilter, StatusFilter};
use crate::api::extract::{Json, Query};
use crate::api::page::{Page, PageParams, PageRequest};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(events_create, events_list))
        .routes(routes!(risks_list))
        .routes(routes!(alerts_list))
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateEvent {
    /// snake_case, 1-64 characters; `risk_surfaced`, `risk_mitigated`, `risk_escalated`,
    /// `alert_raised`, `alert_acknowledged` and `alert_resolved` track a risk/alert `key`.
    pub event_type: String,
    pub domain: Option<String>,
    /// References to what the event is about, e.g. `{"task": "T1"}`.
    pub subject_refs: Option<Map<String, Value>>,
    pub summary: String,
    /// Default `info`.
    pub severity: Option<Severity>,
    /// The risk/alert identity, e.g. `budget:finance:2026-11:90`; required for the risk/alert types.
    pub key: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct ProgressEvent {
    pub id: String,
    pub event_type: String,
    pub domain: Option<String>,
    pub subject_refs: Value,
    pub summary: String,
    pub severity: Severity,
    pub key: Option<String>,
    /// The principal that recorded the event.
    pub actor: String,
    pub time: DateTime<Utc>,
}

impl From<event::Model> for ProgressEvent {
    fn from(m: event::Model) -> Self {
        Self {
            id: m.id,
            event_type: m.event_type,
            domain: m.domain,
            subject_refs: m.subject_refs,
            summary: m.summary,
            severity: m.severity,
            key: m.key,
            actor: m.actor,
            time: m.time,
        }
    }
}

/// The current state of a risk or alert key.
#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct Tracked {
    pub key: String,
    pub kind: StateKind,
    pub state: model::State,
    /// The highest severity seen while open.
    pub severity: Severity,
    /// True once the risk was escalated while open.
    pub escalated: bool,
    pub domain: Option<String>,
    /// The latest event's summary.
    pub summary: String,
    pub opened_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    pub last_actor: String,
    pub event_count: i64,
}

impl From<state::Model> for Tracked {
    fn from(m: state::Model) -> Self {
        Self {
            key: m.key,
            kind: m.kind,
            state: m.state,
            severity: m.severity,
            escalated: m.escalated,
            domain: m.domain,
            summary: m.summary,
            opened_at: m.opened_at,
            updated_at: m.updated_at,
            last_actor: m.last_actor,
            event_count: m.event_count,
        }
    }
}

/// A recorded event, with its risk/alert state afterwards where it tracks one.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct RecordedEvent {
    #[serde(flatten)]
    pub event: ProgressEvent,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub state: Option<Tracked>,
}

impl From<Recorded> for RecordedEvent {
    fn from(r: Recorded) -> Self {
        Self {
            event: r.event.into(),
            state: r.state.map(Tracked::from),
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct EventQuery {
    pub domain: Option<String>,
    /// Only events of this type.
    #[serde(rename = "type")]
    #[param(rename = "type")]
    pub event_type: Option<String>,
    /// RFC 3339 time: only events at or after it.
    pub since: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct StateQuery {
    /// `open` (default; for alerts including acknowledged), `closed` or `all`.
    pub status: Option<StatusFilter>,
    pub domain: Option<String>,
}

impl From<StateQuery> for StateFilter {
    fn from(q: StateQuery) -> Self {
        Self {
            status: q.status.unwrap_or_default(),
            domain: q.domain,
        }
    }
}

/// Appends a progress event; the six risk/alert types also move their key's state
/// (409 when acknowledging, resolving or mitigating a key that is not open).
#[utoipa::path(post, path = "/api/v1/events", tag = "progress", request_body = CreateEvent,
    responses((status = 201, body = RecordedEvent), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn events_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateEvent>,
) -> Result<(StatusCode, Json<RecordedEvent>), HubError> {
    let new = NewEvent {
        event_type: body.event_type,
        domain: body.domain,
        subject_refs: body.subject_refs.unwrap_or_default(),
        summary: body.summary,
        severity: body.severity.unwrap_or_default(),
        key: body.key,
    };
    let recorded = service::record(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(recorded.into())))
}

/// Progress events, newest first.
#[utoipa::path(get, path = "/api/v1/events", tag = "progress", params(PageParams, EventQuery),
    responses((status = 200, body = Page<ProgressEvent>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn events_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(query): Query<EventQuery>,
) -> Result<Json<Page<ProgressEvent>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let since = query
        .since
        .as_deref()
        .map(|s| {
            DateTime::parse_from_rfc3339(s)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|e| {
                    HubError::bad_request("since", format!("is not an RFC 3339 time: {e}"))
                })
        })
        .transpose()?;
    let filter = EventFilter {
        domain: query.domain,
        event_type: query.event_type,
        since,
    };
    let page = service::list_events(hub.ctx(), &who, &filter, &page).await?;
    Ok(Json(page.map(ProgressEvent::from)))
}

/// The current state of each risk key, by key.
#[utoipa::path(get, path = "/api/v1/risks", tag = "progress", params(PageParams, StateQuery),
    responses((status = 200, body = Page<Tracked>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn risks_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(query): Query<StateQuery>,
) -> Result<Json<Page<Tracked>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let page = service::list_risks(hub.ctx(), &who, &query.into(), &page).await?;
    Ok(Json(page.map(Tracked::from)))
}

/// The current state of each alert key, by key.
#[utoipa::path(get, path = "/api/v1/alerts", tag = "progress", params(PageParams, StateQuery),
    responses((status = 200, body = Page<Tracked>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn alerts_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(query): Query<StateQuery>,
) -> Result<Json<Page<Tracked>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let page = service::list_alerts(hub.ctx(), &who, &query.into(), &page).await?;
    Ok(Json(page.map(Tracked::from)))
}
