//! The bearer token client commands send.

use super::args::GlobalArgs;

/// The token to send, if any: `--token` / `HUBMESH_TOKEN`.
///
/// The single place where credentials are found: a stored login or the local mesh's credentials
/// under `--data-dir` belong here too (async because finding one may mean refreshing it).
pub async fn bearer_token(global: &GlobalArgs) -> anyhow::Result<Option<String>> {
    Ok(global.token.clone().filter(|t| !t.is_empty()))
}
