//! MCP load client: C concurrent clients (rmcp streamable-HTTP clients) share N calls of one
//! tool and print calls/s, p50 and p99. Each client speaks the session-less protocol
//! (2026-07-28, `server/discover`) by default, or holds a legacy session with `--lifecycle legacy`.
//!
//! `cargo run -p hub-core --example mcp_bench -- --url http://127.0.0.1:7101/mcp --token $T \
//!     --tool send_message --args '{"recipients":["bob"],"subject":"s","body":"b"}' -c 16 -n 20000`

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::{Duration, Instant};

use clap::Parser;
use clap::ValueEnum;
use rmcp::model::{CallToolRequestParams, ProtocolVersion};
use rmcp::service::{ClientLifecycleMode, ClientServiceExt};
use rmcp::transport::StreamableHttpClientTransport;
use rmcp::transport::streamable_http_client::StreamableHttpClientTransportConfig;

mod lean_http;

#[derive(Debug, Parser)]
struct Args {
    /// The hub's MCP endpoint.
    #[arg(long)]
    url: String,
    /// Bearer token of the calling principal.
    #[arg(long, env = "HUBMESH_TOKEN", hide_env_values = true)]
    token: String,
    /// Tool to call.
    #[arg(long)]
    tool: String,
    /// Its arguments, a JSON object.
    #[arg(long, default_value = "{}")]
    args: String,
    /// Concurrent clients.
    #[arg(short, long, default_value_t = 16)]
    concurrency: usize,
    /// How each client starts: `discover` (session-less protocol) or `legacy` (an `initialize`
    /// handshake and a session).
    #[arg(long, value_enum, default_value_t = Lifecycle::Discover)]
    lifecycle: Lifecycle,
    /// Calls in all.
    #[arg(short = 'n', long, default_value_t = 10_000)]
    calls: u64,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
enum Lifecycle {
    Discover,
    Legacy,
}

// One thread: the client shares the machine's cores with the hub it measures, and each further
// thread of its own would take turns with the hub's.
#[tokio::main(flavor = "current_thread")]
async fn main() -> Result<(), Box<dyn std::error::Error>> {
    let args = Args::parse();
    // reqwest is built without a default TLS provider here.
    let _ = rustls::crypto::ring::default_provider().install_default();
    let arguments: serde_json::Map<String, serde_json::Value> = serde_json::from_str(&args.args)?;
    let mut sessions = Vec::new();
    for _ in 0..args.concurrency {
        let config = StreamableHttpClientTransportConfig::with_uri(args.url.as_str())
            .auth_header(args.token.clone());
        let session = match args.lifecycle {
            // rmcp's default HTTP client opens a connection per request (its pool is off);
            // agents keep theirs open. Session-less calls get plain JSON answers, which the
            // lean client reads on one kept-alive connection.
            Lifecycle::Discover => {
                let transport = StreamableHttpClientTransport::with_client(
                    lean_http::LeanHttp::default(),
                    config,
                );
                let lifecycle = ClientLifecycleMode::Discover {
                    preferred_versions: vec![ProtocolVersion::LATEST],
                };
                ().serve_with_lifecycle(transport, lifecycle).await?
            }
            // rmcp's own client opens a connection per call for SSE answers (it does not read
            // them to their end, and a reused connection then stalls ~40 ms on delayed ACKs);
            // the lean client reads them to their end and keeps its connection.
            Lifecycle::Legacy => {
                let transport = StreamableHttpClientTransport::with_client(
                    lean_http::LeanHttp::default(),
                    config,
                );
                ().serve_with_lifecycle(transport, ClientLifecycleMode::Initialize)
                    .await?
            }
        };
        sessions.push(session);
    }
    let next = Arc::new(AtomicU64::new(0));
    let errors = Arc::new(AtomicU64::new(0));
    let started = Instant::now();
    let mut workers = Vec::new();
    for session in sessions {
        let (next, errors, total) = (next.clone(), errors.clone(), args.calls);
        let request =
            CallToolRequestParams::new(args.tool.clone()).with_arguments(arguments.clone());
        workers.push(tokio::spawn(async move {
            let mut latencies = Vec::new();
            while next.fetch_add(1, Ordering::Relaxed) < total {
                let t = Instant::now();
                match session.call_tool(request.clone()).await {
                    Ok(res) if res.is_error != Some(true) => {}
                    _ => {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                }
                latencies.push(t.elapsed());
            }
            let _ = session.cancel().await;
            latencies
        }));
    }
    let mut latencies: Vec<Duration> = Vec::new();
    for w in workers {
        latencies.extend(w.await?);
    }
    let elapsed = started.elapsed();
    latencies.sort();
    let pct = |p: f64| latencies[((latencies.len() as f64 * p) as usize).min(latencies.len() - 1)];
    println!(
        "{} calls of {} over {} clients ({:?}) in {:.2}s: {:.0} calls/s, p50 {:.2} ms, p90 {:.2} ms, p99 {:.2} ms, max {:.2} ms, {} errors",
        latencies.len(),
        args.tool,
        args.concurrency,
        args.lifecycle,
        elapsed.as_secs_f64(),
        latencies.len() as f64 / elapsed.as_secs_f64(),
        pct(0.50).as_secs_f64() * 1e3,
        pct(0.90).as_secs_f64() * 1e3,
        pct(0.99).as_secs_f64() * 1e3,
        pct(1.0).as_secs_f64() * 1e3,
        errors.load(Ordering::Relaxed),
    );
    Ok(())
}
