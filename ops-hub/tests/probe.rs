//! Probes against a local HTTP server the tests start and stop: evidence per check, an alert
//! raised when a service goes down and resolved when it comes back, timeouts, and the job.

use std::net::SocketAddr;
use std::time::Duration;

use ops_hub::config::ProbeConfig;
use ops_hub::probe::{Round, round};
use serde_json::json;
use tokio::net::TcpListener;
use tokio::task::JoinHandle;
use tokio_util::sync::CancellationToken;

use crate::both;
use crate::support::{ADMIN, Backend, TestHub, eventually};

/// A health endpoint on `addr` (port 0: any) answering 200 until the handle is aborted.
async fn health_server(addr: SocketAddr) -> (SocketAddr, JoinHandle<()>) {
    let listener = TcpListener::bind(addr)
        .await
        .expect("bind the health server");
    let addr = listener.local_addr().unwrap();
    let app = axum::Router::new().route("/healthz", axum::routing::get(|| async { "ok" }));
    let task = tokio::spawn(async move {
        axum::serve(listener, app).await.unwrap();
    });
    (addr, task)
}

async fn stop(task: JoinHandle<()>) {
    task.abort();
    assert!(task.await.unwrap_err().is_cancelled());
}

fn cfg(timeout_ms: u64) -> ProbeConfig {
    ProbeConfig {
        enabled: true,
        interval: Duration::from_secs(60),
        timeout: Duration::from_millis(timeout_ms),
        concurrency: 4,
        spread: false,
        flush: Duration::from_secs(1),
        flush_rows: 200,
    }
}

/// A stop token nobody cancels.
fn go() -> CancellationToken {
    CancellationToken::new()
}

async fn alert_state(hub: &TestHub, key: &str) -> Option<serde_json::Value> {
    let page = hub
        .get("/api/v1/alerts?status=all&limit=500", ADMIN)
        .await
        .expect(200)
        .json;
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .find(|a| a["key"] == key)
        .cloned()
}

