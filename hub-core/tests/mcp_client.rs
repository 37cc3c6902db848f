//! The real-client suite: the official Python `mcp` SDK (installed by the test into
//! `target/pyenv`) runs `tests/mcp/client_suite.py` against a hub served on 127.0.0.1:0.

use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::time::Duration;

use hub_core::config::RawConfig;
use hub_core::server::App;
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

use crate::support::{Backend, SpelledTokens, fresh_database};

/// The Python SDK version the suite is written against.
const MCP_SDK: &str = "mcp==2.3.0";

fn workspace() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .parent()
        .unwrap()
        .to_owned()
}

fn run(cmd: &mut std::process::Command) -> bool {
    cmd.stdout(Stdio::null())
        .stderr(Stdio::inherit())
        .status()
        .is_ok_and(|s| s.success())
}

/// The venv's python, creating the venv and installing the SDK on first use. A venv is built
/// aside and renamed into place, so concurrent test processes never see a half-made one.
pub fn python() -> PathBuf {
    let venv = workspace().join("target/pyenv");
    let python = venv.join("bin/python");
    let ready = |py: &Path| {
        run(std::process::Command::new(py).args([
            "-c",
            "import importlib.metadata as m, sys; sys.exit(m.version('mcp') != '2.3.0')",
        ]))
    };
    if ready(&python) {
        return python;
    }
    let staging = workspace().join(format!("target/pyenv.{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&staging);
    assert!(
        run(std::process::Command::new("python3")
            .args(["-m", "venv"])
            .arg(&staging)),
        "python3 -m venv failed (is python3 with venv installed?)"
    );
    assert!(
        run(
            std::process::Command::new(staging.join("bin/python")).args([
                "-m",
                "pip",
                "install",
                "--quiet",
                "--disable-pip-version-check",
                MCP_SDK
            ])
        ),
        "pip install {MCP_SDK} failed"
    );
    let _ = std::fs::remove_dir_all(&venv);
    if std::fs::rename(&staging, &venv).is_err() {
        // Another process won the race; its venv is as good.
        let _ = std::fs::remove_dir_all(&staging);
    }
    assert!(
        ready(&python),
        "the venv at {} has no {MCP_SDK}",
        venv.display()
    );
    python
}

/// Runs the suite with `args`, with `envs`, asserting success and every step; returns stdout.
pub async fn run_suite(args: &[&str], envs: &[(&str, &str)]) -> String {
    let python = tokio::task::spawn_blocking(python).await.unwrap();
    let mut cmd = tokio::process::Command::new(python);
    cmd.arg(workspace().join("tests/mcp/client_suite.py"))
        .args(args)
        .envs(envs.iter().copied())
        .env("PYTHONUNBUFFERED", "1")
        .kill_on_drop(true);
    let out = tokio::time::timeout(Duration::from_secs(180), cmd.output())
        .await
        .expect("the client suite finishes within 3 minutes")
        .expect("the client suite starts");
    let stdout = String::from_utf8_lossy(&out.stdout).into_owned();
    let stderr = String::from_utf8_lossy(&out.stderr);
    assert!(
        out.status.success() && stdout.trim_end().ends_with("ALL OK"),
        "client suite failed ({}):\n{stdout}\n{stderr}",
        out.status
    );
    stdout
}

#[tokio::test]
async fn the_python_sdk_passes_the_scenario_over_http() {
    let (url, _dir) = fresh_database(Backend::Sqlite).await;
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let config = RawConfig {
        listen: Some(addr.to_string()),
        database_url: Some(url),
        ..RawConfig::default()
    }
    .for_hub("dev")
    .unwrap();
    let app = App::build(config, Arc::new(SpelledTokens), Vec::new())
        .await
        .unwrap();
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.serve(listener, stop.clone()));

    let mcp = format!("http://{addr}/mcp");
    let out = run_suite(
        &[
            "http",
            &mcp,
            "sub=alice;roles=hub:write;kind=agent",
            "sub=bob;roles=hub:write;kind=agent",
            "sub=rita;roles=hub:read;kind=agent",
        ],
        &[],
    )
    .await;
    for step in [
        "tools/list has all 32 core tools",
        "told when B's message arrived",
        "fulfilled it",
        "acknowledged and resolved",
        "the session goes on",
        "?profile=messaging narrows",
        "resources/subscribe pushes",
    ] {
        assert!(out.contains(step), "step {step:?} missing from:\n{out}");
    }
    stop.cancel();
    server.await.unwrap().unwrap();
}
