//! `hubmesh up` and `hubmesh migrate`: the three hubs of the mesh in one process.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};
use std::sync::Arc;

use anyhow::Context;
use clap::Args;
use hub_core::bus::{Bus, MemoryBus};
use hub_core::config::{HubConfig, RawConfig};
use hub_core::module::ModuleSet;
use hub_core::runner::{HubSpec, bind_all, serve_all, stop_on_signal};
use serde::Serialize;

/// The hubs of the mesh, in port order: hub i listens on port base + i.
const HUBS: [(&str, ModuleSet); 3] = [
    (dev_hub::NAME, dev_hub::modules),
    (ops_hub::NAME, ops_hub::modules),
    (fin_hub::NAME, fin_hub::modules),
];

#[derive(Debug, Args)]
pub struct MeshArgs {
    /// Directory for the hubs' SQLite files, identity file and endpoints.json.
    #[arg(long, env = "HUBMESH_DATA_DIR", default_value = "./hubmesh-data")]
    pub data_dir: PathBuf,
    /// TOML config file (shared values, `[hubs.<name>]` per hub); `HUBMESH_*` variables override it.
    #[arg(long, env = "HUBMESH_CONFIG")]
    pub config: Option<PathBuf>,
}

#[derive(Debug, Args)]
pub struct UpArgs {
    #[command(flatten)]
    pub mesh: MeshArgs,
    /// Port base N: the identity issuer takes N, dev N+1, ops N+2, fin N+3 (all on 127.0.0.1).
    #[arg(long, default_value_t = 7100)]
    pub port_base: u16,
    /// NATS server the hubs federate over; without it (and without `nats_url` in the config)
    /// the hubs share one in-process bus.
    #[arg(long)]
    pub nats_url: Option<String>,
}

#[derive(Debug, Args)]
pub struct MigrateArgs {
    #[command(flatten)]
    pub mesh: MeshArgs,
}

/// What `endpoints.json` holds: where each hub of a running mesh answers.
#[derive(Debug, Serialize)]
struct Endpoints {
    /// The local issuer, when `hubmesh up` runs it.
    #[serde(skip_serializing_if = "Option::is_none")]
    issuer: Option<String>,
    hubs: BTreeMap<String, String>,
}

/// Each hub's config: the file's values, then the environment, then the data dir and ports.
fn hub_configs(
    mesh: &MeshArgs,
    port_base: Option<u16>,
    nats_url: Option<&str>,
) -> anyhow::Result<Vec<HubConfig>> {
    let mut raw =
        RawConfig::from_file(mesh.config.as_deref())?.apply_env(|k| std::env::var(k).ok())?;
    raw.data_dir = Some(mesh.data_dir.clone());
    if let Some(url) = nats_url {
        raw.nats_url = Some(url.to_owned());
    }
    HUBS.iter()
        .enumerate()
        .map(|(i, (name, _))| {
            let entry = raw.hubs.entry((*name).to_owned()).or_default();
            if let (Some(base), None) = (port_base, &entry.listen) {
                let port = base
                    .checked_add(i as u16 + 1)
                    .context("--port-base too high")?;
                entry.listen = Some(format!("127.0.0.1:{port}"));
            }
            Ok(raw.for_hub(name)?)
        })
        .collect()
}

pub async fn up(args: UpArgs) -> anyhow::Result<()> {
    let data_dir = &args.mesh.data_dir;
    std::fs::create_dir_all(data_dir)
        .with_context(|| format!("cannot create data dir {}", data_dir.display()))?;
    let mut configs = hub_configs(&args.mesh, Some(args.port_base), args.nats_url.as_deref())?;
    let stop = stop_on_signal();
    let issuer = crate::cli::identity::start_local_issuer(
        data_dir,
        args.port_base,
        &mut configs,
        stop.clone(),
    )
    .await?;
    // Without NATS the hubs federate over one bus in this process.
    let shared_bus: Option<Arc<dyn Bus>> = match configs.first() {
        Some(c) if c.nats_url.is_none() => Some(Arc::new(MemoryBus::new(c.nats.duplicate_window))),
        _ => None,
    };
    let specs = configs
        .into_iter()
        .zip(HUBS)
        .map(|(config, (_, modules))| HubSpec {
            verifier: hub_core::auth::verifier_for(&config),
            config,
            modules: modules(),
            bus: shared_bus.clone(),
        })
        .collect();
    let bound = bind_all(specs).await?;
    let endpoints = Endpoints {
        issuer,
        hubs: bound
            .iter()
            .map(|b| (b.name.clone(), format!("http://{}", b.addr)))
            .collect(),
    };
    write_endpoints(data_dir, &endpoints)?;

    println!("Hubmesh is up (data in {}):\n", data_dir.display());
    println!("  {:<5} {:<28} {:<42} HEALTH", "HUB", "REST", "OPENAPI");
    for (name, url) in &endpoints.hubs {
        println!(
            "  {name:<5} {:<28} {:<42} {url}/healthz",
            format!("{url}/api/v1"),
            format!("{url}/api/v1/openapi.json")
        );
    }
    if let Some(url) = &endpoints.issuer {
        println!(
            "  {:<5} {url} (local issuer; `hubmesh token` prints a bearer token)",
            "auth"
        );
    }
    println!(
        "\nEndpoints written to {}. Ctrl-C stops the mesh.",
        data_dir.join("endpoints.json").display()
    );
    serve_all(bound, stop).await?;
    eprintln!("mesh stopped");
    Ok(())
}

fn write_endpoints(data_dir: &Path, endpoints: &Endpoints) -> anyhow::Result<()> {
    let path = data_dir.join("endpoints.json");
    let text = serde_json::to_string_pretty(endpoints)?;
    std::fs::write(&path, text).with_context(|| format!("cannot write {}", path.display()))
}

pub async fn migrate(args: MigrateArgs) -> anyhow::Result<()> {
    for (config, (name, modules)) in hub_configs(&args.mesh, None, None)?.into_iter().zip(HUBS) {
        hub_core::server::migrate(&config, &modules())
            .await
            .with_context(|| format!("hub {name}"))?;
        println!(
            "{name}: migrations applied to {}",
            hub_core::server::redact_url(&config.database_url)
        );
    }
    Ok(())
}
