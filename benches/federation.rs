//! Federation benchmark (issue 5): commit-to-applied latency of cross-hub messages between two
//! hubs over a real nats-server at a paced 1,000 changes/s (p50, p99), the sustained rate with
//! the producer writing as fast as it can, and, in the same run, raw JetStream figures
//! (publish -> consume latency at 1,000/s; pipelined publish-ack rate) as the limit.
//!
//! Run: `cargo bench --bench federation` (starts its own nats-server on a free port;
//! `HUBMESH_NATS_SERVER` names the binary, `FED_BENCH_CHANGES` the sustained-run size,
//! `FED_BENCH_WRITERS` its writers, default 8; `FED_BENCH_SLOW_MS=4` also lists the paced
//! changes slower than 4 ms, to see when the tail's stalls come). `scripts/bench-federation`
//! runs it against a current nats-server.

#[path = "../hub-core/tests/nats_server.rs"]
mod nats_server;

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use hub_core::auth::{Principal, PrincipalKind};
use hub_core::bus::{Bus, ConsumerSpec, NatsBus, Outgoing};
use hub_core::config::HubConfig;
use hub_core::message::service::{NewMessage, send};
use hub_core::server::App;
use testkit::bench::{env_usize, percentile};

fn payload(i: usize) -> Vec<u8> {
    format!("{{\"n\":{i}}}").into_bytes()
}

fn alice() -> Principal {
    Principal {
        sub: "alice".into(),
        kind: PrincipalKind::Agent,
        roles: vec!["hub:write".into()],
        domains: None,
    }
}

fn ms(d: Duration) -> String {
    format!("{:.2} ms", d.as_secs_f64() * 1000.0)
}

async fn hub(name: &str, dir: &std::path::Path, nats: &str) -> App {
    let url = format!("sqlite://{}/{name}.db?mode=rwc", dir.display());
    let mut config = HubConfig::with_database(name, &url).expect("config");
    config.nats_url = Some(nats.to_owned());
    App::build(config, Arc::new(testkit::SpelledTokens), Vec::new())
        .await
        .expect("hub starts")
}

fn message(i: usize) -> NewMessage {
    NewMessage {
        recipients: vec!["bob@ops".into()],
        subject: format!("change {i}"),
        body: "bench".into(),
        thread_id: None,
        importance: Default::default(),
        ack_required: false,
        domain: None,
    }
}

/// Message id -> when ops committed it, fed by ops's post-commit events.
fn applied_times(ops: &App) -> Arc<Mutex<HashMap<String, Instant>>> {
    let applied = Arc::new(Mutex::new(HashMap::new()));
    let mut events = ops.hub.ctx().subscribe_committed();
    let sink = applied.clone();
    tokio::spawn(async move {
        while let Some(e) = events.recv().await {
            if e.event_type == "hubmesh.message.received" {
                let now = Instant::now();
                sink.lock().unwrap().insert(e.subject.clone(), now);
            }
        }
    });
    applied
}

