//! REST: `/api/v1/repos`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::{model, service};
use crate::api::extract::{Json, Path, Query};
use crate::api::page::{Page, PageParams, PageRequest};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(repos_create, repos_list))
        .routes(routes!(repos_get, repos_update))
}

#[derive(Debug, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateRepo {
    /// The owning domain's slug.
    pub domain: String,
    /// Unique within the domain.
    pub name: String,
    /// A filesystem path or a URL.
    pub location: String,
    /// `main` when not given.
    pub default_branch: Option<String>,
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepo {
    pub location: Option<String>,
    pub default_branch: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Repo {
    pub id: String,
    pub domain: String,
    pub name: String,
    pub location: String,
    pub default_branch: String,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Model> for Repo {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            domain: m.domain,
            name: m.name,
            location: m.location,
            default_branch: m.default_branch,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct RepoFilter {
    /// Only repos of this domain.
    pub domain: Option<String>,
}

/// Registers a repo in a domain.
#[utoipa::path(post, path = "/api/v1/repos", tag = "repos", request_body = CreateRepo,
    responses((status = 201, body = Repo), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn repos_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateRepo>,
) -> Result<(StatusCode, Json<Repo>), HubError> {
    let new = service::NewRepo {
        domain: body.domain,
        name: body.name,
        location: body.location,
        default_branch: body.default_branch,
    };
    let row = service::register(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Lists repos in creation order.
#[utoipa::path(get, path = "/api/v1/repos", tag = "repos", params(PageParams, RepoFilter),
    responses((status = 200, body = Page<Repo>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn repos_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<RepoFilter>,
) -> Result<Json<Page<Repo>>, HubError> {
    let page = service::list(
        hub.ctx(),
        &who,
        filter.domain.as_deref(),
        &PageRequest::try_from(&params)?,
    )
    .await?;
    Ok(Json(page.map(Repo::from)))
}

/// One repo.
#[utoipa::path(get, path = "/api/v1/repos/{id}", tag = "repos", params(("id" = String, Path)),
    responses((status = 200, body = Repo), (status = 404, body = Problem)))]
async fn repos_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Repo>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &id).await?.into()))
}

/// Changes a repo's location or default branch.
#[utoipa::path(patch, path = "/api/v1/repos/{id}", tag = "repos", params(("id" = String, Path)), request_body = UpdateRepo,
    responses((status = 200, body = Repo), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn repos_update(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
    Json(body): Json<UpdateRepo>,
) -> Result<Json<Repo>, HubError> {
    let change = service::RepoChange {
        location: body.location,
        default_branch: body.default_branch,
    };
    Ok(Json(
        service::update(hub.ctx(), &who, &id, change).await?.into(),
    ))
}
