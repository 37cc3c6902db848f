//! A real nats-server with JetStream for tests: a free loopback port and a store directory of
//! its own, so tests never touch a machine-wide server. Also used by the root tests (`#[path]`).

#![allow(dead_code)]

use std::fs::{File, OpenOptions};
use std::net::TcpListener;
use std::path::{Path, PathBuf};
use std::time::Duration;

use tokio::process::{Child, Command};

/// A nats-server the test owns; killed when dropped.
pub struct NatsServer {
    child: Option<Child>,
    pub port: u16,
    dir: tempfile::TempDir,
    /// Environment the server reads (its config's `$VARIABLES`).
    env: Vec<(String, String)>,
    /// Whether it runs from `server.conf` in `dir` rather than from flags alone.
    configured: bool,
}

/// What the nats-server binary says of its version (`nats-server: v2.9.10`), and where it is.
pub fn version() -> String {
    let binary = binary();
    let said = std::process::Command::new(&binary)
        .arg("--version")
        .output()
        .map(|o| String::from_utf8_lossy(&o.stdout).trim().to_owned())
        .unwrap_or_else(|e| format!("unknown version ({e})"));
    format!("{said} ({})", binary.display())
}

/// The nats-server binary: `HUBMESH_NATS_SERVER`, else on `PATH`, else Debian's path.
fn binary() -> PathBuf {
    if let Ok(p) = std::env::var("HUBMESH_NATS_SERVER") {
        return p.into();
    }
    std::env::var_os("PATH")
        .and_then(|paths| {
            std::env::split_paths(&paths)
                .map(|d| d.join("nats-server"))
                .find(|p| p.is_file())
        })
        .unwrap_or_else(|| "/usr/sbin/nats-server".into())
}

/// A loopback port nobody listens on right now.
pub fn free_port() -> u16 {
    TcpListener::bind("127.0.0.1:0")
        .and_then(|l| l.local_addr())
        .expect("a free port")
        .port()
}

impl NatsServer {
    fn new() -> Self {
        Self {
            child: None,
            port: free_port(),
            dir: tempfile::tempdir().expect("temp dir"),
            env: Vec::new(),
            configured: false,
        }
    }

    /// A server with JetStream and no authentication.
    pub async fn start() -> Self {
        let mut server = Self::new();
        server.resume().await;
        server
    }

    /// A server run from a config file: its own port and JetStream store, then `config`.
    /// Each file of `includes` is copied next to that config, so `include ./<file name>` in
    /// `config` reads it (nats-server resolves includes relative to the including file).
    /// `env` is the server's environment, where the config's `$VARIABLES` come from.
    pub async fn start_with_config(config: &str, includes: &[&Path], env: &[(&str, &str)]) -> Self {
        let mut server = Self::new();
        for file in includes {
            let name = file.file_name().expect("an include names a file");
            std::fs::copy(file, server.dir.path().join(name))
                .unwrap_or_else(|e| panic!("copy {}: {e}", file.display()));
        }
        let store = server.dir.path().join("store");
        let text = format!(
            "listen: 127.0.0.1:{}\njetstream {{ store_dir: {:?} }}\n{config}\n",
            server.port, store
        );
        std::fs::write(server.config_file(), text).expect("write the server config");
        server.env = env
            .iter()
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        server.configured = true;
        server.resume().await;
        server
    }

    pub fn url(&self) -> String {
        format!("nats://127.0.0.1:{}", self.port)
    }

    fn config_file(&self) -> PathBuf {
        self.dir.path().join("server.conf")
    }

    fn log_file(&self) -> PathBuf {
        self.dir.path().join("nats-server.log")
    }

    /// What the server has logged so far (its stderr, across restarts).
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.log_file()).unwrap_or_default()
    }

    /// Starts the server again on the same port and store (after [`stop`](Self::stop)).
    pub async fn resume(&mut self) {
        assert!(self.child.is_none(), "nats-server already running");
        let mut command = Command::new(binary());
        if self.configured {
            command.arg("-c").arg(self.config_file());
        } else {
            command
                .args([
                    "-a",
                    "127.0.0.1",
                    "-p",
                    &self.port.to_string(),
                    "-js",
                    "-sd",
                ])
                .arg(self.dir.path());
        }
        let log = OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.log_file())
            .expect("open the server log");
        let child = command
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .stdout(File::try_clone(&log).expect("log handle"))
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .expect("start nats-server (set HUBMESH_NATS_SERVER to its path)");
        self.child = Some(child);
        let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
        while tokio::net::TcpStream::connect(("127.0.0.1", self.port))
            .await
            .is_err()
        {
            assert!(
                tokio::time::Instant::now() < deadline,
                "nats-server did not listen on {}; its log:\n{}",
                self.port,
                self.log()
            );
            tokio::time::sleep(Duration::from_millis(20)).await;
        }
    }

    /// The server's process id while it runs.
    pub fn pid(&self) -> Option<u32> {
        self.child.as_ref().and_then(|c| c.id())
    }

    /// Kills the server (`SIGKILL`); its store stays for [`resume`](Self::resume).
    pub async fn stop(&mut self) {
        if let Some(mut child) = self.child.take() {
            child.kill().await.expect("kill nats-server");
        }
    }
}

impl Drop for NatsServer {
    /// A failing test shows what the server said (permission violations, refused logins).
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let lines: Vec<&str> = log.lines().collect();
            let tail = &lines[lines.len().saturating_sub(100)..];
            eprintln!(
                "nats-server log (last {} lines):\n{}",
                tail.len(),
                tail.join("\n")
            );
        }
    }
}
