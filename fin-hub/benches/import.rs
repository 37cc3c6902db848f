//! fin benchmark: import a generated FOCUS CSV (1,000,000 rows by default) on SQLite, with the
//! rows per second and the process's peak resident memory; then burn and runway query latency
//! over that ledger.
//!
//! Run: `cargo bench -p fin-hub --bench import` (release) or `cargo bench --profile dev -p
//! fin-hub --bench import`; `FIN_BENCH_ROWS` changes the row count, `FIN_BENCH_QUERIES` the
//! number of timed queries.

use std::io::{BufWriter, Write};
use std::sync::Arc;
use std::time::{Duration, Instant};

use fin_hub::burn::service::{BurnQuery, burn};
use fin_hub::config::FinConfig;
use fin_hub::import::model::ImportKind;
use fin_hub::import::service::{ImportOptions, import};
use fin_hub::runway::service::{RunwayQuery, runway};
use hub_core::auth::{Principal, PrincipalKind};
use hub_core::config::HubConfig;
use hub_core::server::App;
use testkit::bench::{env_usize, percentile};

const FIN_CONFIG: &str = r#"
currency = "EUR"
[rates]
"USD/EUR" = "0.92"
"#;

const DOMAINS: [&str; 3] = ["finance", "infotech", "operations"];

/// A line of `/proc/self/status` in kB (`VmRSS`, `VmHWM`).
fn status_kb(key: &str) -> u64 {
    std::fs::read_to_string("/proc/self/status")
        .ok()
        .and_then(|s| {
            s.lines()
                .find(|l| l.starts_with(key))
                .and_then(|l| l.split_whitespace().nth(1).and_then(|v| v.parse().ok()))
        })
        .unwrap_or(0)
}

/// Writes `rows` FOCUS lines over the 12 months of 2025: 3 domains, 40 services, EUR and USD.
fn generate(path: &std::path::Path, rows: usize) -> std::io::Result<u64> {
    let mut out = BufWriter::new(std::fs::File::create(path)?);
    writeln!(
        out,
        "BilledCost,BillingCurrency,ChargePeriodStart,ChargePeriodEnd,ServiceName,SubAccountName,ProviderName,ResourceId,ChargeCategory"
    )?;
    for i in 0..rows {
        let month = i % 12 + 1;
        let day = i / 12 % 28 + 1;
        // Every (month, service, domain, currency) combination occurs: 2,880 ledger totals.
        let currency = if i / 1440 % 5 == 0 { "USD" } else { "EUR" };
        writeln!(
            out,
            "{}.{:02},{currency},2025-{month:02}-{day:02}T00:00:00Z,2025-{month:02}-{day:02}T23:59:59Z,svc-{:02},{},AWS,arn:aws:ec2:eu-west-1:123456789012:instance/i-{i:012x},Usage",
            i % 97,
            i % 100,
            i / 12 % 40,
            DOMAINS[i / 480 % 3],
        )?;
    }
    out.flush()?;
    Ok(std::fs::metadata(path)?.len())
}

async fn timed<F, Fut, T>(n: usize, mut f: F) -> (Duration, Duration)
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = T>,
{
    let mut times = Vec::with_capacity(n);
    for _ in 0..n {
        let t = Instant::now();
        f().await;
        times.push(t.elapsed());
    }
    times.sort();
    (percentile(&times, 0.5), percentile(&times, 0.99))
}

