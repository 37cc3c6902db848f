//! `hubmesh status` (every hub of the mesh at a glance), `hubmesh modules` and `hubmesh hubs`.

use serde_json::{Map, Value, json};

use crate::client::auth::bearer_token;
use crate::client::endpoints;
use crate::client::http::Client;
use crate::client::output::{cell, fields_table, list_table};
use crate::client::{Ctx, GlobalArgs, ListArgs, Params};

const MODULES: &[(&str, &str)] = &[
    ("ID", "id"),
    ("NAME", "name"),
    ("VERSION", "version"),
    ("STATE", "state"),
    ("ERROR", "error"),
];

const HUBS: &[(&str, &str)] = &[
    ("NAME", "name"),
    ("VERSION", "version"),
    ("LAST HEARTBEAT", "heartbeat_at"),
    ("MODULES", "modules"),
    ("REST URL", "rest_url"),
];

const STATUS: &[(&str, &str)] = &[
    ("HUB", "hub"),
    ("URL", "url"),
    ("HEALTH", "health"),
    ("VERSION", "version"),
];

pub async fn modules(ctx: &Ctx) -> anyhow::Result<()> {
    ctx.list(
        "/api/v1/modules",
        Params::new(),
        MODULES,
        &ListArgs::default(),
    )
    .await
}

/// The live hubs of the federation as the hub asked knows them from the registry.
pub async fn hubs(ctx: &Ctx) -> anyhow::Result<()> {
    ctx.list(
        "/api/v1/federation/hubs",
        Params::new(),
        HUBS,
        &ListArgs::default(),
    )
    .await
}

/// What one hub said: its health and state summary, or why not.
struct HubReport {
    name: String,
    url: String,
    health: Result<Value, String>,
    summary: Result<Value, String>,
}

async fn fetch(client: &Client, path: &str) -> Result<Value, String> {
    let text = client
        .get(path, &Params::new())
        .await
        .map_err(|e| e.to_string())?;
    serde_json::from_str(&text).map_err(|e| format!("{path} is not JSON: {e}"))
}

/// A state summary without what the health table shows, modules counted by state.
fn at_a_glance(summary: &Map<String, Value>) -> Map<String, Value> {
    let mut s = summary.clone();
    s.remove("hub");
    s.remove("version");
    if let Some(Value::Array(modules)) = s.remove("modules") {
        let running = modules.iter().filter(|m| m["state"] == "running").count();
        s.insert(
            "modules".into(),
            format!("{running} of {} running", modules.len()).into(),
        );
    }
    s
}

/// Health and state summary of each hub of the mesh (or the one `--hub`/`--url` names);
/// fails when a hub does not answer.
pub async fn status(global: &GlobalArgs) -> anyhow::Result<()> {
    let token = bearer_token(global).await?;
    let mut reports = Vec::new();
    for target in endpoints::targets(global)? {
        let client = Client::new(target.clone(), token.clone())?;
        let health = fetch(&client, "/healthz").await;
        let summary = match health {
            Ok(_) => fetch(&client, "/api/v1/state-summary").await,
            Err(_) => Err("not asked: the hub is down".into()),
        };
        reports.push(HubReport {
            name: target.name,
            url: target.url,
            health,
            summary,
        });
    }
    if global.json {
        let hubs: Map<String, Value> = reports
            .iter()
            .map(|r| {
                let entry = json!({
                    "url": r.url,
                    "health": r.health.as_ref().ok(),
                    "state_summary": r.summary.as_ref().ok(),
                    "error": r.health.as_ref().err().or(r.summary.as_ref().err()),
                });
                (r.name.clone(), entry)
            })
            .collect();
        println!("{}", json!({ "hubs": hubs }));
    } else {
        let rows: Vec<Value> = reports
            .iter()
            .map(|r| {
                let (health, version) = match &r.health {
                    Ok(h) => (cell(&h["status"]), cell(&h["version"])),
                    Err(_) => ("down".into(), "-".into()),
                };
                json!({"hub": r.name, "url": r.url, "health": health, "version": version})
            })
            .collect();
        println!("{}", list_table(&rows, STATUS));
        let summaries: Vec<(&str, Map<String, Value>)> = reports
            .iter()
            .filter_map(|r| match &r.summary {
                Ok(Value::Object(s)) => Some((r.name.as_str(), at_a_glance(s))),
                _ => None,
            })
            .collect();
        if !summaries.is_empty() {
            let (names, objects): (Vec<&str>, Vec<&Map<String, Value>>) =
                summaries.iter().map(|(n, s)| (*n, s)).unzip();
            println!("\nState summary:\n{}", fields_table(&names, &objects));
        }
        for r in &reports {
            if let Err(e) = r.health.as_ref().and(r.summary.as_ref()) {
                eprintln!("{e}");
            }
        }
    }
    let down = reports.iter().filter(|r| r.health.is_err()).count();
    if down > 0 {
        anyhow::bail!("{down} of {} hubs do not answer", reports.len());
    }
    Ok(())
}
