//! REST: `/api/v1/fin/balances`.

use axum::extract::State;
use axum::http::StatusCode;
use chrono::{DateTime, NaiveDate, Utc};
use hub_core::api::extract::{Json, Query};
use hub_core::api::page::{Page, PageParams, PageRequest};
use hub_core::api::problem::Problem;
use hub_core::auth::Principal;
use hub_core::{Hub, HubError};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model;
use super::service::{self, NewBalance};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(balances_create, balances_list))
}

/// Cash on hand at a date.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateBalance {
    pub date: NaiveDate,
    /// Minor units, 0 or more.
    pub amount: i64,
    pub currency: String,
    pub note: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Balance {
    pub id: String,
    pub date: NaiveDate,
    pub amount: i64,
    pub currency: String,
    pub note: String,
    pub created_at: DateTime<Utc>,
}

impl From<model::Model> for Balance {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            date: m.date,
            amount: m.amount,
            currency: m.currency,
            note: m.note,
            created_at: m.created_at,
        }
    }
}

/// Records a balance snapshot (one per date).
#[utoipa::path(post, path = "/api/v1/fin/balances", tag = "fin", request_body = CreateBalance,
    responses((status = 201, body = Balance), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 409, body = Problem), (status = 422, body = Problem)))]
async fn balances_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(b): Json<CreateBalance>,
) -> Result<(StatusCode, Json<Balance>), HubError> {
    let new = NewBalance {
        date: b.date,
        amount: b.amount,
        currency: b.currency,
        note: b.note,
    };
    let row = service::record(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Balance snapshots, latest date first.
#[utoipa::path(get, path = "/api/v1/fin/balances", tag = "fin", params(PageParams),
    responses((status = 200, body = Page<Balance>), (status = 400, body = Problem)))]
async fn balances_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
) -> Result<Json<Page<Balance>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    Ok(Json(
        service::list(hub.ctx(), &who, &page)
            .await?
            .map(Balance::from),
    ))
}
