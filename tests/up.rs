//! `hubmesh up` as a user runs it: the whole mesh with its local issuer, then client commands
//! that find their credentials through the data dir, then a clean stop on SIGTERM.

use std::path::Path;
use std::time::{Duration, Instant};

use serde_json::{Value, json};

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

/// Starts `hubmesh up` on `dir` and `base`, its stdout piped.
fn start_up(dir: &Path, base: u16) -> tokio::process::Child {
    tokio::process::Command::new(env!("CARGO_BIN_EXE_hubmesh"))
        .args(["up", "--port-base", &base.to_string(), "--data-dir"])
        .arg(dir)
        .env_remove("HUBMESH_OIDC_ISSUER")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// Stops the mesh with SIGTERM, expects exit 0 and returns what it printed.
async fn stop_up(mut up: tokio::process::Child) -> String {
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
    out
}

/// The stored secret hash of each hub's service account (`<hub>-hub`) in `identity.toml`.
fn hub_account_hashes(dir: &Path) -> Vec<String> {
    let text = std::fs::read_to_string(dir.join("identity.toml")).unwrap();
    ["dev-hub", "ops-hub", "fin-hub"]
        .iter()
        .map(|id| {
            let entry = text
                .split("[[clients]]")
                .find(|c| c.contains(&format!("id = \"{id}\"")))
                .unwrap_or_else(|| panic!("{id} in identity.toml:\n{text}"));
            let hash = entry
                .lines()
                .find_map(|l| l.strip_prefix("secret_hash = "))
                .unwrap_or_else(|| panic!("{id} has a secret hash"));
            assert!(hash.starts_with("\"$argon2id$"), "{id}: {hash}");
            hash.to_owned()
        })
        .collect()
}

/// How hub `to` sees hub `from` when `from` calls it with its own service account, once `from`
/// has heard of `to`.
async fn seen_by(dir: &Path, endpoints: &Value, from: &str, to: &str) -> Value {
    let admin = hubmesh(dir, None, &["token", "--hub", from])
        .await
        .ok()
        .stdout;
    let url = format!(
        "{}/api/v1/federation/hubs/{to}/whoami",
        endpoints["hubs"][from].as_str().unwrap()
    );
    let get = || {
        hub_core::auth::http::client()
            .get(&url)
            .bearer_auth(admin.trim())
            .send()
    };
    testkit::eventually(
        &format!("{from} hears of {to}"),
        Duration::from_secs(30),
        || async { get().await.is_ok_and(|r| r.status() == 200) },
    )
    .await;
    get().await.unwrap().json().await.unwrap()
}

#[tokio::test]
async fn up_serves_every_hub_with_its_issuer_and_stops_on_sigterm() {
    let dir = tempfile::tempdir().unwrap();
    let base = free_port_base();
    let up = start_up(dir.path(), base);
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

    // Each hub has its own service account: dev calls ops as dev-hub, not as the admin whose
    // token it received; only hashes of the accounts' secrets are on disk.
    let seen = seen_by(dir.path(), &endpoints, "dev", "ops").await;
    assert_eq!(
        (&seen["sub"], &seen["kind"]),
        (&json!("dev-hub"), &json!("service"))
    );
    assert_eq!(seen["roles"], json!(["hub:read"]));
    let hashes = hub_account_hashes(dir.path());
    let written = std::fs::read_to_string(dir.path().join("endpoints.json")).unwrap();
    let written: Value = serde_json::from_str(&written).unwrap();
    let keys: Vec<&String> = written.as_object().unwrap().keys().collect();
    assert_eq!(
        keys,
        ["hubs", "issuer"],
        "endpoints.json holds no credentials"
    );

    // SIGTERM stops the whole mesh cleanly.
    let out = stop_up(up).await;
    assert!(
        out.contains("HUB") && out.contains(&format!("127.0.0.1:{}", base + 3)),
        "endpoint table printed: {out}"
    );
    assert_eq!(
        out.matches("client_secret=").count(),
        1,
        "only the new admin client's secret is printed: {out}"
    );

    // A restart gives every hub account a fresh secret, stored as a new hash, and calls work.
    let up = start_up(dir.path(), base);
    let endpoints = wait_until_up(dir.path()).await;
    let seen = seen_by(dir.path(), &endpoints, "fin", "dev").await;
    assert_eq!(seen["sub"], "fin-hub");
    let rehashed = hub_account_hashes(dir.path());
    for (before, after) in hashes.iter().zip(&rehashed) {
        assert_ne!(before, after, "a fresh secret per start");
    }
    let out = stop_up(up).await;
    assert!(!out.contains("client_secret="), "no secret printed: {out}");
}
