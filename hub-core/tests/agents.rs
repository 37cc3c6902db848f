//! Agent presence over REST: heartbeats, the online filter, events only on news.

use std::time::Duration;

use chrono::Utc;
use hub_core::agent::{model, service};
use sea_orm::sea_query::Expr;
use sea_orm::{ColumnTrait, EntityTrait, PaginatorTrait, QueryFilter};
use serde_json::json;

use crate::both;
use crate::support::{Res, TestHub};

const ALICE: &str = "sub=alice;roles=hub:read;kind=agent";
const BOB: &str = "sub=bob;roles=hub:write;kind=human";

/// Moves an agent's last heartbeat an hour back, as if it had gone quiet.
async fn go_quiet(hub: &TestHub, sub: &str) {
    model::Entity::update_many()
        .col_expr(
            model::Column::LastSeen,
            Expr::value(Utc::now() - chrono::Duration::hours(1)),
        )
        .filter(model::Column::Sub.eq(sub))
        .exec(&hub.ctx().db)
        .await
        .unwrap();
}

fn subs(page: &serde_json::Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["sub"].as_str().unwrap().to_owned())
        .collect()
}

both!(heartbeats_and_presence, |hub: TestHub| async move {
    let a = hub
        .post(
            "/api/v1/agents/heartbeat",
            ALICE,
            json!({"status": "working", "metadata": {"tokens": 5}}),
        )
        .await
        .expect(200);
    assert_eq!(a.json["id"], "alice");
    assert_eq!(a.json["kind"], "agent");
    assert_eq!(a.json["online"], true);
    assert_eq!(a.json["metadata"]["tokens"], 5);
    hub.post("/api/v1/agents/heartbeat", BOB, json!({}))
        .await
        .expect(200);
    // Absent fields keep their values.
    let again = hub
        .post("/api/v1/agents/heartbeat", ALICE, json!({}))
        .await
        .expect(200);
    assert_eq!(again.json["status"], "working");
    assert_eq!(again.json["metadata"]["tokens"], 5);
    assert_eq!(again.json["first_seen"], a.json["first_seen"]);

    let all = hub.get("/api/v1/agents", ALICE).await.expect(200);
    assert_eq!(subs(&all.json), ["alice", "bob"]);
    assert_eq!(all.json["items"][1]["kind"], "human");
    let p1 = hub.get("/api/v1/agents?limit=1", ALICE).await.expect(200);
    assert_eq!(subs(&p1.json), ["alice"]);
    let cursor = p1.json["next_cursor"].as_str().unwrap();
    let p2 = hub
        .get(&format!("/api/v1/agents?limit=1&cursor={cursor}"), ALICE)
        .await
        .expect(200);
    assert_eq!(subs(&p2.json), ["bob"]);
    assert!(p2.json["next_cursor"].is_null());

    go_quiet(&hub, "bob").await;
    let online = hub
        .get("/api/v1/agents?online=true", ALICE)
        .await
        .expect(200);
    assert_eq!(subs(&online.json), ["alice"]);
    let offline = hub
        .get("/api/v1/agents?online=false", ALICE)
        .await
        .expect(200);
    assert_eq!(subs(&offline.json), ["bob"]);
    assert_eq!(offline.json["items"][0]["online"], false);
    let timeout = Duration::from_secs(300);
    assert_eq!(
        service::count_online(&hub.ctx().db, timeout).await.unwrap(),
        1
    );
    assert_eq!(
        service::count_online(&hub.ctx().db, Duration::from_secs(7200))
            .await
            .unwrap(),
        2
    );
});

both!(
    events_only_when_online_or_status_changes,
    |hub: TestHub| async move {
        let beat = |status: Option<&str>| match status {
            Some(s) => json!({"status": s}),
            None => json!({}),
        };
        hub.post("/api/v1/agents/heartbeat", ALICE, beat(Some("idle")))
            .await
            .expect(200);
        assert_eq!(hub.outbox_count("agent.seen").await, 1, "came online");
        hub.post("/api/v1/agents/heartbeat", ALICE, beat(Some("idle")))
            .await
            .expect(200);
        hub.post("/api/v1/agents/heartbeat", ALICE, beat(None))
            .await
            .expect(200);
        assert_eq!(hub.outbox_count("agent.seen").await, 1, "nothing new");
        hub.post("/api/v1/agents/heartbeat", ALICE, beat(Some("busy")))
            .await
            .expect(200);
        assert_eq!(hub.outbox_count("agent.seen").await, 2, "status changed");
        go_quiet(&hub, "alice").await;
        hub.post("/api/v1/agents/heartbeat", ALICE, beat(None))
            .await
            .expect(200);
        assert_eq!(hub.outbox_count("agent.seen").await, 3, "back online");
    }
);

both!(
    bad_heartbeats_are_refused_and_write_nothing,
    |hub: TestHub| async move {
        let cases = vec![
            (json!({"status": 5}), 400, "status"),
            (json!({"metadata": [1]}), 400, "metadata"),
            (json!({"metadata": "x"}), 400, "metadata"),
            (json!({"sub": "mallory"}), 400, "sub"),
            (json!({"status": " "}), 422, "status"),
            (json!({"status": "x".repeat(201)}), 422, "status"),
            (
                json!({"metadata": {"big": "x".repeat(17 * 1024)}}),
                422,
                "metadata",
            ),
        ];
        for (body, status, field) in cases {
            let p = hub
                .post("/api/v1/agents/heartbeat", ALICE, body.clone())
                .await
                .problem(status);
            assert_eq!(Res::fields(&p), [field], "{body}");
        }
        assert_eq!(model::Entity::find().count(&hub.ctx().db).await.unwrap(), 0);
        assert_eq!(hub.outbox_count("agent.seen").await, 0);
        let p = hub
            .get("/api/v1/agents?cursor=nonsense", ALICE)
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["cursor"]);
        hub.get("/api/v1/agents?online=maybe", ALICE)
            .await
            .problem(400);
        hub.get("/api/v1/agents", "sub=nobody;roles=")
            .await
            .problem(403);
    }
);
