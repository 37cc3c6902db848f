//! Kernel benchmark (issue: hub-core kernel): REST message sends per second with 16 concurrent
//! clients, inbox page latency with 1,000,000 messages stored, and an idle hub's memory.
//!
//! Tokens spell out their principal (testkit): token validation has its own benchmark
//! (identity), so this one measures the kernel's request path alone.
//!
//! Run: `cargo build --release -p dev-hub && cargo bench --bench kernel`
//! (`KERNEL_BENCH_MESSAGES` changes the stored-message count, `KERNEL_BENCH_SENDS` the sends).

use std::sync::Arc;
use std::time::{Duration, Instant};

use hub_core::config::HubConfig;
use hub_core::server::App;
use sea_orm::{ConnectionTrait, TransactionTrait};
use testkit::bench::{env_usize, percentile};
use tokio_util::sync::CancellationToken;

#[tokio::main]
async fn main() {
    rustls::crypto::ring::default_provider()
        .install_default()
        .expect("install the ring provider");
    let dir = tempfile::tempdir().expect("temp dir");
    let url = format!("sqlite://{}/dev.db?mode=rwc", dir.path().display());
    let config = HubConfig::with_database("dev", &url).expect("config");
    let app = App::build(config, Arc::new(testkit::SpelledTokens), Vec::new())
        .await
        .expect("hub starts");
    let db = app.hub.ctx().db.clone();
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0")
        .await
        .expect("bind");
    let base = format!("http://{}", listener.local_addr().expect("addr"));
    let stop = CancellationToken::new();
    let server = tokio::spawn(app.serve(listener, stop.clone()));
    let client = reqwest::Client::builder()
        .pool_max_idle_per_host(64)
        .build()
        .expect("client");

    sends(&base).await;
    seed(&db, env_usize("KERNEL_BENCH_MESSAGES", 1_000_000)).await;
    inbox(&client, &base).await;
    stop.cancel();
    let _ = server.await;
    idle_rss().await;
}

/// 16 clients, each sending its share of messages to one recipient, as fast as answers come.
///
/// The clients are lean, like wrk: keep-alive connections on a thread and runtime of their own,
/// requests written as prepared bytes, answers read by their length. In-process reqwest clients
/// on the hub's own runtime cost about as much CPU as the hub itself on two cores, so the
/// figure measured the client as much as the server.
async fn sends(base: &str) {
    const CLIENTS: usize = 16;
    let total = env_usize("KERNEL_BENCH_SENDS", 40_000);
    let addr = base.trim_start_matches("http://").to_owned();
    // Runs messages `from..to` on the clients' own thread; returns how long they took.
    let phase = |from: usize, to: usize| {
        let addr = addr.clone();
        tokio::task::spawn_blocking(move || {
            let rt = tokio::runtime::Builder::new_current_thread()
                .enable_all()
                .build()
                .expect("client runtime");
            rt.block_on(async move {
                let start = Instant::now();
                let clients: Vec<_> = (0..CLIENTS)
                    .map(|c| {
                        let addr = addr.clone();
                        tokio::spawn(async move {
                            let mut conn = Conn::open(&addr).await;
                            for i in (from + c..to).step_by(CLIENTS) {
                                conn.send(i, c).await;
                            }
                        })
                    })
                    .collect();
                for c in clients {
                    c.await.expect("client");
                }
                start.elapsed()
            })
        })
    };
    phase(0, 1_000).await.expect("warm-up"); // connections, statement caches
    let secs = phase(1_000, 1_000 + total)
        .await
        .expect("sends")
        .as_secs_f64();
    println!(
        "sends: {total} messages over REST, {CLIENTS} clients, {secs:.2} s => {:.0} sends/s",
        total as f64 / secs
    );
}

/// One keep-alive HTTP/1.1 connection sending messages.
struct Conn {
    stream: tokio::io::BufReader<tokio::net::TcpStream>,
    host: String,
}

impl Conn {
    async fn open(addr: &str) -> Conn {
        Conn {
            stream: testkit::bench::connect(addr).await.expect("connect"),
            host: addr.to_owned(),
        }
    }

    /// Sends message `i` as agent `c` and checks the answer is 201.
    async fn send(&mut self, i: usize, c: usize) {
        let body = format!(
            r#"{{"recipients":["bench-reader"],"subject":"status {i}","body":"build green, deploy at noon"}}"#
        );
        let req = format!(
            "POST /api/v1/messages HTTP/1.1\r\nhost: {}\r\nauthorization: Bearer sub=agent-{c};roles=hub:write\r\ncontent-type: application/json\r\ncontent-length: {}\r\n\r\n{body}",
            self.host,
            body.len()
        );
        let answer = testkit::bench::exchange(&mut self.stream, req.as_bytes())
            .await
            .expect("send");
        assert_eq!(
            answer.status,
            201,
            "send failed: {}",
            String::from_utf8_lossy(&answer.body)
        );
    }
}

