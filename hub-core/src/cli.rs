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
    /// Serve MCP over stdin/stdout for a local agent; logs go to stderr.
    Mcp(McpArgs),
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

#[derive(Debug, Args)]
struct McpArgs {
    #[command(flatten)]
    common: CommonArgs,
    /// Tool profile: `all`, `messaging`, `capabilities`, `repos`, `tpsc`, `progress` or a module id.
    #[arg(long, default_value = crate::mcp::PROFILE_ALL)]
    profile: String,
    /// OIDC issuer whose access tokens the hub accepts.
    #[arg(long)]
    oidc_issuer: Option<String>,
    /// Client id of the local client the agent acts as; its token comes from the configured
    /// issuer by client credentials.
    #[arg(long, env = "HUBMESH_MCP_CLIENT_ID")]
    client_id: Option<String>,
    /// That client's secret (prefer the environment variable).
    #[arg(long, env = "HUBMESH_MCP_CLIENT_SECRET", hide_env_values = true)]
    client_secret: Option<String>,
    /// Instead of a client: an access token for this hub (prefer the environment variable).
    #[arg(long, env = "HUBMESH_MCP_TOKEN", hide_env_values = true)]
    token: Option<String>,
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
        Command::Mcp(args) => {
            let mut raw = args.common.raw_config().map_err(|e| e.to_string())?;
            if args.oidc_issuer.is_some() {
                raw.oidc.issuer = args.oidc_issuer.clone();
            }
            let config = raw.for_hub(hub).map_err(|e| e.to_string())?;
            let token = match (args.token, args.client_id, args.client_secret) {
                (Some(token), _, _) => token,
                (None, Some(id), Some(secret)) => {
                    let issuer = config.oidc.issuer.as_deref().ok_or(
                        "mcp over stdio gets its token from the OIDC issuer: set oidc.issuer or HUBMESH_OIDC_ISSUER",
                    )?;
                    crate::auth::ServiceTokenSource::new(issuer, &id, &secret)
                        .token_for(&config.oidc.audience)
                        .await
                        .map_err(|e| format!("client {id}: {e}"))?
                }
                _ => {
                    return Err("mcp over stdio never runs unauthenticated: set HUBMESH_MCP_CLIENT_ID and \
                                HUBMESH_MCP_CLIENT_SECRET (a client of the issuer), or HUBMESH_MCP_TOKEN"
                        .into());
                }
            };
            let app = crate::server::App::build(config.clone(), verifier(&config), modules())
                .await
                .map_err(|e| e.to_string())?;
            let caller = crate::mcp::stdio::caller(&app.hub, &token, &args.profile)
                .await
                .map_err(|e| e.to_string())?;
            eprintln!("{hub}: serving mcp on stdio as {}", caller.who.sub);
            crate::mcp::stdio::serve(
                app.hub.clone(),
                caller,
                tokio::io::stdin(),
                tokio::io::stdout(),
            )
            .await
            .map_err(|e| e.to_string())
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
