//! `hubmesh service …`, `hubmesh events`, `risks`, `alerts`, and the summaries.

use serde_json::json;

use crate::support::Mesh;

#[tokio::test]
async fn services_are_added_ingested_and_reported() {
    let mesh = Mesh::start().await;
    mesh.admin(&["domain", "create", "finance", "--name", "Finance"])
        .await
        .ok();
    mesh.admin(&[
        "service",
        "add",
        "ledger",
        "--domain",
        "finance",
        "--region",
        "EU",
        "--dpa-in-place",
        "--data-categories",
        "financial,contact",
    ])
    .await
    .ok();

    let file = mesh.data_dir.path().join("services.json");
    let entries = json!([
        {"name": "ledger", "domain": "finance", "region": "EU", "dpa_in_place": true, "vendor": "Acme"},
        {"name": "mailer", "domain": "finance", "region": "US", "dpa_in_place": false,
         "data_categories": ["contact"]},
        {"name": "broken", "domain": "finance"}
    ]);
    std::fs::write(&file, entries.to_string()).expect("write services.json");
    let out = mesh
        .admin(&["service", "ingest", file.to_str().expect("path")])
        .await;
    assert_eq!(out.column("OUTCOME"), ["updated", "created", "rejected"]);
    assert!(
        out.stdout.contains("#2 broken: body: ") && out.stdout.contains("region"),
        "{out:#?}"
    );
    assert!(
        out.stdout.contains("created 1, updated 1, rejected 1"),
        "{out:#?}"
    );
    let line = out.error();
    assert!(line.contains("1 entries rejected"), "{line}");

    let list = mesh
        .admin(&["service", "list", "--domain", "finance"])
        .await
        .ok();
    assert_eq!(list.column("NAME"), ["ledger", "mailer"]);
    assert_eq!(list.column("VENDOR"), ["Acme", "-"]);
    assert_eq!(list.column("DPA"), ["yes", "no"]);

    let report = mesh
        .admin(&["service", "gdpr", "--domain", "finance"])
        .await
        .ok();
    let fields = report.column("FIELD");
    let values = report.column("VALUE");
    let at = |f: &str| values[fields.iter().position(|x| x == f).expect(f)].clone();
    assert_eq!(at("without_dpa"), "mailer");
    let json = mesh.admin(&["service", "gdpr", "--json"]).await.ok().json();
    assert_eq!(json["domains"][0]["domain"], "finance");
}

#[tokio::test]
async fn events_move_risks_and_alerts_and_summaries_count_them() {
    let mesh = Mesh::start().await;
    mesh.admin(&["domain", "create", "finance", "--name", "Finance"])
        .await
        .ok();
    let risk = mesh
        .admin(&[
            "events",
            "record",
            "risk_surfaced",
            "--summary",
            "budget at 90%",
            "--domain",
            "finance",
            "--severity",
            "high",
            "--key",
            "budget:finance",
            "--ref",
            "month=2026-11",
            "--json",
        ])
        .await
        .ok()
        .json();
    assert_eq!(risk["state"]["state"], "open");
    assert_eq!(risk["subject_refs"]["month"], "2026-11");
    mesh.admin(&[
        "events",
        "record",
        "alert_raised",
        "--summary",
        "disk full",
        "--key",
        "disk:db1",
    ])
    .await
    .ok();
    mesh.admin(&[
        "events",
        "record",
        "alert_resolved",
        "--summary",
        "disk cleaned",
        "--key",
        "disk:db1",
    ])
    .await
    .ok();

    let line = mesh
        .admin(&[
            "events",
            "--domain",
            "finance",
            "record",
            "x",
            "--summary",
            "y",
        ])
        .await
        .error();
    assert!(line.contains("not before `record`"), "{line}");
    let url = mesh.url.clone();
    mesh.admin(&[
        "events",
        "--url",
        &url,
        "record",
        "note",
        "--summary",
        "via --url",
    ])
    .await
    .ok();

    let events = mesh
        .admin(&["events", "--type", "risk_surfaced"])
        .await
        .ok();
    assert_eq!(events.column("KEY"), ["budget:finance"]);
    assert_eq!(events.column("SEVERITY"), ["high"]);
    let all = mesh
        .admin(&["events", "--since", "2000-01-01T00:00:00Z", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(all["items"].as_array().map(Vec::len), Some(4));
    let line = mesh
        .admin(&["events", "--since", "yesterday"])
        .await
        .error();
    assert!(line.contains("400") && line.contains("since"), "{line}");

    let risks = mesh.admin(&["risks"]).await.ok();
    assert_eq!(risks.column("KEY"), ["budget:finance"]);
    assert_eq!(risks.column("STATE"), ["open"]);
    let alerts = mesh.admin(&["alerts"]).await.ok();
    assert_eq!(alerts.column("KEY"), Vec::<String>::new());
    let alerts = mesh.admin(&["alerts", "--all"]).await.ok();
    assert_eq!(alerts.column("STATE"), ["resolved"]);

    let line = mesh
        .admin(&[
            "events",
            "record",
            "alert_resolved",
            "--summary",
            "again",
            "--key",
            "disk:db1",
        ])
        .await
        .error();
    assert!(line.contains("409"), "{line}");

    let summary = mesh.admin(&["domain", "summary", "finance"]).await.ok();
    let fields = summary.column("FIELD");
    let values = summary.column("VALUE");
    let at = |f: &str| values[fields.iter().position(|x| x == f).expect(f)].clone();
    assert_eq!(at("counts.open_risks"), "1");
    assert_eq!(at("domain.slug"), "finance");

    let status = mesh.admin(&["status"]).await.ok();
    assert!(status.stdout.contains("counts.open_risks"), "{status:#?}");
    assert!(status.stdout.contains("0 of 0 running"), "{status:#?}");
    let json = mesh.admin(&["status", "--json"]).await.ok().json();
    assert_eq!(
        json["hubs"]["dev"]["state_summary"]["counts"]["open_risks"],
        1
    );
}
