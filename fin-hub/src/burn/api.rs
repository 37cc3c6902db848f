//! REST: `/api/v1/fin/burn`.

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

use super::calc::Burn;
use super::service::{self, BurnQuery};
use crate::config::FinConfig;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(burn_get))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BurnParams {
    /// One domain; every domain you may see when absent.
    pub domain: Option<String>,
    /// Report currency; the configured one when absent.
    pub currency: Option<String>,
    /// Months of history, 1..=36 (default 6).
    pub months: Option<u32>,
    /// Report date (default today).
    pub as_of: Option<NaiveDate>,
}

/// Actual spend per month, commitments, the trailing average and the projected burn.
#[utoipa::path(get, path = "/api/v1/fin/burn", tag = "fin", params(BurnParams),
    responses((status = 200, body = Burn), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn burn_get(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Query(p): Query<BurnParams>,
) -> Result<Json<Burn>, HubError> {
    let q = BurnQuery {
        domain: p.domain,
        currency: p.currency,
        months: p.months,
        as_of: p.as_of,
    };
    Ok(Json(service::burn(hub.ctx(), &who, &cfg, q).await?))
}
