//! MCP tools of the inventory: `list_services_inventory`, `get_service`.

use hub_core::HubError;
use hub_core::api::page::Page;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall, page};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::Service;
use super::model::Lifecycle;
use super::service::{self, ServiceFilter};
use crate::cost::api::Cost;

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "list_services_inventory",
            "The ops service inventory (what runs where, owner domain, lifecycle, dependencies), by id. \
             Not the third-party services (TPSC) of `list_services`.",
            Access::Read,
            list_services_inventory,
        ),
        McpTool::new(
            "get_service",
            "One service of the ops inventory by id, with its endpoints, dependencies and cost per period.",
            Access::Read,
            get_service,
        ),
    ]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListArgs {
    /// Only services of this domain.
    pub domain: Option<String>,
    pub lifecycle: Option<Lifecycle>,
    pub environment: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_services_inventory(
    call: ToolCall,
    args: ListArgs,
) -> Result<Page<Service>, HubError> {
    let filter = ServiceFilter {
        domain: args.domain,
        lifecycle: args.lifecycle,
        environment: args.environment,
    };
    let got = service::list(
        call.ctx(),
        &call.who,
        &filter,
        &page(args.limit, &args.cursor)?,
    )
    .await?;
    Ok(got.map(Service::from))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IdArgs {
    /// The service id.
    pub id: String,
}

async fn get_service(call: ToolCall, args: IdArgs) -> Result<Service, HubError> {
    let svc = service::get(call.ctx(), &call.who, &args.id).await?;
    let costs = crate::cost::service::of_service(call.ctx(), &call.who, &args.id).await?;
    let mut out = Service::from(svc);
    out.costs = Some(costs.into_iter().map(Cost::from).collect());
    Ok(out)
}
