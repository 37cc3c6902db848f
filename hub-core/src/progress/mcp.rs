//! MCP tools for progress events and the risk/alert views.

use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{CreateEvent, RecordedEvent, Tracked};
use super::model::Severity;
use super::service::{self, NewEvent, StateFilter, StatusFilter};
use crate::api::page::Page;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpTool, ToolCall, page, profile};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "record_event",
            "Append a progress event (snake_case type, summary, severity, subject refs). \
             The risk/alert types `risk_surfaced`, `risk_escalated`, `risk_mitigated`, `alert_raised`, \
             `alert_acknowledged`, `alert_resolved` need a `key` and move that risk's or alert's state.",
            Access::Write,
            record_event,
        ),
        McpTool::new(
            "get_risks",
            "Risks with their current state (open by default), newest change first.",
            Access::Read,
            get_risks,
        ),
        McpTool::new(
            "get_alerts",
            "Alerts with their current state (open by default), newest change first.",
            Access::Read,
            get_alerts,
        ),
        McpTool::new(
            "raise_alert",
            "Raise an alert under a key you choose (raising an open key again keeps it open).",
            Access::Write,
            raise_alert,
        ),
        McpTool::new(
            "acknowledge_alert",
            "Acknowledge an open alert: someone is on it.",
            Access::Write,
            acknowledge_alert,
        ),
        McpTool::new(
            "resolve_alert",
            "Resolve an open or acknowledged alert.",
            Access::Write,
            resolve_alert,
        ),
    ]
    .into_iter()
    .map(|t| t.profile(profile::PROGRESS))
    .collect()
}

async fn record_event(call: ToolCall, args: CreateEvent) -> Result<RecordedEvent, HubError> {
    let new = NewEvent {
        event_type: args.event_type,
        domain: args.domain,
        subject_refs: args.subject_refs.unwrap_or_default(),
        summary: args.summary,
        severity: args.severity.unwrap_or_default(),
        key: args.key,
    };
    Ok(service::record(call.ctx(), &call.who, new).await?.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct StatesArgs {
    /// Which states to list (default `open`).
    pub status: Option<StatusFilter>,
    /// Only this domain.
    pub domain: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

impl StatesArgs {
    fn filter(self) -> StateFilter {
        StateFilter {
            status: self.status.unwrap_or_default(),
            domain: self.domain,
        }
    }
}

async fn get_risks(call: ToolCall, args: StatesArgs) -> Result<Page<Tracked>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let res = service::list_risks(call.ctx(), &call.who, &args.filter(), &page).await?;
    Ok(res.map(Tracked::from))
}

async fn get_alerts(call: ToolCall, args: StatesArgs) -> Result<Page<Tracked>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let res = service::list_alerts(call.ctx(), &call.who, &args.filter(), &page).await?;
    Ok(res.map(Tracked::from))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RaiseArgs {
    /// The alert's identity, e.g. `db-disk-full`.
    pub key: String,
    /// What is wrong.
    pub summary: String,
    /// Default `info`.
    pub severity: Option<Severity>,
    pub domain: Option<String>,
}

async fn raise_alert(call: ToolCall, args: RaiseArgs) -> Result<RecordedEvent, HubError> {
    let severity = args.severity.unwrap_or_default();
    let domain = args.domain.as_deref();
    let recorded = service::raise_alert(
        call.ctx(),
        &call.who,
        &args.key,
        &args.summary,
        severity,
        domain,
    )
    .await?;
    Ok(recorded.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct FollowUpArgs {
    /// The alert's key.
    pub key: String,
    /// What was done.
    pub note: Option<String>,
}

async fn acknowledge_alert(call: ToolCall, args: FollowUpArgs) -> Result<RecordedEvent, HubError> {
    Ok(
        service::acknowledge_alert(call.ctx(), &call.who, &args.key, args.note.as_deref())
            .await?
            .into(),
    )
}

async fn resolve_alert(call: ToolCall, args: FollowUpArgs) -> Result<RecordedEvent, HubError> {
    Ok(
        service::resolve_alert(call.ctx(), &call.who, &args.key, args.note.as_deref())
            .await?
            .into(),
    )
}
