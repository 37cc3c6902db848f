//! Budgets: set and update, status from spend and commitments, bad input.

use chrono::{Datelike, Utc};
use serde_json::json;

use crate::both;
use crate::support::{ADMIN, FINANCE, READER, Res, TestHub};

pub fn this_month() -> String {
    let today = Utc::now().date_naive();
    format!("{:04}-{:02}", today.year(), today.month())
}

both!(
    budgets_are_set_updated_and_report_their_status,
    |hub: TestHub| async move {
        let period = this_month();
        let today = Utc::now().date_naive().to_string();
        let created = hub
            .post(
                "/api/v1/fin/budgets",
                FINANCE,
                json!({"domain": "finance", "period": period, "allocated": 100_000}),
            )
            .await
            .expect(201)
            .json;
        assert_eq!(created["currency"], "EUR");
        assert_eq!(created["thresholds"], json!([80, 90, 100]));
        assert_eq!(
            (created["spent"].as_i64(), created["percent"].as_u64()),
            (Some(0), Some(0))
        );
        let id = created["id"].as_str().unwrap().to_owned();

        for (amount, currency) in [(30_000, "EUR"), (20_000, "USD")] {
            hub.post(
                "/api/v1/fin/spend",
                FINANCE,
                json!({"date": today, "amount": amount, "currency": currency, "domain": "finance"}),
            )
            .await
            .expect(201);
        }
        hub.post(
            "/api/v1/fin/commitments",
            FINANCE,
            json!({"kind": "subscription", "vendor": "Acme", "domain": "finance", "amount": 5_000,
               "currency": "EUR", "cadence": "monthly", "start_date": "2025-01-01"}),
        )
        .await
        .expect(201);
        // Spend in another domain does not count.
        hub.post(
            "/api/v1/fin/spend",
            ADMIN,
            json!({"date": today, "amount": 99_999, "currency": "EUR", "domain": "infotech"}),
        )
        .await
        .expect(201);

        let b = hub
            .get(&format!("/api/v1/fin/budgets/{id}"), READER)
            .await
            .expect(200)
            .json;
        // 30000 EUR + 20000 USD at 0.5 = 40000 spent; 5000 committed.
        assert_eq!(b["spent"], 40_000);
        assert_eq!(b["committed"], 5_000);
        assert_eq!(b["used"], 45_000);
        assert_eq!(b["remaining"], 55_000);
        assert_eq!(b["percent"], 45);
        assert_eq!(b["crossed"], json!([]));

        let updated = hub
            .post(
                "/api/v1/fin/budgets",
                FINANCE,
                json!({"domain": "finance", "period": period, "allocated": 50_000}),
            )
            .await
            .expect(200)
            .json;
        assert_eq!(updated["id"], id);
        assert_eq!(updated["percent"], 90);
        assert_eq!(updated["crossed"], json!([80, 90]));

        let list = hub
            .get("/api/v1/fin/budgets?domain=finance", FINANCE)
            .await
            .expect(200)
            .json;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        assert_eq!(list["next_cursor"], json!(null));
        assert_eq!(hub.outbox_count("fin_budget.set").await, 2);
    }
);

both!(
    budget_bad_input_is_refused_and_nothing_is_written,
    |hub: TestHub| async move {
        let period = this_month();
        let cases = [
            (
                json!({"domain": "finance", "period": period, "allocated": -5}),
                "allocated",
            ),
            (
                json!({"domain": "finance", "period": period, "allocated": 1_000_000_000_000_000i64}),
                "allocated",
            ),
            (
                json!({"domain": "finance", "period": period, "allocated": 5, "currency": "EURO"}),
                "currency",
            ),
            (
                json!({"domain": "finance", "period": "2026-13", "allocated": 5}),
                "period",
            ),
            (
                json!({"domain": "finance", "period": "1999-12", "allocated": 5}),
                "period",
            ),
            (
                json!({"domain": "finance", "period": period, "allocated": 5, "thresholds": [0]}),
                "thresholds",
            ),
            (
                json!({"domain": "nowhere", "period": period, "allocated": 5}),
                "domain",
            ),
        ];
        for (body, field) in cases {
            let p = hub
                .post("/api/v1/fin/budgets", ADMIN, body.clone())
                .await
                .problem(422);
            assert_eq!(Res::fields(&p), [field], "{body}");
        }
        for body in [
            json!({"domain": "finance", "period": period, "allocated": "lots"}),
            json!({"domain": "finance", "period": period}),
            json!({"domain": "finance", "period": period, "allocated": 5, "colour": "red"}),
        ] {
            hub.post("/api/v1/fin/budgets", ADMIN, body)
                .await
                .problem(400);
        }
        hub.post(
            "/api/v1/fin/budgets",
            FINANCE,
            json!({"domain": "infotech", "period": period, "allocated": 5}),
        )
        .await
        .problem(403);
        hub.post(
            "/api/v1/fin/budgets",
            READER,
            json!({"domain": "finance", "period": period, "allocated": 5}),
        )
        .await
        .problem(403);
        hub.get("/api/v1/fin/budgets/nope", ADMIN)
            .await
            .problem(404);
        hub.get("/api/v1/fin/budgets?cursor=bogus", ADMIN)
            .await
            .problem(400);
        hub.get("/api/v1/fin/budgets?domain=infotech", FINANCE)
            .await
            .problem(403);
        let list = hub.get("/api/v1/fin/budgets", ADMIN).await.expect(200).json;
        assert_eq!(list["items"], json!([]));
        assert_eq!(hub.outbox_count("fin_budget.set").await, 0);
    }
);

both!(budget_lists_page_newest_first, |hub: TestHub| async move {
    for m in 1..=3 {
        hub.post(
            "/api/v1/fin/budgets",
            ADMIN,
            json!({"domain": "finance", "period": format!("2026-0{m}"), "allocated": 100}),
        )
        .await
        .expect(201);
    }
    let first = hub
        .get("/api/v1/fin/budgets?limit=2", ADMIN)
        .await
        .expect(200)
        .json;
    let periods: Vec<&str> = first["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|b| b["period"].as_str().unwrap())
        .collect();
    assert_eq!(periods, ["2026-03", "2026-02"]);
    let cursor = first["next_cursor"].as_str().unwrap();
    let next = hub
        .get(
            &format!("/api/v1/fin/budgets?limit=2&cursor={cursor}"),
            ADMIN,
        )
        .await
        .expect(200)
        .json;
    assert_eq!(next["items"][0]["period"], "2026-01");
    assert_eq!(next["next_cursor"], json!(null));
    let filtered = hub
        .get("/api/v1/fin/budgets?period=2026-02", ADMIN)
        .await
        .expect(200)
        .json;
    assert_eq!(filtered["items"].as_array().unwrap().len(), 1);
    hub.get("/api/v1/fin/budgets?period=feb", ADMIN)
        .await
        .problem(422);
});
