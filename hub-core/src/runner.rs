//! Running hubs: bind, serve, and stop cleanly on Ctrl-C / SIGTERM. Used by `hubmesh up` for the
//! whole mesh and by each standalone hub binary for one hub.

use std::net::SocketAddr;
use std::sync::Arc;

use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::auth::TokenVerifier;
use crate::bus::Bus;
use crate::config::HubConfig;
use crate::module::HubModule;
use crate::server::{App, StartError};

/// Why hubs could not run.
#[derive(Debug, thiserror::Error)]
pub enum RunError {
    #[error("hub {hub}: {source}")]
    Start { hub: String, source: StartError },
    #[error("hub {hub}: cannot listen on {addr}: {source}")]
    Bind {
        hub: String,
        addr: SocketAddr,
        source: std::io::Error,
    },
    #[error("hub {hub}: {source}")]
    Serve { hub: String, source: std::io::Error },
}

/// One hub to run: its config, the verifier it trusts and its modules.
pub struct HubSpec {
    pub config: HubConfig,
    pub verifier: Arc<dyn TokenVerifier>,
    pub modules: Vec<Box<dyn HubModule>>,
    /// A bus shared with other hubs of this process; `None`: the bus of `config`.
    pub bus: Option<Arc<dyn Bus>>,
}

/// A hub that is built and bound, ready to serve.
pub struct BoundHub {
    pub name: String,
    pub addr: SocketAddr,
    pub app: App,
    listener: TcpListener,
}

/// Builds and binds every hub; nothing serves until [`serve_all`].
pub async fn bind_all(specs: Vec<HubSpec>) -> Result<Vec<BoundHub>, RunError> {
    let mut bound = Vec::new();
    for spec in specs {
        let name = spec.config.name.clone();
        let addr = spec.config.listen;
        let built = match spec.bus {
            Some(bus) => App::build_on(spec.config, spec.verifier, spec.modules, bus).await,
            None => App::build(spec.config, spec.verifier, spec.modules).await,
        };
        let app = built.map_err(|source| RunError::Start {
            hub: name.clone(),
            source,
        })?;
        let listener = TcpListener::bind(addr)
            .await
            .map_err(|source| RunError::Bind {
                hub: name.clone(),
                addr,
                source,
            })?;
        let addr = listener.local_addr().map_err(|source| RunError::Bind {
            hub: name.clone(),
            addr,
            source,
        })?;
        bound.push(BoundHub {
            name,
            addr,
            app,
            listener,
        });
    }
    Ok(bound)
}

/// Serves every hub until `stop` is cancelled; the first failure stops the others too.
pub async fn serve_all(hubs: Vec<BoundHub>, stop: CancellationToken) -> Result<(), RunError> {
    let mut tasks = tokio::task::JoinSet::new();
    for hub in hubs {
        let stop = stop.clone();
        tasks.spawn(async move {
            let name = hub.name.clone();
            let res = hub.app.serve(hub.listener, stop.clone()).await;
            stop.cancel();
            res.map_err(|source| RunError::Serve { hub: name, source })
        });
    }
    let mut first_err = None;
    while let Some(res) = tasks.join_next().await {
        if let Ok(Err(e)) = res {
            first_err.get_or_insert(e);
        }
    }
    first_err.map_or(Ok(()), Err)
}

/// Cancels the returned token on Ctrl-C or SIGTERM.
pub fn stop_on_signal() -> CancellationToken {
    let token = CancellationToken::new();
    let t = token.clone();
    tokio::spawn(async move {
        let ctrl_c = tokio::signal::ctrl_c();
        #[cfg(unix)]
        {
            let mut term =
                match tokio::signal::unix::signal(tokio::signal::unix::SignalKind::terminate()) {
                    Ok(s) => s,
                    Err(e) => {
                        tracing::error!(error = %e, "cannot listen for SIGTERM");
                        let _ = ctrl_c.await;
                        t.cancel();
                        return;
                    }
                };
            tokio::select! {
                _ = ctrl_c => {}
                _ = term.recv() => {}
            }
        }
        #[cfg(not(unix))]
        let _ = ctrl_c.await;
        tracing::info!("shutting down");
        t.cancel();
    });
    token
}

const DEFAULT_LOG_FILTER: &str = "info,sea_orm_migration=warn,rmcp=warn";

/// Logs to stderr (stdout stays free for MCP over stdio and for `--json` output);
/// `RUST_LOG` sets the filter, default `info` with rmcp at `warn`: rmcp logs three info lines
/// (one a debug print of the client's info) for every session-less MCP call, which cost about
/// a sixth of the hub's CPU per call and drown the hub's own lines.
pub fn init_logging() {
    let filter = tracing_subscriber::EnvFilter::try_from_default_env()
        .unwrap_or_else(|_| tracing_subscriber::EnvFilter::new(DEFAULT_LOG_FILTER));
    let _ = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .try_init();
}
