//! The deploy permission set (`deploy/nats/accounts.conf`) with real hubs: dev, ops and fin
//! each connect as their own NATS user to a nats-server running that very file, and everything
//! they do together works, while a hub publishing another hub's subjects is refused.

use std::path::Path;
use std::sync::Arc;

use bytes::Bytes;
use hub_core::bus::inbox::Parked;
use hub_core::bus::relay::unsent_count;
use hub_core::bus::{Bus, ConsumerSpec, Delivery, NatsBus, Outgoing};
use hub_core::config::{HubConfig, NatsAuth};
use serde_json::{Value, json};
use tokio::sync::mpsc;

use crate::bus::WAIT;
use crate::federation::request_at;
use crate::nats_server::NatsServer;
use crate::support::{ADMIN, Backend, TestHub, eventually};

const ALICE: &str = "sub=alice;roles=hub:write;kind=agent";
const BOB: &str = "sub=bob;roles=hub:write;kind=agent";

/// Each NATS user of `accounts.conf` and the password the test gives it.
const USERS: [(&str, &str); 5] = [
    ("dev", "dev-secret-1"),
    ("ops", "ops-secret-2"),
    ("fin", "fin-secret-3"),
    ("admin", "admin-secret-4"),
    ("sys", "sys-secret-5"),
];

/// What dev publishes where only other hubs may.
const FORGED: [&str; 2] = ["hubmesh.sig.fin.pressure", "hubmesh.evt.ops.x"];

fn password(user: &str) -> String {
    USERS.iter().find(|(u, _)| *u == user).unwrap().1.to_owned()
}

/// A nats-server running the deploy account file, the passwords in its environment.
async fn server() -> NatsServer {
    let accounts = Path::new(env!("CARGO_MANIFEST_DIR")).join("../deploy/nats/accounts.conf");
    let env: Vec<(String, &str)> = USERS
        .iter()
        .map(|(user, pw)| {
            let var = format!("HUBMESH_NATS_{}_PASSWORD", user.to_uppercase());
            (var, *pw)
        })
        .collect();
    let env: Vec<(&str, &str)> = env.iter().map(|(k, v)| (k.as_str(), *v)).collect();
    NatsServer::start_with_config("include ./accounts.conf", &[&accounts], &env).await
}

fn as_user(url: &str, user: &str, password: &str) -> impl FnOnce(&mut HubConfig) {
    let (url, user, password) = (url.to_owned(), user.to_owned(), password.to_owned());
    move |c| {
        c.nats_url = Some(url);
        c.nats.auth = NatsAuth::UserPassword { user, password };
    }
}

/// Hub `name` connecting as the NATS user of the same name.
async fn hub(server: &NatsServer, name: &str) -> TestHub {
    TestHub::from_config(
        Backend::Sqlite,
        name,
        as_user(&server.url(), name, &password(name)),
    )
    .await
    .expect("hub starts")
}

/// The unrestricted `admin` user, as operators and DLQ readers connect.
async fn admin_bus(server: &NatsServer) -> Arc<dyn Bus> {
    let mut config = HubConfig::with_database("admin", "sqlite::memory:").unwrap();
    as_user(&server.url(), "admin", &password("admin"))(&mut config);
    Arc::new(
        NatsBus::connect(&server.url(), &config.nats, "admin")
            .await
            .expect("admin connects"),
    )
}

fn out(subject: &str, payload: &str) -> Outgoing {
    Outgoing {
        subject: subject.into(),
        msg_id: uuid::Uuid::now_v7().to_string(),
        payload: Bytes::from(payload.to_owned()),
    }
}

async fn next(rx: &mut mpsc::Receiver<Delivery>) -> Delivery {
    let d = tokio::time::timeout(WAIT, rx.recv())
        .await
        .expect("a delivery in time")
        .expect("subscription open");
    d.ack().await.unwrap();
    d
}

/// Reads `durable` (a consumer of `filter` as admin) up to the message with payload
/// `sentinel` and returns the payloads before it.
async fn payloads_until(
    admin: &Arc<dyn Bus>,
    durable: &str,
    filter: &str,
    sentinel: &str,
) -> Vec<String> {
    let mut rx = admin.consume(ConsumerSpec {
        durable: durable.into(),
        filter: filter.into(),
    });
    let mut before = Vec::new();
    loop {
        let d = next(&mut rx).await;
        let payload = String::from_utf8_lossy(&d.payload).into_owned();
        if payload == sentinel {
            return before;
        }
        before.push(payload);
    }
}

