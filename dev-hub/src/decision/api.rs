//! REST: `/api/v1/dev/decisions`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, DecisionStatus};
use super::service::{self, DecisionFilter, NewDecision};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(decisions_create, decisions_list))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct Decision {
    pub id: String,
    pub domain: String,
    pub workplan: Option<String>,
    pub title: String,
    pub choice: String,
    pub rationale: String,
    pub status: DecisionStatus,
    /// Ids of the tasks the decision is about.
    pub tasks: Vec<String>,
    pub created_by: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Model> for Decision {
    fn from(m: model::Model) -> Self {
        Self {
            tasks: serde_json::from_value(m.tasks).unwrap_or_default(),
            id: m.id,
            domain: m.domain,
            workplan: m.workplan_id,
            title: m.title,
            choice: m.choice,
            rationale: m.rationale,
            status: m.status,
            created_by: m.created_by,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDecision {
    pub title: String,
    pub choice: String,
    #[serde(default)]
    pub rationale: String,
    /// Default `proposed`.
    pub status: Option<DecisionStatus>,
    /// The workplan it belongs to; its domain is the workplan's.
    pub workplan: Option<String>,
    /// Required without a workplan.
    pub domain: Option<String>,
    #[serde(default)]
    pub tasks: Vec<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DecisionQuery {
    pub domain: Option<String>,
    pub workplan: Option<String>,
}

/// Records a decision.
#[utoipa::path(post, path = "/api/v1/dev/decisions", tag = "dev", request_body = RecordDecision,
    responses((status = 201, body = Decision), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn decisions_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(b): Json<RecordDecision>,
) -> Result<(StatusCode, Json<Decision>), HubError> {
    let new = NewDecision {
        title: b.title,
        choice: b.choice,
        rationale: b.rationale,
        status: b.status,
        workplan: b.workplan,
        domain: b.domain,
        tasks: b.tasks,
    };
    let row = service::record(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Decisions newest first.
#[utoipa::path(get, path = "/api/v1/dev/decisions", tag = "dev", params(PageParams, DecisionQuery),
    responses((status = 200, body = Page<Decision>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn decisions_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(q): Query<DecisionQuery>,
) -> Result<Json<Page<Decision>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let filter = DecisionFilter {
        domain: q.domain,
        workplan: q.workplan,
    };
    Ok(Json(
        service::list(hub.ctx(), &who, &filter, &page)
            .await?
            .map(Decision::from),
    ))
}
