//! Shared helpers: a hub served on 127.0.0.1 with a test token verifier, a data dir whose
//! endpoints.json points at it, and a runner for the `hubmesh` binary.

#![allow(dead_code)]

use std::collections::BTreeMap;
use std::path::Path;
use std::sync::Arc;

use hub_core::config::HubConfig;
use hub_core::server::App;
use serde_json::{Value, json};
use tokio::net::TcpListener;
use tokio_util::sync::CancellationToken;

pub use testkit::SpelledTokens;

pub use testkit::ADMIN;

/// A hub `dev` on a fresh SQLite file, served on loopback until the test ends, and a data dir
/// whose endpoints.json names it.
pub struct Mesh {
    pub url: String,
    pub data_dir: tempfile::TempDir,
    _db_dir: tempfile::TempDir,
    stop: CancellationToken,
}

impl Mesh {
    pub async fn start() -> Self {
        let db_dir = tempfile::tempdir().expect("temp dir");
        let db_url = format!("sqlite://{}/hub.db?mode=rwc", db_dir.path().display());
        let config = HubConfig::with_database("dev", &db_url).expect("config");
        let app = App::build(config, Arc::new(SpelledTokens), Vec::new())
            .await
            .expect("hub starts");
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let stop = CancellationToken::new();
        tokio::spawn(app.serve(listener, stop.clone()));
        let data_dir = tempfile::tempdir().expect("temp dir");
        write_endpoints(data_dir.path(), &[("dev", &url)]);
        Self {
            url,
            data_dir,
            _db_dir: db_dir,
            stop,
        }
    }

    /// Runs `hubmesh ARGS` against this mesh's data dir, as `token` when given.
    pub async fn run(&self, token: Option<&str>, args: &[&str]) -> Out {
        hubmesh(self.data_dir.path(), token, args).await
    }

    /// Runs `hubmesh ARGS` as the admin.
    pub async fn admin(&self, args: &[&str]) -> Out {
        self.run(Some(ADMIN), args).await
    }
}

impl Drop for Mesh {
    fn drop(&mut self) {
        self.stop.cancel();
    }
}

/// Writes an endpoints.json as `hubmesh up` does.
pub fn write_endpoints(data_dir: &Path, hubs: &[(&str, &str)]) {
    let hubs: BTreeMap<&str, &str> = hubs.iter().copied().collect();
    std::fs::write(
        data_dir.join("endpoints.json"),
        json!({ "hubs": hubs }).to_string(),
    )
    .expect("write endpoints.json");
}

/// A loopback URL where nothing listens.
pub async fn closed_url() -> String {
    let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
    let addr = listener.local_addr().expect("addr");
    drop(listener);
    format!("http://{addr}")
}

/// Runs the `hubmesh` binary with `data_dir`, free of the caller's `HUBMESH_*` settings.
pub async fn hubmesh(data_dir: &Path, token: Option<&str>, args: &[&str]) -> Out {
    let mut cmd = tokio::process::Command::new(env!("CARGO_BIN_EXE_hubmesh"));
    for var in ["HUBMESH_HUB", "HUBMESH_URL", "HUBMESH_TOKEN", "RUST_LOG"] {
        cmd.env_remove(var);
    }
    cmd.env("HUBMESH_DATA_DIR", data_dir);
    if let Some(t) = token {
        cmd.env("HUBMESH_TOKEN", t);
    }
    let output = cmd.args(args).output().await.expect("run hubmesh");
    Out {
        code: output.status.code(),
        stdout: String::from_utf8_lossy(&output.stdout).into_owned(),
        stderr: String::from_utf8_lossy(&output.stderr).into_owned(),
    }
}

/// What a `hubmesh` run printed and how it exited.
#[derive(Debug)]
pub struct Out {
    pub code: Option<i32>,
    pub stdout: String,
    pub stderr: String,
}

impl Out {
    /// Asserts success.
    pub fn ok(self) -> Self {
        assert_eq!(self.code, Some(0), "hubmesh failed: {self:#?}");
        self
    }

    /// Asserts failure with a non-zero exit code and returns the `error:` line.
    pub fn error(self) -> String {
        assert!(
            matches!(self.code, Some(c) if c != 0),
            "hubmesh should fail: {self:#?}"
        );
        let lines: Vec<&str> = self
            .stderr
            .lines()
            .filter(|l| l.starts_with("error: "))
            .collect();
        assert_eq!(lines.len(), 1, "one error line expected: {self:#?}");
        lines[0].to_owned()
    }

    /// stdout as JSON.
    pub fn json(&self) -> Value {
        serde_json::from_str(&self.stdout)
            .unwrap_or_else(|e| panic!("stdout is not JSON ({e}): {self:#?}"))
    }

    /// The cells of table column `header` in the first table of stdout, top to bottom (columns
    /// sit at the offsets of their headers; the table ends at an empty line or a line that is
    /// not a table row).
    pub fn column(&self, header: &str) -> Vec<String> {
        let mut lines = self
            .stdout
            .lines()
            .map(|l| l.chars().collect::<Vec<char>>());
        let head: Vec<char> = lines.next().unwrap_or_default();
        let head_text: String = head.iter().collect();
        let start_byte = head_text
            .find(&format!(" {header} "))
            .or_else(|| {
                head_text
                    .ends_with(&format!(" {header}"))
                    .then(|| head_text.len() - header.len() - 1)
            })
            .unwrap_or_else(|| panic!("no column {header} in {head_text}"));
        let start = head_text[..start_byte].chars().count() + 1;
        let end = head[start + header.chars().count()..]
            .iter()
            .position(|c| !c.is_whitespace())
            .map(|p| start + header.chars().count() + p);
        lines
            .take_while(|l| l.first() == Some(&' '))
            .map(|l| {
                let stop = end.unwrap_or(l.len()).min(l.len());
                l.get(start.min(stop)..stop)
                    .unwrap_or_default()
                    .iter()
                    .collect::<String>()
                    .trim()
                    .to_owned()
            })
            .collect()
    }
}
