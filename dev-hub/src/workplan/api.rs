//! REST: `/api/v1/dev/workplans` and `/api/v1/dev/workplans/{id}`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::progress::api::Tracked;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::WorkplanStatus;
use super::service::{self, Alerted, Section, WorkplanDetail, WorkplanFilter};
use crate::task::query::PhaseProgress;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(workplans_list))
        .routes(routes!(workplans_get))
}

#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct Workplan {
    /// The human id, e.g. `CUST-WP-0025`.
    pub id: String,
    pub title: String,
    pub domain: String,
    pub status: WorkplanStatus,
    pub owner: Option<String>,
    pub topic: Option<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// The open alerts of the domain from fin's budget pressure signals, by key.
    pub fin_alerts: Vec<Tracked>,
}

impl From<Alerted> for Workplan {
    fn from(a: Alerted) -> Self {
        let m = a.workplan;
        Self {
            id: m.id,
            title: m.title,
            domain: m.domain,
            status: m.status,
            owner: m.owner,
            topic: m.topic,
            created_at: m.created_at,
            updated_at: m.updated_at,
            fin_alerts: a.fin_alerts.into_iter().map(Tracked::from).collect(),
        }
    }
}

/// A workplan with its fin alerts, its text, its progress by phase and its workstreams.
#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct WorkplanFull {
    #[serde(flatten)]
    pub workplan: Workplan,
    /// The prose before the first section.
    pub body: String,
    pub sections: Vec<Section>,
    /// Front matter keys the hub does not interpret, kept for export.
    pub extra: Value,
    /// Done/total per phase, in document order.
    pub progress: Vec<PhaseProgress>,
    pub workstreams: Vec<String>,
}

impl From<WorkplanDetail> for WorkplanFull {
    fn from(d: WorkplanDetail) -> Self {
        Self {
            body: d.workplan.workplan.body.clone(),
            sections: service::sections(&d.workplan.workplan),
            extra: d.workplan.workplan.extra.clone(),
            workplan: d.workplan.into(),
            progress: d.progress,
            workstreams: d.workstreams,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct WorkplanQuery {
    pub domain: Option<String>,
    pub status: Option<WorkplanStatus>,
    pub topic: Option<String>,
}

/// Workplans by id, each with the open fin alerts of its domain.
#[utoipa::path(get, path = "/api/v1/dev/workplans", tag = "dev", params(PageParams, WorkplanQuery),
    responses((status = 200, body = Page<Workplan>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn workplans_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(q): Query<WorkplanQuery>,
) -> Result<Json<Page<Workplan>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let filter = WorkplanFilter {
        domain: q.domain,
        status: q.status,
        topic: q.topic,
    };
    let rows = service::list(hub.ctx(), &who, &filter, &page).await?;
    Ok(Json(rows.map(Workplan::from)))
}

/// One workplan with its progress by phase and the open fin alerts of its domain.
#[utoipa::path(get, path = "/api/v1/dev/workplans/{id}", tag = "dev", params(("id" = String, Path)),
    responses((status = 200, body = WorkplanFull), (status = 404, body = Problem)))]
async fn workplans_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<WorkplanFull>, HubError> {
    Ok(Json(service::detail(hub.ctx(), &who, &id).await?.into()))
}
