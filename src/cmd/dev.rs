//! `hubmesh dev import|check|workplans|workplan|export|tasks|next|blocked|claim|release|status|decisions|topics|summary`.

use std::path::{Path, PathBuf};

use anyhow::Context;
use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::client::args::wire;
use crate::client::output::{Column, list_table};
use crate::client::{Ctx, ListArgs, Params, seg};

const WORKPLANS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("DOMAIN", "domain"),
    ("STATUS", "status"),
    ("OWNER", "owner"),
    ("TITLE", "title"),
];
const TASKS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("STATUS", "status"),
    ("PRIORITY", "priority"),
    ("ASSIGNEE", "assignee"),
    ("CLAIMED BY", "claimed_by"),
    ("TITLE", "title"),
];
const DECISIONS: &[(&str, &str)] = &[
    ("WORKPLAN", "workplan"),
    ("STATUS", "status"),
    ("TITLE", "title"),
    ("CHOICE", "choice"),
];
const TOPICS: &[(&str, &str)] = &[("SLUG", "slug"), ("DOMAIN", "domain"), ("TITLE", "title")];
const CHANGES: &[(&str, &str)] = &[
    ("KIND", "kind"),
    ("ID", "id"),
    ("ACTION", "action"),
    ("FIELDS", "fields"),
    ("STATUS", "status"),
];
const BLOCKED: &[(&str, &str)] = &[
    ("TASK", "task.id"),
    ("BLOCKED BY", "blockers"),
    ("TITLE", "task.title"),
];

#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum TaskStatus {
    Todo,
    InProgress,
    Wait,
    Done,
    Cancel,
}

