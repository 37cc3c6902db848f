//! The hub at a glance and a domain at a glance, counted from every resource.

use serde_json::json;

use crate::both;
use crate::support::{ADMIN, TestHub};

/// Puts one of everything into `domain`, and an extra open alert.
async fn populate(hub: &TestHub, domain: &str) {
    hub.post(
        "/api/v1/messages",
        ADMIN,
        json!({"recipients": ["alice"], "subject": "s", "body": "b", "domain": domain}),
    )
    .await
    .expect(201);
    hub.post(
        "/api/v1/capabilities",
        ADMIN,
        json!({"name": format!("{domain}.audit"), "description": "audit", "domain": domain}),
    )
    .await
    .expect(201);
    hub.post(
        "/api/v1/capability-requests",
        "sub=alice;roles=hub:write",
        json!({"capability": format!("{domain}.audit")}),
    )
    .await
    .expect(201);
    hub.post(
        "/api/v1/repos",
        ADMIN,
        json!({"domain": domain, "name": "books", "location": "/srv/books"}),
    )
    .await
    .expect(201);
    hub.post("/api/v1/services", ADMIN, json!({"name": format!("{domain}-crm"), "domain": domain, "region": "EU", "dpa_in_place": true}))
        .await
        .expect(201);
    for (event_type, key) in [
        ("risk_surfaced", "r1"),
        ("alert_raised", "a1"),
        ("alert_raised", "a2"),
    ] {
        let key = format!("{domain}:{key}");
        hub.post(
            "/api/v1/events",
            ADMIN,
            json!({"event_type": event_type, "domain": domain, "summary": "x", "key": key}),
        )
        .await
        .expect(201);
    }
    hub.post("/api/v1/events", ADMIN, json!({"event_type": "alert_resolved", "domain": domain, "summary": "x", "key": format!("{domain}:a2")}))
        .await
        .expect(201);
}

both!(
    domain_and_state_summaries_count_every_resource,
    |hub: TestHub| async move {
        hub.domains(&["finance", "infotech"]).await;
        populate(&hub, "finance").await;
        populate(&hub, "infotech").await;

        let s = hub
            .get("/api/v1/domains/finance/summary", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(s["domain"]["slug"], "finance");
        assert_eq!(
            s["counts"],
            json!({"messages": 1, "open_capability_requests": 1, "repos": 1, "services": 1, "open_risks": 1, "open_alerts": 1})
        );

        let all = hub
            .get("/api/v1/state-summary", "sub=alice;roles=hub:read")
            .await
            .expect(200)
            .json;
        assert_eq!(all["hub"], "dev");
        assert_eq!(all["domains"], 2);
        assert_eq!(all["counts"]["messages"], 2);
        assert_eq!(all["counts"]["open_alerts"], 2);
        assert_eq!(
            all["unread_messages"], 2,
            "alice got one message per domain"
        );

        let limited = hub
            .get(
                "/api/v1/state-summary",
                "sub=bob;roles=hub:read;domains=finance",
            )
            .await
            .expect(200)
            .json;
        assert_eq!(limited["domains"], 1);
        assert_eq!(limited["counts"]["messages"], 1);
        assert_eq!(limited["counts"]["repos"], 1);
        assert_eq!(limited["unread_messages"], 0);
        hub.get(
            "/api/v1/domains/infotech/summary",
            "sub=bob;roles=hub:read;domains=finance",
        )
        .await
        .problem(404);
        hub.get("/api/v1/domains/nowhere/summary", ADMIN)
            .await
            .problem(404);
    }
);
