//! Progress events over REST, the risk and alert views, and the service fns the MCP layer reuses.

use hub_core::auth::{Principal, PrincipalKind};
use hub_core::progress::model::{Severity, State, StateKind};
use hub_core::progress::service;
use serde_json::{Value, json};

use crate::both;
use crate::support::{ADMIN, Res, TestHub};

const FIN_AGENT: &str = "sub=fin-bot;roles=hub:write;domains=finance;kind=agent";

async fn event(hub: &TestHub, token: &str, body: Value) -> Value {
    hub.post("/api/v1/events", token, body)
        .await
        .expect(201)
        .json
}

fn field<'a>(page: &'a Value, name: &str) -> Vec<&'a str> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i[name].as_str().unwrap_or("-"))
        .collect()
}

async fn open(hub: &TestHub, kind: StateKind, domain: Option<&str>) -> u64 {
    service::count_open(&hub.ctx().db, kind, domain)
        .await
        .unwrap()
}

both!(
    events_are_listed_newest_first_with_filters,
    |hub: TestHub| async move {
        hub.domains(&["finance", "infotech"]).await;
        let first = event(
            &hub,
            ADMIN,
            json!({"event_type": "deploy_done", "domain": "infotech", "summary": "api v2 live",
               "subject_refs": {"service": "api"}}),
        )
        .await;
        assert_eq!(first["actor"], "admin");
        assert_eq!(first["severity"], "info");
        assert_eq!(first["subject_refs"], json!({"service": "api"}));
        assert!(first.get("state").is_none());
        let after_first = first["time"].as_str().unwrap().to_owned();
        event(
            &hub,
            FIN_AGENT,
            json!({"event_type": "budget_checked", "domain": "finance",
        "summary": "on track", "severity": "low"}),
        )
        .await;
        event(
            &hub,
            ADMIN,
            json!({"event_type": "deploy_done", "summary": "hub-wide"}),
        )
        .await;

        let all = hub.get("/api/v1/events", ADMIN).await.expect(200);
        assert_eq!(
            field(&all.json, "summary"),
            ["hub-wide", "on track", "api v2 live"]
        );
        let deploys = hub
            .get("/api/v1/events?type=deploy_done", ADMIN)
            .await
            .expect(200);
        assert_eq!(field(&deploys.json, "summary"), ["hub-wide", "api v2 live"]);
        let fin = hub
            .get("/api/v1/events?domain=finance", ADMIN)
            .await
            .expect(200);
        assert_eq!(field(&fin.json, "actor"), ["fin-bot"]);
        let since = hub
            .get(
                &format!("/api/v1/events?since={}", after_first.replace('+', "%2B")),
                ADMIN,
            )
            .await
            .expect(200);
        assert_eq!(since.json["items"].as_array().unwrap().len(), 3);
        let future = hub
            .get("/api/v1/events?since=2999-01-01T00:00:00Z", ADMIN)
            .await
            .expect(200);
        assert_eq!(future.json["items"], json!([]));

        let p1 = hub.get("/api/v1/events?limit=2", ADMIN).await.expect(200);
        assert_eq!(field(&p1.json, "summary"), ["hub-wide", "on track"]);
        let cursor = p1.json["next_cursor"].as_str().unwrap().to_owned();
        let p2 = hub
            .get(&format!("/api/v1/events?limit=2&cursor={cursor}"), ADMIN)
            .await
            .expect(200);
        assert_eq!(field(&p2.json, "summary"), ["api v2 live"]);
        assert!(p2.json["next_cursor"].is_null());

        let p = hub
            .get("/api/v1/events?since=yesterday", ADMIN)
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["since"]);
        let p = hub
            .get("/api/v1/events?cursor=%%%", ADMIN)
            .await
            .problem(400);
        assert!(!Res::fields(&p).is_empty());
        let p = hub
            .get("/api/v1/events?cursor=bm9wZQ", ADMIN)
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["cursor"]);
        assert_eq!(hub.outbox_count("progress.recorded").await, 3);
    }
);

