//! `hubmesh fin budget|commit|spend|balance|import|burn|runway|costs`: the fin hub's budgets,
//! commitments, ledger, imports and reports. Amounts are integer minor units (cents for EUR).

use std::path::PathBuf;

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use futures::StreamExt;
use serde_json::{Value, json};

use crate::client::args::wire;
use crate::client::output::{cell, list_table, object_table};
use crate::client::{Ctx, ListArgs, Params, seg};

const BUDGETS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("DOMAIN", "domain"),
    ("PERIOD", "period"),
    ("CURRENCY", "currency"),
    ("ALLOCATED", "allocated"),
    ("SPENT", "spent"),
    ("COMMITTED", "committed"),
    ("%", "percent"),
    ("PROJECTED", "projected"),
    ("CROSSED", "crossed"),
];
const COMMITMENTS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("KIND", "kind"),
    ("VENDOR", "vendor"),
    ("DOMAIN", "domain"),
    ("AMOUNT", "amount"),
    ("CURRENCY", "currency"),
    ("CADENCE", "cadence"),
    ("START", "start_date"),
    ("END", "end_date"),
];
const SPEND: &[(&str, &str)] = &[
    ("ID", "id"),
    ("DATE", "date"),
    ("AMOUNT", "amount"),
    ("CURRENCY", "currency"),
    ("DOMAIN", "domain"),
    ("SERVICE", "service_id"),
    ("SOURCE", "source"),
    ("EXTERNAL ID", "external_id"),
];
const BALANCES: &[(&str, &str)] = &[
    ("DATE", "date"),
    ("AMOUNT", "amount"),
    ("CURRENCY", "currency"),
    ("NOTE", "note"),
];
const COSTS: &[(&str, &str)] = &[
    ("KEY", "key"),
    ("PERIOD", "period"),
    ("AMOUNT", "amount"),
    ("CURRENCY", "currency"),
    ("ENTRIES", "entries"),
];
const MONTHS: &[(&str, &str)] = &[
    ("PERIOD", "period"),
    ("ACTUAL", "actual"),
    ("COMMITTED", "committed"),
    ("PARTIAL", "partial"),
];
const ROW_ERRORS: &[(&str, &str)] = &[("LINE", "line"), ("FIELD", "field"), ("MESSAGE", "message")];

