//! Chaos: three hub processes federating over a real nats-server while the consumer and the
//! producer are killed with SIGKILL and NATS is down for ten seconds. Every cross-hub message
//! must be applied exactly once, and every outbox must end empty.
//!
//! The hubs run without an issuer (identity is configured separately), so the test writes at
//! the producer through the same service functions REST uses, on the producer's database.

use std::collections::HashSet;
use std::path::{Path, PathBuf};
use std::process::Stdio;
use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use hub_core::Ctx;
use hub_core::auth::{Principal, PrincipalKind};
use hub_core::bus::{Bus, ConsumerSpec, MemoryBus, NatsBus, Outgoing};
use hub_core::config::HubConfig;
use hub_core::message::service::{NewMessage, send};
use sea_orm::{ConnectionTrait, Database, DatabaseConnection, Statement};
use tokio::io::{AsyncReadExt, AsyncWriteExt};
use tokio::process::{Child, Command};
use tokio::time::Instant;

use crate::nats_server::{NatsServer, free_port};

const CHANGES: usize = 10_000;
const WRITERS: usize = 4;

/// The hub binaries, built on demand next to this test's own target directory.
fn hub_binary(name: &str) -> PathBuf {
    let dir = std::env::current_exe()
        .expect("test path")
        .parent()
        .and_then(Path::parent)
        .expect("target dir")
        .to_owned();
    let path = dir.join(name);
    let cargo = std::env::var("CARGO").unwrap_or_else(|_| "cargo".into());
    let status = std::process::Command::new(cargo)
        .args([
            "build", "-q", "-p", "dev-hub", "-p", "ops-hub", "-p", "fin-hub", "--bins",
        ])
        .current_dir(env!("CARGO_MANIFEST_DIR"))
        .status()
        .expect("run cargo build");
    assert!(status.success(), "hub binaries build");
    path
}

/// A fresh PostgreSQL database URL.
async fn fresh_pg() -> String {
    let admin = std::env::var("HUBMESH_TEST_PG")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
    let name = format!("hubmesh_t_{}", uuid_like());
    let db = Database::connect(&admin).await.expect("PostgreSQL");
    db.execute_unprepared(&format!("CREATE DATABASE {name}"))
        .await
        .expect("create database");
    let base = admin.rsplit_once('/').map_or(admin.as_str(), |(b, _)| b);
    format!("{base}/{name}")
}

fn uuid_like() -> String {
    hub_core::ids::new_id().replace('-', "")
}

/// One hub process.
struct HubProc {
    name: &'static str,
    binary: PathBuf,
    port: u16,
    database_url: String,
    nats_url: String,
    data_dir: PathBuf,
    child: Option<Child>,
}

impl HubProc {
    async fn start(
        name: &'static str,
        database_url: String,
        nats_url: String,
        data_dir: &Path,
    ) -> Self {
        let mut hub = Self {
            name,
            binary: hub_binary(&format!("{name}-hub")),
            port: free_port(),
            database_url,
            nats_url,
            data_dir: data_dir.join(name),
            child: None,
        };
        hub.resume().await;
        hub
    }

    async fn resume(&mut self) {
        let child = Command::new(&self.binary)
            .arg("serve")
            .args(["--listen", &format!("127.0.0.1:{}", self.port)])
            .args(["--database-url", &self.database_url])
            .args(["--nats-url", &self.nats_url])
            .arg("--data-dir")
            .arg(&self.data_dir)
            .env("RUST_LOG", "error")
            .stdout(Stdio::null())
            .kill_on_drop(true)
            .spawn()
            .expect("start hub");
        self.child = Some(child);
        let deadline = Instant::now() + Duration::from_secs(60);
        while http_status(self.port, "/healthz").await != Some(200) {
            assert!(
                Instant::now() < deadline,
                "{} hub did not come up",
                self.name
            );
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// SIGKILL: no shutdown, no flush.
    async fn kill9(&mut self) {
        let mut child = self.child.take().expect("running");
        child.kill().await.expect("kill -9");
    }
}

/// The status of `GET path` on a loopback port, if anything answers.
async fn http_status(port: u16, path: &str) -> Option<u16> {
    let mut s = tokio::net::TcpStream::connect(("127.0.0.1", port))
        .await
        .ok()?;
    let req = format!("GET {path} HTTP/1.1\r\nhost: 127.0.0.1\r\nconnection: close\r\n\r\n");
    s.write_all(req.as_bytes()).await.ok()?;
    let mut head = [0u8; 12];
    s.read_exact(&mut head).await.ok()?;
    std::str::from_utf8(&head[9..12]).ok()?.parse().ok()
}

async fn count(db: &DatabaseConnection, sql: &str) -> i64 {
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            sql.to_owned(),
        ))
        .await
        .expect("query")
        .expect("a row");
    row.try_get_by_index::<i64>(0).expect("a count")
}