#[derive(Debug, Subcommand)]
pub enum DevCmd {
    /// Import workplan documents (markdown); each is synced and its changes listed.
    Import {
        /// The markdown documents to import.
        #[arg(required = true)]
        files: Vec<PathBuf>,
    },
    /// Compare the workplan documents (*.md) of a folder with the hub and list the differences.
    Check {
        /// The folder holding the workplan documents.
        dir: PathBuf,
        /// Apply the differences: import the documents.
        #[arg(long)]
        fix: bool,
    },
    /// Workplans by id.
    Workplans {
        /// Only workplans of this domain.
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// One workplan with its progress by phase.
    Workplan {
        /// The workplan id, e.g. CUST-WP-0025.
        id: String,
    },
    /// Print a workplan as a markdown document.
    Export {
        /// The workplan id, e.g. CUST-WP-0025.
        id: String,
    },
    /// Tasks by id.
    Tasks {
        /// Only tasks of this workplan.
        #[arg(long)]
        workplan: Option<String>,
        /// Only tasks in this status.
        #[arg(long)]
        status: Option<TaskStatus>,
        /// Only tasks assigned to this principal.
        #[arg(long)]
        assignee: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Tasks ready to start, highest priority first.
    Next {
        /// Only tasks of this workplan.
        #[arg(long)]
        workplan: Option<String>,
        /// Only tasks of this domain.
        #[arg(long)]
        domain: Option<String>,
        /// How many tasks at most.
        #[arg(long)]
        limit: Option<u64>,
    },
    /// Open tasks waiting for open dependencies.
    Blocked {
        /// Only tasks of this workplan.
        #[arg(long)]
        workplan: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Claim a task (or renew your claim).
    Claim {
        /// The task id, e.g. CUST-WP-0025-T03.
        id: String,
        /// Lease in seconds (default 900).
        #[arg(long)]
        lease: Option<i64>,
    },
    /// Give up your claim on a task.
    Release {
        /// The task id.
        id: String,
    },
    /// Move a task to a status.
    Status {
        /// The task id.
        id: String,
        /// The new status.
        status: TaskStatus,
        /// Why, recorded with the progress event.
        #[arg(long)]
        note: Option<String>,
    },
    /// Decisions, newest first.
    Decisions {
        /// Only decisions linked to this workplan.
        #[arg(long)]
        workplan: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Topics by slug.
    Topics {
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Workplans and tasks by status, blocked and claimed tasks.
    Summary {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, cmd: DevCmd) -> anyhow::Result<()> {
    match cmd {
        DevCmd::Import { files } => {
            for file in files {
                import(ctx, &file, false).await?;
            }
            Ok(())
        }
        DevCmd::Check { dir, fix } => check(ctx, &dir, fix).await,
        DevCmd::Workplans { domain, paging } => {
            let params = Params::new().opt("domain", domain);
            ctx.list("/api/v1/dev/workplans", params, WORKPLANS, &paging)
                .await
        }
        DevCmd::Workplan { id } => {
            ctx.show(&format!("/api/v1/dev/workplans/{}", seg(&id)))
                .await
        }
        DevCmd::Export { id } => {
            let path = format!("/api/v1/dev/workplans/{}/document", seg(&id));
            print!("{}", ctx.client.get(&path, &Params::new()).await?);
            Ok(())
        }
        DevCmd::Tasks {
            workplan,
            status,
            assignee,
            paging,
        } => {
            let params = Params::new()
                .opt("workplan", workplan)
                .opt("status", status.as_ref().map(wire))
                .opt("assignee", assignee);
            ctx.list("/api/v1/dev/tasks", params, TASKS, &paging).await
        }
        DevCmd::Next {
            workplan,
            domain,
            limit,
        } => {
            let params = Params::new()
                .opt("workplan", workplan)
                .opt("domain", domain)
                .opt("limit", limit);
            let text = ctx.client.get("/api/v1/dev/tasks/next", &params).await?;
            print_items(ctx, &text, TASKS)
        }
        DevCmd::Blocked { workplan, paging } => {
            let params = Params::new().opt("workplan", workplan);
            ctx.list("/api/v1/dev/tasks/blocked", params, BLOCKED, &paging)
                .await
        }
        DevCmd::Claim { id, lease } => {
            let path = format!("/api/v1/dev/tasks/{}/claim", seg(&id));
            ctx.post(&path, &json!({"lease_seconds": lease})).await
        }
        DevCmd::Release { id } => {
            ctx.post(
                &format!("/api/v1/dev/tasks/{}/release", seg(&id)),
                &json!({}),
            )
            .await
        }
        DevCmd::Status { id, status, note } => {
            let path = format!("/api/v1/dev/tasks/{}/status", seg(&id));
            ctx.post(&path, &json!({"status": wire(&status), "note": note}))
                .await
        }
        DevCmd::Decisions { workplan, paging } => {
            let params = Params::new().opt("workplan", workplan);
            ctx.list("/api/v1/dev/decisions", params, DECISIONS, &paging)
                .await
        }
        DevCmd::Topics { paging } => {
            ctx.list("/api/v1/dev/topics", Params::new(), TOPICS, &paging)
                .await
        }
        DevCmd::Summary { domain } => {
            let text = ctx
                .client
                .get("/api/v1/dev/summary", &Params::new().opt("domain", domain))
                .await?;
            ctx.print(&text)
        }
    }
}

/// Prints a JSON array as a table (or as it came with `--json`).
fn print_items(ctx: &Ctx, text: &str, columns: &[Column]) -> anyhow::Result<()> {
    if ctx.json {
        println!("{text}");
        return Ok(());
    }
    let items: Vec<Value> = serde_json::from_str(text)?;
    println!("{}", list_table(&items, columns));
    Ok(())
}

/// Imports (or with `dry_run` compares) one document and prints its change report; returns
/// the report.
async fn import(ctx: &Ctx, file: &Path, dry_run: bool) -> anyhow::Result<Value> {
    let text =
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?;
    let params = Params::new().set("dry_run", dry_run);
    let answer = ctx
        .client
        .upload(
            "/api/v1/dev/workplans/import",
            &params,
            "text/markdown",
            text.into(),
        )
        .await
        .with_context(|| format!("{}", file.display()))?;
    let report: Value = serde_json::from_str(&answer)?;
    if ctx.json {
        println!("{answer}");
        return Ok(report);
    }
    let changes = report["changes"].as_array().cloned().unwrap_or_default();
    let verb = if dry_run { "differs" } else { "changed" };
    match changes.len() {
        0 => println!(
            "{}: {} in sync",
            file.display(),
            report["workplan"].as_str().unwrap_or("?")
        ),
        n => {
            println!(
                "{}: {} ({n} {verb})",
                file.display(),
                report["workplan"].as_str().unwrap_or("?")
            );
            println!("{}", list_table(&changes, CHANGES));
        }
    }
    for kept in report["kept"].as_array().into_iter().flatten() {
        println!("  only in the hub: {}", kept.as_str().unwrap_or_default());
    }
    Ok(report)
}

/// Compares every `*.md` of `dir` with the hub; `fix` imports them. Workplans of the hub that
/// no document names are listed.
async fn check(ctx: &Ctx, dir: &Path, fix: bool) -> anyhow::Result<()> {
    let mut files: Vec<PathBuf> = std::fs::read_dir(dir)
        .with_context(|| format!("cannot read {}", dir.display()))?
        .filter_map(|e| e.ok().map(|e| e.path()))
        .filter(|p| p.extension().is_some_and(|x| x == "md"))
        .collect();
    files.sort();
    let mut seen = Vec::new();
    let mut differing = 0;
    for file in &files {
        let report = import(ctx, file, !fix).await?;
        if report["changes"].as_array().is_some_and(|c| !c.is_empty()) {
            differing += 1;
        }
        seen.push(report["workplan"].as_str().unwrap_or_default().to_owned());
    }
    let mut params = Params::new().set("limit", 500);
    loop {
        let text = ctx.client.get("/api/v1/dev/workplans", &params).await?;
        let page: Value = serde_json::from_str(&text)?;
        for wp in page["items"].as_array().into_iter().flatten() {
            let id = wp["id"].as_str().unwrap_or_default();
            if !seen.iter().any(|s| s == id) {
                println!("{id}: only in the hub (no document in {})", dir.display());
            }
        }
        match page["next_cursor"].as_str() {
            Some(c) => params = params.with("cursor", c),
            None => break,
        }
    }
    if !fix && differing > 0 {
        anyhow::bail!("{differing} document(s) differ from the hub: run with --fix to import them");
    }
    Ok(())
}
