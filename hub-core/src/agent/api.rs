//! REST: `/api/v1/agents`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service;
use crate::api::extract::{Json, Query};
use crate::api::page::{Page, PageParams, PageRequest};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(agents_heartbeat))
        .routes(routes!(agents_list))
}

/// A heartbeat of the caller; absent fields keep their previous values.
#[derive(Debug, Default, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct HeartbeatBody {
    /// What the agent is doing, in its own words.
    pub status: Option<String>,
    /// Free-form facts, e.g. tokens used.
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Map<String, Value>>,
}

/// An agent's presence.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Agent {
    /// The agent's `sub`.
    pub id: String,
    pub sub: String,
    pub kind: String,
    pub status: Option<String>,
    #[schema(value_type = Option<Object>)]
    pub metadata: Option<Value>,
    pub first_seen: DateTime<Utc>,
    pub last_seen: DateTime<Utc>,
    /// Whether the last heartbeat is younger than the hub's presence timeout.
    pub online: bool,
}

impl From<service::Presence> for Agent {
    fn from(p: service::Presence) -> Self {
        let a = p.agent;
        Self {
            id: a.sub.clone(),
            sub: a.sub,
            kind: a.kind,
            status: a.status,
            metadata: a.metadata,
            first_seen: a.first_seen,
            last_seen: a.last_seen,
            online: p.online,
        }
    }
}

/// `online=true|false` filters on presence.
#[derive(Debug, Deserialize, IntoParams)]
pub struct AgentFilter {
    pub online: Option<bool>,
}

/// Records a heartbeat of the caller.
#[utoipa::path(post, path = "/api/v1/agents/heartbeat", tag = "agents", request_body = HeartbeatBody,
    responses((status = 200, body = Agent), (status = 400, body = Problem), (status = 422, body = Problem)))]
async fn agents_heartbeat(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<HeartbeatBody>,
) -> Result<Json<Agent>, HubError> {
    let beat = service::Heartbeat {
        status: body.status,
        metadata: body.metadata,
    };
    let timeout = hub.config().presence_timeout;
    Ok(Json(
        service::heartbeat(hub.ctx(), &who, beat, timeout)
            .await?
            .into(),
    ))
}

/// Lists agents by sub, with their presence.
#[utoipa::path(get, path = "/api/v1/agents", tag = "agents", params(PageParams, AgentFilter),
    responses((status = 200, body = Page<Agent>), (status = 400, body = Problem)))]
async fn agents_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<AgentFilter>,
) -> Result<Json<Page<Agent>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let timeout = hub.config().presence_timeout;
    let res = service::list(hub.ctx(), &who, filter.online, timeout, &page).await?;
    Ok(Json(res.map(Agent::from)))
}
