//! REST: `/api/v1/fin/budgets`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, Utc};
use hub_core::api::extract::{Json, Path, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model;
use super::service::{self, BudgetFilter, BudgetStatus, NewBudget};
use crate::config::FinConfig;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(budgets_set, budgets_list))
        .routes(routes!(budgets_get))
}

/// A domain's budget for a month.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBudget {
    pub domain: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Minor units, at least 1.
    pub allocated: i64,
    /// ISO 4217 code; the configured report currency when absent.
    pub currency: Option<String>,
    /// Alert thresholds in percent (default 80, 90, 100).
    pub thresholds: Option<Vec<u32>>,
}

/// A budget and where it stands today.
#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Budget {
    pub id: String,
    pub domain: String,
    pub period: String,
    pub currency: String,
    pub allocated: i64,
    pub thresholds: Vec<u32>,
    pub spent: i64,
    pub committed: i64,
    pub used: i64,
    pub remaining: i64,
    pub percent: u32,
    pub projected: i64,
    pub crossed: Vec<u32>,
    pub created_at: DateTime<Utc>,
    pub updated_at: DateTime<Utc>,
}

impl Budget {
    pub(crate) fn new(m: model::Model, s: BudgetStatus) -> Self {
        Self {
            thresholds: m.thresholds(),
            id: m.id,
            domain: m.domain,
            period: m.period,
            currency: m.currency,
            allocated: m.allocated,
            spent: s.spent,
            committed: s.committed,
            used: s.used,
            remaining: s.remaining,
            percent: s.percent,
            projected: s.projected,
            crossed: s.crossed,
            created_at: m.created_at,
            updated_at: m.updated_at,
        }
    }
}

async fn with_status(hub: &Hub, cfg: &FinConfig, m: model::Model) -> Result<Budget, HubError> {
    let status = service::status_of(&hub.ctx().db, cfg, &m, Utc::now().date_naive()).await?;
    Ok(Budget::new(m, status))
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct BudgetParams {
    pub domain: Option<String>,
    /// `YYYY-MM`.
    pub period: Option<String>,
}

/// Sets a domain's budget for a month: 201 when new, 200 when it replaced the previous one.
#[utoipa::path(post, path = "/api/v1/fin/budgets", tag = "fin", request_body = SetBudget,
    responses((status = 201, body = Budget), (status = 200, body = Budget), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn budgets_set(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Json(b): Json<SetBudget>,
) -> Result<(StatusCode, Json<Budget>), HubError> {
    let new = NewBudget {
        domain: b.domain,
        period: b.period,
        allocated: b.allocated,
        currency: b.currency,
        thresholds: b.thresholds,
    };
    let (row, created) = service::set(hub.ctx(), &who, &cfg, new).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(with_status(&hub, &cfg, row).await?)))
}

/// Budgets with their status, newest first.
#[utoipa::path(get, path = "/api/v1/fin/budgets", tag = "fin", params(PageParams, BudgetParams),
    responses((status = 200, body = Page<Budget>), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn budgets_list(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(f): Query<BudgetParams>,
) -> Result<Json<Page<Budget>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let filter = BudgetFilter {
        domain: f.domain,
        period: f.period,
    };
    let rows = service::list(hub.ctx(), &who, &filter, &page).await?;
    let mut items = Vec::with_capacity(rows.items.len());
    for m in rows.items {
        items.push(with_status(&hub, &cfg, m).await?);
    }
    Ok(Json(Page {
        items,
        next_cursor: rows.next_cursor,
    }))
}

/// One budget with its status.
#[utoipa::path(get, path = "/api/v1/fin/budgets/{id}", tag = "fin", params(("id" = String, Path)),
    responses((status = 200, body = Budget), (status = 404, body = Problem), (status = 422, body = Problem)))]
async fn budgets_get(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Budget>, HubError> {
    let row = service::get(hub.ctx(), &who, &id).await?;
    Ok(Json(with_status(&hub, &cfg, row).await?))
}
