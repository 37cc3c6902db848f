//! REST: `/api/v1/fin/runway`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use chrono::NaiveDate;
use hub_core::api::extract::{Json, Query};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::Deserialize;
use utoipa::IntoParams;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::calc::Runway;
use super::service::{self, RunwayQuery};
use crate::config::FinConfig;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(runway_get))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct RunwayParams {
    /// Report currency; the configured one when absent.
    pub currency: Option<String>,
    /// Report date (default today).
    pub as_of: Option<NaiveDate>,
}

/// Months until the cash runs out at the projected burn, from the latest balance snapshot.
#[utoipa::path(get, path = "/api/v1/fin/runway", tag = "fin", params(RunwayParams),
    responses((status = 200, body = Runway), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn runway_get(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Query(p): Query<RunwayParams>,
) -> Result<Json<Runway>, HubError> {
    let q = RunwayQuery {
        currency: p.currency,
        as_of: p.as_of,
    };
    Ok(Json(service::runway(hub.ctx(), &who, &cfg, q).await?))
}
