//! Workplan documents: import, sync with a change report, export round trip, consistency, and
//! every malformed document refused with line numbers and nothing half-imported.

use serde_json::{Value, json};

use crate::both;
use crate::support::{ADMIN, FINANCE, READER, Res, TestHub};

/// A workplan with two phases, four tasks (one with unknown keys), a decision table and
/// unknown front matter keys.
pub const DOC: &str = r#"---
id: CUST-WP-0025
title: Customer portal
status: active
owner: alice
domain: infotech
topic: customers
created: 2026-11-20
updated: 2026-11-21
reviewers: [bob, carol]
---

# Customer portal

Why we build it.

## Phase 1 — Foundations

Set up what everything else needs.

| Decision | Choice | Rationale |
|---|---|---|
| Database | PostgreSQL | Already run by ops |

### T01 — Repository and CI

```task
id: CUST-WP-0025-T01
status: done
priority: high
assignee: alice
workstream: platform
```

Create the repo.

```sh
## not a heading: inside a fence
```

### T02 — Data model

```task
id: CUST-WP-0025-T02
status: todo
priority: critical
depends_on: [T01]
estimate: 3d
labels:
  - db
```

Tables for customers.

## Phase 2 — Portal

### T03 — Login page

```task
id: CUST-WP-0025-T03
status: todo
priority: medium
depends_on:
  - CUST-WP-0025-T02
```

### T04 — Profile page

```task
id: CUST-WP-0025-T04
status: todo
priority: low
depends_on: T02, T03
```

Profile editing.
"#;

async fn import_ok(hub: &TestHub, doc: &str) -> Value {
    hub.import(ADMIN, doc, false).await.expect(200).json
}

async fn export(hub: &TestHub, id: &str) -> String {
    hub.get(&format!("/api/v1/dev/workplans/{id}/document"), ADMIN)
        .await
        .expect(200)
        .text
}

fn changes(report: &Value) -> Vec<(String, String, String)> {
    report["changes"]
        .as_array()
        .unwrap()
        .iter()
        .map(|c| {
            (
                c["kind"].as_str().unwrap().to_owned(),
                c["id"].as_str().unwrap().to_owned(),
                c["action"].as_str().unwrap().to_owned(),
            )
        })
        .collect()
}

/// The messages of a 422 problem about the document.
fn problems(res: Res) -> Vec<String> {
    let p = res.problem(422);
    p["errors"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["message"].as_str().unwrap().to_owned())
        .collect()
}

async fn n_workplans(hub: &TestHub) -> usize {
    hub.get("/api/v1/dev/workplans", ADMIN)
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .len()
}

async fn n_tasks(hub: &TestHub) -> usize {
    hub.get("/api/v1/dev/tasks?limit=500", ADMIN)
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .len()
}

