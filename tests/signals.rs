//! fin's signals at dev and ops, with the real hubs on one bus: budget pressure raises the
//! domain's alert at dev (also on the domain's workplans) and recovery resolves it; runway
//! under the threshold raises the viability alert at dev and ops and recovery resolves it; a
//! service's monthly cost lands in ops's costs; a malformed signal is parked and its consumer
//! goes on. Each test runs over the in-process bus and over a real nats-server.

use std::sync::Arc;
use std::time::Duration;

use axum::body::Body;
use axum::http::{Method, Request};
use chrono::{Datelike, Days, Utc};
use hub_core::bus::inbox::Parked;
use hub_core::bus::{Bus, ConsumerSpec, MemoryBus, NatsBus, Outgoing};
use hub_core::config::HubConfig;
use hub_core::module::HubModule;
use hub_core::outbox::Event;
use serde_json::{Value, json};
use tokio::net::TcpListener;

use crate::core_support::{ADMIN, Backend, TestHub, eventually};
use crate::nats_server::NatsServer;
use crate::support::{hubmesh, write_endpoints};

/// Long enough for a real nats-server on a loaded machine.
const WAIT: Duration = Duration::from_secs(30);

/// The bus the hubs of a test share.
enum Net {
    /// One in-process bus for every hub, as `hubmesh up` runs them.
    InProcess(Arc<dyn Bus>),
    /// A nats-server of the test's own; each hub connects to it as its own client.
    Nats(Box<NatsServer>),
}

impl Net {
    async fn bus_for(&self, hub: &str) -> Arc<dyn Bus> {
        match self {
            Net::InProcess(bus) => bus.clone(),
            Net::Nats(server) => {
                let config = HubConfig::with_database(hub, "sqlite::memory:").expect("config");
                Arc::new(
                    NatsBus::connect(&server.url(), &config.nats, hub)
                        .await
                        .expect("connect to nats-server"),
                )
            }
        }
    }
}

/// Declares a test that runs once over the in-process bus and once over a real nats-server:
/// `over_both_buses!(name, |net: Net| async move { … })`.
macro_rules! over_both_buses {
    ($name:ident, $body:expr) => {
        mod $name {
            use super::*;
            #[tokio::test]
            async fn in_process() {
                let bus: Arc<dyn Bus> = Arc::new(MemoryBus::new(Duration::from_secs(120)));
                ($body)(Net::InProcess(bus)).await;
            }
            #[tokio::test]
            async fn nats() {
                ($body)(Net::Nats(Box::new(NatsServer::start().await))).await;
            }
        }
    };
}

/// fin, dev and ops on one bus, each with the domain `finance`; fin on SQLite, dev and ops on
/// PostgreSQL.
struct Hubs {
    fin: TestHub,
    dev: TestHub,
    ops: TestHub,
    // Dropped last: the hubs' clients go before their server.
    _net: Net,
}

impl Hubs {
    async fn start(net: Net) -> Self {
        let fin = hub(&net, Backend::Sqlite, fin_hub::NAME, fin_hub::modules()).await;
        let dev = hub(&net, Backend::Postgres, dev_hub::NAME, dev_hub::modules()).await;
        let ops = hub(&net, Backend::Postgres, ops_hub::NAME, ops_hub::modules()).await;
        for hub in [&fin, &dev, &ops] {
            hub.domains(&["finance"]).await;
        }
        Self {
            fin,
            dev,
            ops,
            _net: net,
        }
    }
}

async fn hub(net: &Net, backend: Backend, name: &str, modules: Vec<Box<dyn HubModule>>) -> TestHub {
    TestHub::on_bus(backend, name, modules, net.bus_for(name).await, |_| {}).await
}

fn this_month() -> String {
    let today = Utc::now().date_naive();
    format!("{:04}-{:02}", today.year(), today.month())
}

