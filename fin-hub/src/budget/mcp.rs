//! MCP tools: `get_budget_status`, `set_budget`.

use std::sync::Arc;

use chrono::Utc;
use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::Budget;
use super::service::{self, NewBudget};
use crate::config::FinConfig;
use crate::money::Period;

pub fn tools(cfg: &Arc<FinConfig>) -> Vec<McpTool> {
    let (get_cfg, set_cfg) = (cfg.clone(), cfg.clone());
    vec![
        McpTool::new(
            "get_budget_status",
            "A domain's budget for a month: allocated, spent, committed, percent used, projected \
             total and the alert thresholds crossed. Amounts are integer minor units.",
            Access::Read,
            move |call, args| get_budget_status(call, get_cfg.clone(), args),
        ),
        McpTool::new(
            "set_budget",
            "Set a domain's budget for a month (replaces an earlier one): allocation in minor \
             units, optional currency and alert thresholds in percent (default 80, 90, 100).",
            Access::Write,
            move |call, args| set_budget(call, set_cfg.clone(), args),
        ),
    ]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct BudgetStatusArgs {
    /// The domain's slug.
    pub domain: String,
    /// The month, `YYYY-MM` (default: the current month).
    pub period: Option<String>,
}

async fn get_budget_status(
    call: ToolCall,
    cfg: Arc<FinConfig>,
    args: BudgetStatusArgs,
) -> Result<Budget, HubError> {
    let period = args
        .period
        .unwrap_or_else(|| Period::of(Utc::now().date_naive()).to_string());
    let ctx = call.ctx();
    hub_core::domain::service::check_usable(&ctx.db, &call.who, &args.domain, "domain").await?;
    let budget = service::find(&ctx.db, &args.domain, &period)
        .await?
        .ok_or_else(|| HubError::not_found("budget", format!("of {} for {period}", args.domain)))?;
    let status = service::status_of(&ctx.db, &cfg, &budget, Utc::now().date_naive()).await?;
    Ok(Budget::new(budget, status))
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct SetBudgetArgs {
    /// The domain's slug.
    pub domain: String,
    /// The month, `YYYY-MM`.
    pub period: String,
    /// The allocation in minor units (cents for EUR), at least 1.
    pub allocated: i64,
    /// ISO 4217 code (default: the hub's report currency).
    pub currency: Option<String>,
    /// Alert thresholds in percent (default 80, 90, 100).
    pub thresholds: Option<Vec<u32>>,
}

async fn set_budget(
    call: ToolCall,
    cfg: Arc<FinConfig>,
    args: SetBudgetArgs,
) -> Result<Budget, HubError> {
    let new = NewBudget {
        domain: args.domain,
        period: args.period,
        allocated: args.allocated,
        currency: args.currency,
        thresholds: args.thresholds,
    };
    let (row, _) = service::set(call.ctx(), &call.who, &cfg, new).await?;
    let status = service::status_of(&call.ctx().db, &cfg, &row, Utc::now().date_naive()).await?;
    Ok(Budget::new(row, status))
}
