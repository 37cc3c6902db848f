//! Federation across hubs: capability requests routed to the providing hub with their status
//! flowing back, over the in-process bus and over a real nats-server.

use std::sync::Arc;
use std::time::Duration;

use hub_core::bus::Bus;
use serde_json::{Value, json};

use crate::bus::{WAIT, memory_bus, nats_bus};
use crate::nats_server::NatsServer;
use crate::support::{ADMIN, Backend, Res, TestHub, eventually};

const ALICE: &str = "sub=alice;roles=hub:write;kind=agent";
const BOB: &str = "sub=bob;roles=hub:write;kind=agent";

/// A hub on `bus` that gives up on other hubs after `timeout`.
async fn hub(backend: Backend, name: &str, bus: Arc<dyn Bus>, timeout: Duration) -> TestHub {
    TestHub::on_bus(backend, name, Vec::new(), bus, |c| {
        c.nats.request_timeout = timeout
    })
    .await
}

/// Asks for a capability at `dev`, retrying while the responder of its hub is not yet
/// registered (on a real server a subscription takes a moment to reach it).
pub(crate) async fn request_at(dev: &TestHub, body: Value) -> Res {
    let deadline = tokio::time::Instant::now() + WAIT;
    loop {
        let res = dev
            .post("/api/v1/capability-requests", ALICE, body.clone())
            .await;
        let not_yet = res.status == 422
            && res.json["detail"]
                .as_str()
                .is_some_and(|d| d.contains("answers for capability"));
        if !not_yet || tokio::time::Instant::now() > deadline {
            return res;
        }
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
}

async fn status_at(hub: &TestHub, token: &str, id: &str) -> Value {
    hub.get(&format!("/api/v1/capability-requests/{id}"), token)
        .await
        .expect(200)
        .json
}

async fn routes_capability_requests(dev_bus: Arc<dyn Bus>, ops_bus: Arc<dyn Bus>) {
    let timeout = Duration::from_millis(800);
    let dev = hub(Backend::Sqlite, "dev", dev_bus.clone(), timeout).await;
    let ops = hub(Backend::Postgres, "ops", ops_bus, timeout).await;
    ops.post(
        "/api/v1/capabilities",
        BOB,
        json!({"name": "ops.deploy", "description": "deploys a service"}),
    )
    .await
    .expect(201);

    let created = request_at(
        &dev,
        json!({"capability": "ops.deploy@ops", "input": {"service": "api"}, "note": "today"}),
    )
    .await
    .expect(201)
    .json;
    let id = created["id"].as_str().unwrap().to_owned();
    assert_eq!(created["capability"], "ops.deploy@ops");
    assert_eq!(created["requester"], "alice");
    assert_eq!(created["provider"], "bob@ops");
    assert_eq!(created["status"], "requested");

    // The request lives at ops, made by alice at dev whatever the body could claim.
    let there = status_at(&ops, BOB, &id).await;
    assert_eq!(there["requester"], "alice@dev");
    assert_eq!(there["provider"], "bob");
    assert_eq!(there["capability"], "ops.deploy");
    assert_eq!(there["input"], json!({"service": "api"}));
    assert_eq!(there["note"], "today");

    // The mirror's status is the provider's to change.
    let refused = dev
        .post(
            &format!("/api/v1/capability-requests/{id}/status"),
            ALICE,
            json!({"status": "cancelled"}),
        )
        .await
        .problem(409);
    assert!(
        refused["detail"]
            .as_str()
            .unwrap()
            .contains("lives at hub ops")
    );

    ops.post(
        &format!("/api/v1/capability-requests/{id}/accept"),
        BOB,
        json!({}),
    )
    .await
    .expect(200);
    for (status, result) in [
        ("in_progress", None),
        ("fulfilled", Some(json!({"url": "u"}))),
    ] {
        let mut body = json!({"status": status});
        if let Some(r) = result {
            body["result"] = r;
        }
        ops.post(
            &format!("/api/v1/capability-requests/{id}/status"),
            BOB,
            body,
        )
        .await
        .expect(200);
    }
    eventually("the fulfilled status at dev", WAIT, || async {
        status_at(&dev, ALICE, &id).await["status"] == "fulfilled"
    })
    .await;
    assert_eq!(
        status_at(&dev, ALICE, &id).await["result"],
        json!({"url": "u"})
    );
    assert_eq!(
        dev.events("capability_request.status_changed").await.len(),
        3,
        "each move mirrored once"
    );

    // No such capability at the provider, no such hub, a malformed address.
    for (capability, says) in [
        ("ops.nothing@ops", "unknown capability ops.nothing at ops"),
        (
            "ops.deploy@nohub",
            "no hub nohub answers for capability ops.deploy@nohub",
        ),
        (
            "ops.deploy@No Hub",
            "must be a capability name, optionally followed by @hub",
        ),
        (
            "@ops",
            "must be a capability name, optionally followed by @hub",
        ),
    ] {
        let p = dev
            .post(
                "/api/v1/capability-requests",
                ALICE,
                json!({"capability": capability}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["capability"], "{capability}");
        assert!(p.to_string().contains(says), "{capability}: {p}");
    }

    // A hub that never answers is a bounded 503, not a hang.
    let mut silent = dev_bus.serve(&hub_core::capability::bus::request_subject("slow"), "slow");
    let started = tokio::time::Instant::now();
    let p = request_at(&dev, json!({"capability": "x@slow"}))
        .await
        .problem(503);
    assert!(started.elapsed() < timeout * 4, "bounded by the timeout");
    assert!(
        p["detail"]
            .as_str()
            .unwrap()
            .contains("hub slow did not answer for capability x@slow within 800 ms"),
        "{p}"
    );
    silent.close();

    // Nothing half-written: only the one routed request exists at either hub.
    let mine = dev
        .get("/api/v1/capability-requests", ALICE)
        .await
        .expect(200)
        .json;
    assert_eq!(mine["items"].as_array().unwrap().len(), 1);
    let theirs = ops
        .get("/api/v1/capability-requests", BOB)
        .await
        .expect(200)
        .json;
    assert_eq!(theirs["items"].as_array().unwrap().len(), 1);
}

#[tokio::test]
async fn capability_requests_are_routed_over_the_in_process_bus() {
    let bus = memory_bus();
    routes_capability_requests(bus.clone(), bus).await;
}

#[tokio::test]
async fn capability_requests_are_routed_over_nats() {
    let server = NatsServer::start().await;
    routes_capability_requests(
        nats_bus(&server, "dev").await,
        nats_bus(&server, "ops").await,
    )
    .await;
}

async fn alerts_at(hub: &TestHub, query: &str) -> Value {
    hub.get(&format!("/api/v1/federation/alerts{query}"), ADMIN)
        .await
        .expect(200)
        .json
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn shares_risks_and_alerts(dev_bus: Arc<dyn Bus>, ops_bus: Arc<dyn Bus>) {
    let timeout = Duration::from_secs(5);
    let dev = hub(Backend::Postgres, "dev", dev_bus, timeout).await;
    let ops = hub(Backend::Sqlite, "ops", ops_bus, timeout).await;
    for (at, body) in [
        (
            &ops,
            json!({"event_type": "alert_raised", "key": "disk", "summary": "disk 90%", "severity": "high"}),
        ),
        (
            &ops,
            json!({"event_type": "risk_surfaced", "key": "vendor", "summary": "vendor late", "severity": "medium"}),
        ),
        (
            &ops,
            json!({"event_type": "alert_resolved", "key": "disk", "summary": "cleaned up", "severity": "low"}),
        ),
        (
            &dev,
            json!({"event_type": "risk_escalated", "key": "scope", "summary": "scope creep", "severity": "high"}),
        ),
        (
            &dev,
            json!({"event_type": "task_done", "summary": "not a signal", "severity": "low"}),
        ),
    ] {
        at.post("/api/v1/events", ADMIN, body).await.expect(201);
    }
    let all = ["dev:risk:scope", "ops:alert:disk", "ops:risk:vendor"];
    for hub in [&dev, &ops] {
        // The disk alert's raise and resolution arrive one after the other: wait for the last.
        eventually("every hub's latest signals in the view", WAIT, || async {
            let page = alerts_at(hub, "").await;
            ids(&page) == all && page["items"][1]["state"] == "resolved"
        })
        .await;
    }
    let page = alerts_at(&dev, "").await;
    let disk = &page["items"][1];
    assert_eq!(disk["state"], "resolved");
    assert_eq!(disk["summary"], "cleaned up");
    assert_eq!(disk["event_type"], "alert_resolved");
    assert_eq!(page["items"][0]["escalated"], true);
    assert_eq!(
        ids(&alerts_at(&dev, "?state=open").await),
        ["dev:risk:scope", "ops:risk:vendor"]
    );
    assert_eq!(
        ids(&alerts_at(&dev, "?state=closed").await),
        ["ops:alert:disk"]
    );

    let first = alerts_at(&dev, "?limit=2").await;
    assert_eq!(ids(&first), all[..2]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let rest = alerts_at(&dev, &format!("?limit=2&cursor={cursor}")).await;
    assert_eq!(ids(&rest), all[2..]);
    assert_eq!(rest["next_cursor"], Value::Null);

    let bad = dev
        .get("/api/v1/federation/alerts?state=maybe", ADMIN)
        .await
        .problem(400);
    assert!(bad.to_string().contains("unknown variant `maybe`"), "{bad}");
    dev.get("/api/v1/federation/alerts?cursor=%%%", ADMIN)
        .await
        .problem(400);
    dev.get("/api/v1/federation/alerts", "sub=nobody;roles=")
        .await
        .problem(403);
}

#[tokio::test]
async fn risks_and_alerts_reach_every_hub_over_the_in_process_bus() {
    let bus = memory_bus();
    shares_risks_and_alerts(bus.clone(), bus).await;
}

#[tokio::test]
async fn risks_and_alerts_reach_every_hub_over_nats() {
    let server = NatsServer::start().await;
    shares_risks_and_alerts(
        nats_bus(&server, "dev").await,
        nats_bus(&server, "ops").await,
    )
    .await;
}