/// Fills the store to `n` messages with bulk inserts (through the same tables, indexes and
/// full-text triggers the API uses), spread over 1,000 recipients plus the benchmark reader.
async fn seed(db: &sea_orm::DatabaseConnection, n: usize) {
    let start = Instant::now();
    let existing = count(db, "SELECT COUNT(*) AS n FROM messages").await;
    const BATCH: usize = 500;
    let mut made = existing;
    while made < n {
        let rows = BATCH.min(n - made);
        let mut messages = String::from(
            "INSERT INTO messages (id, sender, subject, body, thread_id, importance, ack_required, domain, created_at) VALUES ",
        );
        let mut recipients = String::from(
            "INSERT INTO message_recipients (message_id, recipient, hub, delivery, read_at, acked_at) VALUES ",
        );
        for r in 0..rows {
            let id = uuid::Uuid::now_v7().to_string();
            let k = made + r;
            let sep = if r == 0 { "" } else { "," };
            messages.push_str(&format!(
                "{sep}('{id}','agent-{}','report {k}','numbers for week {} look fine','{id}','normal',0,NULL,'2026-11-22T00:00:00Z')",
                k % 16,
                k % 52
            ));
            let to = if k % 10 == 0 {
                "bench-reader".to_owned()
            } else {
                format!("agent-{}", k % 1000)
            };
            recipients.push_str(&format!("{sep}('{id}','{to}','dev','delivered',NULL,NULL)"));
        }
        let txn = db.begin().await.expect("begin");
        txn.execute_unprepared(&messages)
            .await
            .expect("insert messages");
        txn.execute_unprepared(&recipients)
            .await
            .expect("insert recipients");
        txn.commit().await.expect("commit");
        made += rows;
    }
    println!(
        "seed: {} messages stored ({} added in {:.1} s)",
        count(db, "SELECT COUNT(*) AS n FROM messages").await,
        n.saturating_sub(existing),
        start.elapsed().as_secs_f64()
    );
}

async fn count(db: &sea_orm::DatabaseConnection, sql: &str) -> usize {
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(
            db.get_database_backend(),
            sql,
        ))
        .await
        .expect("count")
        .expect("a row");
    row.try_get::<i64>("", "n").expect("n") as usize
}

/// Inbox pages of 50 for a reader with ~100,000 messages: first pages and pages deep in the list
/// (following cursors), one request at a time, then with 16 concurrent readers.
async fn inbox(client: &reqwest::Client, base: &str) {
    let (client, inbox_url) = (
        client.clone(),
        format!("{base}/api/v1/messages/inbox?limit=50"),
    );
    let page = move |cursor: Option<String>| {
        let client = client.clone();
        let mut url = inbox_url.clone();
        if let Some(c) = cursor {
            url.push_str(&format!("&cursor={c}"));
        }
        async move {
            let start = Instant::now();
            let res = client
                .get(&url)
                .bearer_auth("sub=bench-reader;roles=hub:read")
                .send()
                .await
                .expect("inbox");
            assert_eq!(res.status(), 200);
            let body: serde_json::Value = res.json().await.expect("json");
            assert_eq!(body["items"].as_array().map(Vec::len), Some(50));
            (
                start.elapsed(),
                body["next_cursor"].as_str().map(str::to_owned),
            )
        }
    };
    for _ in 0..200 {
        page(None).await;
    }
    let mut times = Vec::new();
    let mut cursor = None;
    for _ in 0..2_000 {
        let (t, next) = page(cursor.take()).await;
        times.push(t);
        cursor = next;
    }
    times.sort();
    println!(
        "inbox (sequential, 2000 pages walking the cursor): p50 {:?} p99 {:?} max {:?}",
        percentile(&times, 0.50),
        percentile(&times, 0.99),
        times[times.len() - 1]
    );

    let workers: Vec<_> = (0..16)
        .map(|_| {
            let page = page.clone();
            tokio::spawn(async move {
                let mut times = Vec::new();
                for _ in 0..250 {
                    times.push(page(None).await.0);
                }
                times
            })
        })
        .collect();
    let mut times = Vec::new();
    for w in workers {
        times.extend(w.await.expect("worker"));
    }
    times.sort();
    println!(
        "inbox (16 concurrent readers, 4000 first pages): p50 {:?} p99 {:?}",
        percentile(&times, 0.50),
        percentile(&times, 0.99)
    );
}

/// Starts the standalone `dev-hub` binary next to this bench, waits until it answers, lets it
/// idle, and reads its resident memory.
async fn idle_rss() {
    let exe = std::env::current_exe().expect("bench path");
    let Some(bin) = exe
        .parent()
        .and_then(|deps| deps.parent())
        .map(|dir| dir.join("dev-hub"))
        .filter(|p| p.exists())
    else {
        println!("idle: skipped, build the hub first: cargo build --release -p dev-hub");
        return;
    };
    let dir = tempfile::tempdir().expect("temp dir");
    let port = std::net::TcpListener::bind("127.0.0.1:0")
        .expect("free port")
        .local_addr()
        .expect("addr")
        .port();
    let mut child = tokio::process::Command::new(&bin)
        .args([
            "serve",
            "--listen",
            &format!("127.0.0.1:{port}"),
            "--data-dir",
        ])
        .arg(dir.path())
        .stderr(std::process::Stdio::null())
        .spawn()
        .expect("start dev-hub");
    let client = reqwest::Client::new();
    let deadline = Instant::now() + Duration::from_secs(30);
    while client
        .get(format!("http://127.0.0.1:{port}/healthz"))
        .send()
        .await
        .is_err()
    {
        assert!(Instant::now() < deadline, "dev-hub did not answer");
        tokio::time::sleep(Duration::from_millis(50)).await;
    }
    tokio::time::sleep(Duration::from_secs(2)).await; // idle on purpose: this is the state measured
    let status = std::fs::read_to_string(format!("/proc/{}/status", child.id().expect("pid")))
        .expect("proc status");
    let rss = status
        .lines()
        .find(|l| l.starts_with("VmRSS"))
        .unwrap_or("VmRSS: unknown");
    println!(
        "idle: standalone dev-hub {}",
        rss.split_whitespace().skip(1).collect::<Vec<_>>().join(" ")
    );
    child.kill().await.expect("stop dev-hub");
}
