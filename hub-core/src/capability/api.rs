//! REST: `/api/v1/capabilities` and `/api/v1/capability-requests`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{Status, capability, request};
use super::service::{self, Role};
use crate::api::extract::{Json, Path, Query};
use crate::api::page::{Page, PageParams, PageRequest};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(capabilities_create, capabilities_list))
        .routes(routes!(
            capability_requests_create,
            capability_requests_list
        ))
        .routes(routes!(capability_requests_get))
        .routes(routes!(capability_requests_accept))
        .routes(routes!(capability_requests_status))
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCapability {
    /// Unique in this hub: a-z, 0-9, '-', '_', '.' (e.g. `ops.deploy`).
    pub name: String,
    pub description: Option<String>,
    /// A JSON Schema object for the request input.
    pub input_schema: Option<Value>,
    pub domain: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Capability {
    /// The name.
    pub id: String,
    pub name: String,
    /// The `sub` of the principal that offers it.
    pub provider: String,
    /// The hub that serves it.
    pub hub: String,
    pub description: String,
    pub input_schema: Option<Value>,
    pub domain: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<capability::Model> for Capability {
    fn from(m: capability::Model) -> Self {
        Self {
            id: m.name.clone(),
            name: m.name,
            provider: m.provider,
            hub: m.hub,
            description: m.description,
            input_schema: m.input_schema,
            domain: m.domain,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CapabilityFilter {
    /// Only entries of this provider (`sub`).
    pub provider: Option<String>,
    pub domain: Option<String>,
    /// Case-insensitive substring of the name or description.
    pub q: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCapabilityRequest {
    /// The catalog entry's name.
    pub capability: String,
    pub input: Option<Value>,
    pub note: Option<String>,
    /// Defaults to the catalog entry's domain.
    pub domain: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct CapabilityRequest {
    pub id: String,
    pub capability: String,
    pub requester: String,
    pub provider: String,
    pub domain: Option<String>,
    pub status: Status,
    pub input: Option<Value>,
    pub note: Option<String>,
    /// The note of the latest status change.
    pub status_note: Option<String>,
    pub result: Option<Value>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<request::Model> for CapabilityRequest {
    fn from(m: request::Model) -> Self {
        Self {
            id: m.id,
            capability: m.capability,
            requester: m.requester,
            provider: m.provider,
            domain: m.domain,
            status: m.status,
            input: m.input,
            note: m.note,
            status_note: m.status_note,
            result: m.result,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RequestFilter {
    pub status: Option<Status>,
    /// The catalog entry's name.
    pub capability: Option<String>,
    /// `requester`: the caller's own requests; `provider`: those addressed to the caller.
    pub role: Option<Role>,
    pub domain: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct ChangeStatus {
    pub status: Status,
    pub note: Option<String>,
    /// The outcome; only with `fulfilled`.
    pub result: Option<Value>,
}

/// Registers a capability offered by the caller.
#[utoipa::path(post, path = "/api/v1/capabilities", tag = "capabilities", request_body = CreateCapability,
    responses((status = 201, body = Capability), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn capabilities_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateCapability>,
) -> Result<(StatusCode, Json<Capability>), HubError> {
    let new = service::NewCapability {
        name: body.name,
        description: body.description,
        input_schema: body.input_schema,
        domain: body.domain,
    };
    let row = service::register(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Lists the catalog by name.
#[utoipa::path(get, path = "/api/v1/capabilities", tag = "capabilities", params(PageParams, CapabilityFilter),
    responses((status = 200, body = Page<Capability>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn capabilities_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<CapabilityFilter>,
) -> Result<Json<Page<Capability>>, HubError> {
    let filter = service::CapabilityFilter {
        provider: filter.provider,
        domain: filter.domain,
        q: filter.q,
    };
    let page = service::list(hub.ctx(), &who, &filter, &PageRequest::try_from(&params)?).await?;
    Ok(Json(page.map(Capability::from)))
}

/// Requests a capability from its provider.
#[utoipa::path(post, path = "/api/v1/capability-requests", tag = "capabilities", request_body = CreateCapabilityRequest,
    responses((status = 201, body = CapabilityRequest), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn capability_requests_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateCapabilityRequest>,
) -> Result<(StatusCode, Json<CapabilityRequest>), HubError> {
    let new = service::NewRequest {
        capability: body.capability,
        input: body.input,
        note: body.note,
        domain: body.domain,
    };
    let row = service::create_request(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Lists the requests the caller may see, newest first.
#[utoipa::path(get, path = "/api/v1/capability-requests", tag = "capabilities", params(PageParams, RequestFilter),
    responses((status = 200, body = Page<CapabilityRequest>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn capability_requests_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<RequestFilter>,
) -> Result<Json<Page<CapabilityRequest>>, HubError> {
    let filter = service::RequestFilter {
        status: filter.status,
        capability: filter.capability,
        role: filter.role,
        domain: filter.domain,
    };
    let page =
        service::list_requests(hub.ctx(), &who, &filter, &PageRequest::try_from(&params)?).await?;
    Ok(Json(page.map(CapabilityRequest::from)))
}

/// One request.
#[utoipa::path(get, path = "/api/v1/capability-requests/{id}", tag = "capabilities", params(("id" = String, Path)),
    responses((status = 200, body = CapabilityRequest), (status = 404, body = Problem)))]
async fn capability_requests_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<CapabilityRequest>, HubError> {
    Ok(Json(
        service::get_request(hub.ctx(), &who, &id).await?.into(),
    ))
}

/// The provider accepts a request.
#[utoipa::path(post, path = "/api/v1/capability-requests/{id}/accept", tag = "capabilities", params(("id" = String, Path)),
    responses((status = 200, body = CapabilityRequest), (status = 403, body = Problem), (status = 404, body = Problem),
        (status = 409, body = Problem)))]
async fn capability_requests_accept(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<CapabilityRequest>, HubError> {
    Ok(Json(service::accept(hub.ctx(), &who, &id).await?.into()))
}

/// Moves a request along `requested -> accepted -> in_progress -> fulfilled | rejected | cancelled`.
#[utoipa::path(post, path = "/api/v1/capability-requests/{id}/status", tag = "capabilities", params(("id" = String, Path)),
    request_body = ChangeStatus,
    responses((status = 200, body = CapabilityRequest), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn capability_requests_status(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(body): Json<ChangeStatus>,
) -> Result<Json<CapabilityRequest>, HubError> {
    let change = service::StatusChange {
        status: body.status,
        note: body.note,
        result: body.result,
    };
    Ok(Json(
        service::change_status(hub.ctx(), &who, &id, change)
            .await?
            .into(),
    ))
}
