//! Orientation tools every profile lists: who the caller is, which hub this is.

use serde::Serialize;

use super::args::NoArgs;
use super::tool::{McpTool, ToolCall};
use crate::auth::{Access, Principal};
use crate::error::HubError;

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "whoami",
            "Who you are on this hub: your principal (sub, kind, roles, allowed domains) and the hub's name. \
             Call it first to learn what you may do.",
            Access::Read,
            whoami,
        )
        .in_every_profile(),
    ]
}

#[derive(Serialize)]
struct WhoAmI {
    hub: String,
    #[serde(flatten)]
    principal: Principal,
}

async fn whoami(call: ToolCall, _: NoArgs) -> Result<WhoAmI, HubError> {
    Ok(WhoAmI {
        hub: call.hub.name().to_owned(),
        principal: call.who,
    })
}
