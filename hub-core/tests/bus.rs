//! The bus: both implementations keep the same promises (dedup, redelivery until ack,
//! request-reply with clear failures, TTL key-value), the outbox relay drains through outages,
//! and the inbox applies each event once and parks what it cannot apply.

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use hub_core::bus::inbox::{BusHandler, MAX_ATTEMPTS, Parked};
use hub_core::bus::relay::unsent_count;
use hub_core::bus::{
    Bus, BusError, ConsumerSpec, Delivery, KvBucket, MemoryBus, NatsBus, Outgoing, batch, model,
};
use hub_core::config::HubConfig;
use hub_core::domain::model as domain;
use hub_core::error::HubError;
use hub_core::module::{HubBuilder, HubModule, ModuleError, ModuleManifest};
use hub_core::outbox::Event;
use hub_core::{Ctx, Tx};
use sea_orm::{EntityTrait, PaginatorTrait, Set};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::nats_server::NatsServer;
use crate::support::{ADMIN, Backend, TestHub, eventually};

pub(crate) const WAIT: Duration = Duration::from_secs(20);

pub(crate) async fn nats_bus(server: &NatsServer, hub: &str) -> Arc<dyn Bus> {
    let config = HubConfig::with_database(hub, "sqlite::memory:").unwrap();
    Arc::new(
        NatsBus::connect(&server.url(), &config.nats, hub)
            .await
            .expect("client"),
    )
}

pub(crate) fn memory_bus() -> Arc<dyn Bus> {
    Arc::new(MemoryBus::new(Duration::from_secs(120)))
}

fn out(subject: &str, id: &str, payload: &str) -> Outgoing {
    Outgoing {
        subject: subject.into(),
        msg_id: id.into(),
        payload: Bytes::from(payload.to_owned()),
    }
}

async fn next(rx: &mut mpsc::Receiver<Delivery>) -> Delivery {
    tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a delivery in time")
        .expect("subscription open")
}

/// The promises every bus keeps.
async fn keeps_the_bus_promises(bus: Arc<dyn Bus>) {
    // Dedup by message id.
    let results = bus
        .publish(vec![
            out("hubmesh.evt.t.thing.created", "a", "1"),
            out("hubmesh.evt.t.thing.created", "b", "2"),
            out("hubmesh.evt.t.thing.created", "a", "1 again"),
            out("hubmesh.sig.other", "c", "not for the filter"),
        ])
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");
    let mut rx = bus.consume(ConsumerSpec {
        durable: "t-things".into(),
        filter: "hubmesh.evt.t.>".into(),
    });
    let first = next(&mut rx).await;
    assert_eq!((first.payload.as_ref(), first.attempt), (&b"1"[..], 1));
    let second = next(&mut rx).await;
    assert_eq!(second.payload.as_ref(), b"2");
    second.ack().await.unwrap();

    // A nak brings it back, counted; an ack ends it.
    first.nak(Duration::from_millis(50)).await.unwrap();
    let again = next(&mut rx).await;
    assert_eq!((again.payload.as_ref(), again.attempt), (&b"1"[..], 2));
    again.ack().await.unwrap();
    bus.publish(vec![out("hubmesh.evt.t.thing.created", "d", "3")])
        .await;
    let third = next(&mut rx).await;
    assert_eq!(
        third.payload.as_ref(),
        b"3",
        "the duplicate 'a' was never stored"
    );
    third.ack().await.unwrap();

    // Request-reply: nobody serving, an answer, silence.
    let t = Duration::from_millis(500);
    let none = bus.request("hubmesh.fed.t.cap", Bytes::new(), t).await;
    assert!(
        matches!(
            none,
            Err(BusError::NoResponders(_) | BusError::Timeout { .. })
        ),
        "{none:?}"
    );
    let mut requests = bus.serve("hubmesh.fed.t.cap", "t");
    tokio::spawn(async move {
        while let Some(req) = requests.recv().await {
            if req.payload.as_ref() == b"ping" {
                req.respond(Bytes::from_static(b"pong"));
            }
        }
    });
    let answer = async {
        loop {
            // The responder's subscription may take a moment to register on a real server.
            match bus.request("hubmesh.fed.t.cap", "ping".into(), t).await {
                Err(BusError::NoResponders(_)) => tokio::time::sleep(t / 10).await,
                other => return other,
            }
        }
    };
    assert_eq!(answer.await.unwrap().as_ref(), b"pong");
    let started = tokio::time::Instant::now();
    let silent = bus.request("hubmesh.fed.t.cap", "hello?".into(), t).await;
    assert!(
        matches!(silent, Err(BusError::Timeout { .. })),
        "{silent:?}"
    );
    assert!(
        started.elapsed() < t * 4,
        "a silent responder is not a hang"
    );

    // Key-value with watch.
    let bucket = KvBucket {
        name: "t_registry".into(),
        ttl: Duration::from_secs(60),
    };
    bus.kv_put(&bucket, "dev", "v1".into()).await.unwrap();
    let mut watch = bus.kv_watch(&bucket);
    let seen = tokio::time::timeout(WAIT, watch.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (seen.key.as_str(), seen.value.as_ref()),
        ("dev", &b"v1"[..])
    );
    bus.kv_put(&bucket, "ops", "v2".into()).await.unwrap();
    let seen = tokio::time::timeout(WAIT, watch.recv())
        .await
        .unwrap()
        .unwrap();
    assert_eq!(seen.key, "ops");
    assert_eq!(
        bus.kv_get(&bucket, "ops").await.unwrap().as_deref(),
        Some(&b"v2"[..])
    );
    assert_eq!(bus.kv_get(&bucket, "fin").await.unwrap(), None);
}

