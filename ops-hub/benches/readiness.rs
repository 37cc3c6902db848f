//! ops benchmark (issue 8): cutover readiness with 10,000 services and 1,000,000 evidence
//! records (one service p50/p99, all services in total), and REST p99 while a probe round
//! checks 1,000 health URLs.
//!
//! Run: `cargo bench --profile dev -p ops-hub --bench readiness`
//! (`OPS_BENCH_SERVICES`, `OPS_BENCH_EVIDENCE`, `OPS_BENCH_PROBED` change the sizes).

use std::sync::Arc;
use std::time::{Duration, Instant};

use async_trait::async_trait;
use chrono::Utc;
use hub_core::auth::{AuthError, Principal, PrincipalKind, TokenVerifier};
use hub_core::config::HubConfig;
use hub_core::server::App;
use ops_hub::config::OpsConfig;
use ops_hub::evidence::model as evidence;
use ops_hub::inventory::model::{Lifecycle, service};
use ops_hub::migration_run::model::{self as run, RunStatus};
use ops_hub::readiness::service::{for_service, list};
use sea_orm::{ConnectionTrait, EntityTrait, Set, TransactionTrait};
use serde_json::json;
use testkit::bench::{env_usize, percentile};
use tokio_util::sync::CancellationToken;

/// Tokens are the principal's sub: token validation has its own benchmark.
struct SubTokens;

#[async_trait]
impl TokenVerifier for SubTokens {
    async fn verify(&self, token: &str) -> Result<Principal, AuthError> {
        Ok(Principal {
            sub: token.to_owned(),
            kind: PrincipalKind::Service,
            roles: vec!["hub:admin".into()],
            domains: None,
        })
    }
}

fn ms(d: Duration) -> f64 {
    d.as_secs_f64() * 1000.0
}

