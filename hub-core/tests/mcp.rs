//! The MCP edge over HTTP: the bearer guard on `/mcp` (401 + metadata, foreign Origin, protocol
//! version, profile, sessions bound to their opener), session-less calls answered as plain JSON, tool listing by role and profile, tool
//! errors that keep the session, and module tools beside the core ones.

use axum::http::Method;
use hub_core::HubError;
use hub_core::auth::Access;
use hub_core::mcp::{McpTool, NoArgs, ToolCall};
use hub_core::module::{HubBuilder, HubModule, ModuleError, ModuleManifest};
use serde_json::{Value, json};

use testkit::mcp::{Session, init_body, mcp_request, modern_request};

use crate::support::{ADMIN, Backend, Res, TestHub};

#[tokio::test]
async fn a_missing_token_gets_401_with_the_resource_metadata() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let res = hub.send(mcp_request(None, None, &init_body(), &[])).await;
    res.problem(401);
    let res = hub.send(mcp_request(None, None, &init_body(), &[])).await;
    let challenge = res.headers["www-authenticate"].to_str().unwrap();
    assert!(challenge.starts_with("Bearer "), "{challenge}");
    assert!(
        challenge.contains(
            "resource_metadata=\"http://127.0.0.1:7101/.well-known/oauth-protected-resource\""
        ),
        "{challenge}"
    );
    let res = hub
        .send(mcp_request(Some("not a token"), None, &init_body(), &[]))
        .await;
    let challenge = res.headers["www-authenticate"].to_str().unwrap().to_owned();
    res.problem(401);
    assert!(challenge.contains("error=\"invalid_token\""), "{challenge}");

    let meta = hub
        .call(
            Method::GET,
            "/.well-known/oauth-protected-resource",
            None,
            None,
        )
        .await
        .expect(200)
        .json;
    assert_eq!(meta["resource"], "http://127.0.0.1:7101");
    assert_eq!(meta["bearer_methods_supported"], json!(["header"]));
}

#[tokio::test]
async fn foreign_origins_bad_versions_and_unknown_profiles_are_refused() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let foreign = [("origin", "https://evil.example")];
    hub.send(mcp_request(Some(ADMIN), None, &init_body(), &foreign))
        .await
        .problem(403);
    let own = [("origin", "http://127.0.0.1:7101")];
    hub.send(mcp_request(Some(ADMIN), None, &init_body(), &own))
        .await
        .expect(200);

    let bad_version = [("mcp-protocol-version", "1999-01-01")];
    let problem = hub
        .send(mcp_request(Some(ADMIN), None, &init_body(), &bad_version))
        .await
        .problem(400);
    assert_eq!(Res::fields(&problem), ["mcp-protocol-version"]);

    let mut req = mcp_request(Some(ADMIN), None, &init_body(), &[]);
    *req.uri_mut() = "/mcp?profile=nonsense".parse().unwrap();
    let problem = hub.send(req).await.problem(400);
    assert_eq!(Res::fields(&problem), ["profile"]);
}

#[tokio::test]
async fn a_session_belongs_to_the_principal_that_opened_it() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let alice = "sub=alice;roles=hub:write";
    let mut session = Session::open(&hub.app.router, alice, "").await;
    assert_eq!(session.id.len(), 36, "a random UUID");
    let list = json!({"jsonrpc": "2.0", "id": 7, "method": "tools/list"});
    let res = hub
        .send(mcp_request(
            Some("sub=mallory;roles=hub:admin"),
            Some(&session.id),
            &list,
            &[],
        ))
        .await;
    res.problem(403);
    // The owner keeps using it.
    assert!(session.tool_names().await.contains(&"whoami".to_owned()));
    let other = Session::open(&hub.app.router, alice, "").await;
    assert_ne!(other.id, session.id);
}

#[tokio::test]
async fn a_session_less_call_gets_a_plain_json_answer_for_its_own_caller() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let call = json!({"name": "whoami", "arguments": {}});
    let res = hub
        .send(modern_request(
            Some("sub=alice;roles=hub:write"),
            "tools/call",
            call.clone(),
        ))
        .await
        .expect(200);
    assert_eq!(res.headers["content-type"], "application/json");
    assert!(!res.headers.contains_key("mcp-session-id"));
    assert_eq!(res.json["result"]["structuredContent"]["sub"], "alice");
    // No session to borrow: every request needs its own token.
    hub.send(modern_request(None, "tools/call", call))
        .await
        .problem(401);
    // A tool error is a plain answer too.
    let bad = json!({"name": "get_thread", "arguments": {"thread_id": "nope"}});
    let res = hub
        .send(modern_request(Some(ADMIN), "tools/call", bad))
        .await
        .expect(200);
    assert_eq!(res.headers["content-type"], "application/json");
    assert_eq!(res.json["result"]["isError"], true, "{}", res.json);
}