#[tokio::test]
async fn the_in_process_bus_keeps_the_bus_promises() {
    keeps_the_bus_promises(memory_bus()).await;
}

#[tokio::test]
async fn the_jetstream_bus_keeps_the_bus_promises() {
    let server = NatsServer::start().await;
    keeps_the_bus_promises(nats_bus(&server, "t").await).await;
}

#[tokio::test]
async fn the_in_process_bus_forgets_message_ids_after_the_window() {
    let bus = MemoryBus::new(Duration::from_millis(50));
    bus.publish(vec![out("hubmesh.evt.t.x.y", "a", "1")]).await;
    tokio::time::sleep(Duration::from_millis(120)).await;
    bus.publish(vec![out("hubmesh.evt.t.x.y", "a", "2")]).await;
    let mut rx = bus.consume(ConsumerSpec {
        durable: "w".into(),
        filter: ">".into(),
    });
    assert_eq!(next(&mut rx).await.payload.as_ref(), b"1");
    assert_eq!(next(&mut rx).await.payload.as_ref(), b"2");
}

/// The events a consumer of `filter` on `bus` receives, acked, as `Event`s.
fn events(bus: &Arc<dyn Bus>, durable: &str, filter: &str) -> mpsc::Receiver<Delivery> {
    bus.consume(ConsumerSpec {
        durable: durable.into(),
        filter: filter.into(),
    })
}

/// The events of the next delivery, in order, with its subject.
async fn next_events(rx: &mut mpsc::Receiver<Delivery>) -> (String, Vec<Event>) {
    let d = next(rx).await;
    d.ack().await.unwrap();
    let events = batch::unpack(&d.payload)
        .expect("a CloudEvents JSON event or batch")
        .into_iter()
        .map(|item| match item {
            batch::Item::Event(e) => e,
            batch::Item::Unreadable { text, error } => panic!("{error}: {text}"),
        })
        .collect();
    (d.subject, events)
}

