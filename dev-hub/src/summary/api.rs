//! REST: `/api/v1/dev/summary`.

use axum::extract::State;
use hub_core::api::extract::{Json, Query};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, DevSummary};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(summary_get))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SummaryQuery {
    /// One domain; else every domain the caller may see.
    pub domain: Option<String>,
}

/// Workplans and tasks by status, blocked and claimed tasks, decisions and open alerts.
#[utoipa::path(get, path = "/api/v1/dev/summary", tag = "dev", params(SummaryQuery),
    responses((status = 200, body = DevSummary), (status = 403, body = Problem)))]
async fn summary_get(
    State(hub): State<Hub>,
    who: Principal,
    Query(q): Query<SummaryQuery>,
) -> Result<Json<DevSummary>, HubError> {
    Ok(Json(
        service::summary(hub.ctx(), &who, q.domain.as_deref()).await?,
    ))
}
