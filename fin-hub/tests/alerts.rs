//! Budget threshold and runway alerts through hub-core progress, and the cross-hub signals.

use chrono::{Days, Utc};
use serde_json::json;

use crate::both;
use crate::budgets::this_month;
use crate::support::{ADMIN, FINANCE, TestHub, WAIT, eventually};

async fn spend(hub: &TestHub, amount: i64, service: Option<&str>) {
    let today = Utc::now().date_naive().to_string();
    hub.post(
        "/api/v1/fin/spend",
        FINANCE,
        json!({"date": today, "amount": amount, "currency": "EUR", "domain": "finance", "service_id": service}),
    )
    .await
    .expect(201);
}

async fn alert_state(hub: &TestHub, key: &str) -> Option<String> {
    hub.alert(key)
        .await
        .map(|a| a["state"].as_str().unwrap().to_owned())
}

both!(
    crossing_budget_thresholds_raises_each_alert_once_and_signals_pressure,
    |hub: TestHub| async move {
        let period = this_month();
        let key = |t: u32| format!("fin.budget.finance.{period}.{t}");
        hub.post(
            "/api/v1/fin/budgets",
            FINANCE,
            json!({"domain": "finance", "period": period, "allocated": 10_000}),
        )
        .await
        .expect(201);
        spend(&hub, 8_500, None).await;
        eventually("the 80 % alert", WAIT, || async {
            alert_state(&hub, &key(80)).await.as_deref() == Some("open")
        })
        .await;
        assert_eq!(alert_state(&hub, &key(90)).await, None);
        // Still above 80 %: no second alert. Then 91 %: the 90 % alert.
        spend(&hub, 10, None).await;
        spend(&hub, 590, None).await;
        eventually("the 90 % alert", WAIT, || async {
            alert_state(&hub, &key(90)).await.as_deref() == Some("open")
        })
        .await;
        let a80 = hub.alert(&key(80)).await.unwrap();
        assert_eq!(
            (a80["event_count"].as_i64(), a80["severity"].as_str()),
            (Some(1), Some("medium"))
        );
        assert_eq!(hub.alert(&key(90)).await.unwrap()["severity"], "high");
        assert_eq!(alert_state(&hub, &key(100)).await, None);
        let signals = hub.outbox("sig.fin.pressure").await;
        assert_eq!(signals.len(), 2);
        assert_eq!(
            signals[1],
            json!({"domain": "finance", "period": period, "threshold": 90, "percent": 91, "currency": "EUR",
               "allocated": 10_000, "spent": 9_100, "committed": 0, "projected": signals[1]["projected"],
               "severity": "high", "recovered": false,
               "summary": format!("budget of finance for {period} is at 91% (9100 of 10000 EUR spent or committed): crossed 90%")})
        );
        // A larger allocation brings the budget back under both thresholds: both alerts resolve.
        hub.post(
            "/api/v1/fin/budgets",
            FINANCE,
            json!({"domain": "finance", "period": period, "allocated": 100_000}),
        )
        .await
        .expect(200);
        eventually("the alerts resolve", WAIT, || async {
            alert_state(&hub, &key(80)).await.as_deref() == Some("resolved")
                && alert_state(&hub, &key(90)).await.as_deref() == Some("resolved")
        })
        .await;
        // Each resolution goes out as a recovery, with fin's note.
        let signals = hub.outbox("sig.fin.pressure").await;
        let recovered: Vec<_> = signals[2..]
            .iter()
            .map(|s| {
                (
                    &s["threshold"],
                    &s["percent"],
                    &s["recovered"],
                    &s["summary"],
                )
            })
            .collect();
        let back = json!(format!("budget of finance for {period} is back at 9%"));
        assert_eq!(
            recovered,
            [
                (&json!(80), &json!(9), &json!(true), &back),
                (&json!(90), &json!(9), &json!(true), &back)
            ]
        );
    }
);

both!(
    service_costs_are_signalled_when_their_total_changes,
    |hub: TestHub| async move {
        let period = this_month();
        spend(&hub, 1_000, Some("crm")).await;
        eventually("the first cost signal", WAIT, || async {
            hub.outbox_count("sig.fin.cost").await == 1
        })
        .await;
        spend(&hub, 500, Some("crm")).await;
        eventually("the second cost signal", WAIT, || async {
            hub.outbox_count("sig.fin.cost").await == 2
        })
        .await;
        let signals = hub.outbox("sig.fin.cost").await;
        assert_eq!(signals[0]["amount"], 1_000);
        assert_eq!(
            signals[1],
            json!({"service_id": "crm", "period": period, "amount": 1_500, "currency": "EUR"})
        );
        // Spend without a service changes no service total: no signal.
        spend(&hub, 700, None).await;
        spend(&hub, 1, Some("crm")).await;
        eventually("the third cost signal", WAIT, || async {
            hub.outbox_count("sig.fin.cost").await == 3
        })
        .await;
        assert_eq!(hub.outbox("sig.fin.cost").await[2]["amount"], 1_501);
    }
);

