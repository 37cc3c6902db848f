//! REST: `/api/v1/ops/migration-runs`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, RunStatus};
use super::service;
use crate::deployment::api::ServiceParam;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(runs_start, runs_list))
        .routes(routes!(runs_get))
        .routes(routes!(runs_finish))
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StartRun {
    /// The service whose data moves.
    pub service_id: String,
    /// Where the data comes from (a database, a system…).
    pub source: String,
    /// Where it goes.
    pub target: String,
    /// How many records the run expects to move.
    pub expected: i64,
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FinishRun {
    /// `complete` or `aborted`.
    pub status: RunStatus,
    pub migrated: i64,
    pub failed: i64,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct MigrationRun {
    pub id: String,
    pub service_id: String,
    pub source: String,
    pub target: String,
    pub status: RunStatus,
    pub expected: i64,
    pub migrated: i64,
    pub failed: i64,
    pub started_at: DateTime<Utc>,
    pub finished_at: Option<DateTime<Utc>>,
    pub actor: String,
}

impl From<model::Model> for MigrationRun {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            service_id: m.service_id,
            source: m.source,
            target: m.target,
            status: m.status,
            expected: m.expected,
            migrated: m.migrated,
            failed: m.failed,
            started_at: m.started_at,
            finished_at: m.finished_at,
            actor: m.actor,
        }
    }
}

impl From<StartRun> for service::NewRun {
    fn from(b: StartRun) -> Self {
        Self {
            service_id: b.service_id,
            source: b.source,
            target: b.target,
            expected: b.expected,
        }
    }
}

impl From<FinishRun> for service::FinishRun {
    fn from(b: FinishRun) -> Self {
        Self {
            status: b.status,
            migrated: b.migrated,
            failed: b.failed,
        }
    }
}

/// Starts a migration run (status `running`).
#[utoipa::path(post, path = "/api/v1/ops/migration-runs", tag = "ops", request_body = StartRun,
    responses((status = 201, body = MigrationRun), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn runs_start(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<StartRun>,
) -> Result<(StatusCode, Json<MigrationRun>), HubError> {
    let row = service::start(hub.ctx(), &who, body.into()).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Migration runs, newest first.
#[utoipa::path(get, path = "/api/v1/ops/migration-runs", tag = "ops", params(PageParams, ServiceParam),
    responses((status = 200, body = Page<MigrationRun>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn runs_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<ServiceParam>,
) -> Result<Json<Page<MigrationRun>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let got = service::list(hub.ctx(), &who, filter.service.as_deref(), &page).await?;
    Ok(Json(got.map(MigrationRun::from)))
}

/// One migration run.
#[utoipa::path(get, path = "/api/v1/ops/migration-runs/{id}", tag = "ops", params(("id" = String, Path)),
    responses((status = 200, body = MigrationRun), (status = 404, body = Problem)))]
async fn runs_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<MigrationRun>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &id).await?.into()))
}

/// Finishes a running migration run with its counts; a second finish is a 409.
#[utoipa::path(post, path = "/api/v1/ops/migration-runs/{id}/finish", tag = "ops", params(("id" = String, Path)),
    request_body = FinishRun,
    responses((status = 200, body = MigrationRun), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn runs_finish(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(body): Json<FinishRun>,
) -> Result<Json<MigrationRun>, HubError> {
    Ok(Json(
        service::finish(hub.ctx(), &who, &id, body.into())
            .await?
            .into(),
    ))
}
