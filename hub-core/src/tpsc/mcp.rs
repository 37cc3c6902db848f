//! MCP tools for third-party services (TPSC) and the GDPR report.

use schemars::JsonSchema;
use serde::Deserialize;
use serde_json::Value;

use super::api::{CreateService, Service, read_entry};
use super::service::{self, GdprReport, IngestReport};
use crate::api::page::Page;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpTool, ToolCall, page, profile};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "register_service",
            "Register a third-party service or tool a domain uses, with its GDPR facts \
             (data categories, processing purpose, region, DPA in place, sub-processors).",
            Access::Write,
            register_service,
        ),
        McpTool::new(
            "list_services",
            "The registered third-party services, of one domain or of every domain you may use.",
            Access::Read,
            list_services,
        ),
        McpTool::new(
            "ingest_tpsc_tool",
            "Create or update many services at once (matched by domain and name); \
             each entry is checked on its own and the report says what happened to each.",
            Access::Write,
            ingest_tpsc_tool,
        ),
        McpTool::new(
            "get_gdpr_report",
            "The GDPR facts of the services per domain: personal data, regions outside the EEA, missing DPAs.",
            Access::Read,
            get_gdpr_report,
        ),
    ]
    .into_iter()
    .map(|t| t.profile(profile::TPSC))
    .collect()
}

async fn register_service(call: ToolCall, args: CreateService) -> Result<Service, HubError> {
    Ok(service::create(call.ctx(), &call.who, args.into())
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListServicesArgs {
    /// Only services of this domain.
    pub domain: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_services(call: ToolCall, args: ListServicesArgs) -> Result<Page<Service>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let res = service::list(call.ctx(), &call.who, args.domain.as_deref(), &page).await?;
    Ok(res.map(Service::from))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct IngestArgs {
    /// Service entries, each shaped like `register_service`'s arguments.
    pub entries: Vec<Value>,
}

async fn ingest_tpsc_tool(call: ToolCall, args: IngestArgs) -> Result<IngestReport, HubError> {
    let entries = args.entries.into_iter().map(read_entry).collect();
    service::ingest(call.ctx(), &call.who, entries).await
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ReportArgs {
    /// Only this domain; every domain you may use when absent.
    pub domain: Option<String>,
}

async fn get_gdpr_report(call: ToolCall, args: ReportArgs) -> Result<GdprReport, HubError> {
    service::gdpr_report(call.ctx(), &call.who, args.domain.as_deref()).await
}
