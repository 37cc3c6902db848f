//! `hubmesh events [record]`, `hubmesh risks`, `hubmesh alerts`: progress events and the risk and
//! alert states they move.

use clap::{Args, Subcommand, ValueEnum};
use serde_json::{Map, Value, json};

use crate::client::args::wire;
use crate::client::{Ctx, ListArgs, Params};

const EVENTS: &[(&str, &str)] = &[
    ("TIME", "time"),
    ("TYPE", "event_type"),
    ("SEVERITY", "severity"),
    ("DOMAIN", "domain"),
    ("KEY", "key"),
    ("SUMMARY", "summary"),
    ("ACTOR", "actor"),
];

const TRACKED: &[(&str, &str)] = &[
    ("KEY", "key"),
    ("STATE", "state"),
    ("SEVERITY", "severity"),
    ("ESCALATED", "escalated"),
    ("DOMAIN", "domain"),
    ("SUMMARY", "summary"),
    ("UPDATED", "updated_at"),
    ("EVENTS", "event_count"),
];

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Severity {
    Info,
    Low,
    Medium,
    High,
    Critical,
}

#[derive(Debug, Args)]
pub struct EventsArgs {
    #[command(subcommand)]
    pub record: Option<EventsCmd>,
    /// Only this domain's events.
    #[arg(long)]
    pub domain: Option<String>,
    /// Only events of this type, e.g. risk_surfaced.
    #[arg(long = "type", value_name = "TYPE")]
    pub event_type: Option<String>,
    /// Only events at or after this RFC 3339 time, e.g. 2026-11-22T00:00:00Z.
    #[arg(long, value_name = "TIME")]
    pub since: Option<String>,
    #[command(flatten)]
    pub paging: ListArgs,
}

#[derive(Debug, Subcommand)]
pub enum EventsCmd {
    /// Record a progress event; risk_* and alert_* types move the state of their --key.
    Record {
        /// snake_case: e.g. task_done, risk_surfaced, risk_mitigated, risk_escalated,
        /// alert_raised, alert_acknowledged, alert_resolved.
        event_type: String,
        /// What happened, in one line.
        #[arg(long)]
        summary: String,
        /// The domain it happened in.
        #[arg(long)]
        domain: Option<String>,
        /// Default info.
        #[arg(long, value_enum)]
        severity: Option<Severity>,
        /// The risk or alert identity, e.g. budget:finance:2026-11:90 (required for risk/alert types).
        #[arg(long)]
        key: Option<String>,
        /// What the event is about, as NAME=VALUE (repeatable), e.g. --ref task=T1.
        #[arg(long = "ref", value_name = "NAME=VALUE", value_parser = name_value)]
        refs: Vec<(String, String)>,
    },
}

/// `hubmesh risks` / `hubmesh alerts`.
#[derive(Debug, Args)]
pub struct TrackedArgs {
    /// Include closed ones (mitigated risks, resolved alerts) and fetch every page.
    #[arg(long)]
    pub all: bool,
    /// Only this domain's.
    #[arg(long)]
    pub domain: Option<String>,
    /// Page size, 1 to 500 (the hub's default is 50).
    #[arg(long, value_name = "N")]
    pub limit: Option<u64>,
}

fn name_value(s: &str) -> Result<(String, String), String> {
    s.split_once('=')
        .map(|(k, v)| (k.to_owned(), v.to_owned()))
        .ok_or_else(|| format!("expected NAME=VALUE, got {s}"))
}

pub async fn events(ctx: &Ctx, args: EventsArgs) -> anyhow::Result<()> {
    // clap's own conflict check would also refuse the hub options before `record`.
    let filtered = args.domain.is_some() || args.event_type.is_some() || args.since.is_some();
    let paged = args.paging.all || args.paging.limit.is_some() || args.paging.cursor.is_some();
    if args.record.is_some() && (filtered || paged) {
        anyhow::bail!(
            "list filters and paging go with `hubmesh events`, not before `record` (put `record`'s own flags after it)"
        );
    }
    match args.record {
        Some(EventsCmd::Record {
            event_type,
            summary,
            domain,
            severity,
            key,
            refs,
        }) => {
            let refs: Map<String, Value> = refs.into_iter().map(|(k, v)| (k, v.into())).collect();
            let body = json!({
                "event_type": event_type, "summary": summary, "domain": domain,
                "severity": severity.as_ref().map(wire), "key": key, "subject_refs": refs,
            });
            ctx.post("/api/v1/events", &body).await
        }
        None => {
            let params = Params::new()
                .opt("domain", args.domain)
                .opt("type", args.event_type)
                .opt("since", args.since);
            ctx.list("/api/v1/events", params, EVENTS, &args.paging)
                .await
        }
    }
}

/// Lists the risk or alert states at `path`: open ones, or all with `--all`.
pub async fn tracked(ctx: &Ctx, path: &str, args: TrackedArgs) -> anyhow::Result<()> {
    let params = Params::new()
        .opt("status", args.all.then_some("all"))
        .opt("domain", args.domain);
    let paging = ListArgs {
        all: args.all,
        limit: args.limit,
        cursor: None,
    };
    ctx.list(path, params, TRACKED, &paging).await
}