/// The alert `key` of `hub` as `GET /api/v1/alerts?status=all` lists it.
async fn alert(hub: &TestHub, key: &str) -> Option<Value> {
    let page = hub
        .get("/api/v1/alerts?status=all&limit=500", ADMIN)
        .await
        .expect(200)
        .json;
    page["items"]
        .as_array()
        .expect("items")
        .iter()
        .find(|a| a["key"] == key)
        .cloned()
}

async fn alert_state(hub: &TestHub, key: &str) -> Option<String> {
    alert(hub, key)
        .await
        .and_then(|a| a["state"].as_str().map(str::to_owned))
}

/// The keys of a workplan's fin alerts, in its view and in the list.
async fn workplan_alerts(dev: &TestHub, id: &str) -> (Vec<Value>, Vec<Value>) {
    let keys = |wp: &Value| -> Vec<Value> {
        wp["fin_alerts"]
            .as_array()
            .expect("fin_alerts")
            .iter()
            .map(|a| a["key"].clone())
            .collect()
    };
    let view = dev
        .get(&format!("/api/v1/dev/workplans/{id}"), ADMIN)
        .await
        .expect(200)
        .json;
    let list = dev
        .get("/api/v1/dev/workplans?domain=finance", ADMIN)
        .await
        .expect(200)
        .json;
    (keys(&view), keys(&list["items"][0]))
}

const WORKPLAN: &str = "---\nid: FIN-WP-0001\ntitle: Ledger\nstatus: active\ndomain: finance\n---\n\n# Ledger\n\nMove the ledger.\n";

async fn import_workplan(dev: &TestHub) {
    let req = Request::builder()
        .method(Method::POST)
        .uri("/api/v1/dev/workplans/import")
        .header("authorization", format!("Bearer {ADMIN}"))
        .header("content-type", "text/markdown")
        .body(Body::from(WORKPLAN))
        .expect("request");
    dev.send(req).await.expect(200);
}

async fn fin_post(fin: &TestHub, path: &str, body: Value, status: u16) {
    fin.post(&format!("/api/v1/fin/{path}"), ADMIN, body)
        .await
        .expect(status);
}

