//! Cutover readiness: each gate with its reason and evidence, one service or all.

use serde_json::{Value, json};

use crate::both;
use crate::support::{ADMIN, INFOTECH, TestHub};

fn gate<'a>(r: &'a Value, name: &str) -> &'a Value {
    r["gates"]
        .as_array()
        .unwrap()
        .iter()
        .find(|g| g["gate"] == name)
        .unwrap()
}

async fn readiness(hub: &TestHub, id: &str) -> Value {
    hub.get(&format!("/api/v1/ops/readiness?service={id}"), ADMIN)
        .await
        .expect(200)
        .json["items"][0]
        .clone()
}

both!(
    every_gate_passes_or_fails_with_its_reason_and_evidence,
    |hub: TestHub| async move {
        hub.service("api", json!({})).await;
        let r = readiness(&hub, "api").await;
        assert_eq!(r["ready"], false);
        assert_eq!(gate(&r, "smoke")["reason"], "no smoke evidence");
        assert_eq!(gate(&r, "migration")["pass"], true);
        assert_eq!(gate(&r, "probe")["reason"], "no probe evidence");
        assert_eq!(gate(&r, "alerts")["pass"], true);

        let ev = |kind: &str, status: &str| json!({"kind": kind, "service_id": "api", "status": status, "summary": "checked"});
        let smoke = hub
            .post("/api/v1/ops/evidence", ADMIN, ev("smoke", "pass"))
            .await
            .expect(201)
            .json;
        let probe = hub
            .post("/api/v1/ops/evidence", ADMIN, ev("probe", "pass"))
            .await
            .expect(201)
            .json;
        let run = hub
            .post(
                "/api/v1/ops/migration-runs",
                ADMIN,
                json!({"service_id": "api", "source": "a", "target": "b", "expected": 10}),
            )
            .await
            .expect(201)
            .json;
        let r = readiness(&hub, "api").await;
        assert_eq!(gate(&r, "smoke")["evidence_id"], smoke["id"]);
        assert_eq!(gate(&r, "probe")["evidence_id"], probe["id"]);
        assert_eq!(
            gate(&r, "migration")["reason"],
            "latest migration run is still running"
        );
        assert_eq!(gate(&r, "migration")["evidence_id"], run["id"]);
        let finish = format!(
            "/api/v1/ops/migration-runs/{}/finish",
            run["id"].as_str().unwrap()
        );
        hub.post(
            &finish,
            ADMIN,
            json!({"status": "complete", "migrated": 10, "failed": 0}),
        )
        .await
        .expect(200);
        let r = readiness(&hub, "api").await;
        assert_eq!(r["ready"], true, "{r}");

        // A later failed smoke test overrides the earlier pass.
        let failed = hub
            .post("/api/v1/ops/evidence", ADMIN, ev("smoke", "fail"))
            .await
            .expect(201)
            .json;
        let r = readiness(&hub, "api").await;
        assert_eq!(gate(&r, "smoke")["reason"], "latest smoke evidence is fail");
        assert_eq!(gate(&r, "smoke")["evidence_id"], failed["id"]);
        hub.post("/api/v1/ops/evidence", ADMIN, ev("smoke", "pass"))
            .await
            .expect(201);

        // A high-severity alert about the service blocks; a low one does not.
        hub.post("/api/v1/events", ADMIN, json!({"event_type": "alert_raised", "key": "ops.api.latency", "severity": "low", "summary": "slow"}))
        .await
        .expect(201);
        assert_eq!(readiness(&hub, "api").await["ready"], true);
        hub.post("/api/v1/events", ADMIN, json!({"event_type": "alert_raised", "key": "ops.api.errors", "severity": "critical", "summary": "5xx"}))
        .await
        .expect(201);
        let r = readiness(&hub, "api").await;
        assert_eq!(gate(&r, "alerts")["pass"], false);
        assert_eq!(gate(&r, "alerts")["evidence_id"], "ops.api.errors");
        assert_eq!(
            gate(&r, "alerts")["reason"],
            "open critical alert ops.api.errors: 5xx"
        );
    }
);

both!(
    a_stale_smoke_test_and_a_failed_migration_fail_their_gates,
    |hub: TestHub| async move {
        use sea_orm::ConnectionTrait;
        hub.service("api", json!({})).await;
        hub.post(
            "/api/v1/ops/evidence",
            ADMIN,
            json!({"kind": "smoke", "service_id": "api", "status": "pass", "summary": "ok"}),
        )
        .await
        .expect(201);
        // Age the evidence by two days.
        let old = (chrono::Utc::now() - chrono::Duration::days(2)).to_rfc3339();
        let db = &hub.ctx().db;
        db.execute_raw(sea_orm::Statement::from_sql_and_values(
            db.get_database_backend(),
            match db.get_database_backend() {
                sea_orm::DbBackend::Postgres => {
                    "UPDATE ops_evidence SET recorded_at = $1::timestamptz"
                }
                _ => "UPDATE ops_evidence SET recorded_at = ?",
            },
            [old.into()],
        ))
        .await
        .unwrap();
        let run = hub
            .post(
                "/api/v1/ops/migration-runs",
                ADMIN,
                json!({"service_id": "api", "source": "a", "target": "b", "expected": 10}),
            )
            .await
            .expect(201)
            .json;
        let finish = format!(
            "/api/v1/ops/migration-runs/{}/finish",
            run["id"].as_str().unwrap()
        );
        hub.post(
            &finish,
            ADMIN,
            json!({"status": "complete", "migrated": 7, "failed": 3}),
        )
        .await
        .expect(200);
        let r = readiness(&hub, "api").await;
        assert_eq!(
            gate(&r, "smoke")["reason"],
            "latest passing smoke evidence is older than 24 h"
        );
        assert_eq!(
            gate(&r, "migration")["reason"],
            "latest migration run failed 3 of 10 records"
        );
    }
);

both!(
    readiness_of_all_services_pages_by_id_and_respects_domains,
    |hub: TestHub| async move {
        for id in ["a", "b", "c"] {
            hub.service(id, json!({})).await;
        }
        hub.service("f", json!({"domain": "finance"})).await;
        hub.post(
            "/api/v1/ops/evidence",
            ADMIN,
            json!({"kind": "smoke", "service_id": "b", "status": "pass", "summary": "ok"}),
        )
        .await
        .expect(201);
        let page = hub
            .get("/api/v1/ops/readiness?limit=2", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(page["items"][0]["service_id"], "a");
        assert_eq!(page["items"][1]["service_id"], "b");
        assert_eq!(gate(&page["items"][1], "smoke")["pass"], true);
        assert_eq!(gate(&page["items"][0], "smoke")["pass"], false);
        let next = page["next_cursor"].as_str().unwrap();
        let rest = hub
            .get(
                &format!("/api/v1/ops/readiness?limit=2&cursor={next}"),
                ADMIN,
            )
            .await
            .expect(200)
            .json;
        assert_eq!(rest["items"].as_array().unwrap().len(), 2);
        let mine = hub
            .get("/api/v1/ops/readiness", INFOTECH)
            .await
            .expect(200)
            .json;
        assert_eq!(mine["items"].as_array().unwrap().len(), 3);
        hub.get("/api/v1/ops/readiness?service=f", INFOTECH)
            .await
            .problem(404);
        hub.get("/api/v1/ops/readiness?service=ghost", ADMIN)
            .await
            .problem(404);
        hub.get("/api/v1/ops/readiness?cursor=x", ADMIN)
            .await
            .problem(400);
    }
);