async fn hub_names(hub: &TestHub) -> Vec<String> {
    let page = hub.get("/api/v1/federation/hubs", ADMIN).await.expect(200);
    let mut names: Vec<String> = page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|h| h["name"].as_str().unwrap().to_owned())
        .collect();
    names.sort();
    names
}

async fn message_at(hub: &TestHub, token: &str, id: &str) -> Value {
    hub.get(&format!("/api/v1/messages/{id}"), token)
        .await
        .expect(200)
        .json
}

async fn alert_ids(hub: &TestHub) -> Vec<String> {
    let page = hub
        .get("/api/v1/federation/alerts", ADMIN)
        .await
        .expect(200);
    page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|a| a["id"].as_str().unwrap().to_owned())
        .collect()
}

/// The server's permission violations as it logs them: `Publish Violation - User "dev", …`.
fn violations(server: &NatsServer) -> Vec<String> {
    server
        .log()
        .lines()
        .filter_map(|l| {
            let at = l.find(" Violation - User ")?;
            let kind = l[..at].rsplit(' ').next()?;
            Some(format!("{kind}{}", &l[at..]))
        })
        .collect()
}

/// How the server logs dev's publish on `subject`.
fn refused_for_dev(subject: &str) -> String {
    format!("Publish Violation - User \"dev\", Subject \"{subject}\"")
}

