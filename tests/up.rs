//! `hubmesh up` as a user runs it: the whole mesh with its local issuer, then client commands
//! that find their credentials through the data dir, then a clean stop on SIGTERM.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::Value;

use crate::support::hubmesh;

/// A port base whose four ports are free now.
fn free_port_base() -> u16 {
    loop {
        let base = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        if base < 60_000
            && (0..4).all(|i| std::net::TcpListener::bind(("127.0.0.1", base + i)).is_ok())
        {
            return base;
        }
    }
}

/// Waits until `endpoints.json` exists and every hub in it answers `/healthz`.
async fn wait_until_up(dir: &Path) -> Value {
    let deadline = Instant::now() + Duration::from_secs(60);
    let client = hub_core::auth::http::client();
    loop {
        assert!(Instant::now() < deadline, "the mesh did not come up");
        if let Ok(text) = std::fs::read_to_string(dir.join("endpoints.json")) {
            let endpoints: Value = serde_json::from_str(&text).expect("endpoints.json is JSON");
            let hubs = endpoints["hubs"].as_object().expect("hubs").clone();
            let mut all = true;
            for url in hubs.values() {
                let ok = client
                    .get(format!("{}/healthz", url.as_str().unwrap()))
                    .send()
                    .await
                    .is_ok_and(|r| r.status() == 200);
                all &= ok;
            }
            if all {
                return endpoints;
            }
        }
        tokio::time::sleep(Duration::from_millis(100)).await;
    }
}

#[tokio::test]
async fn up_serves_every_hub_with_its_issuer_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_port_base();
    let mut up = tokio::process::Command::new(env!("CARGO_BIN_EXE_hubmesh"))
        .args(["up", "--port-base", &base.to_string(), "--data-dir"])
        .arg(dir.path())
        .env_remove("HUBMESH_OIDC_ISSUER")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap();
    let endpoints = wait_until_up(dir.path()).await;
    for (i, hub) in ["dev", "ops", "fin"].iter().enumerate() {
        assert_eq!(
            endpoints["hubs"][hub],
            format!("http://127.0.0.1:{}", base + 1 + i as u16)
        );
    }
    let identity =
        std::fs::metadata(dir.path().join("identity.toml")).expect("identity file created");
    use std::os::unix::fs::PermissionsExt;
    assert_eq!(identity.permissions().mode() & 0o777, 0o600);
    for hub in ["dev.db", "ops.db", "fin.db"] {
        assert!(dir.path().join(hub).exists(), "{hub} created");
    }

    // No --token: the CLI mints one for the mesh's admin client from the data dir.
    hubmesh(
        dir.path(),
        None,
        &[
            "domain", "create", "finance", "--name", "Finance", "--hub", "fin",
        ],
    )
    .await
    .ok();
    let list = hubmesh(
        dir.path(),
        None,
        &["domain", "list", "--hub", "fin", "--json"],
    )
    .await
    .ok()
    .json();
    assert_eq!(list["items"][0]["slug"], "finance");
    let who = hub_core::auth::http::client()
        .get(format!(
            "{}/api/v1/whoami",
            endpoints["hubs"]["ops"].as_str().unwrap()
        ))
        .bearer_auth(
            hubmesh(dir.path(), None, &["token"])
                .await
                .ok()
                .stdout
                .trim(),
        )
        .send()
        .await
        .unwrap();
    assert_eq!(who.status(), 200);
    assert_eq!(who.json::<Value>().await.unwrap()["sub"], "admin");

    // SIGTERM stops the whole mesh cleanly.
    let pid = up.id().unwrap().to_string();
    let killed = std::process::Command::new("kill")
        .args(["-TERM", &pid])
        .status()
        .unwrap();
    assert!(killed.success());
    let status = tokio::time::timeout(Duration::from_secs(20), up.wait())
        .await
        .expect("mesh stops")
        .unwrap();
    assert!(status.success(), "mesh exits 0 after SIGTERM: {status}");
    let mut out = String::new();
    use tokio::io::AsyncReadExt;
    up.stdout
        .take()
        .unwrap()
        .read_to_string(&mut out)
        .await
        .unwrap();
    assert!(
        out.contains("HUB") && out.contains(&format!("127.0.0.1:{}", base + 3)),
        "endpoint table printed: {out}"
    );
}
