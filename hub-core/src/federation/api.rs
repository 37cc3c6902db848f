//! REST: `/api/v1/federation/…`.

use axum::extract::State;
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::registry::HubManifest;
use super::service;
use crate::api::extract::Json;
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(federation_hubs))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HubList {
    pub items: Vec<HubManifest>,
}

/// The live hubs of the federation: manifest, version and last heartbeat of each.
#[utoipa::path(get, path = "/api/v1/federation/hubs", tag = "federation",
    responses((status = 200, body = HubList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn federation_hubs(
    State(hub): State<Hub>,
    who: Principal,
) -> Result<Json<HubList>, HubError> {
    let items = service::list_hubs(hub.ctx(), &who).await?;
    Ok(Json(HubList { items }))
}
