//! Tasks: creation, next and blocked, the done rule, dependency cycles, claims with leases
//! (second claimant refused, release and expiry as progress events), bad input.

use chrono::{Duration, Utc};
use dev_hub::task::claim;
use dev_hub::task::model as task;
use sea_orm::{ActiveModelTrait, EntityTrait, Set};
use serde_json::{Value, json};

use crate::both;
use crate::documents::DOC;
use crate::support::{ADMIN, ALICE, BOB, FINANCE, READER, Res, TestHub};

const T: &str = "/api/v1/dev/tasks";

fn ids(v: &Value) -> Vec<String> {
    v.as_array()
        .unwrap()
        .iter()
        .map(|t| t["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn setup(hub: &TestHub) {
    hub.import(ADMIN, DOC, false).await.expect(200);
}

async fn status(hub: &TestHub, id: &str, token: &str, status: &str) -> Res {
    hub.post(
        &format!("{T}/{id}/status"),
        token,
        json!({"status": status}),
    )
    .await
}

async fn events(hub: &TestHub, event_type: &str) -> Vec<Value> {
    hub.get(&format!("/api/v1/events?type={event_type}"), ADMIN)
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .clone()
}

both!(
    next_and_blocked_follow_dependencies_and_priority,
    |hub: TestHub| async move {
        setup(&hub).await;
        // T01 is done, so T02 is ready; T03 and T04 wait for T02.
        let next = hub.get(&format!("{T}/next"), READER).await.expect(200).json;
        assert_eq!(ids(&next), ["CUST-WP-0025-T02"]);
        let blocked = hub
            .get(&format!("{T}/blocked"), READER)
            .await
            .expect(200)
            .json;
        assert_eq!(blocked["items"][0]["task"]["id"], "CUST-WP-0025-T03");
        assert_eq!(blocked["items"][0]["blockers"], json!(["CUST-WP-0025-T02"]));
        assert_eq!(
            blocked["items"][1]["blockers"],
            json!(["CUST-WP-0025-T02", "CUST-WP-0025-T03"])
        );
        // Done is refused while a dependency is open, naming it.
        let p = status(&hub, "CUST-WP-0025-T04", ALICE, "done")
            .await
            .problem(409);
        assert!(
            p["detail"]
                .as_str()
                .unwrap()
                .contains("CUST-WP-0025-T02, CUST-WP-0025-T03"),
            "{p}"
        );
        status(&hub, "CUST-WP-0025-T02", ALICE, "done")
            .await
            .expect(200);
        // Two new ready tasks; the higher priority comes first.
        hub.post(
            T,
            ALICE,
            json!({"workplan": "CUST-WP-0025", "title": "Urgent fix", "priority": "critical"}),
        )
        .await
        .expect(201);
        let next = hub
            .get(&format!("{T}/next?workplan=CUST-WP-0025"), READER)
            .await
            .expect(200)
            .json;
        assert_eq!(ids(&next), ["CUST-WP-0025-T05", "CUST-WP-0025-T03"]);
        let ev = events(&hub, "task_status_changed").await;
        assert_eq!(ev[0]["summary"], "CUST-WP-0025-T02: todo -> done");
        let summary = hub
            .get("/api/v1/dev/summary?domain=infotech", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(summary["tasks"], json!({"done": 2, "todo": 3}));
        assert_eq!(summary["workplans"], json!({"active": 1}));
        assert_eq!(summary["blocked"], 1);
        hub.get(&format!("{T}/next?limit=0"), READER)
            .await
            .problem(400);
    }
);

both!(
    dependency_cycles_and_unknown_tasks_are_refused,
    |hub: TestHub| async move {
        setup(&hub).await;
        let p = hub
            .put(
                &format!("{T}/CUST-WP-0025-T01/dependencies"),
                ALICE,
                json!({"depends_on": ["CUST-WP-0025-T04"]}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["depends_on"]);
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .starts_with("dependency cycle: CUST-WP-0025-T01 -> CUST-WP-0025-T04"),
            "{p}"
        );
        let p = hub
            .put(
                &format!("{T}/CUST-WP-0025-T02/dependencies"),
                ALICE,
                json!({"depends_on": ["CUST-WP-0025-T02"]}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["depends_on"]);
        let p = hub
            .post(
                T,
                ALICE,
                json!({"workplan": "CUST-WP-0025", "title": "x", "depends_on": ["NOPE-T1"]}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["depends_on"]);
        let p = hub
            .post(T, ALICE, json!({"workplan": "NOPE-1", "title": "x"}))
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["workplan"]);
        // Nothing changed: T01 still depends on nothing, no stray task.
        let t1 = hub
            .get(&format!("{T}/CUST-WP-0025-T01"), READER)
            .await
            .expect(200)
            .json;
        assert_eq!(t1["depends_on"], json!([]));
        assert_eq!(hub.outbox_count("dev_task.created").await, 0);
        // A legal change is applied.
        let t3 = hub
            .put(
                &format!("{T}/CUST-WP-0025-T03/dependencies"),
                ALICE,
                json!({"depends_on": ["CUST-WP-0025-T01"]}),
            )
            .await
            .expect(200)
            .json;
        assert_eq!(t3["depends_on"], json!(["CUST-WP-0025-T01"]));
    }
);

both!(
    claims_are_exclusive_and_leave_progress_events,
    |hub: TestHub| async move {
        setup(&hub).await;
        let id = "CUST-WP-0025-T02";
        let t = hub
            .post(
                &format!("{T}/{id}/claim"),
                ALICE,
                json!({"lease_seconds": 600}),
            )
            .await
            .expect(200)
            .json;
        assert_eq!(t["claimed_by"], "alice");
        assert_eq!(t["assignee"], "alice");
        // The second claimant learns who holds it.
        let p = hub
            .post(&format!("{T}/{id}/claim"), BOB, json!({}))
            .await
            .problem(409);
        assert!(
            p["detail"].as_str().unwrap().contains("claimed by alice"),
            "{p}"
        );
        // Nor may bob move it; alice renews by claiming again.
        status(&hub, id, BOB, "in_progress").await.problem(409);
        hub.post(&format!("{T}/{id}/claim"), ALICE, json!({}))
            .await
            .expect(200);
        // A claimed task is not offered as next.
        assert_eq!(
            hub.get(&format!("{T}/next"), READER).await.expect(200).json,
            json!([])
        );
        hub.post(&format!("{T}/{id}/release"), BOB, json!({}))
            .await
            .problem(409);
        let t = hub
            .post(&format!("{T}/{id}/release"), ALICE, json!({}))
            .await
            .expect(200)
            .json;
        assert_eq!(t["claimed_by"], Value::Null);
        assert_eq!(events(&hub, "task_released").await.len(), 1);
        hub.post(&format!("{T}/{id}/release"), ALICE, json!({}))
            .await
            .problem(409);
        // Bob claims; his lease runs out (moved into the past here); the sweep ends it.
        hub.post(
            &format!("{T}/{id}/claim"),
            BOB,
            json!({"lease_seconds": 60}),
        )
        .await
        .expect(200);
        let row = task::Entity::find_by_id(id)
            .one(&hub.ctx().db)
            .await
            .unwrap()
            .unwrap();
        let mut row: task::ActiveModel = row.into();
        row.claim_expires_at = Set(Some(Utc::now() - Duration::seconds(1)));
        row.update(&hub.ctx().db).await.unwrap();
        assert_eq!(claim::expire_claims(hub.ctx()).await.unwrap(), 1);
        let ev = events(&hub, "task_claim_expired").await;
        assert_eq!(ev.len(), 1);
        assert_eq!(ev[0]["summary"], format!("{id}: the claim of bob expired"));
        assert_eq!(
            hub.get(&format!("{T}/{id}"), READER).await.expect(200).json["claimed_by"],
            Value::Null
        );
        assert_eq!(claim::expire_claims(hub.ctx()).await.unwrap(), 0);
        // Done tasks cannot be claimed; bad leases and unknown tasks are refused.
        hub.post(&format!("{T}/CUST-WP-0025-T01/claim"), ALICE, json!({}))
            .await
            .problem(409);
        let p = hub
            .post(
                &format!("{T}/{id}/claim"),
                ALICE,
                json!({"lease_seconds": 0}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["lease_seconds"]);
        hub.post(&format!("{T}/NOPE-T1/claim"), ALICE, json!({}))
            .await
            .problem(404);
        hub.post(&format!("{T}/{id}/claim"), ALICE, json!({"lease": 5}))
            .await
            .problem(400);
        hub.post(&format!("{T}/{id}/claim"), READER, json!({}))
            .await
            .problem(403);
        hub.post(&format!("{T}/{id}/claim"), FINANCE, json!({}))
            .await
            .problem(404);
    }
);

both!(task_lists_filter_and_page, |hub: TestHub| async move {
    setup(&hub).await;
    let page = hub
        .get(&format!("{T}?workplan=CUST-WP-0025&limit=3"), READER)
        .await
        .expect(200)
        .json;
    assert_eq!(ids(&page["items"]).len(), 3);
    let next = page["next_cursor"].as_str().unwrap();
    let rest = hub
        .get(
            &format!("{T}?workplan=CUST-WP-0025&limit=3&cursor={next}"),
            READER,
        )
        .await
        .expect(200)
        .json;
    assert_eq!(ids(&rest["items"]), ["CUST-WP-0025-T04"]);
    assert_eq!(rest["next_cursor"], Value::Null);
    let done = hub
        .get(&format!("{T}?status=done"), READER)
        .await
        .expect(200)
        .json;
    assert_eq!(ids(&done["items"]), ["CUST-WP-0025-T01"]);
    let mine = hub
        .get(&format!("{T}?assignee=alice"), READER)
        .await
        .expect(200)
        .json;
    assert_eq!(ids(&mine["items"]), ["CUST-WP-0025-T01"]);
    hub.get(&format!("{T}?status=doing"), READER)
        .await
        .problem(400);
    hub.get(&format!("{T}?cursor=bad"), READER)
        .await
        .problem(400);
    hub.get(&format!("{T}/NOPE-T1"), READER).await.problem(404);
    let p = status(&hub, "CUST-WP-0025-T02", ALICE, "doing")
        .await
        .problem(400);
    assert_eq!(Res::fields(&p), ["status"]);
    hub.post(T, ALICE, json!({"workplan": "CUST-WP-0025", "title": 5}))
        .await
        .problem(400);
    let p = hub
        .post(
            T,
            ALICE,
            json!({"workplan": "CUST-WP-0025", "title": " ", "id": "x"}),
        )
        .await
        .problem(422);
    assert_eq!(Res::fields(&p), ["title", "id"]);
    hub.post(
        T,
        ALICE,
        json!({"workplan": "CUST-WP-0025", "title": "Again", "id": "CUST-WP-0025-T01"}),
    )
    .await
    .problem(409);
    hub.post(
        T,
        FINANCE,
        json!({"workplan": "CUST-WP-0025", "title": "x"}),
    )
    .await
    .problem(422);
    // Topics, decisions and notes.
    let topics = hub.get("/api/v1/dev/topics", READER).await.expect(200).json;
    assert_eq!(topics["items"][0]["slug"], "customers");
    hub.post(
        "/api/v1/dev/topics",
        ALICE,
        json!({"slug": "customers", "title": "Again", "domain": "infotech"}),
    )
    .await
    .problem(409);
    let d = hub
        .post(
            "/api/v1/dev/decisions",
            ALICE,
            json!({"title": "Auth", "choice": "OIDC", "rationale": "standard", "workplan": "CUST-WP-0025", "tasks": ["CUST-WP-0025-T03"]}),
        )
        .await
        .expect(201)
        .json;
    assert_eq!(d["domain"], "infotech");
    assert_eq!(d["status"], "proposed");
    hub.post(
        "/api/v1/dev/decisions",
        ALICE,
        json!({"title": "Auth", "choice": "x", "workplan": "CUST-WP-0025"}),
    )
    .await
    .problem(409);
    let p = hub
        .post(
            "/api/v1/dev/decisions",
            ALICE,
            json!({"title": "Free", "choice": "x"}),
        )
        .await
        .problem(422);
    assert_eq!(Res::fields(&p), ["domain"]);
    let n = hub
        .post("/api/v1/dev/notes", ALICE, json!({"subject_kind": "task", "subject_id": "CUST-WP-0025-T02", "body": "started on the schema"}))
        .await
        .expect(201)
        .json;
    assert_eq!(n["domain"], "infotech");
    let notes = hub
        .get(
            "/api/v1/dev/notes?subject_kind=task&subject_id=CUST-WP-0025-T02",
            READER,
        )
        .await
        .expect(200)
        .json;
    assert_eq!(notes["items"][0]["author"], "alice");
    let p = hub
        .post(
            "/api/v1/dev/notes",
            ALICE,
            json!({"subject_kind": "task", "subject_id": "NOPE", "body": "x"}),
        )
        .await
        .problem(422);
    assert_eq!(Res::fields(&p), ["subject_id"]);
});

both!(
    routes_are_in_the_openapi_document,
    |hub: TestHub| async move {
        let doc = hub
            .get("/api/v1/openapi.json", ADMIN)
            .await
            .expect(200)
            .json;
        for path in [
            "/api/v1/dev/workplans",
            "/api/v1/dev/workplans/{id}",
            "/api/v1/dev/workplans/import",
            "/api/v1/dev/workplans/{id}/document",
            "/api/v1/dev/tasks",
            "/api/v1/dev/tasks/{id}",
            "/api/v1/dev/tasks/{id}/claim",
            "/api/v1/dev/tasks/{id}/release",
            "/api/v1/dev/tasks/{id}/status",
            "/api/v1/dev/tasks/next",
            "/api/v1/dev/decisions",
            "/api/v1/dev/topics",
            "/api/v1/dev/summary",
        ] {
            assert!(doc["paths"].get(path).is_some(), "{path}");
        }
    }
);
