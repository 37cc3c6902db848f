//! MCP tools for domains: `list_domains`, and the `hub://domains` resource.

use super::api::Domain;
use super::service;
use crate::api::page::{Page, PageRequest};
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpResource, McpTool, PageArgs, ToolCall};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "list_domains",
            "List the domains (organisational areas such as `infotech` or `finance`) you may use, by slug. \
             Other tools take a domain slug from this list.",
            Access::Read,
            list_domains,
        )
        .in_every_profile(),
    ]
}

pub fn resources() -> Vec<McpResource> {
    vec![
        McpResource::new(
            "hub://domains",
            "domains",
            "The domains you may use (first 500).",
            |call: ToolCall| async move {
                let page = service::list(call.ctx(), &call.who, &PageRequest::first(500)).await?;
                Ok(page.map(Domain::from))
            },
        )
        .updated_by(|event, _| event.kind() == "domain.created"),
    ]
}

async fn list_domains(call: ToolCall, args: PageArgs) -> Result<Page<Domain>, HubError> {
    let page = service::list(call.ctx(), &call.who, &args.page()?).await?;
    Ok(page.map(Domain::from))
}
