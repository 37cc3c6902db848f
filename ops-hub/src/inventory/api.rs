//! REST: `/api/v1/ops/services`, one service, and inventory import/export.

use axum::body::Bytes;
use axum::extract::State;
use axum::http::{StatusCode, header};
use axum::response::IntoResponse;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::file::{self, Format, ImportReport};
use super::model::Lifecycle;
use super::service::{self, Endpoint, ServiceFilter, ServiceSpec};
use crate::cost::api::Cost;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(services_create, services_list))
        .routes(routes!(services_get, services_put))
        .routes(routes!(services_import))
        .routes(routes!(services_export))
}

/// A service as callers write it (REST body, MCP arguments, one entry of an inventory file).
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ServiceInput {
    /// A slug: a-z, 0-9, '-', '_'.
    pub id: String,
    pub name: String,
    /// What it is: `api`, `worker`, `database`, `queue`…
    pub kind: String,
    /// The owning domain's slug.
    pub domain: String,
    /// `production`, `staging`…
    pub environment: String,
    /// Where it runs: a region, cluster or host.
    pub location: String,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub endpoints: Vec<Endpoint>,
    /// Probed while the service is active; http or https only.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub health_url: Option<String>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub repo: Option<String>,
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub tags: Vec<String>,
    /// `planned` when not given.
    #[serde(default)]
    pub lifecycle: Lifecycle,
    /// Ids of the services this one needs; no cycles.
    #[serde(default, skip_serializing_if = "Vec::is_empty")]
    pub depends_on: Vec<String>,
}

impl From<ServiceInput> for ServiceSpec {
    fn from(i: ServiceInput) -> Self {
        Self {
            id: i.id,
            name: i.name,
            kind: i.kind,
            domain: i.domain,
            environment: i.environment,
            location: i.location,
            endpoints: i.endpoints,
            health_url: i.health_url,
            repo: i.repo,
            tags: i.tags,
            lifecycle: i.lifecycle,
            depends_on: i.depends_on,
        }
    }
}

impl From<ServiceSpec> for ServiceInput {
    fn from(s: ServiceSpec) -> Self {
        Self {
            id: s.id,
            name: s.name,
            kind: s.kind,
            domain: s.domain,
            environment: s.environment,
            location: s.location,
            endpoints: s.endpoints,
            health_url: s.health_url,
            repo: s.repo,
            tags: s.tags,
            lifecycle: s.lifecycle,
            depends_on: s.depends_on,
        }
    }
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Service {
    pub id: String,
    pub name: String,
    pub kind: String,
    pub domain: String,
    pub environment: String,
    pub location: String,
    pub endpoints: Vec<Endpoint>,
    pub health_url: Option<String>,
    pub repo: Option<String>,
    pub tags: Vec<String>,
    pub lifecycle: Lifecycle,
    pub depends_on: Vec<String>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
    /// Cost per period as the fin hub attributed it (only in the single-service view).
    #[serde(skip_serializing_if = "Option::is_none")]
    pub costs: Option<Vec<Cost>>,
}

impl From<service::Service> for Service {
    fn from(s: service::Service) -> Self {
        let (endpoints, tags) = (s.endpoints(), s.tags());
        Self {
            endpoints,
            tags,
            depends_on: s.depends_on,
            id: s.row.id,
            name: s.row.name,
            kind: s.row.kind,
            domain: s.row.domain,
            environment: s.row.environment,
            location: s.row.location,
            health_url: s.row.health_url,
            repo: s.row.repo,
            lifecycle: s.row.lifecycle,
            created_at: s.row.created_at,
            updated_at: s.row.updated_at,
            costs: None,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ServiceListFilter {
    /// Only services of this domain.
    pub domain: Option<String>,
    pub lifecycle: Option<Lifecycle>,
    pub environment: Option<String>,
}

impl From<ServiceListFilter> for ServiceFilter {
    fn from(f: ServiceListFilter) -> Self {
        Self {
            domain: f.domain,
            lifecycle: f.lifecycle,
            environment: f.environment,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ExportParams {
    /// `yaml` (default) or `json`.
    pub format: Option<Format>,
}

/// Registers a service.
#[utoipa::path(post, path = "/api/v1/ops/services", tag = "ops", request_body = ServiceInput,
    responses((status = 201, body = Service), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn services_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<ServiceInput>,
) -> Result<(StatusCode, Json<Service>), HubError> {
    let svc = service::create(hub.ctx(), &who, body.into()).await?;
    Ok((StatusCode::CREATED, Json(svc.into())))
}

/// Lists services by id.
#[utoipa::path(get, path = "/api/v1/ops/services", tag = "ops", params(PageParams, ServiceListFilter),
    responses((status = 200, body = Page<Service>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn services_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<ServiceListFilter>,
) -> Result<Json<Page<Service>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let page = service::list(hub.ctx(), &who, &filter.into(), &page).await?;
    Ok(Json(page.map(Service::from)))
}

/// One service, with its cost per period.
#[utoipa::path(get, path = "/api/v1/ops/services/{id}", tag = "ops", params(("id" = String, Path)),
    responses((status = 200, body = Service), (status = 404, body = Problem)))]
async fn services_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Service>, HubError> {
    let svc = service::get(hub.ctx(), &who, &id).await?;
    let costs = crate::cost::service::of_service(hub.ctx(), &who, &id).await?;
    let mut out = Service::from(svc);
    out.costs = Some(costs.into_iter().map(Cost::from).collect());
    Ok(Json(out))
}

/// Creates or replaces a service; the body's `id` must be the path's.
#[utoipa::path(put, path = "/api/v1/ops/services/{id}", tag = "ops", params(("id" = String, Path)),
    request_body = ServiceInput,
    responses((status = 200, body = Service), (status = 201, body = Service), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn services_put(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(body): Json<ServiceInput>,
) -> Result<(StatusCode, Json<Service>), HubError> {
    if body.id != id {
        return Err(HubError::invalid("id", "must be the id in the path"));
    }
    let (svc, change) = service::put(hub.ctx(), &who, body.into()).await?;
    let status = if change == service::Change::Created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(svc.into())))
}

/// Imports an inventory file (YAML or JSON, see docs/ops.md): every service is created or
/// replaced by id in one transaction; a bad entry stores nothing.
#[utoipa::path(post, path = "/api/v1/ops/services/import", tag = "ops",
    request_body(content = String, description = "An inventory file", content_type = "application/yaml"),
    responses((status = 200, body = ImportReport), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn services_import(
    State(hub): State<Hub>,
    who: Principal,
    body: Bytes,
) -> Result<Json<ImportReport>, HubError> {
    let text = std::str::from_utf8(&body)
        .map_err(|_| HubError::bad_request("file", "must be UTF-8 text"))?;
    Ok(Json(file::import(hub.ctx(), &who, text).await?))
}

/// Exports the inventory the caller may see, in the import format.
#[utoipa::path(get, path = "/api/v1/ops/services/export", tag = "ops", params(ExportParams),
    responses((status = 200, body = String), (status = 400, body = Problem)))]
async fn services_export(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<ExportParams>,
) -> Result<impl IntoResponse, HubError> {
    let format = params.format.unwrap_or(Format::Yaml);
    let text = file::export(hub.ctx(), &who, format).await?;
    Ok(([(header::CONTENT_TYPE, format.content_type())], text))
}