crate::both!(
    the_relay_publishes_each_committed_change,
    |hub: TestHub| async move {
        let bus = hub.ctx().bus.clone();
        let mut rx = events(&bus, "reader", "hubmesh.evt.dev.>");
        hub.post(
            "/api/v1/domains",
            ADMIN,
            json!({"slug": "finance", "name": "Finance"}),
        )
        .await
        .expect(201);
        let (subject, events) = next_events(&mut rx).await;
        let [event] = &events[..] else {
            panic!("one event: {events:?}")
        };
        assert_eq!(subject, "hubmesh.evt.dev.domain.created");
        assert_eq!(event.event_type, "hubmesh.domain.created");
        assert_eq!(event.specversion, "1.0");
        assert_eq!(event.subject, "finance");
        let ctx = hub.ctx().clone();
        eventually("an empty outbox", WAIT, || {
            let ctx = ctx.clone();
            async move { unsent_count(&ctx).await.unwrap() == 0 }
        })
        .await;
    }
);

#[tokio::test]
async fn writes_are_accepted_while_nats_is_down_and_drain_when_it_returns() {
    let mut server = NatsServer::start().await;
    let url = server.url();
    let hub = TestHub::from_config(Backend::Sqlite, "dev", |c| c.nats_url = Some(url))
        .await
        .expect("hub starts");
    let bus = hub.ctx().bus.clone();
    let mut rx = events(&bus, "reader", "hubmesh.evt.dev.>");
    hub.post("/api/v1/domains", ADMIN, json!({"slug": "a", "name": "A"}))
        .await
        .expect(201);
    let (_, first) = next_events(&mut rx).await;
    assert_eq!(first.iter().map(|e| &e.subject).collect::<Vec<_>>(), ["a"]);

    server.stop().await;
    for slug in ["b", "c", "d"] {
        hub.post(
            "/api/v1/domains",
            ADMIN,
            json!({"slug": slug, "name": slug}),
        )
        .await
        .expect(201);
    }
    assert!(unsent_count(hub.ctx()).await.unwrap() > 0);

    server.resume().await;
    let ctx = hub.ctx().clone();
    eventually("the outbox to drain", Duration::from_secs(60), || {
        let ctx = ctx.clone();
        async move { unsent_count(&ctx).await.unwrap() == 0 }
    })
    .await;
    // A publish that timed out during the outage may still reach the stream once it is back,
    // as a message the retry packed otherwise: a consumer's inbox drops what it has seen.
    let mut got: Vec<String> = Vec::new();
    while got.len() < 3 {
        for e in next_events(&mut rx).await.1 {
            if !got.contains(&e.subject) {
                got.push(e.subject);
            }
        }
    }
    assert_eq!(got, ["b", "c", "d"], "in commit order");
}

/// Mirrors `test.domain.*` events into local domain rows: a handler with a real effect.
struct Mirror;

struct MirrorHandler;

#[async_trait]
impl BusHandler for MirrorHandler {
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError> {
        let data: Value = event.data_as()?;
        let slug = data["slug"]
            .as_str()
            .ok_or_else(|| HubError::invalid("data.slug", "must be a string"))?;
        if slug == "explode" {
            return Err(HubError::Internal("the mirror is broken".into()));
        }
        let row = domain::ActiveModel {
            slug: Set(slug.to_owned()),
            name: Set(slug.to_owned()),
            description: Set(String::new()),
            owner: Set(None),
            created_at: Set(event.time),
        };
        domain::Entity::insert(row).exec(&**tx).await?;
        Ok(())
    }
}

impl HubModule for Mirror {
    fn manifest(&self) -> ModuleManifest {
        ModuleManifest {
            id: "mirror".into(),
            name: "Mirror".into(),
            version: "1".into(),
            ..Default::default()
        }
    }

    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        hub.on_bus("domains", "hubmesh.evt.test.domain.*", MirrorHandler);
        Ok(())
    }
}

fn event_json(id: &str, data: Value) -> String {
    let mut e = Event::new("test", "domain", "created", id, &data).expect("event");
    e.id = id.to_owned();
    serde_json::to_string(&e).unwrap()
}

async fn domain_count(ctx: &Ctx) -> u64 {
    domain::Entity::find().count(&ctx.db).await.unwrap()
}

