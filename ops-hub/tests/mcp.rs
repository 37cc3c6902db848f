//! The ops MCP tools over the hub's `/mcp` endpoint, beside the core tools.

use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use crate::both;
use crate::support::{ADMIN, READER, Res, TestHub};

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
            "protocolVersion": PROTOCOL, "capabilities": {}, "clientInfo": {"name": "ops-test", "version": "0"}}});
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

both!(the_ops_tools_work_over_mcp, |hub: TestHub| async move {
    let mut s = Session::open(&hub, ADMIN).await;
    let listed = s.rpc("tools/list", json!({})).await;
    let names: Vec<&str> = listed["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .map(|t| t["name"].as_str().unwrap())
        .collect();
    for tool in [
        "list_services_inventory",
        "get_service",
        "record_deployment",
        "record_evidence",
        "start_migration_run",
        "finish_migration_run",
        "get_readiness",
        "get_service_costs",
    ] {
        assert!(names.contains(&tool), "{tool} missing from {names:?}");
    }
    hub.service("api", json!({})).await;
    let page = s
        .ok("list_services_inventory", json!({"domain": "infotech"}))
        .await;
    assert_eq!(page["items"][0]["id"], "api");
    assert_eq!(
        s.ok("get_service", json!({"id": "api"})).await["costs"],
        json!([])
    );
    let dep = s
        .ok(
            "record_deployment",
            json!({"service_id": "api", "version": "3.0", "outcome": "succeeded"}),
        )
        .await;
    let ev = s
        .ok(
            "record_evidence",
            json!({"kind": "smoke", "deployment_id": dep["id"], "status": "pass", "summary": "ok"}),
        )
        .await;
    let run = s
        .ok(
            "start_migration_run",
            json!({"service_id": "api", "source": "a", "target": "b", "expected": 5}),
        )
        .await;
    let done = s
        .ok(
            "finish_migration_run",
            json!({"id": run["id"], "status": "complete", "migrated": 5, "failed": 0}),
        )
        .await;
    assert_eq!(done["status"], "complete");
    let ready = s.ok("get_readiness", json!({"service": "api"})).await;
    assert_eq!(ready["items"][0]["gates"][0]["evidence_id"], ev["id"]);
    assert_eq!(
        s.ok("get_service_costs", json!({"service": "api"})).await["items"],
        json!([])
    );

    let err = s
        .fails(
            "record_evidence",
            json!({"kind": "smoke", "service_id": "api", "status": "pass", "summary": "ok",
        "fields": {"password": "hunter2"}}),
        )
        .await;
    assert!(
        err.contains("fields.password") && !err.contains("hunter2"),
        "{err}"
    );
    assert!(
        s.fails("get_service", json!({"id": "ghost"}))
            .await
            .contains("not found")
    );
    let mut reader = Session::open(&hub, READER).await;
    assert!(
        reader
            .fails(
                "record_deployment",
                json!({"service_id": "api", "version": "4", "outcome": "failed"})
            )
            .await
            .contains("ops:write")
    );
});
