//! `hubmesh service list|add|ingest|gdpr`: third-party services and tools (TPSC).

use std::path::PathBuf;

use anyhow::Context;
use clap::Subcommand;
use serde_json::{Value, json};

use crate::client::output::{cell, list_table, object_table};
use crate::client::{Ctx, ListArgs, Params};

const COLUMNS: &[(&str, &str)] = &[
    ("NAME", "name"),
    ("DOMAIN", "domain"),
    ("VENDOR", "vendor"),
    ("REGION", "region"),
    ("DPA", "dpa_in_place"),
    ("PERSONAL DATA", "personal_data"),
    ("CATEGORIES", "data_categories"),
];

const INGEST_RESULTS: &[(&str, &str)] = &[
    ("#", "index"),
    ("NAME", "name"),
    ("OUTCOME", "outcome"),
    ("ID", "id"),
];

#[derive(Debug, Subcommand)]
pub enum ServiceCmd {
    /// Services by name.
    List {
        /// Only this domain's services.
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Register a service.
    Add {
        /// Unique per hub.
        name: String,
        /// The domain using the service.
        #[arg(long)]
        domain: String,
        /// Where the data is processed, e.g. EU, US, eu-west-1.
        #[arg(long)]
        region: String,
        /// A data processing agreement is in place.
        #[arg(long)]
        dpa_in_place: bool,
        /// The company behind it.
        #[arg(long)]
        vendor: Option<String>,
        /// What it is used for.
        #[arg(long)]
        description: Option<String>,
        /// http:// or https:// URL.
        #[arg(long)]
        url: Option<String>,
        /// Categories of data processed, comma-separated (contact, financial, health, …).
        #[arg(long, value_delimiter = ',', value_name = "CATEGORY,…")]
        data_categories: Vec<String>,
        /// Why the data is processed.
        #[arg(long)]
        processing_purpose: Option<String>,
        /// Sub-processors, comma-separated.
        #[arg(long, value_delimiter = ',', value_name = "NAME,…")]
        sub_processors: Vec<String>,
        /// Whether personal data is processed (default: when data categories are given).
        #[arg(long, value_name = "BOOL")]
        personal_data: Option<bool>,
    },
    /// Create or update services by name from a JSON list (`-` reads stdin); fails when any entry is rejected.
    Ingest {
        /// A JSON array of service objects as `service add` takes them.
        file: PathBuf,
    },
    /// GDPR facts per domain: personal data, missing DPAs, categories, regions, findings.
    Gdpr {
        /// Only this domain.
        #[arg(long)]
        domain: Option<String>,
    },
}

pub async fn run(ctx: &Ctx, cmd: ServiceCmd) -> anyhow::Result<()> {
    match cmd {
        ServiceCmd::List { domain, paging } => {
            let params = Params::new().opt("domain", domain);
            ctx.list("/api/v1/services", params, COLUMNS, &paging).await
        }
        ServiceCmd::Add {
            name,
            domain,
            region,
            dpa_in_place,
            vendor,
            description,
            url,
            data_categories,
            processing_purpose,
            sub_processors,
            personal_data,
        } => {
            let body = json!({
                "name": name, "domain": domain, "region": region, "dpa_in_place": dpa_in_place,
                "vendor": vendor, "description": description, "url": url,
                "data_categories": data_categories, "processing_purpose": processing_purpose,
                "sub_processors": sub_processors, "personal_data": personal_data,
            });
            ctx.post("/api/v1/services", &body).await
        }
        ServiceCmd::Ingest { file } => ingest(ctx, &file).await,
        ServiceCmd::Gdpr { domain } => {
            let params = Params::new().opt("domain", domain);
            let text = ctx.client.get("/api/v1/gdpr-report", &params).await?;
            if ctx.json {
                println!("{text}");
                return Ok(());
            }
            let report: Value = serde_json::from_str(&text)?;
            for domain in report["domains"].as_array().into_iter().flatten() {
                if let Value::Object(fields) = domain {
                    println!("{}", object_table(fields));
                }
            }
            Ok(())
        }
    }
}

async fn ingest(ctx: &Ctx, file: &PathBuf) -> anyhow::Result<()> {
    let text = if file.as_os_str() == "-" {
        std::io::read_to_string(std::io::stdin()).context("cannot read stdin")?
    } else {
        std::fs::read_to_string(file).with_context(|| format!("cannot read {}", file.display()))?
    };
    let entries: Value =
        serde_json::from_str(&text).with_context(|| format!("{} is not JSON", file.display()))?;
    let answer = ctx.client.post("/api/v1/services/ingest", &entries).await?;
    let report: Value = serde_json::from_str(&answer)?;
    if ctx.json {
        println!("{answer}");
    } else {
        let results = report["results"].as_array().cloned().unwrap_or_default();
        println!("{}", list_table(&results, INGEST_RESULTS));
        // Rejections in full below the table: their messages are too long for a cell.
        for r in &results {
            let errors: Vec<String> = r["errors"]
                .as_array()
                .into_iter()
                .flatten()
                .map(|e| format!("{}: {}", cell(&e["field"]), cell(&e["message"])))
                .collect();
            if !errors.is_empty() {
                println!(
                    "#{} {}: {}",
                    r["index"],
                    cell(&r["name"]),
                    errors.join("; ")
                );
            }
        }
        println!(
            "created {}, updated {}, rejected {}",
            report["created"], report["updated"], report["rejected"]
        );
    }
    match report["rejected"].as_u64() {
        Some(n) if n > 0 => anyhow::bail!("{n} entries rejected"),
        _ => Ok(()),
    }
}
