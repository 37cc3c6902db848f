//! REST: `/api/v1/ops/readiness`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use hub_core::api::extract::{Json, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, Gate};
use crate::config::OpsConfig;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(readiness_get))
}

/// One gate's verdict.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct GateResult {
    pub gate: Gate,
    pub pass: bool,
    pub reason: String,
    /// The evidence, migration run or alert key the verdict rests on.
    pub evidence_id: Option<String>,
}

/// A service's cutover readiness: ready when every configured gate passes.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Readiness {
    pub service_id: String,
    pub ready: bool,
    pub gates: Vec<GateResult>,
}

impl From<service::Readiness> for Readiness {
    fn from(r: service::Readiness) -> Self {
        Self {
            service_id: r.service_id,
            ready: r.ready,
            gates: r
                .gates
                .into_iter()
                .map(|g| GateResult {
                    gate: g.gate,
                    pass: g.pass,
                    reason: g.reason,
                    evidence_id: g.evidence_id,
                })
                .collect(),
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct ReadinessParams {
    /// One service only (the page then holds just it).
    pub service: Option<String>,
}

/// Cutover readiness of one service or of every service the caller may see, by id.
#[utoipa::path(get, path = "/api/v1/ops/readiness", tag = "ops", params(PageParams, ReadinessParams),
    responses((status = 200, body = Page<Readiness>), (status = 400, body = Problem), (status = 404, body = Problem)))]
async fn readiness_get(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<OpsConfig>>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<ReadinessParams>,
) -> Result<Json<Page<Readiness>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let got = match filter.service {
        Some(id) => Page {
            items: vec![service::for_service(hub.ctx(), &who, &cfg.readiness, &id).await?],
            next_cursor: None,
        },
        None => service::list(hub.ctx(), &who, &cfg.readiness, &page).await?,
    };
    Ok(Json(got.map(Readiness::from)))
}
