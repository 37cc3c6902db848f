//! MCP tool: `record_token_spend`.

use std::sync::Arc;

use chrono::{DateTime, Utc};
use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::TokenSpend;
use super::service::{self, NewTokenSpend};
use crate::config::FinConfig;

pub fn tools(cfg: &Arc<FinConfig>) -> Vec<McpTool> {
    let cfg = cfg.clone();
    vec![McpTool::new(
        "record_token_spend",
        "Record the tokens one of your model calls used; the cost (minor units) is computed from \
         the hub's price table when you do not give it. Recording the same external_id again adds nothing.",
        Access::Write,
        move |call, args| record_token_spend(call, cfg.clone(), args),
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct RecordTokenSpendArgs {
    /// Model provider, e.g. `openai`.
    pub provider: String,
    pub model: String,
    pub tokens_in: i64,
    pub tokens_out: i64,
    /// The paying domain's slug.
    pub domain: String,
    /// Cost in minor units; priced from the table when absent.
    pub cost: Option<i64>,
    /// ISO 4217 code of `cost`.
    pub currency: Option<String>,
    /// Your session.
    pub session_id: Option<String>,
    /// When the call happened, RFC 3339 (default now).
    pub time: Option<String>,
    /// Your id of the record, for safe retries.
    pub external_id: Option<String>,
}

async fn record_token_spend(
    call: ToolCall,
    cfg: Arc<FinConfig>,
    args: RecordTokenSpendArgs,
) -> Result<TokenSpend, HubError> {
    let time = args
        .time
        .as_deref()
        .map(|t| {
            DateTime::parse_from_rfc3339(t)
                .map(|t| t.with_timezone(&Utc))
                .map_err(|_| {
                    HubError::bad_request("time", format!("{t:?} is not an RFC 3339 time"))
                })
        })
        .transpose()?;
    let new = NewTokenSpend {
        provider: args.provider,
        model: args.model,
        tokens_in: args.tokens_in,
        tokens_out: args.tokens_out,
        cost: args.cost,
        currency: args.currency,
        session_id: args.session_id,
        domain: args.domain,
        time,
        external_id: args.external_id,
    };
    Ok(service::record(call.ctx(), &call.who, &cfg, new)
        .await?
        .0
        .into())
}
