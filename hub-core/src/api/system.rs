//! Health, readiness, metrics, modules, whoami and the OpenAPI document.

use axum::extract::State;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::IntoResponse;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use crate::api::extract::Json;
use crate::auth::{Access, Principal, bearer_token};
use crate::error::HubError;
use crate::hub::Hub;
use crate::module::ModuleStatus;
use crate::outbox::model as outbox;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(healthz))
        .routes(routes!(readyz))
        .routes(routes!(metrics))
        .routes(routes!(openapi))
        .routes(routes!(modules_list))
        .routes(routes!(whoami))
}

#[derive(Serialize, ToSchema)]
pub struct Health {
    pub status: &'static str,
    pub hub: String,
    pub version: &'static str,
}

/// Liveness: the process answers.
#[utoipa::path(get, path = "/healthz", tag = "system", security(()), responses((status = 200, body = Health)))]
async fn healthz(State(hub): State<Hub>) -> Json<Health> {
    Json(Health {
        status: "ok",
        hub: hub.name().to_owned(),
        version: env!("CARGO_PKG_VERSION"),
    })
}

/// Readiness: the database answers.
#[utoipa::path(get, path = "/readyz", tag = "system", security(()), responses((status = 200, body = Health), (status = 503, body = Health)))]
async fn readyz(State(hub): State<Hub>) -> impl IntoResponse {
    let ok = crate::db::ping(&hub.ctx().db).await;
    let status = if ok {
        StatusCode::OK
    } else {
        StatusCode::SERVICE_UNAVAILABLE
    };
    let body = Health {
        status: if ok { "ready" } else { "database unavailable" },
        hub: hub.name().to_owned(),
        version: env!("CARGO_PKG_VERSION"),
    };
    (status, Json(body))
}

/// Prometheus text exposition: request counts and latencies per route, outbox depth.
#[utoipa::path(get, path = "/metrics", tag = "system", security(()), responses((status = 200, content_type = "text/plain", body = String)))]
async fn metrics(State(hub): State<Hub>) -> impl IntoResponse {
    let depth = outbox::Entity::find()
        .filter(outbox::Column::SentAt.is_null())
        .count(&hub.ctx().db)
        .await;
    match depth {
        Ok(n) => hub.metrics().set_gauge("hubmesh_outbox_depth", n as f64),
        Err(e) => tracing::warn!(error = %e, "cannot count outbox depth"),
    }
    (
        [(header::CONTENT_TYPE, "text/plain; version=0.0.4")],
        hub.metrics().render(),
    )
}

/// This OpenAPI 3.1 document.
#[utoipa::path(get, path = "/api/v1/openapi.json", tag = "system", security(()), responses((status = 200, content_type = "application/json", body = Object)))]
async fn openapi(State(hub): State<Hub>) -> impl IntoResponse {
    (
        [(header::CONTENT_TYPE, "application/json")],
        hub.openapi_json().to_owned(),
    )
}

#[derive(Serialize, ToSchema)]
pub struct ModuleList {
    pub items: Vec<ModuleStatus>,
    pub next_cursor: Option<String>,
}

/// The hub's modules and their state (`running`, `error`, `disabled`).
#[utoipa::path(get, path = "/api/v1/modules", tag = "system", responses((status = 200, body = ModuleList), (status = 401, body = crate::api::problem::Problem)))]
async fn modules_list(
    State(hub): State<Hub>,
    principal: Principal,
) -> Result<Json<ModuleList>, HubError> {
    principal.require(hub.name(), Access::Read)?;
    Ok(Json(ModuleList {
        items: hub.modules().to_vec(),
        next_cursor: None,
    }))
}

/// The caller as this hub sees it.
#[derive(Serialize, ToSchema)]
pub struct WhoAmI {
    #[serde(flatten)]
    pub principal: Principal,
    /// When the presented token expires (absent for tokens without `exp`).
    pub expires_at: Option<chrono::DateTime<chrono::Utc>>,
}

/// The calling principal as this hub sees it.
#[utoipa::path(get, path = "/api/v1/whoami", tag = "system", responses((status = 200, body = WhoAmI), (status = 401, body = crate::api::problem::Problem)))]
async fn whoami(principal: Principal, headers: HeaderMap) -> Json<WhoAmI> {
    let expires_at = bearer_token(&headers)
        .ok()
        .and_then(crate::auth::claims::unverified_expiry);
    Json(WhoAmI {
        principal,
        expires_at,
    })
}