both!(alert_lifecycle, |hub: TestHub| async move {
    hub.domains(&["finance"]).await;
    let key = "budget:finance:2026-11:90";
    let raised = event(
        &hub,
        ADMIN,
        json!({"event_type": "alert_raised", "key": key,
        "domain": "finance", "summary": "90% of budget spent", "severity": "low"}),
    )
    .await;
    assert_eq!(raised["state"]["state"], "open");
    // Raising an open alert again records the event but keeps one alert, at the higher severity.
    let again = event(
        &hub,
        FIN_AGENT,
        json!({"event_type": "alert_raised", "key": key,
        "summary": "95% of budget spent", "severity": "high"}),
    )
    .await;
    assert_eq!(
        again["domain"], "finance",
        "the open alert's domain is inherited"
    );
    event(
        &hub,
        ADMIN,
        json!({"event_type": "alert_raised", "key": key,
        "summary": "still 95%", "severity": "medium"}),
    )
    .await;
    let alerts = hub.get("/api/v1/alerts", ADMIN).await.expect(200);
    let items = alerts.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    let a = &items[0];
    assert_eq!(
        (
            a["key"].as_str(),
            a["state"].as_str(),
            a["severity"].as_str()
        ),
        (Some(key), Some("open"), Some("high"))
    );
    assert_eq!(a["event_count"], 3);
    assert_eq!(a["summary"], "still 95%");
    assert_eq!(a["last_actor"], "admin");
    assert_eq!(a["opened_at"], raised["time"]);
    assert_eq!(open(&hub, StateKind::Alert, Some("finance")).await, 1);

    let ack = event(
        &hub,
        FIN_AGENT,
        json!({"event_type": "alert_acknowledged", "key": key,
        "summary": "looking into it"}),
    )
    .await;
    assert_eq!(ack["state"]["state"], "acknowledged");
    let still_open = hub
        .get("/api/v1/alerts?status=open", ADMIN)
        .await
        .expect(200);
    assert_eq!(field(&still_open.json, "state"), ["acknowledged"]);
    event(
        &hub,
        ADMIN,
        json!({"event_type": "alert_resolved", "key": key,
        "summary": "budget raised"}),
    )
    .await;
    assert_eq!(
        hub.get("/api/v1/alerts", ADMIN).await.expect(200).json["items"],
        json!([])
    );
    let closed = hub
        .get("/api/v1/alerts?status=closed", ADMIN)
        .await
        .expect(200);
    assert_eq!(field(&closed.json, "state"), ["resolved"]);
    assert_eq!(closed.json["items"][0]["severity"], "high");
    assert_eq!(open(&hub, StateKind::Alert, None).await, 0);

    for (event_type, k) in [
        ("alert_acknowledged", key),
        ("alert_resolved", key),
        ("alert_acknowledged", "never-raised"),
    ] {
        let p = hub
            .post(
                "/api/v1/events",
                ADMIN,
                json!({"event_type": event_type, "key": k,
                "summary": "x"}),
            )
            .await
            .problem(409);
        assert!(p["detail"].as_str().unwrap().contains(k), "{p}");
    }
    // A different domain for an open key is a conflict, not a silent move.
    hub.domains(&["infotech"]).await;
    event(
        &hub,
        ADMIN,
        json!({"event_type": "alert_raised", "key": "disk", "domain": "infotech",
        "summary": "disk 90%"}),
    )
    .await;
    hub.post(
        "/api/v1/events",
        ADMIN,
        json!({"event_type": "alert_raised", "key": "disk",
        "domain": "finance", "summary": "x"}),
    )
    .await
    .problem(409);
    assert_eq!(hub.outbox_count("progress.recorded").await, 6);
    let all = hub
        .get("/api/v1/events?type=alert_raised", ADMIN)
        .await
        .expect(200);
    assert_eq!(all.json["items"].as_array().unwrap().len(), 4);
});