/// The first `n` messages parked at dev, by reason.
async fn parked_at_dev(bus: &Arc<dyn Bus>, n: usize) -> Vec<Parked> {
    let mut dlq = events(bus, "dlq-reader", "hubmesh.dlq.dev");
    let mut parked = Vec::new();
    while parked.len() < n {
        let d = next(&mut dlq).await;
        d.ack().await.unwrap();
        parked.push(serde_json::from_slice::<Parked>(&d.payload).unwrap());
    }
    parked.sort_by(|a, b| a.reason.cmp(&b.reason));
    parked
}

/// Once `domains` domains are mirrored, the ids of the events the inbox recorded, sorted.
async fn applied_events(ctx: &Ctx, domains: u64) -> Vec<String> {
    eventually("the good events applied", WAIT, || {
        let ctx = ctx.clone();
        async move { domain_count(&ctx).await == domains }
    })
    .await;
    let done = model::Entity::find().all(&ctx.db).await.unwrap();
    let mut ids: Vec<_> = done.into_iter().map(|p| p.event_id).collect();
    ids.sort();
    ids
}

async fn inbox_applies_once_and_parks_bad_input(backend: Backend) {
    let bus = memory_bus();
    let hub = TestHub::on_bus(backend, "dev", vec![Box::new(Mirror)], bus.clone(), |_| {}).await;
    let subject = "hubmesh.evt.test.domain.created";
    let e1 = event_json("e1", json!({"slug": "one"}));
    bus.publish(vec![
        out(subject, "m1", &e1),
        // The same event under another message id: past dedup, caught by the inbox.
        out(subject, "m2", &e1),
        out(subject, "m3", "{not json"),
        out(subject, "m4", &event_json("e2", json!({"slug": 42}))),
        out(subject, "m5", &event_json("e3", json!({"slug": "explode"}))),
        out(subject, "m6", &event_json("e4", json!({"slug": "two"}))),
        out(subject, "m7", &e1),
    ])
    .await;

    let parked = parked_at_dev(&bus, 3).await;
    let reasons: Vec<_> = parked.iter().map(|p| p.reason.as_str()).collect();
    assert!(
        reasons[0].starts_with(&format!("failed {MAX_ATTEMPTS} times")),
        "{reasons:?}"
    );
    assert!(reasons[0].contains("the mirror is broken"), "{reasons:?}");
    assert!(
        reasons[1].starts_with("invalid event") && reasons[1].contains("data.slug"),
        "{reasons:?}"
    );
    assert!(reasons[2].starts_with("malformed event"), "{reasons:?}");
    assert_eq!(parked[2].payload, "{not json");
    assert!(
        parked
            .iter()
            .all(|p| p.hub == "dev" && p.consumer == "dev-mirror-domains")
    );

    let ids = applied_events(hub.ctx(), 2).await;
    assert_eq!(ids, ["e1", "e4"], "each applied event recorded once");
}

