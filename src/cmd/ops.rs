//! `hubmesh ops …`: the ops hub's inventory, records, readiness (✓/✗ per gate) and costs.

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::client::args::wire;
use crate::client::output::{Column, list_table};
use crate::client::{Ctx, ListArgs, Params, seg};

const SERVICES: &[Column] = &[
    ("ID", "id"),
    ("NAME", "name"),
    ("KIND", "kind"),
    ("DOMAIN", "domain"),
    ("ENV", "environment"),
    ("LOCATION", "location"),
    ("LIFECYCLE", "lifecycle"),
    ("DEPENDS ON", "depends_on"),
];
const DEPLOYMENTS: &[Column] = &[
    ("ID", "id"),
    ("SERVICE", "service_id"),
    ("VERSION", "version"),
    ("ENV", "environment"),
    ("OUTCOME", "outcome"),
    ("ACTOR", "actor"),
    ("AT", "deployed_at"),
];
const RUNS: &[Column] = &[
    ("ID", "id"),
    ("SERVICE", "service_id"),
    ("STATUS", "status"),
    ("EXPECTED", "expected"),
    ("MIGRATED", "migrated"),
    ("FAILED", "failed"),
    ("STARTED", "started_at"),
];
const EVIDENCE: &[Column] = &[
    ("ID", "id"),
    ("KIND", "kind"),
    ("SERVICE", "service_id"),
    ("STATUS", "status"),
    ("SUMMARY", "summary"),
    ("AT", "recorded_at"),
];
const OUTCOMES: &[Column] = &[
    ("ID", "id"),
    ("SERVICE", "service_id"),
    ("NAME", "name"),
    ("VALUE", "value"),
    ("UNIT", "unit"),
    ("JUDGEMENT", "judgement"),
];
const COSTS: &[Column] = &[
    ("SERVICE", "service_id"),
    ("PERIOD", "period"),
    ("AMOUNT", "amount"),
    ("CURRENCY", "currency"),
];

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Outcome {
    Succeeded,
    Failed,
    RolledBack,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Format {
    Yaml,
    Json,
}

#[derive(Debug, Subcommand)]
pub enum OpsCmd {
    /// The service inventory, by id.
    Services {
        /// Only services of this domain.
        #[arg(long)]
        domain: Option<String>,
        /// planned, active, deprecated or retired.
        #[arg(long)]
        lifecycle: Option<String>,
        /// Only services of this environment.
        #[arg(long)]
        environment: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// One service with its endpoints, dependencies and costs.
    Service {
        /// The service's id.
        id: String,
    },
    /// Deployments, newest first.
    Deployments {
        /// Only records of this service.
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Record a deployment of a service.
    Deploy {
        /// The deployed service's id.
        service: String,
        version: String,
        /// How the deployment went.
        #[arg(long, value_enum)]
        outcome: Outcome,
        /// The service's environment when not given.
        #[arg(long)]
        environment: Option<String>,
        /// Free text about the deployment.
        #[arg(long)]
        notes: Option<String>,
    },
    /// Migration runs, newest first.
    Runs {
        /// Only records of this service.
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Evidence, newest first.
    Evidence {
        /// Only records of this service.
        #[arg(long)]
        service: Option<String>,
        /// Only this kind (smoke, probe, migration, review…).
        #[arg(long)]
        kind: Option<String>,
        /// pass, fail or pending.
        #[arg(long)]
        status: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Outcome signals, newest first.
    Outcomes {
        /// Only records of this service.
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Cutover readiness: ✓/✗ per gate, with the reasons of failed gates.
    Readiness {
        /// One service only.
        #[arg(long)]
        service: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Cost per service and period.
    Costs {
        /// Only records of this service.
        #[arg(long)]
        service: Option<String>,
        /// YYYY-MM.
        #[arg(long)]
        period: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Import an inventory file (YAML or JSON): services are created or replaced by id.
    Import {
        /// The inventory file (YAML or JSON, see docs/ops.md).
        file: std::path::PathBuf,
    },
    /// Print the inventory in the import format.
    Export {
        /// yaml or json.
        #[arg(long, value_enum, default_value = "yaml")]
        format: Format,
    },
}

pub async fn run(ctx: &Ctx, cmd: OpsCmd) -> anyhow::Result<()> {
    match cmd {
        OpsCmd::Services {
            domain,
            lifecycle,
            environment,
            paging,
        } => {
            let params = Params::new()
                .opt("domain", domain)
                .opt("lifecycle", lifecycle)
                .opt("environment", environment);
            ctx.list("/api/v1/ops/services", params, SERVICES, &paging)
                .await
        }
        OpsCmd::Service { id } => {
            ctx.show(&format!("/api/v1/ops/services/{}", seg(&id)))
                .await
        }
        OpsCmd::Deployments { service, paging } => {
            let params = Params::new().opt("service", service);
            ctx.list("/api/v1/ops/deployments", params, DEPLOYMENTS, &paging)
                .await
        }
        OpsCmd::Deploy {
            service,
            version,
            outcome,
            environment,
            notes,
        } => {
            let body = json!({"service_id": service, "version": version, "outcome": wire(&outcome),
                "environment": environment, "notes": notes});
            ctx.post("/api/v1/ops/deployments", &body).await
        }
        OpsCmd::Runs { service, paging } => {
            let params = Params::new().opt("service", service);
            ctx.list("/api/v1/ops/migration-runs", params, RUNS, &paging)
                .await
        }
        OpsCmd::Evidence {
            service,
            kind,
            status,
            paging,
        } => {
            let params = Params::new()
                .opt("service", service)
                .opt("kind", kind)
                .opt("status", status);
            ctx.list("/api/v1/ops/evidence", params, EVIDENCE, &paging)
                .await
        }
        OpsCmd::Outcomes { service, paging } => {
            let params = Params::new().opt("service", service);
            ctx.list("/api/v1/ops/outcomes", params, OUTCOMES, &paging)
                .await
        }
        OpsCmd::Readiness { service, paging } => readiness(ctx, service, &paging).await,
        OpsCmd::Costs {
            service,
            period,
            paging,
        } => {
            let params = Params::new().opt("service", service).opt("period", period);
            ctx.list("/api/v1/ops/costs", params, COSTS, &paging).await
        }
        OpsCmd::Import { file } => {
            let text =
                std::fs::read(&file).with_context(|| format!("cannot read {}", file.display()))?;
            let answer = ctx
                .client
                .upload(
                    "/api/v1/ops/services/import",
                    &Params::new(),
                    "application/yaml",
                    text.into(),
                )
                .await?;
            ctx.print(&answer)
        }
        OpsCmd::Export { format } => {
            let params = Params::new().set("format", wire(&format));
            let text = ctx
                .client
                .get("/api/v1/ops/services/export", &params)
                .await?;
            print!("{text}");
            Ok(())
        }
    }
}

/// The readiness table: a ✓/✗ column per gate and the reasons of the failed ones.
async fn readiness(ctx: &Ctx, service: Option<String>, paging: &ListArgs) -> anyhow::Result<()> {
    let mut params = Params::new()
        .opt("service", service)
        .opt("limit", paging.limit)
        .opt("cursor", paging.cursor.as_deref());
    let mut items: Vec<Value> = Vec::new();
    let next = loop {
        let text = ctx.client.get("/api/v1/ops/readiness", &params).await?;
        if ctx.json && !paging.all {
            println!("{text}");
            return Ok(());
        }
        let page: Value = serde_json::from_str(&text).context("readiness did not answer a page")?;
        items.extend(page["items"].as_array().cloned().unwrap_or_default());
        match page["next_cursor"].as_str() {
            Some(c) if paging.all => params = params.with("cursor", c),
            other => break other.map(str::to_owned),
        }
    };
    if ctx.json {
        println!("{}", json!({"items": items, "next_cursor": next}));
        return Ok(());
    }
    println!("{}", list_table(&readiness_rows(&items), READINESS));
    if let Some(cursor) = next {
        eprintln!("more items: add --all for every page, or --cursor {cursor} for the next");
    }
    Ok(())
}

const READINESS: &[Column] = &[
    ("SERVICE", "service_id"),
    ("READY", "ready"),
    ("SMOKE", "smoke"),
    ("MIGRATION", "migration"),
    ("PROBE", "probe"),
    ("ALERTS", "alerts"),
    ("WHY NOT", "why"),
];

fn mark(pass: bool) -> &'static str {
    if pass { "✓" } else { "✗" }
}

/// One flat row per service: a mark per gate (blank when the gate is not configured).
fn readiness_rows(items: &[Value]) -> Vec<Value> {
    items
        .iter()
        .map(|r| {
            let mut row = json!({
                "service_id": r["service_id"],
                "ready": mark(r["ready"].as_bool().unwrap_or(false)),
            });
            let mut why = Vec::new();
            for g in r["gates"].as_array().into_iter().flatten() {
                let pass = g["pass"].as_bool().unwrap_or(false);
                let name = g["gate"].as_str().unwrap_or_default();
                row[name] = json!(mark(pass));
                if !pass {
                    why.push(format!(
                        "{name}: {}",
                        g["reason"].as_str().unwrap_or_default()
                    ));
                }
            }
            row["why"] = json!(why.join("; "));
            row
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn readiness_rows_mark_each_gate() {
        let items = [json!({"service_id": "api", "ready": false, "gates": [
            {"gate": "smoke", "pass": true, "reason": "ok"},
            {"gate": "probe", "pass": false, "reason": "no probe evidence"}]})];
        let table = list_table(&readiness_rows(&items), READINESS);
        assert!(table.contains("api"));
        assert!(table.contains('✓') && table.contains('✗'));
        assert!(table.contains("probe: no probe evidence"));
    }
}
