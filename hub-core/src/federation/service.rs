//! Federation views: the live hubs.

use tokio::time::Instant;

use super::registry::HubManifest;
use crate::auth::{Access, Principal};
use crate::ctx::Ctx;
use crate::error::HubError;

/// Every hub with a heartbeat inside its TTL, this one included, by name.
pub async fn list_hubs(ctx: &Ctx, who: &Principal) -> Result<Vec<HubManifest>, HubError> {
    who.require(&ctx.hub, Access::Read)?;
    Ok(ctx.registry.live_at(Instant::now()))
}
