//! REST: `/api/v1/dev/topics`.

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

use super::{model, service};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(topics_create, topics_list))
}

#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTopic {
    /// Lowercase key: a-z, 0-9, '-', '_'.
    pub slug: String,
    pub title: String,
    pub domain: String,
}

#[derive(Debug, Serialize, Deserialize, ToSchema, schemars::JsonSchema)]
pub struct Topic {
    /// The slug.
    pub id: String,
    pub slug: String,
    pub title: String,
    pub domain: String,
    pub created_at: DateTime<Utc>,
}

impl From<model::Model> for Topic {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.slug.clone(),
            slug: m.slug,
            title: m.title,
            domain: m.domain,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DomainQuery {
    /// Only this domain.
    pub domain: Option<String>,
}

/// Creates a topic.
#[utoipa::path(post, path = "/api/v1/dev/topics", tag = "dev", request_body = CreateTopic,
    responses((status = 201, body = Topic), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn topics_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(body): Json<CreateTopic>,
) -> Result<(StatusCode, Json<Topic>), HubError> {
    let new = service::NewTopic {
        slug: body.slug,
        title: body.title,
        domain: body.domain,
    };
    let row = service::create(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Topics by slug.
#[utoipa::path(get, path = "/api/v1/dev/topics", tag = "dev", params(PageParams, DomainQuery),
    responses((status = 200, body = Page<Topic>), (status = 400, body = Problem)))]
async fn topics_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(q): Query<DomainQuery>,
) -> Result<Json<Page<Topic>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let rows = service::list(hub.ctx(), &who, q.domain.as_deref(), &page).await?;
    Ok(Json(rows.map(Topic::from)))
}
