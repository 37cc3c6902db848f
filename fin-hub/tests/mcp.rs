//! The fin MCP tools over the hub's `/mcp` endpoint, beside the core tools.

use serde_json::json;

use testkit::mcp::Session;

use crate::both;
use crate::support::{ADMIN, FINANCE, TestHub};

both!(
    the_fin_tools_are_listed_and_call_the_services,
    |hub: TestHub| async move {
        let mut s = Session::open(&hub.app.router, ADMIN, "").await;
        let list = s.rpc("tools/list", json!({})).await;
        let names: Vec<&str> = list["result"]["tools"]
            .as_array()
            .unwrap()
            .iter()
            .map(|t| t["name"].as_str().unwrap())
            .collect();
        for tool in [
            "get_budget_status",
            "set_budget",
            "add_commitment",
            "record_token_spend",
            "get_burn_rate",
            "get_runway",
            "get_cost_by_service",
            "import_costs",
        ] {
            assert!(names.contains(&tool), "{tool} missing from {names:?}");
        }

        let set = s
            .ok(
                "set_budget",
                json!({"domain": "finance", "period": "2026-01", "allocated": 100_000}),
            )
            .await;
        assert_eq!(
            (set["allocated"].as_i64(), set["percent"].as_u64()),
            (Some(100_000), Some(0))
        );
        let c = s
        .ok("add_commitment", json!({"kind": "salary", "vendor": "Ada", "domain": "finance", "amount": 31_000,
                                      "currency": "EUR", "cadence": "monthly", "start_date": "2026-01-17"}))
        .await;
        assert!(c["id"].is_string());
        let imported = s
        .ok("import_costs", json!({"csv": "date,amount,currency,service_id\n2026-01-05,100.00,EUR,crm\n2026-01-06,x,EUR,crm\n", "domain": "finance"}))
        .await;
        assert_eq!(
            (imported["inserted"].as_i64(), imported["rejected"].as_i64()),
            (Some(1), Some(1))
        );
        assert_eq!(imported["errors"][0]["line"], 3);
        let again = s
        .ok("import_costs", json!({"csv": "date,amount,currency,service_id\n2026-01-05,100.00,EUR,crm\n", "domain": "finance"}))
        .await;
        assert_eq!(again["duplicates"], 1);

        let status = s
            .ok(
                "get_budget_status",
                json!({"domain": "finance", "period": "2026-01"}),
            )
            .await;
        // 10000 spent; the salary runs 15 of 31 January days: 31000 * 15/31 = 15000.
        assert_eq!(
            (
                status["spent"].as_i64(),
                status["committed"].as_i64(),
                status["percent"].as_u64()
            ),
            (Some(10_000), Some(15_000), Some(25))
        );
        let costs = s
            .ok("get_cost_by_service", json!({"period": "2026-01"}))
            .await;
        assert_eq!(
            costs["items"],
            json!([{"key": "crm", "period": "2026-01", "amount": 10_000, "currency": "EUR", "entries": 1}])
        );
        let burn = s
            .ok(
                "get_burn_rate",
                json!({"domain": "finance", "as_of": "2026-02-10", "months": 2}),
            )
            .await;
        assert_eq!(burn["months"][0]["actual"], 10_000);
        assert_eq!(burn["projected_monthly"], 10_000 + 31_000);

        let missing = s.fails("get_runway", json!({"as_of": "2026-02-10"})).await;
        assert!(
            missing.contains("balance at or before 2026-02-10 not found"),
            "{missing}"
        );
        hub.post(
            "/api/v1/fin/balances",
            ADMIN,
            json!({"date": "2026-02-01", "amount": 1_000_000, "currency": "EUR"}),
        )
        .await
        .expect(201);
        let runway = s.ok("get_runway", json!({"as_of": "2026-02-10"})).await;
        assert!(runway["months_left"].as_f64().unwrap() > 6.0, "{runway}");

        let unknown = s
            .fails(
                "get_budget_status",
                json!({"domain": "finance", "period": "2026-02"}),
            )
            .await;
        assert!(unknown.contains("not found"), "{unknown}");
        let bad = s.fails("add_commitment", json!({"kind": "salary", "vendor": "Ada", "domain": "finance", "amount": 1,
                                                 "currency": "EUR", "cadence": "monthly", "start_date": "17/01/2026"})).await;
        assert!(bad.contains("\"17/01/2026\" is not a date"), "{bad}");
    }
);

both!(
    token_spend_through_mcp_is_the_callers_and_priced,
    |hub: TestHub| async move {
        let mut s = Session::open(&hub.app.router, FINANCE, "").await;
        let t = s
        .ok("record_token_spend", json!({"provider": "anthropic", "model": "claude", "tokens_in": 2_000_000,
                                          "tokens_out": 100_000, "domain": "finance", "external_id": "c-1"}))
        .await;
        // 2M in at 3 + 100k out at 15 per million = 6 + 1.5 = 7.50 EUR.
        assert_eq!(
            (
                t["cost"].as_i64(),
                t["agent"].as_str(),
                t["priced"].as_bool()
            ),
            (Some(750), Some("fina"), Some(true))
        );
        let again = s
        .ok("record_token_spend", json!({"provider": "anthropic", "model": "claude", "tokens_in": 2_000_000,
                                          "tokens_out": 100_000, "domain": "finance", "external_id": "c-1"}))
        .await;
        assert_eq!(again["id"], t["id"]);
        let unpriced = s
        .fails("record_token_spend", json!({"provider": "anthropic", "model": "other", "tokens_in": 1, "tokens_out": 1, "domain": "finance"}))
        .await;
        assert!(
            unpriced.contains("no price known for provider anthropic model other"),
            "{unpriced}"
        );
        let forbidden = s
        .fails("record_token_spend", json!({"provider": "anthropic", "model": "claude", "tokens_in": 1, "tokens_out": 1, "domain": "infotech"}))
        .await;
        assert!(forbidden.contains("infotech"), "{forbidden}");
        let ledger = hub
            .get("/api/v1/fin/spend?source=token", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(ledger["items"].as_array().unwrap().len(), 1);
    }
);
