//! Deployments, migration runs, outcomes and costs.

use chrono::Utc;
use serde_json::json;

use crate::both;
use crate::support::{ADMIN, INFOTECH, READER, Res, TestHub};

both!(
    deployments_are_recorded_by_the_caller_and_listed_newest_first,
    |hub: TestHub| async move {
        hub.service("api", json!({})).await;
        for (v, outcome) in [("1.0.0", "succeeded"), ("1.1.0", "rolled_back")] {
            let d = hub
                .post(
                    "/api/v1/ops/deployments",
                    INFOTECH,
                    json!({"service_id": "api", "version": v, "outcome": outcome}),
                )
                .await
                .expect(201)
                .json;
            assert_eq!(d["actor"], "ivan");
            assert_eq!(
                d["environment"], "production",
                "the service's environment by default"
            );
        }
        let list = hub
            .get("/api/v1/ops/deployments?service=api", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"][0]["version"], "1.1.0");
        assert_eq!(list["items"][1]["version"], "1.0.0");
        let future = (Utc::now() + chrono::Duration::days(1)).to_rfc3339();
        for (body, field) in [
            (
                json!({"service_id": "ghost", "version": "1", "outcome": "failed"}),
                "service_id",
            ),
            (
                json!({"service_id": "api", "version": "", "outcome": "failed"}),
                "version",
            ),
            (
                json!({"service_id": "api", "version": "1", "outcome": "failed", "deployed_at": future}),
                "deployed_at",
            ),
        ] {
            let p = hub
                .post("/api/v1/ops/deployments", ADMIN, body)
                .await
                .problem(422);
            assert_eq!(Res::fields(&p), [field], "{p}");
        }
        hub.post(
            "/api/v1/ops/deployments",
            ADMIN,
            json!({"service_id": "api", "version": "1", "outcome": "meh"}),
        )
        .await
        .problem(400);
        assert_eq!(hub.outbox_count("ops_deployment.recorded").await, 2);
    }
);

both!(
    a_migration_run_starts_and_finishes_once,
    |hub: TestHub| async move {
        hub.service("api", json!({})).await;
        let run = hub
        .post("/api/v1/ops/migration-runs", ADMIN, json!({"service_id": "api", "source": "mysql://old", "target": "pg://new", "expected": 100}))
        .await
        .expect(201)
        .json;
        assert_eq!(run["status"], "running");
        let id = run["id"].as_str().unwrap();
        let finish = format!("/api/v1/ops/migration-runs/{id}/finish");
        let p = hub
            .post(
                &finish,
                ADMIN,
                json!({"status": "running", "migrated": 1, "failed": 0}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["status"]);
        let p = hub
            .post(
                &finish,
                ADMIN,
                json!({"status": "complete", "migrated": -1, "failed": 0}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["migrated"]);
        let done = hub
            .post(
                &finish,
                ADMIN,
                json!({"status": "complete", "migrated": 98, "failed": 2}),
            )
            .await
            .expect(200)
            .json;
        assert_eq!(done["failed"], 2);
        assert!(done["finished_at"].is_string());
        hub.post(
            &finish,
            ADMIN,
            json!({"status": "aborted", "migrated": 0, "failed": 0}),
        )
        .await
        .problem(409);
        hub.post(
            "/api/v1/ops/migration-runs/nope/finish",
            ADMIN,
            json!({"status": "complete", "migrated": 0, "failed": 0}),
        )
        .await
        .problem(404);
        let got = hub
            .get(&format!("/api/v1/ops/migration-runs/{id}"), READER)
            .await
            .expect(200)
            .json;
        assert_eq!(got["status"], "complete");
        let list = hub
            .get("/api/v1/ops/migration-runs?service=api", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(hub.outbox_count("ops_migration_run.finished").await, 1);
    }
);

both!(
    outcomes_need_a_value_or_a_judgement,
    |hub: TestHub| async move {
        hub.service("api", json!({})).await;
        hub.service("db", json!({})).await;
        let dep = hub
            .post(
                "/api/v1/ops/deployments",
                ADMIN,
                json!({"service_id": "api", "version": "2", "outcome": "succeeded"}),
            )
            .await
            .expect(201)
            .json;
        let o = hub
            .post(
                "/api/v1/ops/outcomes",
                ADMIN,
                json!({"service_id": "api", "deployment_id": dep["id"], "name": "error_rate",
            "value": 0.2, "unit": "%", "judgement": "positive"}),
            )
            .await
            .expect(201)
            .json;
        assert_eq!(o["value"], 0.2);
        let p = hub
            .post(
                "/api/v1/ops/outcomes",
                ADMIN,
                json!({"service_id": "api", "name": "x"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["value"]);
        let p = hub
            .post(
                "/api/v1/ops/outcomes",
                ADMIN,
                json!({"service_id": "db", "deployment_id": dep["id"], "name": "x", "value": 1}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["deployment_id"]);
        let list = hub
            .get("/api/v1/ops/outcomes?service=api", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"][0]["id"], o["id"]);
    }
);

both!(
    costs_per_service_and_period_replace_older_figures,
    |hub: TestHub| async move {
        use ops_hub::cost::service::{CostFigure, record};
        hub.service("api", json!({})).await;
        let who = hub_core::auth::Principal::hub_itself("ops");
        for amount in [1200, 3400] {
            record(
                hub.ctx(),
                &who,
                CostFigure {
                    service_id: "api".into(),
                    period: "2026-11".into(),
                    amount,
                    currency: "EUR".into(),
                },
            )
            .await
            .unwrap();
        }
        record(
            hub.ctx(),
            &who,
            CostFigure {
                service_id: "api".into(),
                period: "2026-10".into(),
                amount: 999,
                currency: "EUR".into(),
            },
        )
        .await
        .unwrap();
        let bad = record(
            hub.ctx(),
            &who,
            CostFigure {
                service_id: "api".into(),
                period: "2026-13".into(),
                amount: 1,
                currency: "EUR".into(),
            },
        )
        .await;
        assert!(matches!(bad, Err(hub_core::HubError::Invalid(_))));
        let list = hub
            .get("/api/v1/ops/costs?service=api", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"].as_array().unwrap().len(), 2);
        assert_eq!(list["items"][1]["amount"], 3400);
        let svc = hub
            .get("/api/v1/ops/services/api", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(svc["costs"][0]["period"], "2026-11");
        assert_eq!(svc["costs"][0]["amount"], 3400);
        let page = hub
            .get("/api/v1/ops/costs?limit=1", READER)
            .await
            .expect(200)
            .json;
        let next = page["next_cursor"].as_str().unwrap();
        let rest = hub
            .get(&format!("/api/v1/ops/costs?limit=1&cursor={next}"), READER)
            .await
            .expect(200)
            .json;
        assert_eq!(rest["items"][0]["period"], "2026-11");
        hub.get("/api/v1/ops/costs?period=11-2026", READER)
            .await
            .problem(422);
    }
);
