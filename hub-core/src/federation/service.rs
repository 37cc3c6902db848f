//! Federation views: the live hubs and every hub's risks and alerts.

use sea_orm::{ColumnTrait, EntityTrait, QueryFilter, QueryOrder, QuerySelect};
use serde::Deserialize;
use tokio::time::Instant;
use utoipa::ToSchema;

use super::model as alert;
use super::peer;
use super::registry::HubManifest;
use crate::api::page::{Page, PageRequest, page_of};
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::error::HubError;

/// Every hub with a heartbeat inside its TTL, this one included, by name.
pub async fn list_hubs(ctx: &Ctx, who: &Principal) -> Result<Vec<HubManifest>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    Ok(ctx.registry.live_at(Instant::now()))
}

/// This hub as live hub `name` sees it, from `name`'s `whoami` called with this hub's own
/// service account.
pub async fn peer_whoami(ctx: &Ctx, who: &Principal, name: &str) -> Result<Principal, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let peer = ctx
        .registry
        .live_at(Instant::now())
        .into_iter()
        .find(|m| m.name == name)
        .ok_or_else(|| HubError::not_found("hub", name))?;
    peer::get(ctx, &peer, "/whoami").await
}

/// Which federation alerts to list.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Deserialize, ToSchema, schemars::JsonSchema)]
#[serde(rename_all = "snake_case")]
pub enum Openness {
    /// `open` or `acknowledged`.
    Open,
    /// `mitigated` or `resolved`.
    Closed,
}

/// The current state of every hub's risks and alerts, by hub, kind and key.
pub async fn list_alerts(
    ctx: &Ctx,
    who: &Principal,
    openness: Option<Openness>,
    page: &PageRequest,
) -> Result<Page<alert::Model>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    let mut q = alert::Entity::find()
        .order_by_asc(alert::Column::Id)
        .limit(page.limit + 1);
    if let Some(after) = &page.after {
        q = q.filter(alert::Column::Id.gt(after.as_str()));
    }
    if let Some(o) = openness {
        q = q.filter(alert::Column::Open.eq(o == Openness::Open));
    }
    Ok(page_of(q.all(&ctx.db).await?, page, |a| a.id.clone()))
}
