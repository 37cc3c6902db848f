//! The ops MCP tools over the hub's `/mcp` endpoint, beside the core tools.

use serde_json::json;

use testkit::mcp::Session;

use crate::both;
use crate::support::{ADMIN, READER, TestHub};

both!(the_ops_tools_work_over_mcp, |hub: TestHub| async move {
    let mut s = Session::open(&hub.app.router, ADMIN, "").await;
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
    let mut reader = Session::open(&hub.app.router, READER, "").await;
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
