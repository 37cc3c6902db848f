//! REST: `/api/v1/ops/deployments`.

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

use super::model::{self, DeployOutcome};
use super::service;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(deployments_create, deployments_list))
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordDeployment {
    /// The deployed service's id.
    pub service_id: String,
    pub version: String,
    /// The service's environment when not given.
    pub environment: Option<String>,
    /// RFC 3339; now when not given.
    pub deployed_at: Option<DateTime<Utc>>,
    pub outcome: DeployOutcome,
    pub notes: Option<String>,
}

impl From<RecordDeployment> for service::NewDeployment {
    fn from(b: RecordDeployment) -> Self {
        Self {
            service_id: b.service_id,
            version: b.version,
            environment: b.environment,
            deployed_at: b.deployed_at,
            outcome: b.outcome,
            notes: b.notes,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Deployment {
    pub id: String,
    pub service_id: String,
    pub version: String,
    pub environment: String,
    pub deployed_at: DateTime<Utc>,
    pub actor: String,
    pub outcome: DeployOutcome,
    pub notes: String,
}

impl From<model::Model> for Deployment {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            service_id: m.service_id,
            version: m.version,
            environment: m.environment,
            deployed_at: m.deployed_at,
            actor: m.actor,
            outcome: m.outcome,
            notes: m.notes,
        }
    }
}

/// `?service=` on the lists of service-bound resources.
#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceParam {
    /// Only records of this service.
    pub service: Option<String>,
}

/// Records a deployment; the actor is the caller.
#[utoipa::path(post, path = "/api/v1/ops/deployments", tag = "ops", request_body = RecordDeployment,
    responses((status = 201, body = Deployment), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn deployments_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<RecordDeployment>,
) -> Result<(StatusCode, Json<Deployment>), HubError> {
    let row = service::record(hub.ctx(), &who, body.into()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Deployments, newest first.
#[utoipa::path(get, path = "/api/v1/ops/deployments", tag = "ops", params(PageParams, ServiceParam),
    responses((status = 200, body = Page<Deployment>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn deployments_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<ServiceParam>,
) -> Result<Json<Page<Deployment>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let got = service::list(hub.ctx(), &who, filter.service.as_deref(), &page).await?;
    Ok(Json(got.map(Deployment::from)))
}
