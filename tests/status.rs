//! `hubmesh status` and `hubmesh modules`.

use crate::support::{Mesh, closed_url, write_endpoints};

#[tokio::test]
async fn status_reports_every_hub_of_the_mesh() {
    let mesh = Mesh::start().await;
    let out = mesh.admin(&["status"]).await.ok();
    assert_eq!(out.column("HUB"), ["dev"]);
    assert_eq!(out.column("URL")[0], mesh.url);
    assert_eq!(out.column("HEALTH")[0], "ok");

    let json = mesh.admin(&["status", "--json"]).await.ok().json();
    assert_eq!(json["hubs"]["dev"]["url"], mesh.url.as_str());
    assert_eq!(json["hubs"]["dev"]["health"]["status"], "ok");
}

#[tokio::test]
async fn status_fails_when_a_hub_is_down() {
    let mesh = Mesh::start().await;
    let down = closed_url().await;
    write_endpoints(mesh.data_dir.path(), &[("dev", &mesh.url), ("ops", &down)]);
    let out = mesh.admin(&["status"]).await;
    assert_eq!(out.column("HUB"), ["dev", "ops"]);
    assert_eq!(out.column("HEALTH"), ["ok", "down"]);
    assert!(
        out.stderr
            .contains(&format!("cannot reach hub ops at {down}")),
        "{out:#?}"
    );
    let line = out.error();
    assert!(line.contains("1 of 2 hubs"), "{line}");

    let only_dev = mesh.admin(&["status", "--hub", "dev"]).await.ok();
    assert_eq!(only_dev.column("HUB"), ["dev"]);
}

#[tokio::test]
async fn modules_are_listed() {
    let mesh = Mesh::start().await;
    let out = mesh.admin(&["modules"]).await.ok();
    assert!(out.stdout.starts_with(" ID"), "{out:#?}");
    let json = mesh.admin(&["modules", "--json"]).await.ok().json();
    assert_eq!(json["items"], serde_json::json!([]));
}

#[tokio::test]
async fn hubs_lists_the_live_hubs_of_the_federation() {
    let mesh = Mesh::start().await;
    // The hub's first heartbeat reaches its own registry view right after start.
    let deadline = tokio::time::Instant::now() + std::time::Duration::from_secs(20);
    let json = loop {
        let json = mesh.admin(&["hubs", "--json"]).await.ok().json();
        if !json["items"].as_array().unwrap().is_empty() {
            break json;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "no hub listed: {json}"
        );
        tokio::time::sleep(std::time::Duration::from_millis(100)).await;
    };
    assert_eq!(json["items"][0]["name"], "dev");
    assert!(json["items"][0]["heartbeat_at"].is_string(), "{json}");
    let out = mesh.admin(&["hubs"]).await.ok();
    assert_eq!(out.column("NAME"), ["dev"]);
    let rest_url = json["items"][0]["rest_url"].as_str().unwrap();
    assert!(rest_url.ends_with("/api/v1"), "{rest_url}");
    assert_eq!(out.column("REST URL"), [rest_url]);
    assert_eq!(
        out.column("LAST HEARTBEAT")[0].len(),
        "2026-11-22 01:00:00".len()
    );
}