/// A session's tool call is served as a session-less one: a plain JSON answer, whose text and
/// structured content are the same result. Other requests still go through the session, and a
/// call in an ended session is not found.
#[tokio::test]
async fn a_sessions_tool_call_gets_a_plain_json_answer_until_the_session_ends() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let alice = "sub=alice;roles=hub:write";
    let session = Session::open(&hub.app.router, alice, "").await;
    let call = json!({"jsonrpc": "2.0", "id": 5, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {}}});
    let res = hub
        .send(mcp_request(Some(alice), Some(&session.id), &call, &[]))
        .await
        .expect(200);
    assert_eq!(res.headers["content-type"], "application/json");
    assert_eq!(res.json["id"], 5);
    let result = &res.json["result"];
    assert_eq!(result["structuredContent"]["sub"], "alice", "{result}");
    let text: Value = serde_json::from_str(result["content"][0]["text"].as_str().unwrap()).unwrap();
    assert_eq!(text, result["structuredContent"]);

    let list = json!({"jsonrpc": "2.0", "id": 6, "method": "tools/list"});
    let res = hub
        .send(mcp_request(Some(alice), Some(&session.id), &list, &[]))
        .await
        .expect(200);
    assert_eq!(res.headers["content-type"], "text/event-stream");

    let end = axum::http::Request::builder()
        .method(Method::DELETE)
        .uri("/mcp")
        .header("host", "127.0.0.1:7101")
        .header("authorization", format!("Bearer {alice}"))
        .header("mcp-session-id", &session.id)
        .body(axum::body::Body::empty())
        .unwrap();
    hub.send(end).await.expect(202);
    hub.send(mcp_request(Some(alice), Some(&session.id), &call, &[]))
        .await
        .expect(404);

    // The body is read before rmcp sees it, to rmcp's limit of 4 MiB.
    let big = json!({"jsonrpc": "2.0", "id": 8, "method": "tools/call",
        "params": {"name": "whoami", "arguments": {"pad": "x".repeat(4 * 1024 * 1024)}}});
    hub.send(mcp_request(Some(alice), None, &big, &[]))
        .await
        .problem(413);
}

#[tokio::test]
async fn tools_are_listed_by_role_and_profile() {
    let hub = TestHub::with_modules(Backend::Sqlite, "dev", vec![Box::new(Greeter)]).await;
    let mut admin = Session::open(&hub.app.router, ADMIN, "").await;
    let all = admin.tool_names().await;
    for name in ["whoami", "list_domains", "greet", "reset_greetings"] {
        assert!(
            all.contains(&name.to_owned()),
            "{name} missing from {all:?}"
        );
    }
    let tools = admin.rpc("tools/list", json!({})).await;
    let list_domains = tools["result"]["tools"]
        .as_array()
        .unwrap()
        .iter()
        .find(|t| t["name"] == "list_domains")
        .unwrap()
        .clone();
    assert_eq!(list_domains["inputSchema"]["type"], "object");
    assert!(
        list_domains["inputSchema"]["properties"]["limit"]["description"]
            .as_str()
            .unwrap()
            .contains("Page size")
    );
    assert_eq!(list_domains["annotations"]["readOnlyHint"], true);

    // A reader does not see the admin tool; the module profile narrows the list.
    let mut reader =
        Session::open(&hub.app.router, "sub=r;roles=hub:read", "?profile=greeter").await;
    let names = reader.tool_names().await;
    assert!(names.contains(&"greet".to_owned()) && names.contains(&"whoami".to_owned()));
    assert!(!names.contains(&"reset_greetings".to_owned()), "{names:?}");
    assert!(
        names.contains(&"list_domains".to_owned()),
        "orientation tools are in every profile"
    );
    // Calling it anyway is a tool error naming the scope.
    let res = reader.call("reset_greetings", json!({})).await;
    assert_eq!(res["isError"], true);
    assert!(
        res["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("dev:admin"),
        "{res}"
    );
}

#[tokio::test]
async fn bad_calls_are_tool_errors_and_the_session_goes_on() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let mut s = Session::open(&hub.app.router, ADMIN, "").await;
    let res = s.call("list_domains", json!({"limit": "many"})).await;
    assert_eq!(res["isError"], true, "{res}");
    assert!(
        res["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("invalid type"),
        "{res}"
    );
    let res = s.call("list_domains", json!({"cursor": "bogus"})).await;
    assert_eq!(res["isError"], true);
    assert_eq!(res["structuredContent"]["errors"][0]["field"], "cursor");
    let res = s.call("list_domains", json!({"colour": "red"})).await;
    assert_eq!(res["isError"], true);
    assert!(
        res["content"][0]["text"]
            .as_str()
            .unwrap()
            .contains("colour"),
        "{res}"
    );
    let res = s
        .rpc(
            "tools/call",
            json!({"name": "no_such_tool", "arguments": {}}),
        )
        .await;
    assert_eq!(res["error"]["code"], -32602, "{res}");

    // Still the same session, and good calls work.
    hub.post(
        "/api/v1/domains",
        ADMIN,
        json!({"slug": "infotech", "name": "IT"}),
    )
    .await
    .expect(201);
    let res = s.call("list_domains", json!({})).await;
    assert_eq!(res["isError"], false);
    assert_eq!(res["structuredContent"]["items"][0]["slug"], "infotech");
    let me = s.call("whoami", json!({})).await;
    assert_eq!(me["structuredContent"]["sub"], "admin");
    assert_eq!(me["structuredContent"]["hub"], "dev");

    let read = s
        .rpc("resources/read", json!({"uri": "hub://domains"}))
        .await;
    let text = read["result"]["contents"][0]["text"].as_str().unwrap();
    assert!(text.contains("infotech"), "{text}");
    let missing = s
        .rpc("resources/read", json!({"uri": "hub://nothing"}))
        .await;
    assert!(
        missing["error"]["message"]
            .as_str()
            .unwrap()
            .contains("hub://nothing")
    );
}

#[tokio::test]
async fn a_module_tool_that_takes_a_core_name_fails_only_that_module() {
    let hub = TestHub::with_modules(Backend::Sqlite, "dev", vec![Box::new(Usurper)]).await;
    let modules = hub.get("/api/v1/modules", ADMIN).await.expect(200).json;
    assert_eq!(modules["items"][0]["state"], "error");
    assert!(
        modules["items"][0]["error"]
            .as_str()
            .unwrap()
            .contains("whoami"),
        "{modules}"
    );
    let mut s = Session::open(&hub.app.router, ADMIN, "").await;
    let names = s.tool_names().await;
    assert_eq!(names.iter().filter(|n| *n == "whoami").count(), 1);
}

/// A module with a reading and an admin tool.
struct Greeter;

async fn greet(call: ToolCall, _: NoArgs) -> Result<Value, HubError> {
    Ok(json!({"greeting": format!("hello {}", call.who.sub)}))
}

async fn reset(_: ToolCall, _: NoArgs) -> Result<Value, HubError> {
    Ok(json!({"reset": true}))
}

impl HubModule for Greeter {
    fn manifest(&self) -> ModuleManifest {
        ModuleManifest {
            id: "greeter".into(),
            ..Default::default()
        }
    }

    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        hub.tool(McpTool::new("greet", "Says hello.", Access::Read, greet));
        hub.tool(McpTool::new(
            "reset_greetings",
            "Resets.",
            Access::Admin,
            reset,
        ));
        Ok(())
    }
}