#[tokio::main]
async fn main() {
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("install the ring provider");
    let n_services = env_usize("OPS_BENCH_SERVICES", 10_000);
    let n_evidence = env_usize("OPS_BENCH_EVIDENCE", 1_000_000);
    let n_probed = env_usize("OPS_BENCH_PROBED", 1_000).min(n_services);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/ops.db?mode=rwc", dir.path().display());
    let mut config = HubConfig::with_database("ops", &url).expect("config");
    config
        .modules
        .insert("ops".into(), toml::from_str("probes = false").unwrap());
    let app = App::build(config, Arc::new(SubTokens), ops_hub::modules())
        .await
        .expect("hub starts");
    let ctx = app.hub.ctx().clone();
    let health = health_server().await;
    app.hub
        .ctx()
        .db
        .execute_unprepared("INSERT INTO domains (slug, name, description, created_at) VALUES ('infotech', 'infotech', '', '2026-01-01T00:00:00Z')")
        .await
        .expect("domain");
    let started = Instant::now();
    seed(&ctx.db, n_services, n_evidence, n_probed, &health).await;
    println!(
        "seeded {n_services} services, {n_evidence} evidence records, {n_services} migration runs in {:.0} s",
        started.elapsed().as_secs_f64()
    );

    let who = hub_core::auth::Principal::hub_itself(&ctx.hub);
    let gates = OpsConfig::default().readiness;
    let mut one = Vec::new();
    for i in 0..2_000 {
        let id = format!("svc-{:05}", (i * 7919) % n_services);
        let t = Instant::now();
        let r = for_service(&ctx, &who, &gates, &id)
            .await
            .expect("readiness");
        one.push(t.elapsed());
        assert_eq!(r.gates.len(), 4);
    }
    one.sort();
    println!(
        "readiness, one service (service fn, 2,000 samples): p50 {:.2} ms, p99 {:.2} ms",
        ms(percentile(&one, 0.5)),
        ms(percentile(&one, 0.99))
    );
    let t = Instant::now();
    let mut page = hub_core::api::page::PageRequest::first(500);
    let mut seen = 0;
    loop {
        let got = list(&ctx, &who, &gates, &page)
            .await
            .expect("readiness page");
        seen += got.items.len();
        match got.next_cursor {
            Some(_) => page.after = got.items.last().map(|r| r.service_id.clone()),
            None => break,
        }
    }
    assert_eq!(seen, n_services);
    println!(
        "readiness, all {seen} services (pages of 500): {:.0} ms",
        ms(t.elapsed())
    );

    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.serve(listener, stop.clone()));
    let client = reqwest::Client::builder().build().expect("client");
    api_load(&client, &base, n_services, None).await;
    // The baseline is sampled like the busy figure (rounds of 200 requests) for a third of the
    // probe round's length, so both see the machine over a comparable stretch of time.
    let mut quiet = Vec::new();
    let reads = read_calls();
    let t = Instant::now();
    while t.elapsed() < Duration::from_secs(20) {
        quiet.extend(api_load(&client, &base, n_services, Some(200)).await);
    }
    let quiet_reads = per_request(reads, quiet.len());
    quiet.sort();
    println!(
        "REST GET /api/v1/ops/readiness?service=…, 4 clients, no probes ({} samples over 20 s): p50 {:.2} ms, p99 {:.2} ms{quiet_reads}",
        quiet.len(),
        ms(percentile(&quiet, 0.5)),
        ms(percentile(&quiet, 0.99))
    );
    // The defaults: a 60 s interval with the checks spread over it, 32 in flight at most.
    let probe_cfg = OpsConfig::default().probe;
    let round_ctx = ctx.clone();
    let probing = tokio::spawn(async move {
        let t = Instant::now();
        let client = hub_core::auth::http::client();
        let r = ops_hub::probe::round(&round_ctx, &probe_cfg, &client, &CancellationToken::new())
            .await
            .expect("probe round");
        (r, t.elapsed())
    });
    let mut busy = Vec::new();
    let reads = read_calls();
    while !probing.is_finished() {
        busy.extend(api_load(&client, &base, n_services, Some(200)).await);
    }
    let (round, took) = probing.await.expect("round");
    let busy_reads = per_request(reads, busy.len());
    busy.sort();
    println!(
        "probe round: {} URLs checked ({} healthy, {} recorded) in {:.1} s, spread over the 60 s interval",
        round.probed,
        round.healthy,
        round.recorded,
        took.as_secs_f64()
    );
    println!(
        "REST GET /api/v1/ops/readiness?service=…, 4 clients, during the probe round ({} samples): p50 {:.2} ms, p99 {:.2} ms{busy_reads}",
        busy.len(),
        ms(percentile(&busy, 0.5)),
        ms(percentile(&busy, 0.99))
    );
    stop.cancel();
    let _ = server.await;
}

/// Read system calls of this process so far (`/proc/self/io`, Linux only). SQLite re-reads a
/// page through one whenever another connection's commit emptied its page cache.
fn read_calls() -> Option<u64> {
    let io = std::fs::read_to_string("/proc/self/io").ok()?;
    io.lines()
        .find_map(|l| l.strip_prefix("syscr: "))?
        .parse()
        .ok()
}

/// The read system calls since `since` per request, as text to append to a figure.
fn per_request(since: Option<u64>, requests: usize) -> String {
    match (since, read_calls()) {
        (Some(a), Some(b)) => format!(
            ", {:.1} read syscalls per request",
            (b - a) as f64 / requests.max(1) as f64
        ),
        _ => String::new(),
    }
}

/// A health endpoint answering 200 to every path.
async fn health_server() -> String {
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let addr = listener.local_addr().expect("addr");
    let app = axum::Router::new().fallback(|| async { "ok" });
    tokio::spawn(async move { axum::serve(listener, app).await.expect("health server") });
    format!("http://{addr}")
}