#[derive(Debug, Subcommand)]
pub enum FinCmd {
    /// Budgets per domain and month.
    #[command(subcommand)]
    Budget(BudgetCmd),
    /// Commitments: subscriptions, contracts, salaries.
    #[command(subcommand)]
    Commit(CommitCmd),
    /// The spend ledger and token spend.
    #[command(subcommand)]
    Spend(SpendCmd),
    /// Cash balance snapshots.
    #[command(subcommand)]
    Balance(BalanceCmd),
    /// Import a CSV file of costs (FOCUS, native or mapped columns) or token usage.
    Import(ImportArgs),
    /// Burn rate: actual spend per month, trailing average, projection.
    Burn {
        /// One domain (default: every domain you may see).
        #[arg(long)]
        domain: Option<String>,
        /// Report currency (default: the hub's).
        #[arg(long)]
        currency: Option<String>,
        /// Months of history, 1 to 36.
        #[arg(long)]
        months: Option<u32>,
        /// Report date, YYYY-MM-DD (default today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// Runway: months until the cash runs out, and the date.
    Runway {
        /// Report currency (default: the hub's).
        #[arg(long)]
        currency: Option<String>,
        /// Report date, YYYY-MM-DD (default today).
        #[arg(long)]
        as_of: Option<String>,
    },
    /// A month's costs per service or per domain.
    Costs {
        /// Group by service or by domain.
        #[arg(value_enum)]
        by: CostsBy,
        /// Month, YYYY-MM (default the current one).
        #[arg(long)]
        period: Option<String>,
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        /// Report currency (default: the hub's).
        #[arg(long)]
        currency: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum CostsBy {
    Service,
    Domain,
}

#[derive(Debug, Subcommand)]
pub enum BudgetCmd {
    /// Budgets with their status, newest first.
    List {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        /// Only this month, YYYY-MM.
        #[arg(long)]
        period: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Set a domain's budget for a month (replaces an earlier one).
    Set {
        /// The domain.
        domain: String,
        /// The month, YYYY-MM.
        period: String,
        /// Allocation in minor units.
        allocated: i64,
        /// ISO 4217 code (default: the hub's currency).
        #[arg(long)]
        currency: Option<String>,
        /// Alert thresholds in percent, comma-separated (default 80,90,100).
        #[arg(long, value_delimiter = ',', value_name = "PERCENT,…")]
        thresholds: Option<Vec<u32>>,
    },
    /// One budget and its status.
    Show {
        /// The budget's id.
        id: String,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Kind {
    Subscription,
    Contract,
    Salary,
    Other,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Cadence {
    Monthly,
    Quarterly,
    Yearly,
    OneOff,
}

#[derive(Debug, Subcommand)]
pub enum CommitCmd {
    /// Commitments, newest first.
    List {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Record a commitment.
    Add {
        /// What it is.
        #[arg(long, value_enum)]
        kind: Kind,
        /// Who is paid.
        #[arg(long)]
        vendor: String,
        /// The domain paying.
        #[arg(long)]
        domain: String,
        /// Minor units per cadence period.
        #[arg(long)]
        amount: i64,
        /// ISO 4217 code.
        #[arg(long)]
        currency: String,
        /// How often the amount is due.
        #[arg(long, value_enum)]
        cadence: Cadence,
        /// First day, YYYY-MM-DD.
        #[arg(long)]
        start: String,
        /// Last day, YYYY-MM-DD (open-ended when absent).
        #[arg(long)]
        end: Option<String>,
        /// The service it pays for.
        #[arg(long)]
        service_id: Option<String>,
        /// A note.
        #[arg(long)]
        description: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum SpendCmd {
    /// Ledger entries, newest first.
    List {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
        /// Only this service.
        #[arg(long)]
        service_id: Option<String>,
        /// Only this source: import, token or manual.
        #[arg(long)]
        source: Option<String>,
        /// Only this month, YYYY-MM.
        #[arg(long)]
        period: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Record an expense by hand.
    Add {
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Minor units.
        #[arg(long)]
        amount: i64,
        /// ISO 4217 code.
        #[arg(long)]
        currency: String,
        /// The domain paying.
        #[arg(long)]
        domain: String,
        /// The service it is for.
        #[arg(long)]
        service_id: Option<String>,
        /// Who was paid.
        #[arg(long)]
        vendor: Option<String>,
        /// Your id of the expense: recording it again adds nothing.
        #[arg(long)]
        external_id: Option<String>,
    },
    /// Record token spend of a model call (priced from the hub's table when --cost is absent).
    Token {
        /// Model provider, e.g. openai.
        #[arg(long)]
        provider: String,
        /// Model name.
        #[arg(long)]
        model: String,
        /// Input tokens.
        #[arg(long)]
        tokens_in: i64,
        /// Output tokens.
        #[arg(long)]
        tokens_out: i64,
        /// The domain paying.
        #[arg(long)]
        domain: String,
        /// Cost in minor units.
        #[arg(long)]
        cost: Option<i64>,
        /// Currency of --cost.
        #[arg(long)]
        currency: Option<String>,
        /// The agent session.
        #[arg(long)]
        session_id: Option<String>,
        /// Your id of the record: recording it again adds nothing.
        #[arg(long)]
        external_id: Option<String>,
    },
}

#[derive(Debug, Subcommand)]
pub enum BalanceCmd {
    /// Balance snapshots, latest first.
    List {
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Record cash on hand at a date.
    Add {
        /// YYYY-MM-DD.
        #[arg(long)]
        date: String,
        /// Minor units.
        #[arg(long)]
        amount: i64,
        /// ISO 4217 code.
        #[arg(long)]
        currency: String,
        /// A note.
        #[arg(long)]
        note: Option<String>,
    },
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum ImportKind {
    Costs,
    TokenUsage,
}

#[derive(Debug, clap::Args)]
pub struct ImportArgs {
    /// The CSV file.
    file: PathBuf,
    /// What the file holds.
    #[arg(long, value_enum, default_value = "costs")]
    kind: ImportKind,
    /// Column convention: focus, native or mapped (detected when absent).
    #[arg(long)]
    format: Option<String>,
    /// The domain of every row (else the rows' domain / SubAccountName column).
    #[arg(long)]
    domain: Option<String>,
    /// Column mapping field:Column,… e.g. date:UsageDate,amount:Cost.
    #[arg(long, value_name = "FIELD:COLUMN,…")]
    map: Option<String>,
}

pub async fn run(ctx: &Ctx, cmd: FinCmd) -> anyhow::Result<()> {
    match cmd {
        FinCmd::Budget(cmd) => budget(ctx, cmd).await,
        FinCmd::Commit(cmd) => commit(ctx, cmd).await,
        FinCmd::Spend(cmd) => spend(ctx, cmd).await,
        FinCmd::Balance(BalanceCmd::List { paging }) => {
            ctx.list("/api/v1/fin/balances", Params::new(), BALANCES, &paging)
                .await
        }
        FinCmd::Balance(BalanceCmd::Add {
            date,
            amount,
            currency,
            note,
        }) => {
            let body = json!({"date": date, "amount": amount, "currency": currency, "note": note});
            ctx.post("/api/v1/fin/balances", &body).await
        }
        FinCmd::Import(args) => import(ctx, args).await,
        FinCmd::Burn {
            domain,
            currency,
            months,
            as_of,
        } => {
            let params = Params::new()
                .opt("domain", domain)
                .opt("currency", currency)
                .opt("months", months)
                .opt("as_of", as_of);
            let text = ctx.client.get("/api/v1/fin/burn", &params).await?;
            if ctx.json {
                println!("{text}");
                return Ok(());
            }
            let mut burn: Value = serde_json::from_str(&text)?;
            let months = burn["months"].as_array().cloned().unwrap_or_default();
            println!("{}", list_table(&months, MONTHS));
            if let Value::Object(fields) = &mut burn {
                fields.remove("months");
                println!("\n{}", object_table(fields));
            }
            Ok(())
        }
        FinCmd::Runway { currency, as_of } => {
            let params = Params::new().opt("currency", currency).opt("as_of", as_of);
            let text = ctx.client.get("/api/v1/fin/runway", &params).await?;
            ctx.print(&text)
        }
        FinCmd::Costs {
            by,
            period,
            domain,
            currency,
            paging,
        } => {
            let path = match by {
                CostsBy::Service => "/api/v1/fin/costs/by-service",
                CostsBy::Domain => "/api/v1/fin/costs/by-domain",
            };
            let params = Params::new()
                .opt("period", period)
                .opt("domain", domain)
                .opt("currency", currency);
            ctx.list(path, params, COSTS, &paging).await
        }
    }
}

async fn budget(ctx: &Ctx, cmd: BudgetCmd) -> anyhow::Result<()> {
    match cmd {
        BudgetCmd::List {
            domain,
            period,
            paging,
        } => {
            let params = Params::new().opt("domain", domain).opt("period", period);
            ctx.list("/api/v1/fin/budgets", params, BUDGETS, &paging)
                .await
        }
        BudgetCmd::Set {
            domain,
            period,
            allocated,
            currency,
            thresholds,
        } => {
            let body = json!({"domain": domain, "period": period, "allocated": allocated,
                              "currency": currency, "thresholds": thresholds});
            ctx.post("/api/v1/fin/budgets", &body).await
        }
        BudgetCmd::Show { id } => ctx.show(&format!("/api/v1/fin/budgets/{}", seg(&id))).await,
    }
}

async fn commit(ctx: &Ctx, cmd: CommitCmd) -> anyhow::Result<()> {
    match cmd {
        CommitCmd::List { domain, paging } => {
            let params = Params::new().opt("domain", domain);
            ctx.list("/api/v1/fin/commitments", params, COMMITMENTS, &paging)
                .await
        }
        CommitCmd::Add {
            kind,
            vendor,
            domain,
            amount,
            currency,
            cadence,
            start,
            end,
            service_id,
            description,
        } => {
            let body = json!({
                "kind": wire(&kind), "vendor": vendor, "domain": domain, "amount": amount,
                "currency": currency, "cadence": wire(&cadence).replace('-', "_"), "start_date": start,
                "end_date": end, "service_id": service_id, "description": description,
            });
            ctx.post("/api/v1/fin/commitments", &body).await
        }
    }
}

async fn spend(ctx: &Ctx, cmd: SpendCmd) -> anyhow::Result<()> {
    match cmd {
        SpendCmd::List {
            domain,
            service_id,
            source,
            period,
            paging,
        } => {
            let params = Params::new()
                .opt("domain", domain)
                .opt("service_id", service_id)
                .opt("source", source)
                .opt("period", period);
            ctx.list("/api/v1/fin/spend", params, SPEND, &paging).await
        }
        SpendCmd::Add {
            date,
            amount,
            currency,
            domain,
            service_id,
            vendor,
            external_id,
        } => {
            let body = json!({"date": date, "amount": amount, "currency": currency, "domain": domain,
                              "service_id": service_id, "vendor": vendor, "external_id": external_id});
            ctx.post("/api/v1/fin/spend", &body).await
        }
        SpendCmd::Token {
            provider,
            model,
            tokens_in,
            tokens_out,
            domain,
            cost,
            currency,
            session_id,
            external_id,
        } => {
            let body = json!({"provider": provider, "model": model, "tokens_in": tokens_in,
                              "tokens_out": tokens_out, "domain": domain, "cost": cost, "currency": currency,
                              "session_id": session_id, "external_id": external_id});
            ctx.post("/api/v1/fin/token-spend", &body).await
        }
    }
}

/// Streams the file to the hub with a progress line on stderr, then prints the summary and
/// the rejected rows.
async fn import(ctx: &Ctx, args: ImportArgs) -> anyhow::Result<()> {
    let file = tokio::fs::File::open(&args.file)
        .await
        .with_context(|| format!("cannot open {}", args.file.display()))?;
    let size = file.metadata().await?.len();
    let mut sent = 0u64;
    let mut shown = 0u64;
    let quiet = ctx.json;
    let stream = tokio_util::io::ReaderStream::new(file).inspect(move |chunk| {
        if let Ok(bytes) = chunk {
            sent += bytes.len() as u64;
            let percent = (sent * 100).checked_div(size).unwrap_or(100);
            if !quiet && (percent > shown || sent == size) {
                shown = percent;
                eprint!("\ruploading {percent:3}% ({sent} of {size} bytes)");
                if sent == size {
                    eprintln!("; importing…");
                }
            }
        }
    });
    let filename = args
        .file
        .file_name()
        .map(|n| n.to_string_lossy().into_owned());
    let params = Params::new()
        .set("kind", wire(&args.kind).replace('-', "_"))
        .opt("format", args.format)
        .opt("domain", args.domain)
        .opt("map", args.map)
        .opt("filename", filename);
    let text = ctx
        .client
        .upload(
            "/api/v1/fin/imports",
            &params,
            "text/csv",
            reqwest::Body::wrap_stream(stream),
        )
        .await?;
    if ctx.json {
        println!("{text}");
        return Ok(());
    }
    let report: Value = serde_json::from_str(&text)?;
    let errors = report["errors"].as_array().cloned().unwrap_or_default();
    if !errors.is_empty() {
        println!("{}", list_table(&errors, ROW_ERRORS));
    }
    println!(
        "import {}: {} rows, {} inserted, {} already present, {} rejected ({})",
        cell(&report["id"]),
        report["rows"],
        report["inserted"],
        report["duplicates"],
        report["rejected"],
        cell(&report["format"])
    );
    Ok(())
}
