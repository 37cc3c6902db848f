//! REST: `/api/v1/federation/…`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use utoipa::{IntoParams, ToSchema};
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::model as alert;
use super::registry::HubManifest;
use super::service::{self, Openness};
use crate::api::extract::{Json, Path, Query};
use crate::api::page::{Page, PageParams, PageRequest};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::error::HubError;
use crate::hub::Hub;
use crate::progress::model::{Severity, State as AlertState, StateKind};

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(federation_hubs))
        .routes(routes!(federation_hub_whoami))
        .routes(routes!(federation_alerts))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct HubList {
    pub items: Vec<HubManifest>,
}

/// The live hubs of the federation: manifest, version and last heartbeat of each.
#[utoipa::path(get, path = "/api/v1/federation/hubs", tag = "federation",
    responses((status = 200, body = HubList), (status = 401, body = Problem), (status = 403, body = Problem)))]
async fn federation_hubs(
    State(hub): State<Hub>,
    who: Principal,
) -> Result<Json<HubList>, HubError> {
    let items = service::list_hubs(hub.ctx(), &who).await?;
    Ok(Json(HubList { items }))
}

/// This hub as hub `name` sees it: this hub calls `name`'s `whoami` with its own service
/// account, so an operator can check that hub-to-hub calls are trusted. 503 when the call fails.
#[utoipa::path(get, path = "/api/v1/federation/hubs/{name}/whoami", tag = "federation", params(("name" = String, Path)),
    responses((status = 200, body = Principal), (status = 401, body = Problem), (status = 403, body = Problem),
        (status = 404, body = Problem), (status = 503, body = Problem)))]
async fn federation_hub_whoami(
    State(hub): State<Hub>,
    who: Principal,
    Path(name): Path<String>,
) -> Result<Json<Principal>, HubError> {
    Ok(Json(service::peer_whoami(hub.ctx(), &who, &name).await?))
}

/// A risk or alert of some hub, in its latest reported state.
#[derive(Debug, Serialize, ToSchema)]
pub struct FederationAlert {
    /// `<hub>:<kind>:<key>`.
    pub id: String,
    pub hub: String,
    pub kind: StateKind,
    pub key: String,
    pub state: AlertState,
    pub severity: Severity,
    pub escalated: bool,
    pub domain: Option<String>,
    pub summary: String,
    /// The event that last moved it.
    pub event_type: String,
    pub updated_at: DateTime<Utc>,
}

impl From<alert::Model> for FederationAlert {
    fn from(m: alert::Model) -> Self {
        Self {
            id: m.id,
            hub: m.hub,
            kind: m.kind,
            key: m.key,
            state: m.state,
            severity: m.severity,
            escalated: m.escalated,
            domain: m.domain,
            summary: m.summary,
            event_type: m.event_type,
            updated_at: m.updated_at,
        }
    }
}

#[derive(Debug, Deserialize, IntoParams)]
#[into_params(parameter_in = Query)]
pub struct AlertFilter {
    /// `open` (open or acknowledged) or `closed` (mitigated or resolved); both if absent.
    pub state: Option<Openness>,
}

/// Every hub's risks and alerts in their latest state, by hub, kind and key.
#[utoipa::path(get, path = "/api/v1/federation/alerts", tag = "federation", params(PageParams, AlertFilter),
    responses((status = 200, body = Page<FederationAlert>), (status = 400, body = Problem), (status = 401, body = Problem),
        (status = 403, body = Problem)))]
async fn federation_alerts(
    State(hub): State<Hub>,
    who: Principal,
    Query(paging): Query<PageParams>,
    Query(filter): Query<AlertFilter>,
) -> Result<Json<Page<FederationAlert>>, HubError> {
    let page = PageRequest::try_from(&paging)?;
    let res = service::list_alerts(hub.ctx(), &who, filter.state, &page).await?;
    Ok(Json(res.map(FederationAlert::from)))
}
