//! An MCP client over a hub's `/mcp` route, driven in-process: JSON-RPC requests with the
//! headers a streamable-HTTP client sends, a session over the legacy (session) lifecycle, and
//! self-contained requests of the session-less protocol.

use axum::Router;
use axum::body::Body;
use axum::http::{Method, Request};
use serde_json::{Value, json};

use crate::http::{Res, respond};

/// The protocol version of the session lifecycle these helpers speak.
pub const LEGACY: &str = "2025-11-25";

/// The session-less protocol version: every request carries its metadata, no session.
pub const MODERN: &str = "2026-07-28";

/// A self-contained request of the session-less protocol: the metadata in `params._meta` and
/// the standard headers (`Mcp-Method`, and `Mcp-Name` for a tool call) a client sends with it.
pub fn modern_request(token: Option<&str>, method: &str, mut params: Value) -> Request<Body> {
    params["_meta"] = json!({
        "io.modelcontextprotocol/protocolVersion": MODERN,
        "io.modelcontextprotocol/clientCapabilities": {},
    });
    let name = params["name"].as_str().unwrap_or_default().to_owned();
    let body = json!({"jsonrpc": "2.0", "id": 1, "method": method, "params": params});
    let mut headers = vec![("mcp-protocol-version", MODERN), ("mcp-method", method)];
    if method == "tools/call" {
        headers.push(("mcp-name", &name));
    }
    mcp_request(token, None, &body, &headers)
}

/// A JSON-RPC request to `/mcp`; `headers` may add or override headers.
pub fn mcp_request(
    token: Option<&str>,
    session: Option<&str>,
    body: &Value,
    headers: &[(&str, &str)],
) -> Request<Body> {
    let mut req = Request::builder()
        .method(Method::POST)
        .uri("/mcp")
        .header("host", "127.0.0.1:7101")
        .header("content-type", "application/json")
        .header("accept", "application/json, text/event-stream");
    if let Some(t) = token {
        req = req.header("authorization", format!("Bearer {t}"));
    }
    if let Some(s) = session {
        req = req
            .header("mcp-session-id", s)
            .header("mcp-protocol-version", LEGACY);
    }
    for (k, v) in headers {
        req = req.header(*k, *v);
    }
    req.body(Body::from(body.to_string())).unwrap()
}

/// The `initialize` request of a session.
pub fn init_body() -> Value {
    json!({"jsonrpc": "2.0", "id": 0, "method": "initialize", "params": {
        "protocolVersion": LEGACY, "capabilities": {}, "clientInfo": {"name": "test", "version": "0"}}})
}

/// The JSON-RPC message of a response, whether sent as JSON or as one SSE event.
pub fn rpc_body(res: &Res) -> Value {
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

/// An initialized MCP session of one principal.
pub struct Session<'a> {
    router: &'a Router,
    token: String,
    pub id: String,
    next: u64,
}

impl<'a> Session<'a> {
    /// Initializes a session at `/mcp{query}` (`query` may be empty or `?profile=…`).
    pub async fn open(router: &'a Router, token: &str, query: &str) -> Session<'a> {
        let mut req = mcp_request(Some(token), None, &init_body(), &[]);
        *req.uri_mut() = format!("/mcp{query}").parse().unwrap();
        let res = respond(router, req).await.expect(200);
        let id = res.headers["mcp-session-id"].to_str().unwrap().to_owned();
        assert_eq!(rpc_body(&res)["result"]["protocolVersion"], LEGACY);
        let note = json!({"jsonrpc": "2.0", "method": "notifications/initialized"});
        let mut req = mcp_request(Some(token), Some(&id), &note, &[]);
        *req.uri_mut() = format!("/mcp{query}").parse().unwrap();
        respond(router, req).await.expect(202);
        Session {
            router,
            token: token.to_owned(),
            id,
            next: 1,
        }
    }

    /// Sends a JSON-RPC request in the session; returns the response message.
    pub async fn rpc(&mut self, method: &str, params: Value) -> Value {
        self.next += 1;
        let body = json!({"jsonrpc": "2.0", "id": self.next, "method": method, "params": params});
        let req = mcp_request(Some(&self.token), Some(&self.id), &body, &[]);
        rpc_body(&respond(self.router, req).await.expect(200))
    }

    /// The names of the tools the session lists.
    pub async fn tool_names(&mut self) -> Vec<String> {
        let res = self.rpc("tools/list", json!({})).await;
        res["result"]["tools"]
            .as_array()
            .unwrap_or_else(|| panic!("no tools in {res}"))
            .iter()
            .map(|t| t["name"].as_str().unwrap().to_owned())
            .collect()
    }

    /// Calls a tool; returns its result (`isError` included).
    pub async fn call(&mut self, tool: &str, args: Value) -> Value {
        let res = self
            .rpc("tools/call", json!({"name": tool, "arguments": args}))
            .await;
        res.get("result")
            .cloned()
            .unwrap_or_else(|| panic!("{tool} gave no result: {res}"))
    }

    /// A successful call's structured result.
    pub async fn ok(&mut self, tool: &str, args: Value) -> Value {
        let res = self.call(tool, args).await;
        assert_ne!(res["isError"], true, "{tool} failed: {res}");
        res["structuredContent"].clone()
    }

    /// A failed call's text.
    pub async fn fails(&mut self, tool: &str, args: Value) -> String {
        let res = self.call(tool, args).await;
        assert_eq!(res["isError"], true, "{tool} should fail: {res}");
        res["content"][0]["text"].as_str().unwrap().to_owned()
    }
}
