//! `hubmesh agents list|heartbeat`.

use clap::Subcommand;
use serde_json::{Value, json};

use crate::client::args::json_value;
use crate::client::{Ctx, ListArgs, Params};

const COLUMNS: &[(&str, &str)] = &[
    ("AGENT", "sub"),
    ("KIND", "kind"),
    ("ONLINE", "online"),
    ("STATUS", "status"),
    ("LAST SEEN", "last_seen"),
];

#[derive(Debug, Subcommand)]
pub enum AgentsCmd {
    /// Agents with their presence (online while their last heartbeat is recent).
    List {
        /// Only online agents.
        #[arg(long, conflicts_with = "offline")]
        online: bool,
        /// Only offline agents.
        #[arg(long)]
        offline: bool,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Record a heartbeat of yourself.
    Heartbeat {
        /// What you are doing, in your own words.
        #[arg(long)]
        status: Option<String>,
        /// Free-form facts as a JSON object, e.g. '{"tokens_used": 1200}'.
        #[arg(long, value_parser = json_value)]
        metadata: Option<Value>,
    },
}

pub async fn run(ctx: &Ctx, cmd: AgentsCmd) -> anyhow::Result<()> {
    match cmd {
        AgentsCmd::List {
            online,
            offline,
            paging,
        } => {
            let filter = (online || offline).then_some(online);
            let params = Params::new().opt("online", filter);
            ctx.list("/api/v1/agents", params, COLUMNS, &paging).await
        }
        AgentsCmd::Heartbeat { status, metadata } => {
            let body = json!({"status": status, "metadata": metadata});
            ctx.post("/api/v1/agents/heartbeat", &body).await
        }
    }
}
