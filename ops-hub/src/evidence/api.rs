//! REST: `/api/v1/ops/evidence`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use serde_json::{Map, Value};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, EvidenceStatus};
use super::service::{self, EvidenceFilter, NewEvidence};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(evidence_create, evidence_list))
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordEvidence {
    /// `smoke`, `probe`, `migration`, `review`… (a slug).
    pub kind: String,
    /// The service it is about; taken from the deployment or run when not given.
    pub service_id: Option<String>,
    pub deployment_id: Option<String>,
    pub run_id: Option<String>,
    /// `pass`, `fail` or `pending`.
    pub status: Option<EvidenceStatus>,
    pub summary: String,
    /// Non-secret details; secret-looking values are refused.
    #[serde(default)]
    pub fields: Map<String, Value>,
}

impl From<RecordEvidence> for NewEvidence {
    fn from(b: RecordEvidence) -> Self {
        Self {
            kind: b.kind,
            service_id: b.service_id,
            deployment_id: b.deployment_id,
            run_id: b.run_id,
            status: b.status,
            summary: b.summary,
            fields: b.fields,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Evidence {
    pub id: String,
    pub kind: String,
    pub service_id: Option<String>,
    pub deployment_id: Option<String>,
    pub run_id: Option<String>,
    pub status: EvidenceStatus,
    pub summary: String,
    pub fields: Value,
    pub actor: String,
    pub recorded_at: DateTime<Utc>,
}

impl From<model::Model> for Evidence {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            service_id: m.service_id,
            deployment_id: m.deployment_id,
            run_id: m.run_id,
            status: m.status,
            summary: m.summary,
            fields: m.fields,
            actor: m.actor,
            recorded_at: m.recorded_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct EvidenceParams {
    pub service: Option<String>,
    pub kind: Option<String>,
    pub status: Option<EvidenceStatus>,
    pub deployment: Option<String>,
    pub run: Option<String>,
}

/// Records evidence; values that look like secrets are refused with a 422 naming the field.
#[utoipa::path(post, path = "/api/v1/ops/evidence", tag = "ops", request_body = RecordEvidence,
    responses((status = 201, body = Evidence), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn evidence_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<RecordEvidence>,
) -> Result<(StatusCode, Json<Evidence>), HubError> {
    let row = service::record(hub.ctx(), &who, body.into()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Evidence, newest first.
#[utoipa::path(get, path = "/api/v1/ops/evidence", tag = "ops", params(PageParams, EvidenceParams),
    responses((status = 200, body = Page<Evidence>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn evidence_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(f): Query<EvidenceParams>,
) -> Result<Json<Page<Evidence>>, HubError> {
    let filter = EvidenceFilter {
        service_id: f.service,
        kind: f.kind,
        status: f.status,
        deployment_id: f.deployment,
        run_id: f.run,
    };
    let page = PageRequest::try_from(&params)?;
    Ok(Json(
        service::list(hub.ctx(), &who, &filter, &page)
            .await?
            .map(Evidence::from),
    ))
}