#[tokio::test]
async fn hubs_federate_as_their_own_nats_users_and_cannot_forge_other_hubs_subjects() {
    let server = server().await;
    let dev = hub(&server, "dev").await;
    let ops = hub(&server, "ops").await;
    let fin = hub(&server, "fin").await;
    let admin = admin_bus(&server).await;
    let hubs = [("dev", &dev), ("ops", &ops), ("fin", &fin)];
    // Each hub with the next one around the ring dev → ops → fin → dev, so every hub both
    // sends and receives each kind of traffic.
    let ring = || (0..hubs.len()).map(|i| (hubs[i], hubs[(i + 1) % hubs.len()]));

    // The registry: each hub writes its own key and watches everyone's.
    for (_, at) in hubs {
        eventually("all three hubs in the registry", WAIT, || async {
            hub_names(at).await == ["dev", "fin", "ops"]
        })
        .await;
    }

    // A message to the next hub arrives, and its receipt comes back.
    for ((from_name, from), (to_name, to)) in ring() {
        let sent = from
            .post(
                "/api/v1/messages",
                ALICE,
                json!({"recipients": [format!("bob@{to_name}")], "subject": "hi", "body": "ready?"}),
            )
            .await
            .expect(201)
            .json;
        let id = sent["id"].as_str().unwrap().to_owned();
        eventually("the message in bob's inbox", WAIT, || async {
            let inbox = to.get("/api/v1/messages/inbox", BOB).await.expect(200).json;
            inbox["items"][0]["id"] == id.as_str()
        })
        .await;
        let copy = message_at(to, BOB, &id).await;
        assert_eq!(copy["sender"], format!("alice@{from_name}"));
        eventually("the delivery receipt back home", WAIT, || async {
            message_at(from, ALICE, &id).await["recipients"][0]["delivery"] == "delivered"
        })
        .await;
    }

    // A capability request routed to the next hub is answered, and its status flows back.
    for ((_, from), (to_name, to)) in ring() {
        let name = format!("{to_name}.work");
        to.post(
            "/api/v1/capabilities",
            BOB,
            json!({"name": name, "description": "does the work"}),
        )
        .await
        .expect(201);
        let created = request_at(from, json!({"capability": format!("{name}@{to_name}")}))
            .await
            .expect(201)
            .json;
        assert_eq!(created["provider"], format!("bob@{to_name}"));
        let request = created["id"].as_str().unwrap().to_owned();
        to.post(
            &format!("/api/v1/capability-requests/{request}/accept"),
            BOB,
            json!({}),
        )
        .await
        .expect(200);
        eventually("the accepted status at the requester", WAIT, || async {
            let mirror = from
                .get(&format!("/api/v1/capability-requests/{request}"), ALICE)
                .await
                .expect(200)
                .json;
            mirror["status"] == "accepted"
        })
        .await;
    }

    // Every hub's shared risks and alerts reach every hub's federation view.
    let mut expected = Vec::new();
    for (name, at) in hubs {
        for (event, kind) in [("alert_raised", "alert"), ("risk_surfaced", "risk")] {
            at.post(
                "/api/v1/events",
                ADMIN,
                json!({"event_type": event, "key": "k", "summary": "s", "severity": "high"}),
            )
            .await
            .expect(201);
            expected.push(format!("{name}:{kind}:k"));
        }
    }
    expected.sort();
    for (_, at) in hubs {
        eventually("every hub's signals in every view", WAIT, || async {
            alert_ids(at).await == expected
        })
        .await;
    }

    // fin publishes its own signals.
    let published = fin
        .ctx()
        .bus
        .publish(vec![
            out("hubmesh.sig.fin.pressure", "from fin"),
            out("hubmesh.sig.viability", "from fin"),
        ])
        .await;
    assert!(published.iter().all(Result::is_ok), "{published:?}");

    // A malformed message for the next hub is parked on that hub's dead-letter subject.
    for ((_, from), (to_name, _)) in ring() {
        let subject = format!("hubmesh.fed.{to_name}.msg");
        let published = from
            .ctx()
            .bus
            .publish(vec![out(&subject, "{not json")])
            .await;
        assert!(published[0].is_ok(), "{published:?}");
    }
    let mut dlq = admin.consume(ConsumerSpec {
        durable: "admin-dlq".into(),
        filter: "hubmesh.dlq.>".into(),
    });
    let mut parked_at = Vec::new();
    for _ in hubs {
        let d = next(&mut dlq).await;
        let parked: Parked = serde_json::from_slice(&d.payload).unwrap();
        assert_eq!(d.subject, format!("hubmesh.dlq.{}", parked.hub));
        assert_eq!(parked.payload, "{not json");
        assert!(parked.reason.starts_with("malformed event"), "{parked:?}");
        parked_at.push(parked.hub);
    }
    parked_at.sort();
    assert_eq!(parked_at, ["dev", "fin", "ops"]);

    let dev_bus = dev.ctx().bus.clone();

    // dev may not publish fin's signals nor ops's events: the server refuses both.
    let forged = dev_bus
        .publish(FORGED.iter().map(|s| out(s, "forged by dev")).collect())
        .await;
    assert!(forged.iter().all(Result::is_err), "{forged:?}");
    eventually("the server to report both refusals", WAIT, || async {
        let seen = violations(&server);
        FORGED.iter().all(|s| seen.contains(&refused_for_dev(s)))
    })
    .await;
    // Nothing forged was stored: an unrestricted reader finds dev's next message on the same
    // connection with nothing forged before it.
    let sentinels = [
        ("admin-sig", "hubmesh.sig.>", "hubmesh.sig.dev.sentinel"),
        (
            "admin-evt",
            "hubmesh.evt.>",
            "hubmesh.evt.dev.test.sentinel",
        ),
    ];
    let published = dev_bus
        .publish(sentinels.iter().map(|(_, _, s)| out(s, s)).collect())
        .await;
    assert!(published.iter().all(Result::is_ok), "{published:?}");
    for (durable, filter, sentinel) in sentinels {
        let before = payloads_until(&admin, durable, filter, sentinel).await;
        assert!(!before.contains(&"forged by dev".to_owned()), "{before:?}");
    }

    // Every outbox drained.
    for (_, at) in hubs {
        let ctx = at.ctx().clone();
        eventually("an empty outbox", WAIT, || {
            let ctx = ctx.clone();
            async move { unsent_count(&ctx).await.unwrap() == 0 }
        })
        .await;
    }

    // And nothing the hubs did on their own was refused: the only violations are dev's forgeries.
    let mut seen = violations(&server);
    seen.sort();
    seen.dedup();
    let mut expected: Vec<String> = FORGED.iter().map(|s| refused_for_dev(s)).collect();
    expected.sort();
    assert_eq!(seen, expected, "server log:\n{}", server.log());
}

#[tokio::test]
async fn a_hub_with_a_wrong_password_fails_to_start_with_a_clear_error() {
    let server = server().await;
    let wrong = "not-the-dev-password";
    let Err(e) =
        TestHub::from_config(Backend::Sqlite, "dev", as_user(&server.url(), "dev", wrong)).await
    else {
        panic!("a hub with a wrong password started");
    };
    let said = e.to_string();
    assert_eq!(
        said,
        "bus: NATS refused the credentials of hub dev (user dev): authorization violation"
    );
    assert!(!said.contains(wrong), "{said}");
    assert!(!format!("{e:?}").contains(wrong), "{e:?}");
}
