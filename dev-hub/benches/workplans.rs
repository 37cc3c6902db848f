//! dev-hub benchmark: imports generated workplan documents (30 tasks each) through the import
//! service on SQLite, then times `get_next_tasks` (the "next" query) over every task stored.
//!
//! Run: `cargo bench -p dev-hub --bench workplans` (`DEV_BENCH_DOCS` changes the document
//! count, default 1000; `DEV_BENCH_DB=postgres://…` runs on PostgreSQL).

use std::sync::Arc;
use std::time::Instant;

use async_trait::async_trait;
use dev_hub::document::service::import;
use dev_hub::task::query::{TaskScope, next};
use hub_core::auth::{AuthError, Principal, PrincipalKind, TokenVerifier};
use hub_core::config::HubConfig;
use hub_core::domain::service::{NewDomain, create};
use hub_core::server::App;
use testkit::bench::{env_usize, percentile};

const TASKS_PER_DOC: usize = 30;

struct NoTokens;

#[async_trait]
impl TokenVerifier for NoTokens {
    async fn verify(&self, _: &str) -> Result<Principal, AuthError> {
        Err(AuthError::Invalid(
            "the benchmark calls services directly".into(),
        ))
    }
}

/// Workplan `n`: three phases of ten tasks, each depending on the one before it in its phase;
/// the first phase is done, priorities cycle, a decision table.
fn document(n: usize) -> String {
    let id = format!("BENCH-WP-{n:04}");
    let mut doc = format!(
        "---\nid: {id}\ntitle: Generated plan {n}\nstatus: active\nowner: bench\ndomain: infotech\n\
         created: 2026-11-01\nsprint: {}\n---\n\nA generated workplan.\n",
        n % 7
    );
    for phase in 0..3 {
        doc.push_str(&format!(
            "\n## Phase {} — Part {phase}\n\nWhat this phase does.\n",
            phase + 1
        ));
        if phase == 0 {
            doc.push_str(
                "\n| Decision | Choice | Rationale |\n|---|---|---|\n| Store | SQLite | small |\n",
            );
        }
        for k in 0..TASKS_PER_DOC / 3 {
            let t = phase * 10 + k + 1;
            let status = if phase == 0 { "done" } else { "todo" };
            let priority = ["low", "medium", "high", "critical"][(n + t) % 4];
            let deps = if k == 0 {
                String::new()
            } else {
                format!("depends_on: [T{:02}]\n", t - 1)
            };
            doc.push_str(&format!(
                "\n### T{t:02} — Task {t} of plan {n}\n\n```task\nid: {id}-T{t:02}\nstatus: {status}\n\
                 priority: {priority}\n{deps}estimate: {t}h\n```\n\nDo part {t}.\n"
            ));
        }
    }
    doc
}

#[tokio::main]
async fn main() {
    let n_docs = env_usize("DEV_BENCH_DOCS", 1000);
    let dir = tempfile::tempdir().expect("temp dir");
    let url = std::env::var("DEV_BENCH_DB")
        .unwrap_or_else(|_| format!("sqlite://{}/dev.db?mode=rwc", dir.path().display()));
    let config = HubConfig::with_database("dev", &url).expect("config");
    let app = App::build(config, Arc::new(NoTokens), dev_hub::modules())
        .await
        .expect("hub starts");
    let ctx = app.hub.ctx();
    let who = Principal {
        sub: "bench".into(),
        kind: PrincipalKind::Service,
        roles: vec!["hub:admin".into()],
        domains: None,
    };
    let new = NewDomain {
        slug: "infotech".into(),
        name: "infotech".into(),
        description: None,
        owner: None,
    };
    create(ctx, &who, new).await.expect("domain");

    let docs: Vec<String> = (0..n_docs).map(document).collect();
    let bytes: usize = docs.iter().map(String::len).sum();
    let started = Instant::now();
    for doc in &docs {
        let report = import(ctx, &who, doc, false).await.expect("import");
        assert!(report.created);
    }
    let took = started.elapsed();
    println!(
        "import: {n_docs} documents of {TASKS_PER_DOC} tasks ({:.1} MB) in {:.2} s = {:.0} documents/s",
        bytes as f64 / 1e6,
        took.as_secs_f64(),
        n_docs as f64 / took.as_secs_f64()
    );

    // Re-importing unchanged documents is a no-op sync.
    let started = Instant::now();
    for doc in docs.iter().take(100) {
        let report = import(ctx, &who, doc, false).await.expect("re-import");
        assert!(report.changes.is_empty());
    }
    println!(
        "re-import (no changes): {:.0} documents/s",
        100.0 / started.elapsed().as_secs_f64()
    );

    let scope = TaskScope::default();
    let mut times = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        let rows = next(ctx, &who, &scope, 10).await.expect("next");
        times.push(t.elapsed());
        assert_eq!(rows.len(), 10);
    }
    times.sort();
    println!(
        "get_next_tasks over {} tasks (limit 10, 1000 calls): p50 {:.2} ms, p99 {:.2} ms",
        n_docs * TASKS_PER_DOC,
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );
    let wp_scope = TaskScope {
        workplan: Some("BENCH-WP-0500".into()),
        domain: None,
    };
    let mut times = Vec::new();
    for _ in 0..1000 {
        let t = Instant::now();
        next(ctx, &who, &wp_scope, 10).await.expect("next");
        times.push(t.elapsed());
    }
    times.sort();
    println!(
        "get_next_tasks of one workplan: p50 {:.2} ms, p99 {:.2} ms",
        percentile(&times, 0.50).as_secs_f64() * 1e3,
        percentile(&times, 0.99).as_secs_f64() * 1e3
    );
}
