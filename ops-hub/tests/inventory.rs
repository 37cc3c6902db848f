//! The service inventory: registration, validation, dependencies and cycles, domain limits,
//! import and export.

use serde_json::json;

use crate::both;
use crate::support::{ADMIN, INFOTECH, READER, Res, TestHub};

both!(
    a_service_is_registered_listed_and_shown,
    |hub: TestHub| async move {
        let svc = hub
            .service(
                "billing-api",
                json!({"endpoints": [{"name": "http", "url": "https://billing.internal"}],
                "health_url": "http://127.0.0.1:9/healthz", "repo": "git@example:billing.git",
                "tags": ["tier-1"]}),
            )
            .await;
        assert_eq!(svc["id"], "billing-api");
        assert_eq!(svc["lifecycle"], "active");
        assert_eq!(svc["tags"], json!(["tier-1"]));
        hub.service("billing-db", json!({"kind": "database"})).await;
        let list = hub
            .get("/api/v1/ops/services?limit=1", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"][0]["id"], "billing-api");
        let next = list["next_cursor"].as_str().unwrap();
        let rest = hub
            .get(
                &format!("/api/v1/ops/services?limit=1&cursor={next}"),
                READER,
            )
            .await
            .expect(200)
            .json;
        assert_eq!(rest["items"][0]["id"], "billing-db");
        assert!(rest["next_cursor"].is_null());
        let one = hub
            .get("/api/v1/ops/services/billing-api", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(one["endpoints"][0]["url"], "https://billing.internal");
        assert_eq!(one["costs"], json!([]));
        assert_eq!(hub.outbox_count("ops_service.created").await, 2);
        let databases = hub
            .get("/api/v1/ops/services?kind=x&lifecycle=planned", READER)
            .await
            .expect(200)
            .json;
        assert_eq!(databases["items"], json!([]));
    }
);

both!(
    bad_services_are_refused_and_nothing_is_stored,
    |hub: TestHub| async move {
        let base = json!({"id": "api", "name": "API", "kind": "api", "domain": "infotech",
        "environment": "production", "location": "eu-1"});
        let with = |k: &str, v: serde_json::Value| {
            let mut b = base.clone();
            b[k] = v;
            b
        };
        for (body, field) in [
            (with("id", json!("Not A Slug")), "id"),
            (with("name", json!(" ")), "name"),
            (with("health_url", json!("ftp://x/health")), "health_url"),
            (
                with("health_url", json!("file:///etc/passwd")),
                "health_url",
            ),
            (with("domain", json!("nowhere")), "domain"),
            (with("depends_on", json!(["ghost"])), "depends_on"),
            (with("depends_on", json!(["api"])), "depends_on"),
        ] {
            let p = hub
                .post("/api/v1/ops/services", ADMIN, body)
                .await
                .problem(422);
            assert_eq!(Res::fields(&p), [field], "{p}");
        }
        hub.post(
            "/api/v1/ops/services",
            ADMIN,
            with("lifecycle", json!("zombie")),
        )
        .await
        .problem(400);
        hub.post("/api/v1/ops/services", ADMIN, with("surprise", json!(1)))
            .await
            .problem(400);
        hub.post("/api/v1/ops/services", ADMIN, json!({"id": "x"}))
            .await
            .problem(400);
        hub.get("/api/v1/ops/services?cursor=bogus", ADMIN)
            .await
            .problem(400);
        hub.get("/api/v1/ops/services/ghost", ADMIN)
            .await
            .problem(404);
        let list = hub
            .get("/api/v1/ops/services", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"], json!([]));
        assert_eq!(hub.outbox_count("ops_service.created").await, 0);

        hub.post("/api/v1/ops/services", ADMIN, base.clone())
            .await
            .expect(201);
        hub.post("/api/v1/ops/services", ADMIN, base.clone())
            .await
            .problem(409);
        hub.post("/api/v1/ops/services", READER, with("id", json!("b")))
            .await
            .problem(403);
    }
);

both!(
    dependency_cycles_are_refused_with_their_path,
    |hub: TestHub| async move {
        hub.service("db", json!({})).await;
        hub.service("api", json!({"depends_on": ["db"]})).await;
        hub.service("web", json!({"depends_on": ["api"]})).await;
        // db -> web would close web -> api -> db -> web.
        let mut db = hub
            .get("/api/v1/ops/services/db", ADMIN)
            .await
            .expect(200)
            .json;
        let obj = db.as_object_mut().unwrap();
        for k in ["created_at", "updated_at", "costs"] {
            obj.remove(k);
        }
        obj.insert("depends_on".into(), json!(["web"]));
        let p = hub
            .call(
                axum::http::Method::PUT,
                "/api/v1/ops/services/db",
                Some(ADMIN),
                Some(db.clone()),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["depends_on"]);
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("db -> web -> api -> db"),
            "{p}"
        );
        let stored = hub
            .get("/api/v1/ops/services/db", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(stored["depends_on"], json!([]));
        // Without the cycle the replacement goes through.
        db["depends_on"] = json!([]);
        db["location"] = json!("eu-2");
        let res = hub
            .call(
                axum::http::Method::PUT,
                "/api/v1/ops/services/db",
                Some(ADMIN),
                Some(db),
            )
            .await
            .expect(200);
        assert_eq!(res.json["location"], "eu-2");
        assert_eq!(hub.outbox_count("ops_service.updated").await, 1);
    }
);

both!(
    a_domain_limited_caller_sees_and_changes_only_its_domain,
    |hub: TestHub| async move {
        hub.service("it-api", json!({})).await;
        hub.service("fin-api", json!({"domain": "finance"})).await;
        let list = hub
            .get("/api/v1/ops/services", INFOTECH)
            .await
            .expect(200)
            .json;
        let ids: Vec<&str> = list["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|s| s["id"].as_str().unwrap())
            .collect();
        assert_eq!(ids, ["it-api"]);
        hub.get("/api/v1/ops/services/fin-api", INFOTECH)
            .await
            .problem(404);
        hub.get("/api/v1/ops/services?domain=finance", INFOTECH)
            .await
            .problem(403);
        let body = json!({"id": "x", "name": "x", "kind": "api", "domain": "finance",
        "environment": "p", "location": "l"});
        hub.post("/api/v1/ops/services", INFOTECH, body)
            .await
            .problem(403);
        let p = hub
            .post(
                "/api/v1/ops/deployments",
                INFOTECH,
                json!({"service_id": "fin-api", "version": "1", "outcome": "succeeded"}),
            )
            .await
            .problem(403);
        assert_eq!(p["detail"], "forbidden: no access to domain finance");
        hub.get("/api/v1/ops/deployments?service=fin-api", INFOTECH)
            .await
            .problem(404);
    }
);

const INVENTORY: &str = r#"
version: 1
services:
  - id: web
    name: Web
    kind: frontend
    domain: infotech
    environment: production
    location: eu-1
    lifecycle: active
    depends_on: [api]
  - id: api
    name: API
    kind: api
    domain: infotech
    environment: production
    location: eu-1
    health_url: https://api.example/healthz
    tags: [tier-1]
    lifecycle: active
"#;

both!(
    an_inventory_file_is_imported_by_id_and_exported_alike,
    |hub: TestHub| async move {
        let report = hub
            .post_text("/api/v1/ops/services/import", ADMIN, INVENTORY)
            .await
            .expect(200)
            .json;
        assert_eq!(
            report,
            json!({"created": ["web", "api"], "updated": [], "unchanged": []})
        );
        let again = INVENTORY.replace(
            "location: eu-1\n    lifecycle: active\n    depends_on",
            "location: eu-2\n    lifecycle: active\n    depends_on",
        );
        let report = hub
            .post_text("/api/v1/ops/services/import", ADMIN, &again)
            .await
            .expect(200)
            .json;
        assert_eq!(
            report,
            json!({"created": [], "updated": ["web"], "unchanged": ["api"]})
        );

        let yaml = hub
            .get("/api/v1/ops/services/export", ADMIN)
            .await
            .expect(200);
        assert_eq!(yaml.headers["content-type"], "application/yaml");
        let json_doc = hub
            .get("/api/v1/ops/services/export?format=json", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(json_doc["version"], 1);
        assert_eq!(json_doc["services"][1]["id"], "web");
        assert_eq!(json_doc["services"][1]["location"], "eu-2");
        // Export is import's format: re-importing either changes nothing.
        let report = hub
            .post_text("/api/v1/ops/services/import", ADMIN, &yaml.text)
            .await
            .expect(200)
            .json;
        assert_eq!(report["unchanged"], json!(["api", "web"]));
        let report = hub
            .post_text("/api/v1/ops/services/import", ADMIN, &json_doc.to_string())
            .await
            .expect(200)
            .json;
        assert_eq!(report["unchanged"], json!(["api", "web"]));
    }
);

both!(
    a_bad_inventory_file_stores_nothing,
    |hub: TestHub| async move {
        let cases = [
            ("version: 1\nservices: [", 400, "file"),
            ("version: 9\nservices: []", 400, "version"),
            (
                "version: 1\nservices:\n  - id: a\n    name: A\n",
                400,
                "file",
            ),
            (
                "version: 1\nservices:\n  - {id: a, name: A, kind: k, domain: infotech, environment: p, location: l}\n  - {id: b, name: B, kind: k, domain: infotech, environment: p, location: l, health_url: 'gopher://b'}",
                422,
                "services[1].health_url",
            ),
            (
                "version: 1\nservices:\n  - {id: a, name: A, kind: k, domain: infotech, environment: p, location: l, depends_on: [b]}\n  - {id: b, name: B, kind: k, domain: infotech, environment: p, location: l, depends_on: [a]}",
                422,
                "services[0].depends_on",
            ),
            (
                "version: 1\nservices:\n  - {id: a, name: A, kind: k, domain: infotech, environment: p, location: l}\n  - {id: a, name: A, kind: k, domain: infotech, environment: p, location: l}",
                422,
                "services[1].id",
            ),
        ];
        for (text, status, field) in cases {
            let p = hub
                .post_text("/api/v1/ops/services/import", ADMIN, text)
                .await
                .problem(status);
            assert_eq!(Res::fields(&p), [field], "{p}");
        }
        let list = hub
            .get("/api/v1/ops/services", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"], json!([]));
        assert_eq!(hub.outbox_count("ops_service.created").await, 0);
    }
);
