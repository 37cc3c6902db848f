//! The fin MCP tools over the hub's `/mcp` endpoint, beside the core tools.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use crate::both;
use crate::support::{ADMIN, FINANCE, Res, TestHub};

const PROTOCOL: &str = "2025-11-25";

fn request(token: &str, session: Option<&str>, body: &Value) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("host", "127.0.0.1:7101")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream")
        .header("authorization", format!("Bearer {token}"));
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", PROTOCOL);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

/// The JSON-RPC message of a response, sent as JSON or as one SSE event.
fn rpc_body(res: &Res) -> Value {
    if !res.json.is_null() {
        return res.json.clone();
    }
    res.text
        .lines()
        .filter_map(|l| l.strip_prefix("data:"))
        .filter_map(|d| serde_json::from_str::<Value>(d.trim()).ok())
        .find(|v| v.get("id").is_some())
        .unwrap_or_else(|| panic!("no JSON-RPC response in {:?}", res.text))
}

struct Session<'a> {
    hub: &'a TestHub,
    token: &'a str,
    id: String,
    next: u64,
}

impl<'a> Session<'a> {
    async fn open(hub: &'a TestHub, token: &'a str) -> Session<'a> {
        let init = json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
            "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "fin-test", "version": "0"}}});
        let res = hub.send(request(token, None, &init)).await.expect(200);
        let id = res.headers["mcp-session-id"].to_str().unwrap().to_owned();
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        hub.send(request(token, Some(&id), &note)).await.expect(202);
        Session {
            hub,
            token,
            id,
            next: 1,
        }
    }

    async fn rpc(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        let res = self
            .hub
            .send(request(self.token, Some(&self.id), &body))
            .await
            .expect(200);
        rpc_body(&res)
    }

    /// A successful call's structured result.
    async fn ok(&mut self, tool: &str, args: Value) -> Value {
        let res = self
            .rpc("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert_ne!(res["result"]["isError"], true, "{tool} failed: {res}");
        res["result"]["structuredContent"].clone()
    }

    /// A failed call's text.
    async fn fails(&mut self, tool: &str, args: Value) -> String {
        let res = self
            .rpc("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        assert_eq!(res["result"]["isError"], true, "{tool} should fail: {res}");
        res["result"]["content"][0]["text"]
            .as_str()
            .unwrap()
            .to_owned()
    }
}

both!(
    the_fin_tools_are_listed_and_call_the_services,
    |hub: TestHub| async move {
        let mut s = Session::open(&hub, ADMIN).await;
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
        let mut s = Session::open(&hub, FINANCE).await;
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
