//! The command line of a standalone hub binary (`dev-hub`, `ops-hub`, `fin-hub`): one parser
//! serves all three.

use std::net::SocketAddr;
use std::path::PathBuf;
use std::process::ExitCode;
use std::sync::Arc;

use clap::{Args, Parser, Subcommand};

use crate::auth::TokenVerifier;
use crate::config::{HubConfig, RawConfig};
use crate::module::ModuleSet;
use crate::runner::{HubSpec, bind_all, init_logging, serve_all, stop_on_signal};

#[derive(Debug, Parser)]
#[command(version, about = "Run one Hubmesh hub", long_about = None)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Debug, Subcommand)]
enum Command {
    /// Serve the hub's REST API (and, with it, its background jobs).
    Serve(ServeArgs),
    /// Apply the hub's database migrations and exit.
    Migrate(CommonArgs),
}

/// Options every hub command shares.
#[derive(Debug, Args)]
pub struct CommonArgs {
    /// TOML config file; `HUBMESH_*` environment variables override it, flags override both.
    #[arg(long, env = "HUBMESH_CONFIG")]
    pub config: Option<PathBuf>,
    /// Database URL: `sqlite://PATH?mode=rwc` or `postgres://USER@HOST/DB`
    /// [default: sqlite file `<data-dir>/<hub>.db`].
    #[arg(long)]
    pub database_url: Option<String>,
    /// Directory for the hub's SQLite file and local state [default: ./hubmesh-data].
    #[arg(long)]
    pub data_dir: Option<PathBuf>,
}

#[derive(Debug, Args)]
struct ServeArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Address to listen on [default: 127.0.0.1:7101].
    #[arg(long)]
    listen: Option<SocketAddr>,
    /// OIDC issuer whose access tokens the hub accepts.
    #[arg(long)]
    oidc_issuer: Option<String>,
    /// NATS server (`nats://HOST:4222`, `tls://…`) the hub federates over
    /// [default: an in-process bus, no federation].
    #[arg(long)]
    nats_url: Option<String>,
}

impl CommonArgs {
    /// File, then environment, then these flags.
    pub fn raw_config(&self) -> Result<RawConfig, crate::config::ConfigError> {
        let mut raw =
            RawConfig::from_file(self.config.as_deref())?.apply_env(|k| std::env::var(k).ok())?;
        if self.database_url.is_some() {
            raw.database_url = self.database_url.clone();
        }
        if self.data_dir.is_some() {
            raw.data_dir = self.data_dir.clone();
        }
        Ok(raw)
    }
}

/// The `main` of a hub binary named `<hub>-hub`.
pub fn main(
    hub: &str,
    modules: ModuleSet,
    verifier: fn(&HubConfig) -> Arc<dyn TokenVerifier>,
) -> ExitCode {
    init_logging();
    let cli = Cli::parse();
    let runtime = match tokio::runtime::Runtime::new() {
        Ok(rt) => rt,
        Err(e) => {
            eprintln!("error: cannot start the async runtime: {e}");
            return ExitCode::FAILURE;
        }
    };
    match runtime.block_on(run(hub, cli, modules, verifier)) {
        Ok(()) => ExitCode::SUCCESS,
        Err(e) => {
            eprintln!("error: {e}");
            ExitCode::FAILURE
        }
    }
}

async fn run(
    hub: &str,
    cli: Cli,
    modules: ModuleSet,
    verifier: fn(&HubConfig) -> Arc<dyn TokenVerifier>,
) -> Result<(), String> {
    match cli.command {
        Command::Migrate(common) => {
            let config = common
                .raw_config()
                .and_then(|r| r.for_hub(hub))
                .map_err(|e| e.to_string())?;
            crate::server::migrate(&config, &modules())
                .await
                .map_err(|e| e.to_string())?;
            eprintln!(
                "{hub}: migrations applied to {}",
                crate::server::redact_url(&config.database_url)
            );
            Ok(())
        }
        Command::Serve(args) => {
            let mut raw = args.common.raw_config().map_err(|e| e.to_string())?;
            if let Some(listen) = args.listen {
                raw.listen = Some(listen.to_string());
            }
            if args.oidc_issuer.is_some() {
                raw.oidc.issuer = args.oidc_issuer.clone();
            }
            if args.nats_url.is_some() {
                raw.nats_url = args.nats_url.clone();
            }
            let config = raw.for_hub(hub).map_err(|e| e.to_string())?;
            let spec = HubSpec {
                verifier: verifier(&config),
                config,
                modules: modules(),
                bus: None,
            };
            let bound = bind_all(vec![spec]).await.map_err(|e| e.to_string())?;
            for b in &bound {
                eprintln!("{} hub listening on http://{}", b.name, b.addr);
            }
            serve_all(bound, stop_on_signal())
                .await
                .map_err(|e| e.to_string())
        }
    }
}
