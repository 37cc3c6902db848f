//! MCP tool of readiness: `get_readiness`.

use std::sync::Arc;

use hub_core::HubError;
use hub_core::api::page::Page;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall, page};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::Readiness;
use super::service;
use crate::config::OpsConfig;

pub fn tools(cfg: &Arc<OpsConfig>) -> Vec<McpTool> {
    let cfg = cfg.clone();
    vec![McpTool::new(
        "get_readiness",
        "Cutover readiness of one inventory service (or a page of all): each gate (fresh passing smoke \
         evidence, last migration run complete with 0 failed, probe healthy, no open high-severity alert) \
         passes or fails with its reason and the evidence id.",
        Access::Read,
        move |call: ToolCall, args: ReadinessArgs| {
            let cfg = cfg.clone();
            async move { get_readiness(call, args, &cfg).await }
        },
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReadinessArgs {
    /// One service only.
    pub service: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn get_readiness(
    call: ToolCall,
    args: ReadinessArgs,
    cfg: &OpsConfig,
) -> Result<Page<Readiness>, HubError> {
    let got = match args.service {
        Some(id) => Page {
            items: vec![service::for_service(call.ctx(), &call.who, &cfg.readiness, &id).await?],
            next_cursor: None,
        },
        None => {
            service::list(
                call.ctx(),
                &call.who,
                &cfg.readiness,
                &page(args.limit, &args.cursor)?,
            )
            .await?
        }
    };
    Ok(got.map(Readiness::from))
}
