//! Evidence: subjects, statuses, and secrets refused without being stored or echoed.

use serde_json::json;

use crate::both;
use crate::support::{ADMIN, READER, Res, TestHub};

both!(
    evidence_is_recorded_about_a_service_deployment_or_run,
    |hub: TestHub| async move {
        hub.service("api", json!({})).await;
        hub.service("db", json!({})).await;
        let dep = hub
            .post(
                "/api/v1/ops/deployments",
                ADMIN,
                json!({"service_id": "api", "version": "1.2.0", "outcome": "succeeded"}),
            )
            .await
            .expect(201)
            .json;
        let ev = hub
            .post(
                "/api/v1/ops/evidence",
                ADMIN,
                json!({"kind": "smoke", "deployment_id": dep["id"], "status": "pass",
            "summary": "checkout flow ok", "fields": {"checks": 12, "password": "***"}}),
            )
            .await
            .expect(201)
            .json;
        assert_eq!(ev["service_id"], "api", "taken from the deployment");
        assert_eq!(ev["actor"], "admin");
        let p = hub
            .post(
                "/api/v1/ops/evidence",
                ADMIN,
                json!({"kind": "smoke", "service_id": "db", "deployment_id": dep["id"],
            "status": "pass", "summary": "x"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["deployment_id"]);
        for (body, field) in [
            (
                json!({"kind": "smoke", "status": "pass", "summary": "no subject"}),
                "service_id",
            ),
            (
                json!({"kind": "smoke", "service_id": "ghost", "status": "pass", "summary": "x"}),
                "service_id",
            ),
            (
                json!({"kind": "smoke", "run_id": "nope", "status": "pass", "summary": "x"}),
                "run_id",
            ),
            (
                json!({"kind": "Smoke Test", "service_id": "api", "status": "pass", "summary": "x"}),
                "kind",
            ),
            (
                json!({"kind": "smoke", "service_id": "api", "summary": "x"}),
                "status",
            ),
        ] {
            let p = hub
                .post("/api/v1/ops/evidence", ADMIN, body)
                .await
                .problem(422);
            assert_eq!(Res::fields(&p), [field], "{p}");
        }
        hub.post(
            "/api/v1/ops/evidence",
            ADMIN,
            json!({"kind": "smoke", "service_id": "api", "status": "great", "summary": "x"}),
        )
        .await
        .problem(400);
        hub.post(
            "/api/v1/ops/evidence",
            READER,
            json!({"kind": "smoke", "service_id": "api", "status": "pass", "summary": "x"}),
        )
        .await
        .problem(403);
        let list = hub
            .get(
                "/api/v1/ops/evidence?service=api&kind=smoke&status=pass",
                READER,
            )
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(list["items"][0]["id"], ev["id"]);
        hub.get("/api/v1/ops/evidence?service=ghost", READER)
            .await
            .problem(404);
        assert_eq!(hub.outbox_count("ops_evidence.recorded").await, 1);
    }
);

both!(
    secret_looking_evidence_is_refused_naming_the_field_not_the_value,
    |hub: TestHub| async move {
        hub.service("api", json!({})).await;
        let jwt = "eyJhbGciOiJSUzI1NiIsImtpZCI6IjEifQ.eyJzdWIiOiJhbGljZSJ9.c2lnbmF0dXJlLWJ5dGVz";
        let cases = [
            (
                json!({"deploy_key": "-----BEGIN OPENSSH PRIVATE KEY-----\nb3BlbnNzaC1rZXk\n-----END OPENSSH PRIVATE KEY-----"}),
                "fields.deploy_key",
                "-----BEGIN",
            ),
            (
                json!({"request": {"headers": format!("Authorization: Bearer {jwt}")}}),
                "fields.request.headers",
                jwt,
            ),
            (
                json!({"db_password": "correct-horse-battery"}),
                "fields.db_password",
                "correct-horse-battery",
            ),
            (
                json!({"client_secret": "Zq81mXv0Lr7TpA2sKd9w"}),
                "fields.client_secret",
                "Zq81mXv0Lr7TpA2sKd9w",
            ),
            (
                json!({"steps": ["login", format!("token {jwt}")]}),
                "fields.steps[1]",
                jwt,
            ),
        ];
        for (fields, field, secret) in cases {
            let res = hub
                .post(
                    "/api/v1/ops/evidence",
                    ADMIN,
                    json!({"kind": "smoke", "service_id": "api", "status": "pass",
                "summary": "ok", "fields": fields}),
                )
                .await;
            assert!(
                !res.text.contains(secret),
                "the refusal must not echo the secret: {}",
                res.text
            );
            let p = res.problem(422);
            assert_eq!(Res::fields(&p), [field], "{p}");
            assert!(
                p["errors"][0]["message"]
                    .as_str()
                    .unwrap()
                    .contains("must not carry secrets")
            );
        }
        let p = hub
            .post(
                "/api/v1/ops/evidence",
                ADMIN,
                json!({"kind": "smoke", "service_id": "api", "status": "pass",
            "summary": format!("ran with {jwt}")}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["summary"]);
        let list = hub
            .get("/api/v1/ops/evidence", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"], json!([]), "nothing stored");
        assert_eq!(hub.outbox_count("ops_evidence.recorded").await, 0);
    }
);
