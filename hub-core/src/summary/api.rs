//! REST: `/api/v1/state-summary` and `/api/v1/domains/{slug}/summary`.

use axum::extract::State;
use chrono::{DateTime, Utc};
use serde::Serialize;
use utoipa::ToSchema;
use utoipa_axum::router::OpenApiRouter;
use utoipa_axum::routes;

use super::service::{self, Counts};
use crate::api::extract::{Json, Path};
use crate::api::problem::Problem;
use crate::auth::Principal;
use crate::domain::api::Domain;
use crate::error::HubError;
use crate::hub::Hub;
use crate::module::ModuleStatus;

pub fn router() -> OpenApiRouter<Hub> {
    OpenApiRouter::new()
        .routes(routes!(state_summary))
        .routes(routes!(domain_summary))
}

#[derive(Debug, Serialize, ToSchema)]
pub struct DomainSummary {
    pub domain: Domain,
    pub counts: Counts,
}

impl From<service::DomainSummary> for DomainSummary {
    fn from(s: service::DomainSummary) -> Self {
        Self {
            domain: s.domain.into(),
            counts: s.counts,
        }
    }
}

#[derive(Debug, Serialize, ToSchema)]
pub struct StateSummary {
    pub hub: String,
    pub version: &'static str,
    pub time: DateTime<Utc>,
    pub domains: u64,
    pub counts: Counts,
    /// Unread messages of the caller.
    pub unread_messages: u64,
    pub agents_online: u64,
    /// Committed events not yet published to the bus.
    pub outbox_pending: u64,
    pub modules: Vec<ModuleStatus>,
}

impl From<service::StateSummary> for StateSummary {
    fn from(s: service::StateSummary) -> Self {
        Self {
            hub: s.hub,
            version: env!("CARGO_PKG_VERSION"),
            time: s.time,
            domains: s.domains,
            counts: s.counts,
            unread_messages: s.unread_messages,
            agents_online: s.agents_online,
            outbox_pending: s.outbox_pending,
            modules: s.modules,
        }
    }
}

/// The hub at a glance: counts over the domains the caller may see, the caller's unread
/// messages, agents online, modules.
#[utoipa::path(get, path = "/api/v1/state-summary", tag = "summary", responses((status = 200, body = StateSummary), (status = 401, body = Problem)))]
async fn state_summary(
    State(hub): State<Hub>,
    who: Principal,
) -> Result<Json<StateSummary>, HubError> {
    let s = service::state_summary(
        hub.ctx(),
        &who,
        hub.config().presence_timeout,
        hub.modules(),
    )
    .await?;
    Ok(Json(s.into()))
}

/// One domain at a glance: messages, open capability requests, repos, services, open risks and alerts.
#[utoipa::path(get, path = "/api/v1/domains/{slug}/summary", tag = "domains", params(("slug" = String, Path)),
    responses((status = 200, body = DomainSummary), (status = 404, body = Problem)))]
async fn domain_summary(
    State(hub): State<Hub>,
    who: Principal,
    Path(slug): Path<String>,
) -> Result<Json<DomainSummary>, HubError> {
    let s = service::domain_summary(hub.ctx(), &who, &slug).await?;
    Ok(Json(s.into()))
}
