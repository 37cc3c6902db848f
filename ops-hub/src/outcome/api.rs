//! REST: `/api/v1/ops/outcomes`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, Judgement};
use super::service::{self, NewOutcome};
use crate::deployment::api::ServiceParam;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(outcomes_create, outcomes_list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordOutcome {
    pub service_id: String,
    /// A deployment of that service the outcome follows from.
    pub deployment_id: Option<String>,
    /// What is measured or judged: `error_rate`, `p99_latency`, `user_feedback`…
    pub name: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub judgement: Option<Judgement>,
    pub summary: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Outcome {
    pub id: String,
    pub service_id: String,
    pub deployment_id: Option<String>,
    pub name: String,
    pub value: Option<f64>,
    pub unit: Option<String>,
    pub judgement: Option<Judgement>,
    pub summary: String,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<model::Model> for Outcome {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            service_id: m.service_id,
            deployment_id: m.deployment_id,
            name: m.name,
            value: m.value,
            unit: m.unit,
            judgement: m.judgement,
            summary: m.summary,
            actor: m.actor,
            recorded_at: m.recorded_at,
        }
    }
}

/// Records an outcome signal: a metric value, a judgement, or both.
#[utoipa::path(post, path = "/api/v1/ops/outcomes", tag = "ops", request_body = RecordOutcome,
    responses((status = 201, body = Outcome), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn outcomes_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(b): Json<RecordOutcome>,
) -> Result<(StatusCode, Json<Outcome>), HubError> {
    let new = NewOutcome {
        service_id: b.service_id,
        deployment_id: b.deployment_id,
        name: b.name,
        value: b.value,
        unit: b.unit,
        judgement: b.judgement,
        summary: b.summary,
    };
    let row = service::record(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Outcomes, newest first.
#[utoipa::path(get, path = "/api/v1/ops/outcomes", tag = "ops", params(PageParams, ServiceParam),
    responses((status = 200, body = Page<Outcome>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn outcomes_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<ServiceParam>,
) -> Result<Json<Page<Outcome>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let got = service::list(hub.ctx(), &who, filter.service.as_deref(), &page).await?;
    Ok(Json(got.map(Outcome::from)))
}