over_both_buses!(
    dev_and_ops_follow_fins_pressure_viability_and_cost_signals,
    |net: Net| async move {
        let Hubs { fin, dev, ops, .. } = &Hubs::start(net).await;
        import_workplan(dev).await;
        ops.post(
            "/api/v1/ops/services",
            ADMIN,
            json!({"id": "crm", "name": "CRM", "kind": "api", "domain": "finance",
                   "environment": "production", "location": "eu-1"}),
        )
        .await
        .expect(201);
        let period = this_month();
        let today = Utc::now().date_naive();
        let pressure = format!("fin.pressure.finance.{period}.80");

        // 85 % of the budget, spent by the CRM: pressure at dev, the CRM's cost at ops.
        fin_post(
            fin,
            "budgets",
            json!({"domain": "finance", "period": period, "allocated": 10_000}),
            201,
        )
        .await;
        fin_post(
            fin,
            "spend",
            json!({"date": today, "amount": 8_500, "currency": "EUR", "domain": "finance",
                   "service_id": "crm"}),
            201,
        )
        .await;
        eventually("dev raises the 80 % pressure alert", WAIT, || async {
            alert_state(dev, &pressure).await.as_deref() == Some("open")
        })
        .await;
        let raised = alert(dev, &pressure).await.expect("the alert");
        assert_eq!(
            (
                &raised["domain"],
                &raised["severity"],
                &raised["last_actor"]
            ),
            (&json!("finance"), &json!("medium"), &json!("dev-hub"))
        );
        assert!(
            raised["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("fin: budget of finance") && s.contains("85%")),
            "{raised}"
        );
        assert_eq!(
            alert_state(dev, &format!("fin.pressure.finance.{period}.90")).await,
            None
        );
        assert_eq!(
            workplan_alerts(dev, "FIN-WP-0001").await,
            (vec![json!(pressure)], vec![json!(pressure)])
        );
        let summary = dev
            .get("/api/v1/state-summary", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(summary["counts"]["open_alerts"], 1, "{summary}");

        let cost = json!({"period": period, "amount": 8_500, "currency": "EUR"});
        eventually("ops stores the CRM's cost", WAIT, || async {
            let service = ops
                .get("/api/v1/ops/services/crm", ADMIN)
                .await
                .expect(200)
                .json;
            service["costs"].as_array().is_some_and(|c| {
                c.iter()
                    .any(|c| c["period"] == cost["period"] && c["amount"] == cost["amount"])
            })
        })
        .await;
        let costs = ops
            .get("/api/v1/ops/costs?service=crm", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(costs["items"].as_array().map(Vec::len), Some(1), "{costs}");
        assert_eq!(
            (
                &costs["items"][0]["service_id"],
                &costs["items"][0]["currency"]
            ),
            (&json!("crm"), &json!("EUR"))
        );
        // And through `hubmesh ops costs`, against ops served on loopback.
        let listener = TcpListener::bind("127.0.0.1:0").await.expect("bind");
        let url = format!("http://{}", listener.local_addr().expect("addr"));
        let router = ops.app.router.clone();
        tokio::spawn(async move { axum::serve(listener, router).await });
        let data_dir = tempfile::tempdir().expect("temp dir");
        write_endpoints(data_dir.path(), &[("ops", &url)]);
        let out = hubmesh(data_dir.path(), Some(ADMIN), &["ops", "costs"])
            .await
            .ok();
        assert_eq!(
            (
                out.column("SERVICE"),
                out.column("PERIOD"),
                out.column("AMOUNT")
            ),
            (
                vec!["crm".to_owned()],
                vec![period.clone()],
                vec!["8500".to_owned()]
            )
        );

        // A larger allocation: fin resolves its alert and reports recovery; dev follows.
        fin_post(
            fin,
            "budgets",
            json!({"domain": "finance", "period": period, "allocated": 100_000}),
            200,
        )
        .await;
        eventually("dev resolves the pressure alert", WAIT, || async {
            alert_state(dev, &pressure).await.as_deref() == Some("resolved")
        })
        .await;
        assert_eq!(workplan_alerts(dev, "FIN-WP-0001").await, (vec![], vec![]));
        let summary = dev
            .get("/api/v1/state-summary", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(summary["counts"]["open_alerts"], 0, "{summary}");

        // About two months of cash at 100000 a month: under the 6 months of the threshold.
        let last_month = today.checked_sub_days(Days::new(35)).expect("date");
        let yesterday = today.checked_sub_days(Days::new(1)).expect("date");
        fin_post(
            fin,
            "spend",
            json!({"date": last_month, "amount": 100_000, "currency": "EUR", "domain": "finance"}),
            201,
        )
        .await;
        fin_post(
            fin,
            "balances",
            json!({"date": yesterday, "amount": 200_000, "currency": "EUR"}),
            201,
        )
        .await;
        for hub in [dev, ops] {
            eventually("the viability alert", WAIT, || async {
                alert_state(hub, "fin.viability").await.as_deref() == Some("open")
            })
            .await;
            let a = alert(hub, "fin.viability").await.expect("the alert");
            assert_eq!(
                (&a["severity"], &a["domain"]),
                (&json!("high"), &Value::Null)
            );
            assert!(
                a["summary"]
                    .as_str()
                    .is_some_and(|s| s.starts_with("fin: runway is")),
                "{a}"
            );
        }
        // Hub-wide, so not on the domain's workplans.
        assert_eq!(workplan_alerts(dev, "FIN-WP-0001").await, (vec![], vec![]));

        // Plenty of cash: fin reports recovery; both resolve.
        fin_post(
            fin,
            "balances",
            json!({"date": today, "amount": 50_000_000, "currency": "EUR"}),
            201,
        )
        .await;
        for hub in [dev, ops] {
            eventually("the viability alert resolves", WAIT, || async {
                alert_state(hub, "fin.viability").await.as_deref() == Some("resolved")
            })
            .await;
            let a = alert(hub, "fin.viability").await.expect("the alert");
            assert_eq!(a["event_count"], 2, "raised once, resolved once: {a}");
        }
        assert_eq!(
            alert(dev, &pressure).await.expect("the alert")["event_count"],
            2,
            "raised once, resolved once"
        );
    }
);

/// A signal as fin's relay publishes it: a CloudEvents envelope from `/hubs/fin`.
fn signal(subject: &str, data: Value) -> Outgoing {
    let kind = subject
        .strip_prefix("hubmesh.sig.")
        .expect("a signal subject");
    let event = Event::new("fin", "sig", kind, "test", &data).expect("event");
    Outgoing {
        subject: subject.into(),
        msg_id: event.id.clone(),
        payload: serde_json::to_vec(&event).expect("event JSON").into(),
    }
}

/// The next parked message on `hubmesh.dlq.<hub>`.
async fn parked(bus: &Arc<dyn Bus>, hub: &str) -> Parked {
    let mut dlq = bus.consume(ConsumerSpec {
        durable: format!("test-dlq-{hub}"),
        filter: format!("hubmesh.dlq.{hub}"),
    });
    let d = tokio::time::timeout(WAIT, dlq.recv())
        .await
        .expect("a parked message in time")
        .expect("the bus keeps delivering");
    d.ack().await.expect("ack");
    serde_json::from_slice(&d.payload).expect("a parked record")
}

over_both_buses!(
    a_malformed_signal_is_parked_and_the_consumer_goes_on,
    |net: Net| async move {
        let hubs = Hubs::start(net).await;
        let (dev, ops) = (&hubs.dev, &hubs.ops);
        let bus = dev.ctx().bus.clone();
        let period = this_month();
        let good = json!({"domain": "finance", "period": period, "threshold": 90, "percent": 93,
            "currency": "EUR", "allocated": 100, "spent": 93, "committed": 0, "projected": 93});
        // A payload without its recovery fields, as fin wrote it before it reported recovery.
        let results = bus
            .publish(vec![
                signal(
                    "hubmesh.sig.fin.pressure",
                    json!({"domain": "finance", "period": 7}),
                ),
                signal("hubmesh.sig.fin.pressure", good),
                signal(
                    "hubmesh.sig.fin.cost",
                    json!({"service_id": "crm", "period": "2026-13",
                    "amount": 1, "currency": "EUR"}),
                ),
                signal(
                    "hubmesh.sig.fin.cost",
                    json!({"service_id": "crm", "period": period,
                    "amount": 42, "currency": "EUR"}),
                ),
            ])
            .await;
        assert!(results.iter().all(Result::is_ok), "{results:?}");

        let key = format!("fin.pressure.finance.{period}.90");
        eventually(
            "dev applies the signal after the malformed one",
            WAIT,
            || async { alert_state(dev, &key).await.as_deref() == Some("open") },
        )
        .await;
        let a = alert(dev, &key).await.expect("the alert");
        assert_eq!(
            a["severity"], "medium",
            "the default of a payload without one"
        );
        assert_eq!(
            a["summary"],
            format!("fin: budget of finance for {period} is at 93%: crossed 90%")
        );
        eventually(
            "ops stores the cost after the invalid one",
            WAIT,
            || async {
                let costs = ops.get("/api/v1/ops/costs", ADMIN).await.expect(200).json;
                costs["items"][0]["amount"] == 42
            },
        )
        .await;

        let at_dev = parked(&bus, "dev").await;
        assert_eq!(at_dev.subject, "hubmesh.sig.fin.pressure");
        assert!(
            at_dev.reason.starts_with("invalid event") && at_dev.reason.contains("data"),
            "{at_dev:?}"
        );
        let at_ops = parked(&bus, "ops").await;
        assert_eq!(at_ops.subject, "hubmesh.sig.fin.cost");
        assert!(at_ops.reason.contains("period"), "{at_ops:?}");
        let costs = ops.get("/api/v1/ops/costs", ADMIN).await.expect(200).json;
        assert_eq!(costs["items"].as_array().map(Vec::len), Some(1), "{costs}");
    }
);