both!(risk_lifecycle_and_escalation, |hub: TestHub| async move {
    hub.domains(&["infotech"]).await;
    let surfaced = event(
        &hub,
        ADMIN,
        json!({"event_type": "risk_surfaced", "key": "vendor-lock",
        "domain": "infotech", "summary": "single cloud", "severity": "medium",
        "subject_refs": {"task": "T1"}}),
    )
    .await;
    assert_eq!(surfaced["state"]["escalated"], false);
    let esc = event(
        &hub,
        ADMIN,
        json!({"event_type": "risk_escalated", "key": "vendor-lock",
        "summary": "contract renewal in 30 days", "severity": "critical"}),
    )
    .await;
    assert_eq!(esc["state"]["escalated"], true);
    assert_eq!(esc["state"]["severity"], "critical");
    event(
        &hub,
        ADMIN,
        json!({"event_type": "risk_surfaced", "key": "vendor-lock",
        "summary": "still there", "severity": "low"}),
    )
    .await;
    let risks = hub.get("/api/v1/risks", ADMIN).await.expect(200);
    let r = &risks.json["items"][0];
    assert_eq!(
        (
            r["state"].as_str(),
            r["severity"].as_str(),
            r["escalated"].as_bool()
        ),
        (Some("open"), Some("critical"), Some(true))
    );
    assert_eq!(r["event_count"], 3);
    assert_eq!(open(&hub, StateKind::Risk, Some("infotech")).await, 1);

    let m = event(
        &hub,
        ADMIN,
        json!({"event_type": "risk_mitigated", "key": "vendor-lock",
        "summary": "second provider"}),
    )
    .await;
    assert_eq!(m["state"]["state"], "mitigated");
    let p = hub
        .post(
            "/api/v1/events",
            ADMIN,
            json!({"event_type": "risk_mitigated",
        "key": "vendor-lock", "summary": "again"}),
        )
        .await
        .problem(409);
    assert!(p["detail"].as_str().unwrap().contains("vendor-lock"));
    hub.post(
        "/api/v1/events",
        ADMIN,
        json!({"event_type": "risk_mitigated",
        "key": "unknown-risk", "summary": "x"}),
    )
    .await
    .problem(409);
    assert_eq!(open(&hub, StateKind::Risk, None).await, 0);
    let all = hub.get("/api/v1/risks?status=all", ADMIN).await.expect(200);
    assert_eq!(field(&all.json, "state"), ["mitigated"]);

    // Surfacing a mitigated risk opens a new period with fresh severity and escalation.
    let again = event(
        &hub,
        ADMIN,
        json!({"event_type": "risk_surfaced", "key": "vendor-lock",
        "domain": "infotech", "summary": "back", "severity": "low"}),
    )
    .await;
    let s = &again["state"];
    assert_eq!(
        (
            s["state"].as_str(),
            s["severity"].as_str(),
            s["escalated"].as_bool()
        ),
        (Some("open"), Some("low"), Some(false))
    );
    assert_eq!(s["opened_at"], again["time"]);
    assert_eq!(s["event_count"], 5);
});