async fn wait_applied(applied: &Mutex<HashMap<String, Instant>>, n: usize) {
    while applied.lock().unwrap().len() < n {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
}

/// The paced changes slower than `over`, as (ms into the run, latency in µs): stalls show as
/// runs of consecutive changes, and their spacing tells periodic work from one-off work.
/// `latencies` are in the order of `committed`.
fn print_slow(committed: &[(String, Instant)], latencies: &[Duration], over: Duration) {
    let start = committed[0].1;
    let slow: Vec<(u128, u128)> = committed
        .iter()
        .zip(latencies)
        .filter(|(_, latency)| **latency > over)
        .map(|((_, at), latency)| ((*at - start).as_millis(), latency.as_micros()))
        .collect();
    println!("changes slower than {over:?} (ms into the run, µs): {slow:?}");
}

#[tokio::main]
async fn main() {
    println!("{}", nats_server::version());
    let nats = nats_server::NatsServer::start().await;
    let dir = tempfile::tempdir().expect("temp dir");
    let dev = hub("dev", dir.path(), &nats.url()).await;
    let ops = hub("ops", dir.path(), &nats.url()).await;
    let applied = applied_times(&ops);
    let ctx = dev.hub.ctx().clone();
    let who = alice();

    // Warm up: streams, consumers, connections.
    for i in 0..200 {
        send(&ctx, &who, message(i)).await.expect("send");
    }
    wait_applied(&applied, 200).await;
    applied.lock().unwrap().clear();

    // 1. Commit-to-applied latency at a paced 1,000 changes/s.
    let paced = 5_000;
    let mut committed = Vec::with_capacity(paced);
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    tick.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Skip);
    for i in 0..paced {
        tick.tick().await;
        let id = send(&ctx, &who, message(i)).await.expect("send").message.id;
        committed.push((id, Instant::now()));
    }
    wait_applied(&applied, paced).await;
    let times = applied.lock().unwrap().clone();
    let mut lat: Vec<Duration> = committed
        .iter()
        .map(|(id, at)| times[id].saturating_duration_since(*at))
        .collect();
    if let Some(slow_ms) = std::env::var("FED_BENCH_SLOW_MS")
        .ok()
        .and_then(|v| v.parse::<u64>().ok())
    {
        print_slow(&committed, &lat, Duration::from_millis(slow_ms));
    }
    lat.sort();
    println!(
        "hub->hub commit-to-applied at 1,000/s ({paced} changes): p50 {}, p99 {}, max {}",
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.99)),
        ms(*lat.last().unwrap())
    );
    applied.lock().unwrap().clear();

    // 2. Sustained: concurrent writers as fast as they go; rate = changes / time to all applied.
    let total = env_usize("FED_BENCH_CHANGES", 20_000);
    let n_writers = env_usize("FED_BENCH_WRITERS", 8);
    let started = Instant::now();
    let cpu = testkit::bench::cpu_seconds();
    let nats_pid = nats.pid().expect("nats-server runs");
    let nats_cpu = testkit::bench::cpu_seconds_of(nats_pid);
    let mut writers = tokio::task::JoinSet::new();
    for w in 0..n_writers {
        let (ctx, who) = (ctx.clone(), who.clone());
        writers.spawn(async move {
            for i in (w..total).step_by(n_writers) {
                send(&ctx, &who, message(i)).await.expect("send");
            }
        });
    }
    while writers.join_next().await.is_some() {}
    let written = started.elapsed();
    wait_applied(&applied, total).await;
    let all = started.elapsed();
    println!(
        "hub->hub sustained ({total} changes, {n_writers} writers): producer commits {:.0}/s, applied at the consumer {:.0}/s end to end; the hubs' process used {:.2} cores, nats-server {:.2}",
        total as f64 / written.as_secs_f64(),
        total as f64 / all.as_secs_f64(),
        (testkit::bench::cpu_seconds() - cpu) / all.as_secs_f64(),
        (testkit::bench::cpu_seconds_of(nats_pid) - nats_cpu) / all.as_secs_f64()
    );

    // 3. Raw JetStream on the same server: publish -> consume latency at 1,000/s.
    let config = HubConfig::with_database("raw", "sqlite::memory:").unwrap();
    let raw = NatsBus::connect(&nats.url(), &config.nats, "raw")
        .await
        .unwrap();
    let mut rx = raw.consume(ConsumerSpec {
        durable: "raw-bench".into(),
        filter: "hubmesh.evt.raw.>".into(),
    });
    let n = 5_000;
    let sent_at = Arc::new(Mutex::new(Vec::with_capacity(n)));
    let reader = tokio::spawn(async move {
        let mut got = Vec::with_capacity(n);
        while got.len() < n {
            let d = rx.recv().await.expect("delivery");
            got.push(Instant::now());
            d.ack().await.expect("ack");
        }
        got
    });
    let mut tick = tokio::time::interval(Duration::from_millis(1));
    for i in 0..n {
        tick.tick().await;
        sent_at.lock().unwrap().push(Instant::now());
        let m = Outgoing {
            subject: "hubmesh.evt.raw.x.y".into(),
            msg_id: format!("raw-{i}"),
            payload: payload(i).into(),
        };
        raw.publish(vec![m]).await.pop().unwrap().expect("publish");
    }
    let got = reader.await.unwrap();
    let sent = sent_at.lock().unwrap().clone();
    let mut lat: Vec<Duration> = got
        .iter()
        .zip(&sent)
        .map(|(g, s)| g.saturating_duration_since(*s))
        .collect();
    lat.sort();
    println!(
        "raw JetStream publish->consume at 1,000/s ({n}): p50 {}, p99 {}",
        ms(percentile(&lat, 0.50)),
        ms(percentile(&lat, 0.99))
    );

    // 4. Raw pipelined publish-ack rate, in batches of 1,000 as the relay publishes.
    let n = 100_000;
    let started = Instant::now();
    for b in 0..n / 1000 {
        let batch = (0..1000)
            .map(|i| Outgoing {
                subject: "hubmesh.evt.rawrate.x.y".into(),
                msg_id: format!("rate-{b}-{i}"),
                payload: payload(i).into(),
            })
            .collect();
        for r in raw.publish(batch).await {
            r.expect("publish");
        }
    }
    println!(
        "raw JetStream pipelined publish-ack ({n} in batches of 1,000): {:.0}/s",
        n as f64 / started.elapsed().as_secs_f64()
    );
}
