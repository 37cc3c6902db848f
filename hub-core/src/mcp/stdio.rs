//! MCP over stdio for a local agent. The identity is never assumed: a token obtained for the
//! configured local client is verified by the hub's own verifier, and its principal is the caller.

use rmcp::ServiceExt;

use super::handler::{Caller, HubMcp};
use crate::auth::AuthError;
use crate::error::HubError;
use crate::hub::Hub;

/// Why stdio serving stopped with an error.
#[derive(Debug, thiserror::Error)]
pub enum StdioError {
    #[error("the stdio client is not authenticated: {0}")]
    Auth(#[from] AuthError),
    #[error("{0}")]
    Profile(HubError),
    #[error("mcp over stdio: {0}")]
    Transport(String),
}

/// The caller a stdio session serves: `token`'s principal as the hub's verifier proves it,
/// with tool `profile` (checked against the hub's profiles).
pub async fn caller(hub: &Hub, token: &str, profile: &str) -> Result<Caller, StdioError> {
    hub.mcp_catalog()
        .check_profile(profile)
        .map_err(StdioError::Profile)?;
    let who = hub.verifier().verify(token).await?;
    Ok(Caller {
        who,
        profile: profile.to_owned(),
    })
}

/// Serves MCP on `reader`/`writer` (stdin/stdout for `<hub> mcp`) until the client closes it.
pub async fn serve<R, W>(hub: Hub, caller: Caller, reader: R, writer: W) -> Result<(), StdioError>
where
    R: tokio::io::AsyncRead + Send + Unpin + 'static,
    W: tokio::io::AsyncWrite + Send + Unpin + 'static,
{
    let running = HubMcp::for_caller(hub, caller)
        .serve((reader, writer))
        .await
        .map_err(|e| StdioError::Transport(e.to_string()))?;
    running
        .waiting()
        .await
        .map_err(|e| StdioError::Transport(e.to_string()))?;
    Ok(())
}