#[tokio::test]
async fn the_inbox_applies_each_event_once_and_parks_bad_input_sqlite() {
    inbox_applies_once_and_parks_bad_input(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_inbox_applies_each_event_once_and_parks_bad_input_postgres() {
    inbox_applies_once_and_parks_bad_input(Backend::Postgres).await;
}

/// A message of several events (as the relay packs them) is applied event by event: what does
/// not read or cannot apply is parked alone, as its own text, and the rest applies once.
#[tokio::test]
async fn the_events_of_one_message_apply_and_park_each_on_its_own() {
    let bus = memory_bus();
    let hub = TestHub::on_bus(
        Backend::Sqlite,
        "dev",
        vec![Box::new(Mirror)],
        bus.clone(),
        |_| {},
    )
    .await;
    let subject = "hubmesh.evt.test.domain.created";
    let invalid = event_json("e2", json!({"slug": 42}));
    let batch = format!(
        "[{},{{\"id\": 7}},{invalid},{}]",
        event_json("e1", json!({"slug": "one"})),
        event_json("e3", json!({"slug": "two"})),
    );
    bus.publish(vec![out(subject, "m1", &batch)]).await;

    let parked = parked_at_dev(&bus, 2).await;
    assert!(parked[0].reason.starts_with("invalid event"), "{parked:?}");
    let rejected: Event = serde_json::from_str(&parked[0].payload).unwrap();
    assert_eq!(
        (rejected.id.as_str(), rejected.data.get()),
        ("e2", r#"{"slug":42}"#)
    );
    assert!(
        parked[1].reason.starts_with("malformed event"),
        "{parked:?}"
    );
    assert_eq!(parked[1].payload, r#"{"id": 7}"#);

    assert_eq!(applied_events(hub.ctx(), 2).await, ["e1", "e3"]);
}

#[tokio::test]
async fn the_registry_lists_live_hubs_and_forgets_stopped_ones() {
    let bus = memory_bus();
    let short_ttl = |c: &mut HubConfig| c.nats.registry_ttl = Duration::from_secs(3);
    let dev = TestHub::on_bus(Backend::Sqlite, "dev", Vec::new(), bus.clone(), short_ttl).await;
    let ops = TestHub::on_bus(
        Backend::Sqlite,
        "ops",
        vec![Box::new(Mirror)],
        bus.clone(),
        short_ttl,
    )
    .await;
    let names = |v: &Value| -> Vec<String> {
        v["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|h| h["name"].as_str().unwrap().to_owned())
            .collect()
    };
    let deadline = tokio::time::Instant::now() + WAIT;
    let listing = loop {
        let res = dev
            .get("/api/v1/federation/hubs", ADMIN)
            .await
            .expect(200)
            .json;
        if names(&res) == ["dev", "ops"] {
            break res;
        }
        assert!(
            tokio::time::Instant::now() < deadline,
            "both hubs listed: {res}"
        );
        tokio::time::sleep(Duration::from_millis(20)).await;
    };
    let ops_entry = &listing["items"][1];
    assert_eq!(ops_entry["version"], env!("CARGO_PKG_VERSION"));
    assert_eq!(ops_entry["modules"][0]["id"], "mirror");
    assert_eq!(ops_entry["modules"][0]["state"], "running");
    assert!(
        ops_entry["consumes"]
            .as_array()
            .unwrap()
            .contains(&json!("hubmesh.evt.test.domain.*"))
    );
    assert!(
        ops_entry["produces"]
            .as_array()
            .unwrap()
            .contains(&json!("hubmesh.evt.ops.>"))
    );
    assert!(ops_entry["heartbeat_at"].is_string());
    assert!(
        ops_entry["mcp_tools"]
            .as_array()
            .unwrap()
            .contains(&json!("send_message"))
    );
    assert!(ops_entry["rest_url"].as_str().unwrap().ends_with("/api/v1"));

    dev.call(
        axum::http::Method::GET,
        "/api/v1/federation/hubs",
        None,
        None,
    )
    .await
    .problem(401);
    dev.get("/api/v1/federation/hubs", "sub=x;roles=ops:read")
        .await
        .problem(403);

    drop(ops);
    eventually("ops to drop out after its TTL", WAIT, || async {
        names(&dev.get("/api/v1/federation/hubs", ADMIN).await.json) == ["dev"]
    })
    .await;
}

async fn message_fields(hub: &TestHub, token: &str, id: &str) -> Value {
    hub.get(&format!("/api/v1/messages/{id}"), token)
        .await
        .expect(200)
        .json
}

async fn inbox_ids(hub: &TestHub, token: &str) -> Vec<String> {
    let inbox = hub
        .get("/api/v1/messages/inbox", token)
        .await
        .expect(200)
        .json;
    inbox["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

#[tokio::test]
async fn messages_travel_between_hubs_with_delivery_state_and_replies_come_back() {
    let bus = memory_bus();
    let dev = TestHub::on_bus(Backend::Sqlite, "dev", Vec::new(), bus.clone(), |_| {}).await;
    let ops = TestHub::on_bus(Backend::Postgres, "ops", Vec::new(), bus.clone(), |_| {}).await;
    let alice = "sub=alice;roles=hub:write;kind=agent";
    let bob = "sub=bob;roles=hub:write;kind=agent";
    let sent = dev
        .post(
            "/api/v1/messages",
            alice,
            json!({"recipients": ["bob@ops", "carol", "a@b@ops"], "subject": "deploy", "body": "ready?"}),
        )
        .await
        .expect(201)
        .json;
    let id = sent["id"].as_str().unwrap().to_owned();
    let states = |m: &Value| -> Vec<(String, String, Value)> {
        m["recipients"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| {
                (
                    r["address"].as_str().unwrap().to_owned(),
                    r["delivery"].as_str().unwrap().to_owned(),
                    r["delivery_error"].clone(),
                )
            })
            .collect()
    };
    assert!(states(&sent).contains(&("bob@ops".into(), "queued".into(), Value::Null)));

    eventually("bob's copy at ops", WAIT, || async {
        inbox_ids(&ops, bob).await == [id.clone()]
    })
    .await;
    let copy = message_fields(&ops, bob, &id).await;
    assert_eq!(copy["sender"], "alice@dev");
    assert_eq!(copy["body"], "ready?");

    eventually("receipts at dev", WAIT, || async {
        let s = states(&message_fields(&dev, alice, &id).await);
        s.iter().all(|(_, d, _)| d != "queued")
    })
    .await;
    let s = states(&message_fields(&dev, alice, &id).await);
    assert!(
        s.contains(&("bob@ops".into(), "delivered".into(), Value::Null)),
        "{s:?}"
    );
    assert!(
        s.contains(&("carol".into(), "delivered".into(), Value::Null)),
        "{s:?}"
    );
    let (_, state, reason) = s.iter().find(|(a, ..)| a == "a@b@ops").unwrap();
    assert_eq!(state, "failed");
    assert_eq!(reason, "no agent named a@b at ops");

    let reply = ops
        .post(
            &format!("/api/v1/messages/{id}/reply"),
            bob,
            json!({"body": "yes"}),
        )
        .await
        .expect(201)
        .json;
    let reply_id = reply["id"].as_str().unwrap().to_owned();
    eventually("the reply in alice's inbox at dev", WAIT, || async {
        inbox_ids(&dev, alice).await.contains(&reply_id)
    })
    .await;
    let back = message_fields(&dev, alice, &reply_id).await;
    assert_eq!(back["sender"], "bob@ops");
    assert_eq!(
        back["thread_id"],
        id.as_str(),
        "the reply stays in the thread"
    );
}

/// Every outbox event of `kind` at `hub`, oldest first.
async fn outbox_events(hub: &TestHub, kind: &str) -> Vec<Event> {
    use hub_core::outbox::model as outbox;
    use sea_orm::{ColumnTrait, QueryFilter, QueryOrder};
    outbox::Entity::find()
        .filter(outbox::Column::EventType.eq(format!("hubmesh.{kind}")))
        .order_by_asc(outbox::Column::Id)
        .all(&hub.ctx().db)
        .await
        .unwrap()
        .into_iter()
        .map(Event::from)
        .collect()
}

/// Applies `events` at `hub` as its message inbox does with deliveries that arrive together.
async fn apply_messages(hub: &TestHub, events: &[Event]) {
    let inbound = hub_core::message::bus::subscription(&hub.ctx().hub).handler;
    let mut tx = hub.ctx().begin().await.unwrap();
    let events: Vec<&Event> = events.iter().collect();
    inbound.handle_all(&mut tx, &events).await.unwrap();
    tx.commit().await.unwrap();
}

#[tokio::test]
async fn messages_applied_together_are_answered_by_one_receipts_event() {
    // Each hub on a bus of its own: nothing travels but what the test hands over.
    let dev = TestHub::on_bus(Backend::Sqlite, "dev", Vec::new(), memory_bus(), |_| {}).await;
    let ops = TestHub::on_bus(Backend::Sqlite, "ops", Vec::new(), memory_bus(), |_| {}).await;
    let alice = "sub=alice;roles=hub:write;kind=agent";
    let mut ids = Vec::new();
    // The first two answers set the same state for the same recipient: one update records both.
    for to in [
        json!(["bob@ops"]),
        json!(["bob@ops"]),
        json!(["bob@ops", "carol@ops"]),
        json!(["a@b@ops"]),
    ] {
        let sent = dev
            .post(
                "/api/v1/messages",
                alice,
                json!({"recipients": to, "subject": "s", "body": "b"}),
            )
            .await
            .expect(201)
            .json;
        ids.push(sent["id"].as_str().unwrap().to_owned());
    }
    let carried = outbox_events(&dev, "fed.ops.msg").await;
    assert_eq!(carried.len(), 4);

    apply_messages(&ops, &carried).await;
    let answers = outbox_events(&ops, "fed.dev.msg").await;
    assert_eq!(answers.len(), 1, "one event answers the four messages");
    let answer: Value = answers[0].data_as().unwrap();
    assert_eq!(answer["kind"], "receipts");
    let answered: Vec<&str> = answer["receipts"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["message_id"].as_str().unwrap())
        .collect();
    assert_eq!(answered, ids);

    apply_messages(&dev, &answers).await;
    let mut states = Vec::new();
    for id in &ids {
        let m = message_fields(&dev, alice, id).await;
        for r in m["recipients"].as_array().unwrap() {
            states.push((
                r["address"].as_str().unwrap().to_owned(),
                r["delivery"].as_str().unwrap().to_owned(),
                r["delivery_error"].clone(),
            ));
        }
    }
    states.sort_by(|a, b| a.0.cmp(&b.0));
    assert_eq!(
        states,
        [
            (
                "a@b@ops".into(),
                "failed".into(),
                json!("no agent named a@b at ops")
            ),
            ("bob@ops".into(), "delivered".into(), Value::Null),
            ("bob@ops".into(), "delivered".into(), Value::Null),
            ("bob@ops".into(), "delivered".into(), Value::Null),
            ("carol@ops".into(), "delivered".into(), Value::Null),
        ]
    );
}

#[tokio::test]
async fn the_relay_prunes_sent_rows_after_the_retention() {
    use hub_core::bus::relay::prune_sent;
    use hub_core::outbox::model as outbox;
    use sea_orm::sea_query::Expr;
    use sea_orm::{ColumnTrait, QueryFilter};

    let hub = TestHub::on_bus(Backend::Sqlite, "dev", Vec::new(), memory_bus(), |_| {}).await;
    hub.domains(&["old", "new"]).await;
    let ctx = hub.ctx().clone();
    eventually("the relay sent every row", WAIT, || {
        let ctx = ctx.clone();
        async move { unsent_count(&ctx).await.unwrap() == 0 }
    })
    .await;
    let week = Duration::from_secs(7 * 86_400);
    assert_eq!(
        prune_sent(&ctx, week).await.unwrap(),
        0,
        "nothing is old yet"
    );
    let rows = outbox::Entity::find().all(&ctx.db).await.unwrap();
    assert_eq!(rows.len(), 2);
    let eight_days_ago = chrono::Utc::now() - chrono::TimeDelta::days(8);
    outbox::Entity::update_many()
        .col_expr(outbox::Column::SentAt, Expr::value(eight_days_ago))
        .filter(outbox::Column::Id.eq(rows[0].id.as_str()))
        .exec(&ctx.db)
        .await
        .unwrap();
    // An unsent row is kept however old it is.
    outbox::Entity::update_many()
        .col_expr(
            outbox::Column::SentAt,
            Expr::value(Option::<chrono::DateTime<chrono::Utc>>::None),
        )
        .col_expr(outbox::Column::Time, Expr::value(eight_days_ago))
        .filter(outbox::Column::Id.eq(rows[1].id.as_str()))
        .exec(&ctx.db)
        .await
        .unwrap();
    assert_eq!(prune_sent(&ctx, week).await.unwrap(), 1);
    let left: Vec<String> = outbox::Entity::find()
        .all(&ctx.db)
        .await
        .unwrap()
        .into_iter()
        .map(|r| r.id)
        .collect();
    assert_eq!(left, [rows[1].id.clone()]);
    assert_eq!(prune_sent(&ctx, Duration::MAX).await.unwrap(), 0);
}