both!(
    a_service_going_down_raises_an_alert_and_coming_back_resolves_it,
    |hub: TestHub| async move {
        let (addr, server) = health_server("127.0.0.1:0".parse().unwrap()).await;
        hub.service(
            "api",
            json!({"health_url": format!("http://{addr}/healthz")}),
        )
        .await;
        hub.service(
            "planned",
            json!({"lifecycle": "planned", "health_url": format!("http://{addr}/healthz")}),
        )
        .await;
        hub.service("no-url", json!({})).await;
        let client = hub_core::auth::http::client();
        let ctx = hub.ctx();

        let up = round(ctx, &cfg(2000), &client, &go()).await.unwrap();
        assert_eq!(
            up,
            Round {
                probed: 1,
                healthy: 1,
                raised: 0,
                resolved: 0,
                recorded: 1
            }
        );
        let ev = hub
            .get("/api/v1/ops/evidence?service=api&kind=probe", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(ev["items"][0]["status"], "pass");
        assert_eq!(ev["items"][0]["fields"]["http_status"], 200);

        stop(server).await;
        let down = round(ctx, &cfg(2000), &client, &go()).await.unwrap();
        assert_eq!(
            down,
            Round {
                probed: 1,
                healthy: 0,
                raised: 1,
                resolved: 0,
                recorded: 1
            }
        );
        let alert = alert_state(&hub, "ops.api.probe")
            .await
            .expect("alert raised");
        assert_eq!(alert["state"], "open");
        assert_eq!(alert["severity"], "high");
        assert_eq!(alert["domain"], "infotech");
        let ready = hub
            .get("/api/v1/ops/readiness?service=api", ADMIN)
            .await
            .expect(200)
            .json;
        let gates = &ready["items"][0]["gates"];
        assert_eq!(gates[2]["gate"], "probe");
        assert_eq!(gates[2]["pass"], false);
        assert!(
            gates[2]["reason"]
                .as_str()
                .unwrap()
                .contains("could not connect"),
            "{gates}"
        );
        assert_eq!(gates[3]["pass"], false);
        assert_eq!(gates[3]["evidence_id"], "ops.api.probe");

        // Still down: the open alert is not raised again.
        let still = round(ctx, &cfg(2000), &client, &go()).await.unwrap();
        assert_eq!(still.raised, 0);

        let (_, server) = health_server(addr).await;
        let back = round(ctx, &cfg(2000), &client, &go()).await.unwrap();
        assert_eq!(
            back,
            Round {
                probed: 1,
                healthy: 1,
                raised: 0,
                resolved: 1,
                recorded: 1
            }
        );
        assert_eq!(
            alert_state(&hub, "ops.api.probe").await.unwrap()["state"],
            "resolved"
        );
        stop(server).await;
        assert_eq!(hub.outbox_count("ops_evidence.recorded").await, 4);
    }
);

both!(
    a_health_url_that_never_answers_times_out,
    |hub: TestHub| async move {
        // Accepts connections and never answers.
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let addr = listener.local_addr().unwrap();
        let hold = tokio::spawn(async move {
            let mut held = Vec::new();
            while let Ok((sock, _)) = listener.accept().await {
                held.push(sock);
            }
        });
        hub.service(
            "slow",
            json!({"health_url": format!("http://{addr}/healthz")}),
        )
        .await;
        let got = round(hub.ctx(), &cfg(200), &hub_core::auth::http::client(), &go())
            .await
            .unwrap();
        assert_eq!(got.healthy, 0);
        let ev = hub
            .get("/api/v1/ops/evidence?service=slow&kind=probe", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(ev["items"][0]["fields"]["error"], "timed out");
        hold.abort();
    }
);

#[tokio::test]
async fn the_probe_job_runs_with_the_hub() {
    let (addr, server) = health_server("127.0.0.1:0".parse().unwrap()).await;
    let hub = TestHub::with_ops_config(
        Backend::Sqlite,
        "probe_interval_secs = 1\nprobe_timeout_ms = 1000",
    )
    .await;
    hub.service(
        "api",
        json!({"health_url": format!("http://{addr}/healthz")}),
    )
    .await;
    eventually("the job records probe evidence", || async {
        let ev = hub
            .get("/api/v1/ops/evidence?service=api&kind=probe", ADMIN)
            .await
            .expect(200)
            .json;
        ev["items"].as_array().is_some_and(|a| !a.is_empty())
    })
    .await;
    stop(server).await;
    eventually("the job raises the alert", || async {
        alert_state(&hub, "ops.api.probe").await.is_some()
    })
    .await;
}

#[tokio::test]
async fn a_spread_round_starts_its_checks_evenly_over_the_interval() {
    // The health endpoint notes when each check arrives.
    let arrivals = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let noted = arrivals.clone();
    let app = axum::Router::new().route(
        "/healthz",
        axum::routing::get(move || {
            noted.lock().unwrap().push(tokio::time::Instant::now());
            async { "ok" }
        }),
    );
    let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
    let hub = TestHub::new(Backend::Sqlite).await;
    for id in ["a", "b", "c", "d"] {
        hub.service(id, json!({"health_url": format!("http://{addr}/healthz")}))
            .await;
    }
    let spread = ProbeConfig {
        interval: Duration::from_millis(800),
        spread: true,
        ..cfg(2000)
    };
    let start = tokio::time::Instant::now();
    let got = round(hub.ctx(), &spread, &hub_core::auth::http::client(), &go())
        .await
        .unwrap();
    assert_eq!(got.probed, 4);
    let mut at: Vec<Duration> = arrivals
        .lock()
        .unwrap()
        .iter()
        .map(|t| *t - start)
        .collect();
    at.sort();
    assert_eq!(at.len(), 4);
    // Four checks over 800 ms: the k-th starts no earlier than k × 200 ms.
    for (k, t) in at.iter().enumerate() {
        assert!(
            *t >= Duration::from_millis(200) * k as u32,
            "check {k} arrived after {t:?}"
        );
    }
    server.abort();
}

/// A health endpoint that answers each check only once the test lets one through, and counts
/// the checks that arrived.
struct HeldHealth {
    url: String,
    pass: std::sync::Arc<tokio::sync::Semaphore>,
    arrived: tokio::sync::watch::Receiver<usize>,
    server: JoinHandle<()>,
}

impl HeldHealth {
    /// A held health endpoint behind services `ids` of `hub`.
    async fn behind(hub: &TestHub, ids: &[&str]) -> Self {
        let health = Self::start().await;
        for id in ids {
            hub.service(id, json!({"health_url": health.url})).await;
        }
        health
    }

    async fn start() -> Self {
        let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
        let url = format!("http://{}/healthz", listener.local_addr().unwrap());
        let pass = std::sync::Arc::new(tokio::sync::Semaphore::new(0));
        let (count, arrived) = tokio::sync::watch::channel(0);
        let gate = pass.clone();
        let app = axum::Router::new().route(
            "/healthz",
            axum::routing::get(move || {
                count.send_modify(|n| *n += 1);
                let gate = gate.clone();
                async move {
                    gate.acquire().await.unwrap().forget();
                    "ok"
                }
            }),
        );
        let server = tokio::spawn(async move { axum::serve(listener, app).await.unwrap() });
        Self {
            url,
            pass,
            arrived,
            server,
        }
    }

    /// Lets one more check through.
    fn answer_one(&self) {
        self.pass.add_permits(1);
    }

    /// Waits until `n` checks arrived. With `probe_concurrency = 1` the n-th check starts only
    /// once the one before it was settled.
    async fn arrived(&self, n: usize) {
        let mut rx = self.arrived.clone();
        rx.wait_for(|got| *got >= n).await.unwrap();
    }
}

async fn probe_evidence(hub: &TestHub) -> usize {
    hub.get("/api/v1/ops/evidence?kind=probe&limit=500", ADMIN)
        .await
        .expect(200)
        .json["items"]
        .as_array()
        .unwrap()
        .len()
}

/// Checks one at a time, evidence written per `flush_rows` or after `flush_ms`.
fn held(flush_ms: u64, flush_rows: usize) -> ProbeConfig {
    ProbeConfig {
        concurrency: 1,
        flush: Duration::from_millis(flush_ms),
        flush_rows,
        ..cfg(5000)
    }
}

both!(
    probe_evidence_is_committed_a_batch_of_flush_rows_at_a_time,
    |hub: TestHub| async move {
        let health = HeldHealth::behind(&hub, &["a", "b", "c"]).await;
        let mut committed = hub.ctx().subscribe_committed();
        let client = hub_core::auth::http::client();
        // The flush interval never comes within the test: only a full batch or the end of
        // the round writes.
        let cfg = held(60_000, 2);
        let stop = go();
        let (got, ()) = tokio::join!(round(hub.ctx(), &cfg, &client, &stop), async {
            health.answer_one();
            health.arrived(2).await;
            health.answer_one();
            health.arrived(3).await;
            // The third check is held, so the round is not over: only a full batch writes.
            let first = tokio::time::timeout(Duration::from_secs(20), committed.recv())
                .await
                .expect("a full batch is committed")
                .unwrap();
            // A commit hands on all its events at once: a commit per check would not.
            let second = committed
                .try_recv()
                .expect("the second result is committed with the first");
            for e in [&first, &second] {
                assert_eq!(e.event_type, "hubmesh.ops_evidence.recorded");
            }
            assert_eq!(probe_evidence(&hub).await, 2);
            health.answer_one();
        });
        assert_eq!(got.unwrap().recorded, 3);
        assert_eq!(probe_evidence(&hub).await, 3, "the round ends with a flush");
        assert_eq!(hub.outbox_count("ops_evidence.recorded").await, 3);
        health.server.abort();
    }
);

#[tokio::test]
async fn probe_evidence_waits_at_most_the_flush_interval() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let health = HeldHealth::behind(&hub, &["a", "b"]).await;
    let client = hub_core::auth::http::client();
    let cfg = held(100, 200);
    let stop = go();
    let (got, ()) = tokio::join!(round(hub.ctx(), &cfg, &client, &stop), async {
        health.answer_one();
        health.arrived(2).await;
        // The second check is held, so the round is not over: only the interval can write.
        eventually(
            "the first check is committed after the flush interval",
            || async { probe_evidence(&hub).await == 1 },
        )
        .await;
        health.answer_one();
    });
    assert_eq!(got.unwrap().recorded, 2);
    health.server.abort();
}

#[tokio::test]
async fn a_stopped_round_still_commits_the_evidence_of_finished_checks() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let health = HeldHealth::behind(&hub, &["a", "b", "c"]).await;
    let client = hub_core::auth::http::client();
    let stop = CancellationToken::new();
    let cfg = held(60_000, 200);
    let (got, ()) = tokio::join!(round(hub.ctx(), &cfg, &client, &stop), async {
        health.answer_one();
        health.arrived(2).await;
        stop.cancel();
    });
    let got = got.unwrap();
    // The check in flight is abandoned, the third never starts.
    assert_eq!((got.probed, got.recorded), (1, 1));
    assert_eq!(probe_evidence(&hub).await, 1);
    health.server.abort();
}

#[tokio::test]
async fn a_hub_that_stops_commits_the_probe_evidence_of_finished_checks() {
    let hub = TestHub::with_ops_config(
        Backend::Sqlite,
        "probe_interval_secs = 1\nprobe_concurrency = 1\nprobe_spread = false\nprobe_flush_ms = 60000",
    )
    .await;
    let health = HeldHealth::behind(&hub, &["a", "b", "c"]).await;
    health.answer_one();
    // A round with its first check answered (its evidence waits for the flush interval) and
    // its second held.
    health.arrived(2).await;
    let stop = CancellationToken::new();
    stop.cancel();
    let listener = TcpListener::bind("127.0.0.1:0").await.unwrap();
    let TestHub { app, _dir } = hub;
    let ctx = app.hub.ctx().clone();
    app.serve(listener, stop).await.unwrap();
    use sea_orm::{EntityTrait, PaginatorTrait};
    let stored = ops_hub::evidence::model::Entity::find()
        .count(&ctx.db)
        .await
        .unwrap();
    assert_eq!(stored, 1, "the answered check was committed at shutdown");
}
