//! REST: `/api/v1/fin/token-spend`.

use std::sync::Arc;

use axum::Extension;
use axum::extract::State;
use axum::http::StatusCode;
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

use super::model;
use super::service::{self, NewTokenSpend, TokenFilter};
use crate::config::FinConfig;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new().routes(routes!(token_spend_create, token_spend_list))
}

/// One model call (or a batch of them) by the calling agent.
#[derive(Debug, Deserialize, ToSchema)]
#[serde(deny_unknown_fields)]
pub struct CreateTokenSpend {
    pub provider: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// Minor units; priced from the configured table when absent.
    pub cost: Option<i64>,
    pub currency: Option<String>,
    pub session_id: Option<String>,
    pub domain: String,
    /// Now when absent.
    pub time: Option<DateTime<Utc>>,
    /// Recording the same external id again returns the first record (200) and adds nothing.
    pub external_id: Option<String>,
}

#[derive(Debug, Serialize, Deserialize, ToSchema)]
pub struct TokenSpend {
    pub id: String,
    pub provider: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    pub cost: i64,
    pub currency: String,
    /// True when the cost came from the price table.
    pub priced: bool,
    pub session_id: Option<String>,
    pub agent: String,
    pub domain: String,
    pub time: DateTime<Utc>,
    pub external_id: String,
    pub created_at: DateTime<Utc>,
}

impl From<model::Model> for TokenSpend {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            provider: m.provider,
            model: m.model,
            tokens_in: m.tokens_in,
            tokens_out: m.tokens_out,
            cost: m.cost,
            currency: m.currency,
            priced: m.priced,
            session_id: m.session_id,
            agent: m.agent,
            domain: m.domain,
            time: m.time,
            external_id: m.external_id,
            created_at: m.created_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
pub struct TokenParams {
    pub domain: Option<String>,
    pub agent: Option<String>,
    pub session_id: Option<String>,
}

/// Records token spend of the calling agent (201), or returns the record already stored with its external id (200).
#[utoipa::path(post, path = "/api/v1/fin/token-spend", tag = "fin", request_body = CreateTokenSpend,
    responses((status = 201, body = TokenSpend), (status = 200, body = TokenSpend), (status = 400, body = Problem),
        (status = 403, body = Problem), (status = 422, body = Problem)))]
async fn token_spend_create(
    State(hub): State<Hub>,
    Extension(cfg): Extension<Arc<FinConfig>>,
    who: Principal,
    Json(b): Json<CreateTokenSpend>,
) -> Result<(StatusCode, Json<TokenSpend>), HubError> {
    let new = NewTokenSpend {
        provider: b.provider,
        model: b.model,
        tokens_in: b.tokens_in,
        tokens_out: b.tokens_out,
        cost: b.cost,
        currency: b.currency,
        session_id: b.session_id,
        domain: b.domain,
        time: b.time,
        external_id: b.external_id,
    };
    let (row, created) = service::record(hub.ctx(), &who, &cfg, new).await?;
    let status = if created {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    Ok((status, Json(row.into())))
}

/// Token spend, newest first.
#[utoipa::path(get, path = "/api/v1/fin/token-spend", tag = "fin", params(PageParams, TokenParams),
    responses((status = 200, body = Page<TokenSpend>), (status = 400, body = Problem), (status = 403, body = Problem)))]
async fn token_spend_list(
    State(hub): State<Hub>,
    who: Principal,
    Query(params): Query<PageParams>,
    Query(f): Query<TokenParams>,
) -> Result<Json<Page<TokenSpend>>, HubError> {
    let page = PageRequest::try_from(&params)?;
    let filter = TokenFilter {
        domain: f.domain,
        agent: f.agent,
        session_id: f.session_id,
    };
    Ok(Json(
        service::list(hub.ctx(), &who, &filter, &page)
            .await?
            .map(TokenSpend::from),
    ))
}
