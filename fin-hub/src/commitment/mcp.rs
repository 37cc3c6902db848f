//! MCP tool: `add_commitment`.

use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, ToolCall};
use schemars::JsonSchema;
use serde::Deserialize;

use super::api::Commitment;
use super::model::{Cadence, CommitmentKind};
use super::service::{self, NewCommitment};
use crate::money::parse_day;

pub fn tools() -> Vec<McpTool> {
    vec![McpTool::new(
        "add_commitment",
        "Record a promised payment (subscription, contract, salary, other) to a vendor: amount in \
         minor units per cadence (monthly, quarterly, yearly, one_off), start and optional end \
         date. Commitments count in budgets, burn projections and runway.",
        Access::Write,
        add_commitment,
    )]
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct AddCommitmentArgs {
    pub kind: CommitmentKind,
    /// Who is paid.
    pub vendor: String,
    /// The paying domain's slug.
    pub domain: String,
    /// The service it pays for.
    pub service_id: Option<String>,
    /// Minor units per cadence period, more than 0.
    pub amount: i64,
    /// ISO 4217 code.
    pub currency: String,
    pub cadence: Cadence,
    /// First day, `YYYY-MM-DD`.
    pub start_date: String,
    /// Last day (inclusive), `YYYY-MM-DD`; open-ended when absent.
    pub end_date: Option<String>,
    pub description: Option<String>,
}

async fn add_commitment(call: ToolCall, args: AddCommitmentArgs) -> Result<Commitment, HubError> {
    let new = NewCommitment {
        kind: args.kind,
        vendor: args.vendor,
        domain: args.domain,
        service_id: args.service_id,
        amount: args.amount,
        currency: args.currency,
        cadence: args.cadence,
        start_date: parse_day(&args.start_date, "start_date")?,
        end_date: args
            .end_date
            .as_deref()
            .map(|d| parse_day(d, "end_date"))
            .transpose()?,
        description: args.description,
    };
    Ok(service::create(call.ctx(), &call.who, new).await?.into())
}
