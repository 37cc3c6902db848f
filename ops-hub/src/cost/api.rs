//! REST: `/api/v1/ops/costs`.

use axum::extract::State;
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
    OpenApiRouter::new().routes(routes!(costs_list))
}

/// The cost of a service in a period.
#[derive(Debug, Clone, Serialize, Deserialize, ToSchema)]
pub struct Cost {
    pub service_id: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
    pub updated_at: DateTime<Utc>,
}

impl From<model::Model> for Cost {
    fn from(m: model::Model) -> Self {
        Self {
            service_id: m.service_id,
            period: m.period,
            amount: m.amount,
            currency: m.currency,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Default, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct CostListFilter {
    /// Only this service's costs.
    pub service: Option<String>,
    /// Only this period (`YYYY-MM`).
    pub period: Option<String>,
}

/// Cost per service and period.
#[utoipa::path(get, path = "/api/v1/ops/costs", tag = "ops", params(PageParams, CostListFilter),
    responses((status = 200, body = Page<Cost>), (status = 400, body = Problem), (status = 404, body = Problem),
        (status = 422, body = Problem)))]
async fn costs_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(filter): Query<CostListFilter>,
) -> Result<Json<Page<Cost>>, HubError> {
    let filter = service::CostFilter {
        service_id: filter.service,
        period: filter.period,
    };
    let page = service::list(hub.ctx(), &who, &filter, &PageRequest::try_from(&params)?).await?;
    Ok(Json(page.map(Cost::from)))
}
