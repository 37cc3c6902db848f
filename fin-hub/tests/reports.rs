//! Burn and runway over REST on hand-checked numbers, and the OpenAPI document.

use serde_json::json;

use crate::both;
use crate::support::{ADMIN, FINANCE, Res, TestHub};

async fn ledger(hub: &TestHub) {
    for (date, amount, currency) in [
        ("2025-12-15", 90_000, "EUR"),
        ("2026-01-10", 100_000, "EUR"),
        ("2026-01-11", 20_000, "USD"),
        ("2026-02-10", 80_000, "EUR"),
        ("2026-03-05", 40_000, "EUR"),
    ] {
        hub.post(
            "/api/v1/fin/spend",
            ADMIN,
            json!({"date": date, "amount": amount, "currency": currency, "domain": "finance"}),
        )
        .await
        .expect(201);
    }
    hub.post(
        "/api/v1/fin/commitments",
        ADMIN,
        json!({"kind": "contract", "vendor": "Acme", "domain": "finance", "amount": 3_100, "currency": "EUR",
               "cadence": "monthly", "start_date": "2025-01-01", "end_date": "2026-03-20"}),
    )
    .await
    .expect(201);
}

both!(burn_and_runway_by_hand, |hub: TestHub| async move {
    ledger(&hub).await;
    let b = hub
        .get("/api/v1/fin/burn?as_of=2026-03-10&months=3", FINANCE)
        .await
        .expect(200)
        .json;
    assert_eq!(
        b["months"],
        json!([
            {"period": "2026-01", "actual": 110_000, "committed": 3_100, "partial": false},
            {"period": "2026-02", "actual": 80_000, "committed": 3_100, "partial": false},
            {"period": "2026-03", "actual": 40_000, "committed": 2_000, "partial": true},
        ])
    );
    assert_eq!(
        (
            b["trailing_average"].as_i64(),
            b["trailing_months"].as_u64()
        ),
        (Some(93_333), Some(3))
    );
    assert_eq!(b["current_month_projected"], 105_226);
    assert_eq!(b["projected_monthly"], 93_333);
    let infotech = hub
        .get("/api/v1/fin/burn?as_of=2026-03-10&domain=infotech", ADMIN)
        .await
        .expect(200)
        .json;
    assert_eq!(infotech["trailing_average"], 0);

    hub.get("/api/v1/fin/runway?as_of=2026-03-10", ADMIN)
        .await
        .problem(404);
    hub.post(
        "/api/v1/fin/balances",
        ADMIN,
        json!({"date": "2026-03-05", "amount": 1_000_000, "currency": "EUR"}),
    )
    .await
    .expect(201);
    let r = hub
        .get("/api/v1/fin/runway?as_of=2026-03-10", FINANCE)
        .await
        .expect(200)
        .json;
    // Cash: 1000000 - 40000 * 26/31 (33548) - 3100 * 5/31 (500) = 965952.
    // March 11..31: 93333 * 21/31 (63226) + 3100 * 10/31 (1000); April..December: 93333 each;
    // January 2027: 61729 left covers 20 of 31 days -> January 21; 21/31 + 9 + 20/31 = 10.32.
    assert_eq!(r["cash"], 965_952);
    assert_eq!(r["monthly_burn"], 93_333);
    assert_eq!(r["months_left"], 10.32);
    assert_eq!(r["run_out_date"], "2027-01-21");
    assert_eq!(r["below_threshold"], false);
    let usd = hub
        .get("/api/v1/fin/runway?as_of=2026-03-10&currency=USD", ADMIN)
        .await
        .expect(200)
        .json;
    // Converted before rounding: 2000000 - 80000 * 26/31 (67097) - 6200 * 5/31 (1000).
    assert_eq!(usd["cash"], 1_931_903);
});

both!(report_bad_input_is_refused, |hub: TestHub| async move {
    ledger(&hub).await;
    for (path, field) in [
        ("/api/v1/fin/burn?as_of=2026-03-10&currency=GBP", "currency"),
        ("/api/v1/fin/burn?as_of=2026-03-10&currency=gbp", "currency"),
        ("/api/v1/fin/burn?months=0", "months"),
        ("/api/v1/fin/burn?as_of=1999-01-01", "as_of"),
        ("/api/v1/fin/burn?domain=nowhere", "domain"),
        ("/api/v1/fin/costs/by-service?period=2026-1", "period"),
    ] {
        let p = hub.get(path, ADMIN).await.problem(422);
        assert_eq!(Res::fields(&p), [field], "{path}");
    }
    hub.get("/api/v1/fin/burn?as_of=yesterday", ADMIN)
        .await
        .problem(400);
    hub.get("/api/v1/fin/burn?domain=infotech", FINANCE)
        .await
        .problem(403);
    hub.get("/api/v1/fin/burn", "sub=x;roles=dev:read")
        .await
        .problem(403);
});

both!(
    the_openapi_document_lists_every_fin_path,
    |hub: TestHub| async move {
        let doc = hub
            .get("/api/v1/openapi.json", ADMIN)
            .await
            .expect(200)
            .json;
        for path in [
            "/api/v1/fin/budgets",
            "/api/v1/fin/budgets/{id}",
            "/api/v1/fin/commitments",
            "/api/v1/fin/commitments/{id}",
            "/api/v1/fin/spend",
            "/api/v1/fin/spend/{id}",
            "/api/v1/fin/token-spend",
            "/api/v1/fin/balances",
            "/api/v1/fin/burn",
            "/api/v1/fin/runway",
            "/api/v1/fin/costs/by-service",
            "/api/v1/fin/costs/by-domain",
            "/api/v1/fin/imports",
            "/api/v1/fin/imports/{id}",
        ] {
            assert!(doc["paths"][path].is_object(), "{path} missing");
        }
        let modules = hub.get("/api/v1/modules", ADMIN).await.expect(200).json;
        assert_eq!(modules["items"][0]["state"], "running");
        assert_eq!(
            modules["items"][0]["produces"][0],
            "hubmesh.sig.fin.pressure"
        );
    }
);