/// Services `svc-00000…`, the first `n_probed` active with a health URL; evidence spread over
/// the services (smoke, probe, review in turn, times over the last 30 days); one complete run each.
async fn seed(
    db: &sea_orm::DatabaseConnection,
    n_services: usize,
    n_evidence: usize,
    n_probed: usize,
    health: &str,
) {
    let now = Utc::now();
    let txn = db.begin().await.expect("begin");
    for chunk in (0..n_services).collect::<Vec<_>>().chunks(500) {
        service::Entity::insert_many(chunk.iter().map(|&i| service::ActiveModel {
            id: Set(format!("svc-{i:05}")),
            name: Set(format!("Service {i}")),
            kind: Set("api".into()),
            domain: Set("infotech".into()),
            environment: Set("production".into()),
            location: Set("eu-1".into()),
            endpoints: Set(json!([])),
            health_url: Set((i < n_probed).then(|| format!("{health}/h/{i}"))),
            repo: Set(None),
            tags: Set(json!([])),
            lifecycle: Set(Lifecycle::Active),
            created_at: Set(now),
            updated_at: Set(now),
        }))
        .exec(&txn)
        .await
        .expect("services");
        run::Entity::insert_many(chunk.iter().map(|&i| run::ActiveModel {
            id: Set(hub_core::ids::new_id()),
            service_id: Set(format!("svc-{i:05}")),
            source: Set("old".into()),
            target: Set("new".into()),
            status: Set(RunStatus::Complete),
            expected: Set(100),
            migrated: Set(100),
            failed: Set(0),
            started_at: Set(now),
            finished_at: Set(Some(now)),
            actor: Set("bench".into()),
        }))
        .exec(&txn)
        .await
        .expect("runs");
    }
    txn.commit().await.expect("commit");
    let kinds = ["smoke", "probe", "review"];
    let per_tx = 50_000;
    for start in (0..n_evidence).step_by(per_tx) {
        let txn = db.begin().await.expect("begin");
        let end = (start + per_tx).min(n_evidence);
        for chunk in (start..end).collect::<Vec<_>>().chunks(1_000) {
            evidence::Entity::insert_many(chunk.iter().map(|&i| {
                // Older records first so that ids and times grow together.
                let age = chrono::Duration::seconds(
                    ((n_evidence - i) * 2_592_000 / n_evidence.max(1)) as i64,
                );
                evidence::ActiveModel {
                    id: Set(hub_core::ids::new_id()),
                    kind: Set(kinds[i % 3].into()),
                    service_id: Set(Some(format!("svc-{:05}", (i / 3) % n_services))),
                    deployment_id: Set(None),
                    run_id: Set(None),
                    status: Set(if i % 10 == 0 {
                        evidence::EvidenceStatus::Fail
                    } else {
                        evidence::EvidenceStatus::Pass
                    }),
                    summary: Set("checked".into()),
                    fields: Set(json!({"latency_ms": i % 500})),
                    actor: Set("bench".into()),
                    recorded_at: Set(now - age),
                }
            }))
            .exec(&txn)
            .await
            .expect("evidence");
        }
        txn.commit().await.expect("commit");
    }
}

/// Requests readiness of pseudo-random services from 4 clients; `None` is a warm-up of 200.
async fn api_load(
    client: &reqwest::Client,
    base: &str,
    n_services: usize,
    n: Option<usize>,
) -> Vec<Duration> {
    const CLIENTS: usize = 4;
    let n = n.unwrap_or(200);
    let workers: Vec<_> = (0..CLIENTS)
        .map(|c| {
            let (client, base) = (client.clone(), base.to_owned());
            tokio::spawn(async move {
                let mut times = Vec::new();
                for i in (c..n).step_by(CLIENTS) {
                    let id = format!("svc-{:05}", (i * 104_729 + c) % n_services);
                    let t = Instant::now();
                    let res = client
                        .get(format!("{base}/api/v1/ops/readiness?service={id}"))
                        .bearer_auth("bench")
                        .send()
                        .await
                        .expect("request");
                    assert_eq!(res.status(), 200);
                    res.bytes().await.expect("body");
                    times.push(t.elapsed());
                }
                times
            })
        })
        .collect();
    let mut all = Vec::new();
    for w in workers {
        all.extend(w.await.expect("worker"));
    }
    all.sort();
    all
}
