//! REST: `/api/v1/fin/spend`, `/api/v1/fin/costs/by-service`, `/api/v1/fin/costs/by-domain`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model::{self, Source};
use super::service::{self, CostLine, CostQuery, CostsBy, NewSpend, SpendFilter};
use crate::config::FinConfig;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(spend_create, spend_list))
        .routes(routes!(spend_get))
        .routes(routes!(costs_by_service))
        .routes(routes!(costs_by_domain))
}

/// A manual ledger entry.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateSpend {
    pub date: NaiveDate,
    /// Minor units (cents for EUR), 0 or more.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    pub domain: String,
    pub service_id: Option<String>,
    pub vendor: Option<String>,
    /// Your id of the expense: recording it again returns the first entry (200) and adds nothing.
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Spend {
    pub id: String,
    pub date: NaiveDate,
    pub period: String,
    pub amount: i64,
    pub currency: String,
    pub domain: String,
    pub service_id: Option<String>,
    pub vendor: Option<String>,
    pub source: Source,
    pub external_id: String,
    pub import_id: Option<String>,
    pub created_at: DateTime<Utc>,
}

impl From<model::Model> for Spend {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            date: m.date,
            period: m.period,
            amount: m.amount,
            currency: m.currency,
            domain: m.domain,
            service_id: m.service_id,
            vendor: m.vendor,
            source: m.source,
            external_id: m.external_id,
            import_id: m.import_id,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct SpendParams {
    pub domain: Option<String>,
    pub service_id: Option<String>,
    pub source: Option<Source>,
    /// `YYYY-MM`.
    pub period: Option<String>,
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct CostParams {
    /// `YYYY-MM`; the current month when absent.
    pub period: Option<String>,
    pub domain: Option<String>,
    /// Report currency; the configured one when absent.
    pub currency: Option<String>,
}

/// Records a manual expense (201), or returns the entry already recorded with its external id (200).
#[utoipa::path(post, path = "/api/v1/fin/spend", tag = "fin", request_body = CreateSpend,
    responses((status = 201, body = Spend), (status = 200, body = Spend), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn spend_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(b): Json<CreateSpend>,
) -> Result<(StatusCode, Json<Spend>), HubError> {
    let new = NewSpend {
        date: b.date,
        amount: b.amount,
        currency: b.currency,
        domain: b.domain,
        service_id: b.service_id,
        vendor: b.vendor,
        external_id: b.external_id,
    };
    let (row, created) = service::record(hub.ctx(), &who, new).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(row.into())))
}

/// Ledger entries, newest first.
#[utoipa::path(get, path = "/api/v1/fin/spend", tag = "fin", params(PageParams, SpendParams),
    responses((status = 200, body = Page<Spend>), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn spend_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(f): Query<SpendParams>,
) -> Result<Json<Page<Spend>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let filter = SpendFilter {
        domain: f.domain,
        service_id: f.service_id,
        source: f.source,
        period: f.period,
    };
    Ok(Json(
        service::list(hub.ctx(), &who, &filter, &page)
            .await?
            .map(Spend::from),
    ))
}

/// One ledger entry.
#[utoipa::path(get, path = "/api/v1/fin/spend/{id}", tag = "fin", params(("id" = String, Path)),
    responses((status = 200, body = Spend), (status = 404, body = Problem)))]
async fn spend_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Spend>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &id).await?.into()))
}

async fn costs(
    hub: &Hub,
    who: &Principal,
    cfg: &FinConfig,
    by: CostsBy,
    params: &PageParams,
    c: CostParams,
) -> Result<Json<Page<CostLine>>, HubError> {
    let page = PageRequest::try_from(params)?;
    let query = CostQuery {
        period: c.period,
        domain: c.domain,
        currency: c.currency,
    };
    Ok(Json(
        service::costs(hub.ctx(), who, cfg, by, &query, &page).await?,
    ))
}

/// A month's cost per service, ordered by service id.
#[utoipa::path(get, path = "/api/v1/fin/costs/by-service", tag = "fin", params(PageParams, CostParams),
    responses((status = 200, body = Page<CostLine>), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn costs_by_service(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(c): Query<CostParams>,
) -> Result<Json<Page<CostLine>>, HubError> {
    costs(&hub, &who, &cfg, CostsBy::Service, &params, c).await
}

/// A month's cost per domain, ordered by domain.
#[utoipa::path(get, path = "/api/v1/fin/costs/by-domain", tag = "fin", params(PageParams, CostParams),
    responses((status = 200, body = Page<CostLine>), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn costs_by_domain(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(c): Query<CostParams>,
) -> Result<Json<Page<CostLine>>, HubError> {
    costs(&hub, &who, &cfg, CostsBy::Domain, &params, c).await
}
