//! REST: `/api/v1/fin/commitments`.

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

use super::model::{self, Cadence, CommitmentKind};
use super::service::{self, NewCommitment};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(commitments_create, commitments_list))
        .routes(routes!(commitments_get))
}

/// A promised payment.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateCommitment {
    pub kind: CommitmentKind,
    pub vendor: String,
    pub domain: String,
    pub service_id: Option<String>,
    /// Minor units per cadence period, more than 0.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    pub cadence: Cadence,
    pub start_date: NaiveDate,
    /// Inclusive; open-ended when absent.
    pub end_date: Option<NaiveDate>,
    pub description: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct Commitment {
    pub id: String,
    pub kind: CommitmentKind,
    pub vendor: String,
    pub domain: String,
    pub service_id: Option<String>,
    pub amount: i64,
    pub currency: String,
    pub cadence: Cadence,
    pub start_date: NaiveDate,
    pub end_date: Option<NaiveDate>,
    pub description: String,
    pub created_at: DateTime<Utc>,
}

impl From<model::Model> for Commitment {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            kind: m.kind,
            vendor: m.vendor,
            domain: m.domain,
            service_id: m.service_id,
            amount: m.amount,
            currency: m.currency,
            cadence: m.cadence,
            start_date: m.start_date,
            end_date: m.end_date,
            description: m.description,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct DomainParam {
    pub domain: Option<String>,
}

/// Records a commitment.
#[utoipa::path(post, path = "/api/v1/fin/commitments", tag = "fin", request_body = CreateCommitment,
    responses((status = 201, body = Commitment), (status = 400, body = Problem), (status = 403, body = Problem),
        (status = 422, body = Problem)))]
async fn commitments_create(
    State(hub): State<Hub>,
    who: Principal,
    Json(b): Json<CreateCommitment>,
) -> Result<(StatusCode, Json<Commitment>), HubError> {
    let new = NewCommitment {
        kind: b.kind,
        vendor: b.vendor,
        domain: b.domain,
        service_id: b.service_id,
        amount: b.amount,
        currency: b.currency,
        cadence: b.cadence,
        start_date: b.start_date,
        end_date: b.end_date,
        description: b.description,
    };
    let row = service::create(hub.ctx(), &who, new).await?;
    Ok((StatusCode::CREATED, Json(row.into())))
}

/// Commitments, newest first.
#[utoipa::path(get, path = "/api/v1/fin/commitments", tag = "fin", params(PageParams, DomainParam),
    responses((status = 200, body = Page<Commitment>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn commitments_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(f): Query<DomainParam>,
) -> Result<Json<Page<Commitment>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let rows = service::list(hub.ctx(), &who, f.domain.as_deref(), &page).await?;
    Ok(Json(rows.map(Commitment::from)))
}

/// One commitment.
#[utoipa::path(get, path = "/api/v1/fin/commitments/{id}", tag = "fin", params(("id" = String, Path)),
    responses((status = 200, body = Commitment), (status = 404, body = Problem)))]
async fn commitments_get(
    State(hub): State<Hub>,
    who: Principal,
    Path(id): Path<String>,
) -> Result<Json<Commitment>, HubError> {
    Ok(Json(service::get(hub.ctx(), &who, &id).await?.into()))
}