#[tokio::main]
async fn main() {
    let rows = env_usize("FIN_BENCH_ROWS", 1_000_000);
    let queries = env_usize("FIN_BENCH_QUERIES", 500);
    let dir = tempfile::tempdir().expect("temp dir");
    let csv = dir.path().join("focus.csv");
    let t = Instant::now();
    let bytes = generate(&csv, rows).expect("generate the CSV");
    println!(
        "generated {rows} FOCUS rows ({:.1} MB) in {:.1?}",
        bytes as f64 / 1e6,
        t.elapsed()
    );

    let url = format!("sqlite://{}/fin.db?mode=rwc", dir.path().display());
    let mut config = HubConfig::with_database("fin", &url).expect("config");
    let table: toml::Table = toml::from_str(FIN_CONFIG).expect("fin config");
    config.modules.insert("fin".into(), table.clone());
    let app = App::build(config, Arc::new(testkit::SpelledTokens), fin_hub::modules())
        .await
        .expect("hub starts");
    let ctx = app.hub.ctx();
    let admin = Principal {
        sub: "bench".into(),
        kind: PrincipalKind::Service,
        roles: vec!["hub:admin".into()],
        domains: None,
    };
    for slug in DOMAINS {
        let new = hub_core::domain::service::NewDomain {
            slug: slug.into(),
            name: slug.into(),
            description: None,
            owner: None,
        };
        hub_core::domain::service::create(ctx, &admin, new)
            .await
            .expect("domain");
    }
    let cfg = Arc::new(FinConfig::from_toml(Some(&table)).expect("fin config"));

    let rss_before = status_kb("VmRSS:");
    let opts = ImportOptions {
        kind: ImportKind::Costs,
        format: None,
        domain: None,
        mapping: Default::default(),
        filename: Some("focus.csv".into()),
    };
    let file = std::fs::File::open(&csv).expect("open the CSV");
    let t = Instant::now();
    let cpu = testkit::bench::cpu_seconds();
    let report = import(ctx, &admin, cfg.clone(), file, opts.clone())
        .await
        .expect("import");
    let took = t.elapsed();
    assert_eq!((report.inserted as usize, report.rejected), (rows, 0));
    let cpu = testkit::bench::cpu_seconds() - cpu;
    println!(
        "import: {rows} rows in {:.2?} = {:.0} rows/s ({cpu:.1} CPU s, {:.0} rows per CPU second); RSS before {} MB, peak (VmHWM) {} MB",
        took,
        rows as f64 / took.as_secs_f64(),
        rows as f64 / cpu,
        rss_before / 1024,
        status_kb("VmHWM:") / 1024
    );

    let balance = fin_hub::balance::service::NewBalance {
        date: "2025-12-01".parse().expect("date"),
        amount: 500_000_000,
        currency: "EUR".into(),
        note: None,
    };
    fin_hub::balance::service::record(ctx, &admin, balance)
        .await
        .expect("balance");
    let as_of = Some("2025-12-15".parse().expect("date"));
    let (p50, p99) = timed(queries, || async {
        let q = BurnQuery {
            months: Some(12),
            as_of,
            ..Default::default()
        };
        burn(ctx, &admin, &cfg, q).await.expect("burn")
    })
    .await;
    println!("burn (all domains, 12 months): p50 {p50:.2?}, p99 {p99:.2?} over {queries} queries");
    let (p50, p99) = timed(queries, || async {
        let q = BurnQuery {
            domain: Some("infotech".into()),
            as_of,
            ..Default::default()
        };
        burn(ctx, &admin, &cfg, q).await.expect("burn")
    })
    .await;
    println!("burn (one domain, 6 months): p50 {p50:.2?}, p99 {p99:.2?} over {queries} queries");
    let (p50, p99) = timed(queries, || async {
        runway(
            ctx,
            &admin,
            &cfg,
            RunwayQuery {
                currency: None,
                as_of,
            },
        )
        .await
        .expect("runway")
    })
    .await;
    println!("runway: p50 {p50:.2?}, p99 {p99:.2?} over {queries} queries");

    let file = std::fs::File::open(&csv).expect("open the CSV");
    let t = Instant::now();
    let again = import(ctx, &admin, cfg.clone(), file, opts.clone())
        .await
        .expect("re-import");
    assert_eq!((again.inserted, again.duplicates as usize), (0, rows));
    println!(
        "re-import: 0 of {rows} rows added in {:.2?}; peak (VmHWM) {} MB",
        t.elapsed(),
        status_kb("VmHWM:") / 1024
    );

    // A 100 MB line (an unterminated quote) is refused at the record limit, in bounded memory.
    let runaway = dir.path().join("runaway.csv");
    {
        let mut out = BufWriter::new(std::fs::File::create(&runaway).expect("create"));
        out.write_all(b"BilledCost,BillingCurrency,ChargePeriodStart,SubAccountName\n1,EUR,2025-01-01,finance\n1,EUR,\"")
            .expect("write");
        let chunk = vec![b'x'; 1 << 20];
        for _ in 0..100 {
            out.write_all(&chunk).expect("write");
        }
        out.flush().expect("flush");
    }
    let t = Instant::now();
    let file = std::fs::File::open(&runaway).expect("open");
    let refused = import(ctx, &admin, cfg.clone(), file, opts)
        .await
        .expect_err("a 100 MB line is refused");
    println!(
        "100 MB line: refused in {:.2?} ({refused}); peak (VmHWM) {} MB",
        t.elapsed(),
        status_kb("VmHWM:") / 1024
    );
}