async fn await_until<F, Fut>(what: &str, within: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let deadline = Instant::now() + within;
    while !check().await {
        assert!(Instant::now() < deadline, "timed out waiting for {what}");
        tokio::time::sleep(Duration::from_millis(200)).await;
    }
}

async fn await_progress(progress: &AtomicUsize, at_least: usize) {
    await_until(
        "the writers' progress",
        Duration::from_secs(300),
        || async { progress.load(Ordering::SeqCst) >= at_least },
    )
    .await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 4)]
async fn every_cross_hub_change_applies_exactly_once_through_kills_and_a_nats_outage() {
    let mut nats = NatsServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let (dev_url, ops_url) = (fresh_pg().await, fresh_pg().await);
    let fin_url = format!("sqlite://{}/fin.db?mode=rwc", dir.path().display());
    let mut dev = HubProc::start("dev", dev_url.clone(), nats.url(), dir.path()).await;
    let mut ops = HubProc::start("ops", ops_url.clone(), nats.url(), dir.path()).await;
    let fin = HubProc::start("fin", fin_url.clone(), nats.url(), dir.path()).await;

    // The producer's writes: the message service on dev's database (its bus is unused here:
    // the dev process's relay publishes the outbox rows).
    let dev_db = hub_core::db::connect(&dev_url).await.expect("dev database");
    let config = HubConfig::with_database("dev", &dev_url).unwrap();
    let dev_ctx = Ctx::new(
        dev_db.clone(),
        "dev",
        Arc::new(MemoryBus::new(config.nats.duplicate_window)),
    );
    let progress = Arc::new(AtomicUsize::new(0));
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..WRITERS {
        let (ctx, progress) = (dev_ctx.clone(), progress.clone());
        writers.spawn(async move {
            let alice = Principal {
                sub: "alice".into(),
                kind: PrincipalKind::Agent,
                roles: vec!["hub:write".into()],
                domains: None,
            };
            let mut ids = Vec::new();
            for i in 0..CHANGES / WRITERS {
                let new = NewMessage {
                    recipients: vec![format!("agent{}@ops", i % 7)],
                    subject: format!("change {w}-{i}"),
                    body: "chaos".into(),
                    thread_id: None,
                    importance: Default::default(),
                    ack_required: false,
                    domain: None,
                };
                ids.push(
                    send(&ctx, &alice, new)
                        .await
                        .expect("the producer accepts the write")
                        .message
                        .id,
                );
                progress.fetch_add(1, Ordering::SeqCst);
            }
            ids
        });
    }

    // Kill -9 the consumer and bring it back.
    await_progress(&progress, 1_500).await;
    ops.kill9().await;
    ops.resume().await;

    // Kill -9 the producer while its relay is publishing, and bring it back.
    await_progress(&progress, 3_500).await;
    dev.kill9().await;
    dev.resume().await;

    // NATS away for ten seconds: the producer keeps accepting writes and serving.
    await_progress(&progress, 5_500).await;
    nats.stop().await;
    let before = progress.load(Ordering::SeqCst);
    tokio::time::sleep(Duration::from_secs(10)).await;
    let during = progress.load(Ordering::SeqCst) - before;
    assert!(during > 0, "writes were accepted while NATS was down");
    assert_eq!(
        http_status(dev.port, "/readyz").await,
        Some(200),
        "dev serves without NATS"
    );
    assert_eq!(
        http_status(ops.port, "/readyz").await,
        Some(200),
        "ops serves without NATS"
    );
    nats.resume().await;

    let mut sent = HashSet::new();
    while let Some(ids) = writers.join_next().await {
        sent.extend(ids.expect("writer"));
    }
    assert_eq!(sent.len(), CHANGES);

    let ops_db = Database::connect(&ops_url).await.expect("ops database");
    await_until(
        "every change applied at ops",
        Duration::from_secs(300),
        || async {
            count(
                &ops_db,
                "SELECT COUNT(*) FROM messages WHERE sender = 'alice@dev'",
            )
            .await
                == CHANGES as i64
        },
    )
    .await;
    // Exactly once: one row per id, the very ids sent, one inbox record each.
    let rows = ops_db
        .query_all_raw(Statement::from_string(
            ops_db.get_database_backend(),
            "SELECT id FROM messages WHERE sender = 'alice@dev'".to_owned(),
        ))
        .await
        .unwrap();
    let applied: HashSet<String> = rows
        .iter()
        .map(|r| r.try_get_by_index(0).unwrap())
        .collect();
    assert_eq!(applied, sent, "the ids applied are the ids sent");
    assert_eq!(
        count(
            &ops_db,
            "SELECT COUNT(*) FROM message_recipients WHERE hub = 'ops'"
        )
        .await,
        CHANGES as i64
    );
    assert_eq!(
        count(
            &ops_db,
            "SELECT COUNT(*) FROM processed_events WHERE consumer = 'ops-core-fed-msg'"
        )
        .await,
        CHANGES as i64
    );

    // Receipts came back: the sender sees every copy delivered.
    await_until("every receipt at dev", Duration::from_secs(300), || async {
        count(
            &dev_db,
            "SELECT COUNT(*) FROM message_recipients WHERE delivery = 'delivered'",
        )
        .await
            == CHANGES as i64
    })
    .await;

    // Nothing left in any outbox.
    let fin_db = Database::connect(&fin_url).await.expect("fin database");
    for (name, db) in [("dev", &dev_db), ("ops", &ops_db), ("fin", &fin_db)] {
        await_until(
            &format!("{name}'s outbox to drain"),
            Duration::from_secs(120),
            || async { count(db, "SELECT COUNT(*) FROM outbox WHERE sent_at IS NULL").await == 0 },
        )
        .await;
    }
    drop(fin);
}