both!(
    runway_under_the_threshold_raises_a_high_alert_and_recovery_resolves_it,
    |hub: TestHub| async move {
        let today = Utc::now().date_naive();
        let yesterday = today.checked_sub_days(Days::new(1)).unwrap();
        let last_month = today.checked_sub_days(Days::new(35)).unwrap();
        hub.post(
            "/api/v1/fin/spend",
            ADMIN,
            json!({"date": last_month, "amount": 100_000, "currency": "EUR", "domain": "finance"}),
        )
        .await
        .expect(201);
        // About two months of cash at 100000 a month.
        hub.post(
            "/api/v1/fin/balances",
            ADMIN,
            json!({"date": yesterday, "amount": 200_000, "currency": "EUR"}),
        )
        .await
        .expect(201);
        eventually("the runway alert", WAIT, || async {
            alert_state(&hub, "fin.runway").await.as_deref() == Some("open")
        })
        .await;
        assert_eq!(hub.alert("fin.runway").await.unwrap()["severity"], "high");
        let viability = hub.outbox("sig.viability").await;
        assert_eq!(viability.len(), 1);
        assert_eq!(viability[0]["threshold_months"], 6);
        assert!(viability[0]["months_left"].as_f64().unwrap() < 6.0);
        assert_eq!(viability[0]["recovered"], false);
        assert_eq!(
            viability[0]["summary"],
            hub.alert("fin.runway").await.unwrap()["summary"],
            "the signal says what fin's alert says"
        );

        hub.post(
            "/api/v1/fin/balances",
            ADMIN,
            json!({"date": today, "amount": 50_000_000, "currency": "EUR"}),
        )
        .await
        .expect(201);
        eventually("the runway alert resolves", WAIT, || async {
            alert_state(&hub, "fin.runway").await.as_deref() == Some("resolved")
        })
        .await;
        hub.post(
            "/api/v1/fin/balances",
            ADMIN,
            json!({"date": today, "amount": 1, "currency": "EUR"}),
        )
        .await
        .problem(409);
        hub.post(
            "/api/v1/fin/balances",
            FINANCE,
            json!({"date": today, "amount": 1, "currency": "EUR"}),
        )
        .await
        .problem(403);
        let viability = hub.outbox("sig.viability").await;
        assert_eq!(viability.len(), 2, "the raise and the recovery");
        assert_eq!(
            (&viability[0]["recovered"], &viability[1]["recovered"]),
            (&json!(false), &json!(true))
        );
        assert_eq!(viability[1]["severity"], "high");
        assert!(
            viability[1]["summary"]
                .as_str()
                .is_some_and(|s| s.starts_with("runway recovered")),
            "{}",
            viability[1]
        );
    }
);

both!(
    signals_reach_the_bus_on_their_subjects,
    |hub: TestHub| async move {
        use hub_core::bus::ConsumerSpec;
        use hub_core::bus::batch::{Item, unpack};
        let mut rx = hub.ctx().bus.consume(ConsumerSpec {
            durable: "fin-test-signals".into(),
            filter: "hubmesh.sig.>".into(),
        });
        let period = this_month();
        let yesterday = Utc::now()
            .date_naive()
            .checked_sub_days(Days::new(1))
            .unwrap();
        hub.post(
            "/api/v1/fin/budgets",
            FINANCE,
            json!({"domain": "finance", "period": period, "allocated": 1_000, "thresholds": [100]}),
        )
        .await
        .expect(201);
        hub.post(
            "/api/v1/fin/balances",
            ADMIN,
            json!({"date": yesterday, "amount": 10, "currency": "EUR"}),
        )
        .await
        .expect(201);
        spend(&hub, 1_000, Some("crm")).await;

        // Other signals share `hubmesh.sig.>` (alerts go to `hubmesh.sig.alert` too): wait for fin's three.
        let wanted = [
            "hubmesh.sig.fin.pressure",
            "hubmesh.sig.fin.cost",
            "hubmesh.sig.viability",
        ];
        let mut seen = std::collections::BTreeMap::new();
        let waited = tokio::time::timeout(std::time::Duration::from_secs(10), async {
            while !wanted.iter().all(|s| seen.contains_key(*s)) {
                let d = rx.recv().await.expect("the bus keeps delivering");
                for item in unpack(&d.payload).expect("CloudEvents JSON") {
                    let Item::Event(event) = item else {
                        panic!("an unreadable event on {}", d.subject)
                    };
                    let data: serde_json::Value = event.data_as().expect("JSON data");
                    seen.insert(d.subject.clone(), data);
                }
                d.ack().await.expect("ack");
            }
        })
        .await;
        assert!(waited.is_ok(), "signals seen: {seen:?}");
        let pressure = &seen["hubmesh.sig.fin.pressure"];
        assert_eq!(
            (pressure["domain"].as_str(), pressure["percent"].as_u64()),
            (Some("finance"), Some(100))
        );
        assert_eq!(seen["hubmesh.sig.fin.cost"]["service_id"], "crm");
        assert_eq!(seen["hubmesh.sig.viability"]["threshold_months"], 6);
    }
);
