//! Bad input of every kind gets the right 4xx problem document, never a 5xx.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::json;

use crate::support::{ADMIN, Backend, Res, TestHub};

#[tokio::test]
async fn malformed_json_wrong_types_and_missing_fields_are_400_naming_the_problem() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/domains")
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "application/json")
        .body(Body::from("{\"slug\": "))
        .unwrap();
    let p = hub.send(req).await.problem(400);
    assert!(
        p["detail"].as_str().unwrap().to_lowercase().contains("eof"),
        "{p}"
    );

    let p = hub
        .post("/api/v1/domains", ADMIN, json!({"slug": 5, "name": "x"}))
        .await
        .problem(400);
    assert_eq!(Res::fields(&p), ["slug"]);
    let p = hub
        .post("/api/v1/domains", ADMIN, json!({"name": "x"}))
        .await
        .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("slug"), "{p}");
    let p = hub
        .post(
            "/api/v1/domains",
            ADMIN,
            json!({"slug": "a", "name": "x", "colour": 1}),
        )
        .await
        .problem(400);
    assert!(p["detail"].as_str().unwrap().contains("colour"), "{p}");
}

#[tokio::test]
async fn oversized_bodies_are_413() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let big = "x".repeat(2 * 1024 * 1024);
    let p = hub
        .post("/api/v1/domains", ADMIN, json!({"slug": "a", "name": big}))
        .await
        .problem(413);
    assert!(p["detail"].as_str().unwrap().contains("limit"));
}

#[tokio::test]
async fn bad_cursors_limits_unknown_ids_and_routes() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let p = hub
        .get("/api/v1/domains?cursor=garbage!", ADMIN)
        .await
        .problem(400);
    assert_eq!(Res::fields(&p), ["cursor"]);
    let p = hub
        .get("/api/v1/domains?limit=abc", ADMIN)
        .await
        .problem(400);
    assert_eq!(Res::fields(&p), ["query"]);
    hub.get("/api/v1/domains?limit=0", ADMIN).await.problem(400);
    hub.get("/api/v1/domains/nope", ADMIN).await.problem(404);
    hub.get("/api/v1/nothing-here", ADMIN).await.problem(404);
}

#[tokio::test]
async fn missing_or_bad_tokens_are_401_with_a_challenge() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let res = hub.call(Method::GET, "/api/v1/domains", None, None).await;
    assert!(
        res.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .starts_with("Bearer")
    );
    res.problem(401);
    let res = hub
        .call(Method::GET, "/api/v1/domains", Some("garbage"), None)
        .await;
    assert!(
        res.headers
            .get("www-authenticate")
            .unwrap()
            .to_str()
            .unwrap()
            .contains("invalid_token")
    );
    res.problem(401);
    let p = hub
        .get("/api/v1/domains", "sub=x;roles=")
        .await
        .problem(403);
    assert!(p["detail"].as_str().unwrap().contains("dev:read"));
}

#[tokio::test]
async fn public_routes_need_no_token() {
    let hub = TestHub::new(Backend::Sqlite).await;
    for path in ["/healthz", "/readyz", "/metrics", "/api/v1/openapi.json"] {
        let res = hub.call(Method::GET, path, None, None).await;
        assert_eq!(res.status, 200, "{path}: {}", res.text);
    }
    let doc = hub
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json;
    assert!(doc["openapi"].as_str().unwrap().starts_with("3.1"));
    assert!(doc["paths"]["/api/v1/domains"]["post"].is_object());
}

#[tokio::test]
async fn metrics_count_requests_per_route_template_and_show_the_outbox_depth() {
    let hub = TestHub::new(Backend::Sqlite).await;
    hub.post(
        "/api/v1/domains",
        ADMIN,
        json!({"slug": "finance", "name": "Finance"}),
    )
    .await
    .expect(201);
    hub.get("/api/v1/domains/finance", ADMIN).await.expect(200);
    hub.get("/api/v1/domains/nope", ADMIN).await.problem(404);
    let text = hub
        .call(Method::GET, "/metrics", None, None)
        .await
        .expect(200)
        .text;
    let line = |needle: &str| {
        text.lines()
            .find(|l| l.contains(needle) && !l.starts_with('#'))
            .map(str::to_owned)
    };
    let get_one = line(
        r#"hubmesh_http_requests_total{method="GET",route="/api/v1/domains/{slug}",status="200"}"#,
    )
    .expect("per-route counter");
    assert!(get_one.ends_with(" 1"), "{get_one}");
    assert!(
        line(r#"route="/api/v1/domains/{slug}",status="404"}"#).is_some_and(|l| l.ends_with(" 1"))
    );
    assert!(
        line("hubmesh_http_request_duration_seconds_bucket").is_some(),
        "latency histogram"
    );
    // One domain.created event is committed; the relay may already have published it.
    let depth = line("hubmesh_outbox_depth");
    assert!(
        matches!(
            depth.as_deref(),
            Some("hubmesh_outbox_depth 1" | "hubmesh_outbox_depth 0")
        ),
        "{depth:?}"
    );
    assert!(!text.contains("nope"), "raw paths never become labels");
}