#[tokio::test]
async fn malformed_and_wrongly_typed_messages_are_parked_and_the_consumer_keeps_going() {
    let nats = NatsServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let ops_url = format!("sqlite://{}/ops.db?mode=rwc", dir.path().display());
    let _ops = HubProc::start("ops", ops_url.clone(), nats.url(), dir.path()).await;
    let config = HubConfig::with_database("test", "sqlite::memory:").unwrap();
    let bus = NatsBus::connect(&nats.url(), &config.nats, "test")
        .await
        .unwrap();

    let event = |id: &str, data: serde_json::Value| {
        let mut e =
            hub_core::outbox::Event::new("dev", "fed.ops", "msg", id, &data).expect("event");
        e.id = id.to_owned();
        serde_json::to_vec(&e).unwrap()
    };
    let good = serde_json::json!({
        "kind": "message", "id": "m-good", "sender": "alice", "recipients": ["bob"],
        "subject": "s", "body": "b", "thread_id": "m-good", "importance": "normal",
        "ack_required": false, "domain": null, "created_at": "2026-11-22T00:00:00Z"
    });
    let messages = [
        ("x1", b"\x00\xffnot json".to_vec()),
        ("x2", b"{\"id\": 5}".to_vec()),
        (
            "x3",
            event("e-typed", serde_json::json!({"kind": "message", "id": 7})),
        ),
        (
            "x4",
            event("e-kind", serde_json::json!({"kind": "teleport"})),
        ),
        ("x5", event("e-good", good)),
    ];
    let results = bus
        .publish(
            messages
                .into_iter()
                .map(|(id, payload)| Outgoing {
                    subject: "hubmesh.fed.ops.msg".into(),
                    msg_id: id.into(),
                    payload: payload.into(),
                })
                .collect(),
        )
        .await;
    assert!(results.iter().all(Result::is_ok), "{results:?}");

    let mut dlq = bus.consume(ConsumerSpec {
        durable: "dlq-reader".into(),
        filter: "hubmesh.dlq.ops".into(),
    });
    let mut reasons = Vec::new();
    while reasons.len() < 4 {
        let d = tokio::time::timeout(Duration::from_secs(30), dlq.recv())
            .await
            .expect("parked in time")
            .expect("open");
        d.ack().await.unwrap();
        let parked: hub_core::bus::inbox::Parked = serde_json::from_slice(&d.payload).unwrap();
        assert_eq!(parked.attempts, 1, "bad input is parked at once");
        reasons.push(parked.reason);
    }
    reasons.sort();
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.starts_with("malformed event"))
            .count(),
        2,
        "{reasons:?}"
    );
    assert_eq!(
        reasons
            .iter()
            .filter(|r| r.starts_with("invalid event"))
            .count(),
        2,
        "{reasons:?}"
    );

    let ops_db = Database::connect(&ops_url).await.unwrap();
    await_until(
        "the good message after the bad ones",
        Duration::from_secs(30),
        || async { count(&ops_db, "SELECT COUNT(*) FROM messages WHERE id = 'm-good'").await == 1 },
    )
    .await;
}