/// A module whose tool collides with a core tool.
struct Usurper;

impl HubModule for Usurper {
    fn manifest(&self) -> ModuleManifest {
        ModuleManifest {
            id: "usurper".into(),
            ..Default::default()
        }
    }

    fn register(&self, hub: &mut HubBuilder) -> Result<(), ModuleError> {
        hub.tool(McpTool::new("whoami", "Not me.", Access::Read, greet));
        Ok(())
    }
}

#[tokio::test]
async fn list_hubs_and_get_federation_alerts_show_the_federation() {
    let hub = TestHub::new(Backend::Sqlite).await;
    let mut s = Session::open(&hub.app.router, "sub=reader;roles=hub:read", "").await;
    assert!(s.tool_names().await.contains(&"list_hubs".to_owned()));
    crate::support::eventually(
        "the hub's own heartbeat",
        std::time::Duration::from_secs(20),
        || async {
            let res = hub.get("/api/v1/federation/hubs", ADMIN).await.expect(200);
            !res.json["items"].as_array().unwrap().is_empty()
        },
    )
    .await;
    let res = s.call("list_hubs", json!({})).await;
    assert_eq!(res["isError"], false, "{res}");
    assert_eq!(res["structuredContent"]["items"][0]["name"], "dev");
    assert!(res["structuredContent"]["items"][0]["heartbeat_at"].is_string());
    let bad = s.call("list_hubs", json!({"colour": "red"})).await;
    assert_eq!(bad["isError"], true);

    hub.post(
        "/api/v1/events",
        ADMIN,
        json!({"event_type": "alert_raised", "key": "disk", "summary": "disk 90%", "severity": "high"}),
    )
    .await
    .expect(201);
    crate::support::eventually(
        "the hub's own alert in its view",
        std::time::Duration::from_secs(20),
        || async {
            let res = hub
                .get("/api/v1/federation/alerts", ADMIN)
                .await
                .expect(200);
            !res.json["items"].as_array().unwrap().is_empty()
        },
    )
    .await;
    let open = s
        .call("get_federation_alerts", json!({"state": "open"}))
        .await;
    assert_eq!(
        open["structuredContent"]["items"][0]["id"], "dev:alert:disk",
        "{open}"
    );
    let closed = s
        .call("get_federation_alerts", json!({"state": "closed"}))
        .await;
    assert_eq!(closed["structuredContent"]["items"], json!([]));
    let bad = s
        .call("get_federation_alerts", json!({"state": "maybe"}))
        .await;
    assert_eq!(bad["isError"], true);
}
