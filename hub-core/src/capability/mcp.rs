//! MCP tools for capability routing: the catalog and the request lifecycle
//! `requested -> accepted -> in_progress -> fulfilled | rejected | cancelled`.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::api::{Capability, CapabilityRequest, CreateCapability, CreateCapabilityRequest};
use super::model::Status;
use super::service::{self, Role};
use crate::api::page::Page;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpTool, ToolCall, page, profile};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "register_capability",
            "Offer a capability others may request from you: a unique snake_case name, \
             what it does, and optionally a JSON Schema of the input you expect.",
            Access::Write,
            register_capability,
        ),
        McpTool::new(
            "list_capabilities",
            "Search the capability catalog by provider, domain or a text in name/description.",
            Access::Read,
            list_capabilities,
        ),
        McpTool::new(
            "request_capability",
            "Ask the provider of a capability to do it for you; the request starts as `requested`.",
            Access::Write,
            request_capability,
        ),
        McpTool::new(
            "accept_capability_request",
            "As the provider, accept a request addressed to you (`requested -> accepted`).",
            Access::Write,
            accept_capability_request,
        ),
        McpTool::new(
            "update_capability_request_status",
            "Move a request on: the provider sets `in_progress`, `fulfilled` (with `result`) or `rejected`; \
             the requester may `cancel`. Illegal moves are refused and say why.",
            Access::Write,
            update_capability_request_status,
        ),
        McpTool::new(
            "list_capability_requests",
            "Capability requests you made or were asked to do, filtered by status, capability, role or domain.",
            Access::Read,
            list_capability_requests,
        ),
        McpTool::new(
            "get_capability_request",
            "One capability request with its status, input, notes and result.",
            Access::Read,
            get_capability_request,
        ),
    ]
    .into_iter()
    .map(|t| t.profile(profile::CAPABILITIES))
    .collect()
}

async fn register_capability(
    call: ToolCall,
    args: CreateCapability,
) -> Result<Capability, HubError> {
    let new = service::NewCapability {
        name: args.name,
        description: args.description,
        input_schema: args.input_schema,
        domain: args.domain,
    };
    Ok(service::register(call.ctx(), &call.who, new).await?.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListCapabilitiesArgs {
    /// Only capabilities of this provider (a principal's `sub`).
    pub provider: Option<String>,
    /// Only capabilities of this domain.
    pub domain: Option<String>,
    /// Case-insensitive text in the name or description.
    pub q: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_capabilities(
    call: ToolCall,
    args: ListCapabilitiesArgs,
) -> Result<Page<Capability>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let filter = service::CapabilityFilter {
        provider: args.provider,
        domain: args.domain,
        q: args.q,
    };
    let res = service::list(call.ctx(), &call.who, &filter, &page).await?;
    Ok(res.map(Capability::from))
}

async fn request_capability(
    call: ToolCall,
    args: CreateCapabilityRequest,
) -> Result<CapabilityRequest, HubError> {
    let new = service::NewRequest {
        capability: args.capability,
        input: args.input,
        note: args.note,
        domain: args.domain,
    };
    Ok(service::create_request(call.ctx(), &call.who, new)
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RequestId {
    /// The capability request id.
    pub id: String,
}

async fn accept_capability_request(
    call: ToolCall,
    args: RequestId,
) -> Result<CapabilityRequest, HubError> {
    Ok(service::accept(call.ctx(), &call.who, &args.id)
        .await?
        .into())
}

async fn get_capability_request(
    call: ToolCall,
    args: RequestId,
) -> Result<CapabilityRequest, HubError> {
    Ok(service::get_request(call.ctx(), &call.who, &args.id)
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatusArgs {
    /// The capability request id.
    pub id: String,
    /// The new status.
    pub status: Status,
    /// Why, for the other party.
    pub note: Option<String>,
    /// The outcome; only with `fulfilled`.
    pub result: Option<Value>,
}

async fn update_capability_request_status(
    call: ToolCall,
    args: StatusArgs,
) -> Result<CapabilityRequest, HubError> {
    let change = service::StatusChange {
        status: args.status,
        note: args.note,
        result: args.result,
    };
    Ok(
        service::change_status(call.ctx(), &call.who, &args.id, change)
            .await?
            .into(),
    )
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListRequestsArgs {
    pub status: Option<Status>,
    /// Only requests for this capability name.
    pub capability: Option<String>,
    /// Only requests you made (`requester`) or were asked to do (`provider`).
    pub role: Option<Role>,
    pub domain: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_capability_requests(
    call: ToolCall,
    args: ListRequestsArgs,
) -> Result<Page<CapabilityRequest>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let filter = service::RequestFilter {
        status: args.status,
        capability: args.capability,
        role: args.role,
        domain: args.domain,
    };
    let res = service::list_requests(call.ctx(), &call.who, &filter, &page).await?;
    Ok(res.map(CapabilityRequest::from))
}
