//! Calls to another hub's REST API. Each carries this hub's own service-account token for that
//! hub (`aud` = the audience the peer announces), never a token this hub received.

use serde::de::DeserializeOwned;

use super::registry::HubManifest;
use crate::ctx::Ctx;
use crate::error::HubError;

/// `GET <peer's REST URL><path>` as this hub, read as `T`. Anything in the way (no service
/// account, no token, the peer unreachable or refusing) is `Unavailable`, naming the peer.
pub async fn get<T: DeserializeOwned>(
    ctx: &Ctx,
    peer: &HubManifest,
    path: &str,
) -> Result<T, HubError> {
    let unavailable = |what: String| HubError::Unavailable(format!("hub {}: {what}", peer.name));
    let tokens = ctx.service_tokens.as_ref().ok_or_else(|| {
        unavailable(format!(
            "hub {} has no service account to call it with (oidc.client_id, oidc.client_secret)",
            ctx.hub
        ))
    })?;
    let url = format!("{}{path}", peer.rest_url);
    let res = tokens
        .request(reqwest::Method::GET, &url, &peer.audience)
        .await
        .map_err(|e| unavailable(format!("no token for it: {e}")))?
        .send()
        .await
        .map_err(|e| unavailable(e.to_string()))?;
    let status = res.status();
    if !status.is_success() {
        let detail = res
            .json::<serde_json::Value>()
            .await
            .ok()
            .and_then(|p| p["detail"].as_str().map(str::to_owned))
            .unwrap_or_default();
        return Err(unavailable(format!("answered {status}: {detail}")));
    }
    res.json()
        .await
        .map_err(|e| unavailable(format!("unreadable answer: {e}")))
}
