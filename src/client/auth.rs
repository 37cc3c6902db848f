//! The bearer token client commands send.

use anyhow::Context;

use super::args::GlobalArgs;

/// The token to send: `--token` / `HUBMESH_TOKEN`, else the stored login (renewed when needed),
/// else one for the local mesh's admin client found through `--data-dir`; `None` when there is
/// none of these (the hub's 401 then says how to pass one).
pub async fn bearer_token(global: &GlobalArgs) -> anyhow::Result<Option<String>> {
    if let Some(token) = global.token.clone().filter(|t| !t.is_empty()) {
        return Ok(Some(token));
    }
    // With --url the target may be any hub: a token for the whole mesh serves it.
    let hub = if global.url.is_some() {
        None
    } else {
        global.hub.as_deref()
    };
    crate::cli::identity::bearer_token(&global.data_dir, hub)
        .await
        .context("cannot get a token from the stored login or the local mesh")
}