both!(
    import_creates_everything_and_reports_it,
    |hub: TestHub| async move {
        let report = import_ok(&hub, DOC).await;
        assert_eq!(report["created"], true);
        let c = changes(&report);
        for want in [
            ("topic", "customers", "created"),
            ("workplan", "CUST-WP-0025", "created"),
            ("workstream", "platform", "created"),
            ("task", "CUST-WP-0025-T04", "created"),
            ("decision", "Database", "created"),
        ] {
            assert!(
                c.contains(&(want.0.into(), want.1.into(), want.2.into())),
                "{want:?} in {c:?}"
            );
        }
        let wp = hub
            .get("/api/v1/dev/workplans/CUST-WP-0025", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(wp["status"], "active");
        assert_eq!(wp["owner"], "alice");
        assert_eq!(wp["topic"], "customers");
        assert_eq!(wp["extra"]["reviewers"], json!(["bob", "carol"]));
        assert_eq!(wp["workstreams"], json!(["platform"]));
        assert_eq!(
            wp["progress"],
            json!([
                {"phase": "Phase 1 — Foundations", "total": 2, "done": 1, "cancelled": 0, "open": 1},
                {"phase": "Phase 2 — Portal", "total": 2, "done": 0, "cancelled": 0, "open": 2},
            ])
        );
        let t2 = hub
            .get("/api/v1/dev/tasks/CUST-WP-0025-T02", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(t2["depends_on"], json!(["CUST-WP-0025-T01"]));
        assert_eq!(t2["priority"], "critical");
        assert_eq!(t2["extra"], json!({"estimate": "3d", "labels": ["db"]}));
        assert_eq!(t2["body"], "Tables for customers.");
        let t1 = hub
            .get("/api/v1/dev/tasks/CUST-WP-0025-T01", READER)
            .await
            .expect(200)
            .json;
        assert!(
            t1["body"].as_str().unwrap().contains("## not a heading"),
            "{t1}"
        );
        let t4 = hub
            .get("/api/v1/dev/tasks/CUST-WP-0025-T04", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(
            t4["depends_on"],
            json!(["CUST-WP-0025-T02", "CUST-WP-0025-T03"])
        );
        let decisions = hub
            .get("/api/v1/dev/decisions?workplan=CUST-WP-0025", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(decisions["items"][0]["choice"], "PostgreSQL");
        assert_eq!(decisions["items"][0]["status"], "accepted");
        assert_eq!(hub.outbox_count("dev_workplan.imported").await, 1);
    }
);

both!(export_round_trips, |hub: TestHub| async move {
    import_ok(&hub, DOC).await;
    let first = export(&hub, "CUST-WP-0025").await;
    assert!(first.contains("reviewers:"), "{first}");
    assert!(first.contains("estimate: 3d"), "{first}");
    assert!(first.contains("### T03 — Login page"), "{first}");
    assert!(
        first.contains("| Database | PostgreSQL | Already run by ops |"),
        "{first}"
    );
    // Importing the export changes nothing, and exporting again gives the same text.
    let report = import_ok(&hub, &first).await;
    assert_eq!(report["created"], false);
    assert_eq!(report["changes"], json!([]), "{report}");
    assert_eq!(report["kept"], json!([]));
    assert_eq!(export(&hub, "CUST-WP-0025").await, first);
    // The original document is in sync too.
    assert_eq!(import_ok(&hub, DOC).await["changes"], json!([]));
});

both!(
    reimport_syncs_and_reports_changes,
    |hub: TestHub| async move {
        import_ok(&hub, DOC).await;
        let changed = DOC
            .replace(
                "id: CUST-WP-0025-T02\nstatus: todo",
                "id: CUST-WP-0025-T02\nstatus: done",
            )
            .replace("Tables for customers.", "Tables for customers and orders.")
            .replace("| Database | PostgreSQL |", "| Database | SQLite |");
        let dry = hub.import(ADMIN, &changed, true).await.expect(200).json;
        assert_eq!(dry["dry_run"], true);
        assert_eq!(
            hub.get("/api/v1/dev/tasks/CUST-WP-0025-T02", ADMIN)
                .await
                .expect(200)
                .json["status"],
            "todo",
            "a dry run writes nothing"
        );
        let report = import_ok(&hub, &changed).await;
        assert_eq!(dry["changes"], report["changes"]);
        let task = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["id"] == "CUST-WP-0025-T02")
            .unwrap()
            .clone();
        assert_eq!(task["action"], "updated");
        assert_eq!(task["fields"], json!(["body", "status"]));
        assert_eq!(task["status"], "todo -> done");
        let decision = report["changes"]
            .as_array()
            .unwrap()
            .iter()
            .find(|c| c["kind"] == "decision")
            .unwrap()
            .clone();
        assert_eq!(decision["fields"], json!(["choice"]));
        assert_eq!(n_tasks(&hub).await, 4, "nothing duplicated");
        assert_eq!(n_workplans(&hub).await, 1);
        let events = hub
            .get("/api/v1/events?type=task_status_changed", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(
            events["items"][0]["subject_refs"]["task"],
            "CUST-WP-0025-T02"
        );
        // A task made through the API is kept, and reported as not in the document.
        hub.post(
            "/api/v1/dev/tasks",
            ADMIN,
            json!({"workplan": "CUST-WP-0025", "title": "Extra", "phase": "Phase 2 — Portal"}),
        )
        .await
        .expect(201);
        let report = import_ok(&hub, &changed).await;
        assert_eq!(report["kept"], json!(["task:CUST-WP-0025-T05"]));
        assert!(
            export(&hub, "CUST-WP-0025")
                .await
                .contains("### T05 — Extra")
        );
    }
);

both!(
    malformed_documents_are_refused_with_line_numbers,
    |hub: TestHub| async move {
        let cases: Vec<(String, &str)> = vec![
            (
                "no front matter\n".into(),
                "line 1: a workplan document starts with front matter",
            ),
            (
                DOC.replace("title: Customer portal", "title: [unclosed"),
                "the front matter is not valid YAML",
            ),
            (
                DOC.replace("id: CUST-WP-0025-T04", "id: CUST-WP-0025-T03"),
                "duplicate task id CUST-WP-0025-T03",
            ),
            (
                DOC.replace(
                    "status: todo\npriority: low",
                    "status: doing\npriority: low",
                ),
                "unknown status \"doing\"",
            ),
            (DOC.replace("id: CUST-WP-0025-T02\n", ""), "has no id"),
            (
                DOC.replace("priority: critical", "priority: urgent"),
                "unknown priority \"urgent\"",
            ),
            (
                DOC.replace("status: active", "status: live"),
                "line 4: front matter: unknown status \"live\"",
            ),
            (
                DOC.replace("depends_on: [T01]", "depends_on: [T09]"),
                "depends on unknown task CUST-WP-0025-T09",
            ),
            (
                DOC.replace("### T03 — Login page", "### T07 — Login page"),
                "the heading says T07 but the task id is CUST-WP-0025-T03",
            ),
            (
                DOC.replace("domain: infotech\n", ""),
                "front matter: domain is required",
            ),
            (
                DOC.replace(
                    "| Database | PostgreSQL | Already run by ops |",
                    "| Database | PostgreSQL |",
                ),
                "a decision row needs 3 cells",
            ),
            (
                DOC.replace("```task\nid: CUST-WP-0025-T04", "id: CUST-WP-0025-T04"),
                "is not followed by a ```task block",
            ),
        ];
        for (doc, want) in cases {
            let msgs = problems(hub.import(ADMIN, &doc, false).await);
            assert!(
                msgs.iter()
                    .any(|m| m.contains(want) && m.starts_with("line ")),
                "{want:?} in {msgs:?}"
            );
        }
        // Line numbers point at the problem.
        let doc = DOC.replace(
            "status: todo\npriority: low",
            "status: doing\npriority: low",
        );
        let line = doc.lines().position(|l| l == "status: doing").unwrap() + 1;
        let msgs = problems(hub.import(ADMIN, &doc, false).await);
        assert!(
            msgs.iter()
                .any(|m| m.starts_with(&format!("line {line}: "))),
            "{msgs:?}"
        );
        // A cycle in the document and a done task with an open dependency.
        let cycle = DOC.replace(
            "id: CUST-WP-0025-T01\nstatus: done",
            "id: CUST-WP-0025-T01\nstatus: todo\ndepends_on: [T04]",
        );
        let msgs = problems(hub.import(ADMIN, &cycle, false).await);
        assert!(
            msgs[0].contains("dependency cycle: CUST-WP-0025-T01 -> "),
            "{msgs:?}"
        );
        let early = DOC.replace(
            "id: CUST-WP-0025-T03\nstatus: todo",
            "id: CUST-WP-0025-T03\nstatus: done",
        );
        let p = hub.import(ADMIN, &early, false).await.problem(409);
        assert!(
            p["detail"].as_str().unwrap().contains("CUST-WP-0025-T02"),
            "{p}"
        );
        // Nothing of any of them was written.
        assert_eq!(n_workplans(&hub).await, 0);
        assert_eq!(n_tasks(&hub).await, 0);
        assert_eq!(hub.outbox_count("dev_topic.created").await, 0);
    }
);

both!(
    oversized_and_forbidden_imports_are_refused,
    |hub: TestHub| async move {
        let big = format!("{DOC}\n{}", "x".repeat(50 * 1024 * 1024));
        hub.import(ADMIN, &big, false).await.problem(413);
        hub.import(READER, DOC, false).await.problem(403);
        // A writer limited to finance may not import an infotech workplan.
        hub.import(FINANCE, DOC, false).await.problem(403);
        let p = hub
            .import(
                ADMIN,
                &DOC.replace("domain: infotech", "domain: nowhere"),
                false,
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["domain"]);
        assert_eq!(n_workplans(&hub).await, 0);
        // The finance writer sees no infotech workplan once it exists.
        import_ok(&hub, DOC).await;
        hub.get("/api/v1/dev/workplans/CUST-WP-0025", FINANCE)
            .await
            .problem(404);
        assert_eq!(
            hub.get("/api/v1/dev/workplans", FINANCE)
                .await
                .expect(200)
                .json["items"],
            json!([])
        );
        hub.get("/api/v1/dev/workplans?cursor=zzz", ADMIN)
            .await
            .problem(400);
        hub.get("/api/v1/dev/workplans/NOPE-1", ADMIN)
            .await
            .problem(404);
    }
);