both!(
    domain_limited_principals_are_refused_and_filtered,
    |hub: TestHub| async move {
        hub.domains(&["finance", "infotech"]).await;
        event(
            &hub,
            ADMIN,
            json!({"event_type": "alert_raised", "key": "it-down", "domain": "infotech",
        "summary": "it down"}),
        )
        .await;
        event(
            &hub,
            ADMIN,
            json!({"event_type": "risk_surfaced", "key": "it-risk", "domain": "infotech",
        "summary": "it risk"}),
        )
        .await;
        event(
            &hub,
            ADMIN,
            json!({"event_type": "note", "summary": "hub-wide"}),
        )
        .await;
        event(
            &hub,
            FIN_AGENT,
            json!({"event_type": "alert_raised", "key": "fin-low", "domain": "finance",
        "summary": "fin low"}),
        )
        .await;

        hub.post(
            "/api/v1/events",
            FIN_AGENT,
            json!({"event_type": "note", "domain": "infotech",
        "summary": "x"}),
        )
        .await
        .problem(403);
        hub.post(
            "/api/v1/events",
            FIN_AGENT,
            json!({"event_type": "alert_acknowledged",
        "key": "it-down", "summary": "x"}),
        )
        .await
        .problem(403);
        let p = hub
            .post(
                "/api/v1/events",
                FIN_AGENT,
                json!({"event_type": "note", "summary": "x"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["domain"]);
        hub.post(
            "/api/v1/events",
            "sub=r;roles=hub:read",
            json!({"event_type": "note",
        "summary": "x"}),
        )
        .await
        .problem(403);

        let events = hub.get("/api/v1/events", FIN_AGENT).await.expect(200);
        assert_eq!(field(&events.json, "summary"), ["fin low"]);
        let alerts = hub.get("/api/v1/alerts", FIN_AGENT).await.expect(200);
        assert_eq!(field(&alerts.json, "key"), ["fin-low"]);
        let risks = hub.get("/api/v1/risks", FIN_AGENT).await.expect(200);
        assert_eq!(risks.json["items"], json!([]));
        hub.get("/api/v1/alerts?domain=infotech", FIN_AGENT)
            .await
            .problem(403);
        hub.get("/api/v1/events?domain=infotech", FIN_AGENT)
            .await
            .problem(403);
        let it = hub.get("/api/v1/alerts", ADMIN).await.expect(200);
        assert_eq!(field(&it.json, "state"), ["open", "open"]);
        assert_eq!(hub.outbox_count("progress.recorded").await, 4);
    }
);

both!(
    bad_input_gets_4xx_and_writes_nothing,
    |hub: TestHub| async move {
        hub.domains(&["finance"]).await;
        for (body, field) in [
            (json!({"event_type": 5, "summary": "x"}), "event_type"),
            (json!({"event_type": "note", "summary": ["x"]}), "summary"),
            (
                json!({"event_type": "note", "summary": "x", "severity": "urgent"}),
                "severity",
            ),
            (
                json!({"event_type": "note", "summary": "x", "subject_refs": ["T1"]}),
                "subject_refs",
            ),
            (
                json!({"event_type": "note", "summary": "x", "key": 7}),
                "key",
            ),
        ] {
            let p = hub.post("/api/v1/events", ADMIN, body).await.problem(400);
            assert_eq!(Res::fields(&p), [field], "{p}");
        }
        for (body, missing) in [
            (json!({"event_type": "note"}), "summary"),
            (json!({"summary": "x"}), "event_type"),
            (
                json!({"event_type": "note", "summary": "x", "actor": "mallory"}),
                "actor",
            ),
        ] {
            let p = hub.post("/api/v1/events", ADMIN, body).await.problem(400);
            assert!(p["detail"].as_str().unwrap().contains(missing), "{p}");
        }
        for (body, fields) in [
            (
                json!({"event_type": "Deploy-Done", "summary": " "}),
                vec!["event_type", "summary"],
            ),
            (
                json!({"event_type": "alert_raised", "summary": "x"}),
                vec!["key"],
            ),
            (
                json!({"event_type": "risk_surfaced", "summary": "x", "key": ""}),
                vec!["key"],
            ),
            (
                json!({"event_type": "note", "summary": "x", "domain": "nowhere"}),
                vec!["domain"],
            ),
        ] {
            let p = hub.post("/api/v1/events", ADMIN, body).await.problem(422);
            assert_eq!(Res::fields(&p), fields, "{p}");
        }
        let p = hub
            .get("/api/v1/alerts?status=stale", ADMIN)
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["query"]);
        hub.get("/api/v1/risks?cursor=!", ADMIN).await.problem(400);
        hub.get("/api/v1/risks?limit=0", ADMIN).await.problem(400);

        assert_eq!(
            hub.get("/api/v1/events", ADMIN).await.expect(200).json["items"],
            json!([])
        );
        assert_eq!(hub.outbox_count("progress.recorded").await, 0);
        assert_eq!(open(&hub, StateKind::Alert, None).await, 0);
    }
);

both!(service_fns_for_the_mcp_layer, |hub: TestHub| async move {
    hub.domains(&["finance"]).await;
    let ctx = hub.ctx();
    let who = Principal {
        sub: "ops-agent".into(),
        kind: PrincipalKind::Agent,
        roles: vec!["hub:write".into()],
        domains: None,
    };
    let raised = service::raise_alert(
        ctx,
        &who,
        "runway",
        "runway below 3 months",
        Severity::High,
        Some("finance"),
    )
    .await
    .unwrap();
    let state = raised.state.unwrap();
    assert_eq!(
        (state.state, state.severity, state.kind),
        (State::Open, Severity::High, StateKind::Alert)
    );
    service::raise_alert(ctx, &who, "runway", "again", Severity::Low, None)
        .await
        .unwrap();
    let ack = service::acknowledge_alert(ctx, &who, "runway", None)
        .await
        .unwrap();
    assert_eq!(ack.event.summary, "alert acknowledged");
    assert_eq!(ack.event.domain.as_deref(), Some("finance"));
    let open_alerts = service::list_alerts(
        ctx,
        &who,
        &Default::default(),
        &hub_core::api::page::PageRequest::first(10),
    )
    .await
    .unwrap();
    assert_eq!(open_alerts.items.len(), 1);
    assert_eq!(open_alerts.items[0].severity, Severity::High);
    assert_eq!(open_alerts.items[0].event_count, 3);
    let resolved = service::resolve_alert(ctx, &who, "runway", Some("funding closed"))
        .await
        .unwrap();
    assert_eq!(resolved.state.unwrap().state, State::Resolved);
    let err = service::resolve_alert(ctx, &who, "runway", None)
        .await
        .unwrap_err();
    assert!(
        matches!(err, hub_core::HubError::Conflict(ref m) if m.contains("runway")),
        "{err:?}"
    );
    let risks = service::list_risks(
        ctx,
        &who,
        &Default::default(),
        &hub_core::api::page::PageRequest::first(10),
    )
    .await
    .unwrap();
    assert!(risks.items.is_empty());
});

both!(
    tracked_alerts_follow_their_condition_inside_the_callers_transaction,
    |hub: TestHub| async move {
        use service::{AlertCondition, alert_is_open, track_alert};
        hub.domains(&["finance"]).await;
        let ctx = hub.ctx();
        let who = Principal::hub_itself("dev");
        let told = |holds, summary| AlertCondition {
            key: "fin.pressure.finance",
            holds,
            summary,
            severity: Severity::Medium,
            domain: Some("finance"),
        };
        // A transaction dropped without commit leaves neither the alert nor its events.
        let mut tx = ctx.begin().await.unwrap();
        track_alert(&mut tx, &who, told(true, "over 80%"))
            .await
            .unwrap();
        drop(tx);
        assert!(
            !alert_is_open(&ctx.db, "fin.pressure.finance")
                .await
                .unwrap()
        );
        assert_eq!(hub.outbox_count("progress.recorded").await, 0);

        let mut steps = Vec::new();
        for (holds, summary) in [
            (true, "over 80%"),
            (true, "still over 80%"),
            (false, "back at 9%"),
            (false, "back at 9%"),
        ] {
            let mut tx = ctx.begin().await.unwrap();
            let recorded = track_alert(&mut tx, &who, told(holds, summary))
                .await
                .unwrap();
            tx.commit().await.unwrap();
            steps.push(recorded.map(|r| {
                let state = r.state.unwrap();
                (r.event.event_type, state.state, state.event_count)
            }));
        }
        assert_eq!(
            steps,
            [
                Some(("alert_raised".to_owned(), State::Open, 1)),
                Some(("alert_raised".to_owned(), State::Open, 2)),
                Some(("alert_resolved".to_owned(), State::Resolved, 3)),
                None,
            ],
            "a repeat while open, then one resolution; a second clearing changes nothing"
        );
        assert_eq!(hub.outbox_count("progress.recorded").await, 3);
        assert_eq!(hub.outbox_count("sig.alert").await, 3);
        let alert = hub
            .get("/api/v1/alerts?status=all", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(
            (
                &alert["items"][0]["summary"],
                &alert["items"][0]["last_actor"]
            ),
            (&json!("back at 9%"), &json!("dev-hub"))
        );
    }
);

#[tokio::test]
async fn openapi_documents_the_routes_and_filters() {
    let hub = TestHub::new(crate::support::Backend::Sqlite).await;
    let doc = hub
        .call(axum::http::Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .expect(200)
        .json;
    for path in [
        "/api/v1/events",
        "/api/v1/risks",
        "/api/v1/alerts",
        "/api/v1/services",
        "/api/v1/services/{id}",
        "/api/v1/services/ingest",
        "/api/v1/gdpr-report",
    ] {
        assert!(doc["paths"][path].is_object(), "{path} missing");
    }
    let params: Vec<&str> = doc["paths"]["/api/v1/events"]["get"]["parameters"]
        .as_array()
        .unwrap()
        .iter()
        .map(|p| p["name"].as_str().unwrap())
        .collect();
    assert_eq!(params, ["limit", "cursor", "domain", "type", "since"]);
}
