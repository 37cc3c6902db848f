//! REST: `/api/v1/domains`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
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
        .routes(routes!(domains_create, domains_list))
        .routes(routes!(domains_get))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateDomain {
    /// Lowercase key: a-z, 0-9, '-', '_'.
    pub slug: String,
    pub name: String,
    pub description: Option<String>,
    /// Principal (sub) or team owning the domain.
    pub owner: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Domain {
    pub id: String,
    pub slug: String,
    pub name: String,
    pub description: String,
    pub owner: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<model::Model> for Domain {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.slug.clone(),
            slug: m.slug,
            name: m.name,
            description: m.description,
            owner: m.owner,
            created_at: m.created_at,
        }
    }
}

/// Creates a domain (needs `hub:admin`).
#[utoipa::path(post, path = "/api/v1/domains", tag = "domains", request_body = CreateDomain,
    responses((status = 201, body = Domain), (status = 400, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn domains_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateDomain>,
) -> Result<(StatusCode, Json<Domain>), HubError> {
    let new = service::NewDomain {
        slug: body.slug,
        name: body.name,
        description: body.description,
        owner: body.owner,
    };
    let row = service::create(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Lists the domains the caller may see, by slug.
#[utoipa::path(get, path = "/api/v1/domains", tag = "domains", params(PageParams),
    responses((status = 200, body = Page<Domain>), (status = 400, body = Problem)))]
async fn domains_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
) -> Result<Json<Page<Domain>>, HubError> {
    let page = service::list(hub.ctx(), &who, &PageRequest::try_from(&params)?).await?;
    Ok(Json(page.map(Domain::from)))
}

/// One domain.
#[utoipa::path(get, path = "/api/v1/domains/{slug}", tag = "domains", params(("slug" = String, Path)),
    responses((status = 200, body = Domain), (status = 404, body = Problem)))]
async fn domains_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(slug): Path<String>,
) -> Result<Json<Domain>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &slug).await?.into()))
}
