//! The real-client suite: the official Python `mcp` SDK (`tests/mcp/run` installs it) plays the
//! scenario of `tests/mcp/client_suite.py` against the dev hub, with tokens from the local issuer:
//! over streamable HTTP to a hub served on 127.0.0.1:0, and over stdio to `dev-hub mcp` processes
//! that fetch their tokens by client credentials.

use std::path::{Path, PathBuf};
use std::time::Duration;

use hub_core::auth::{PrincipalKind, ServiceTokenSource};
use hub_core::config::RawConfig;
use hub_core::issuer::{IssuerOptions, LocalIssuer, NewClient};
use hub_core::server::App;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

/// A local issuer on a loopback port with the suite's three agents as clients.
struct Issuer {
    url: String,
    /// `(client id, secret)` of agents A, B and the reader.
    agents: [(String, String); 3],
    _issuer: LocalIssuer,
    _dir: tempfile::TempDir,
}

impl Issuer {
    async fn start() -> Self {
        let dir = tempfile::tempdir().unwrap();
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}", listener.local_addr().unwrap());
        let (issuer, _) = LocalIssuer::open(dir.path(), IssuerOptions::new(&url)).unwrap();
        let agents = [
            ("alice", "hub:write"),
            ("bob", "hub:write"),
            ("rita", "hub:read"),
        ]
        .map(|(id, role)| {
            let secret = issuer
                .add_client(NewClient {
                    id: id.into(),
                    kind: PrincipalKind::Agent,
                    roles: vec![role.into()],
                    domains: None,
                    public: false,
                    redirect_uris: Vec::new(),
                })
                .unwrap()
                .expect("a confidential client has a secret");
            (id.to_owned(), secret)
        });
        tokio::spawn(axum_serve(listener, issuer.router()));
        Self {
            url,
            agents,
            _issuer: issuer,
            _dir: dir,
        }
    }
}

async fn axum_serve(listener: TcpListener, router: axum::Router) {
    let _ = axum::serve(listener, router).await;
}

/// Runs the suite with `args` and `envs`, asserting success and each of `steps`.
async fn run_suite(args: &[&str], envs: &[(String, String)], steps: &[&str]) {
    let mut cmd = tokio::process::Command::new(workspace().join("tests/mcp/run"));
    cmd.args(args)
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env("PYTHONUNBUFFERED", "1")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(300), cmd.output())
        .await
        .expect("the client suite finishes within 5 minutes")
        .expect("the client suite starts");
    let stdout = String::from_utf8_lossy(&out.stdout);
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ALL OK"),
        "client suite failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    for step in steps {
        assert!(stdout.contains(step), "step {step:?} missing:\n{stdout}");
    }
}

const SHARED_STEPS: &[&str] = &[
    "tools/list has all 32 core tools",
    "a hub:read principal sees no writing tools",
    "A replied in the thread",
    "fulfilled it",
    "acknowledged and resolved",
    "the session goes on",
];

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_passes_the_scenario_over_http() {
    let idp = Issuer::start().await;
    let db = tempfile::tempdir().unwrap();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let mut raw = RawConfig {
        listen: Some(addr.to_string()),
        database_url: Some(format!("sqlite://{}/dev.db?mode=rwc", db.path().display())),
        ..RawConfig::default()
    };
    raw.oidc.issuer = Some(idp.url.clone());
    let config = raw.for_hub(dev_hub::NAME).unwrap();
    let audience = config.oidc.audience.clone();
    let verifier = hub_core::auth::verifier_for(&config);
    let app = App::build(config, verifier, dev_hub::modules())
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.serve(listener, stop.clone()));

    let mut tokens = Vec::new();
    for (id, secret) in &idp.agents {
        let source = ServiceTokenSource::new(&idp.url, id, secret);
        tokens.push(source.token_for(&audience).await.unwrap());
    }
    let url = format!("http://{addr}/mcp");
    let mut args = vec!["http", url.as_str()];
    args.extend(tokens.iter().map(String::as_str));
    let mut steps = SHARED_STEPS.to_vec();
    steps.extend([
        "told when B's message arrived",
        "?profile=messaging narrows",
        "resources/subscribe pushes",
    ]);
    run_suite(&args, &[], &steps).await;
    stop.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_python_sdk_passes_the_scenario_over_stdio() {
    let idp = Issuer::start().await;
    let db = tempfile::tempdir().unwrap();
    let hub = env!("CARGO_BIN_EXE_dev-hub");
    let database_url = format!("sqlite://{}/dev.db?mode=rwc", db.path().display());
    let mut envs = vec![
        ("HUBMESH_OIDC_ISSUER".to_owned(), idp.url.clone()),
        (
            "HUBMESH_OIDC_AUDIENCE".to_owned(),
            "http://dev.test".to_owned(),
        ),
        ("HUBMESH_DATABASE_URL".to_owned(), database_url),
        ("RUST_LOG".to_owned(), "warn".to_owned()),
    ];
    for (agent, (id, secret)) in ["A", "B", "READER"].iter().zip(&idp.agents) {
        envs.push((format!("HUBMESH_MCP_CLIENT_ID_{agent}"), id.clone()));
        envs.push((format!("HUBMESH_MCP_CLIENT_SECRET_{agent}"), secret.clone()));
    }
    // Migrate once, so the three processes do not race to.
    let migrated = tokio::process::Command::new(hub)
        .arg("migrate")
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .status()
        .await
        .unwrap();
    assert!(migrated.success());
    run_suite(&["stdio", hub, "mcp"], &envs, SHARED_STEPS).await;

    // Never unauthenticated: without client or token the command refuses to start.
    let out = tokio::process::Command::new(hub)
        .arg("mcp")
        .envs(envs.iter().map(|(k, v)| (k, v)))
        .env_remove("HUBMESH_MCP_CLIENT_ID")
        .env_remove("HUBMESH_MCP_TOKEN")
        .output()
        .await
        .unwrap();
    assert!(!out.status.success());
    assert!(String::from_utf8_lossy(&out.stderr).contains("never runs unauthenticated"));
}
