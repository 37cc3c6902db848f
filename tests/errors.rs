//! How failures reach the operator: problem documents, missing tokens, unreachable hubs.

use crate::support::{Mesh, closed_url, hubmesh, write_endpoints};

#[tokio::test]
async fn problem_documents_become_one_line_errors_naming_the_fields() {
    let mesh = Mesh::start().await;
    mesh.admin(&["domain", "create", "ops", "--name", "Ops"])
        .await
        .ok();

    let line = mesh
        .admin(&["domain", "create", "ops", "--name", "Ops again"])
        .await
        .error();
    assert!(line.contains("409 Conflict:"), "{line}");
    assert!(line.contains("ops"), "{line}");

    let line = mesh
        .admin(&["domain", "create", "Not A Slug", "--name", ""])
        .await
        .error();
    assert!(line.contains("422"), "{line}");
    assert!(line.contains("slug:") && line.contains("name:"), "{line}");

    let line = mesh.admin(&["domain", "show", "nope"]).await.error();
    assert!(line.contains("404") && line.contains("nope"), "{line}");

    let line = mesh
        .admin(&["domain", "list", "--cursor", "not-a-cursor"])
        .await
        .error();
    assert!(line.contains("400") && line.contains("cursor"), "{line}");
}

#[tokio::test]
async fn a_missing_or_refused_token_says_how_to_pass_one() {
    let mesh = Mesh::start().await;
    let line = mesh.run(None, &["domain", "list"]).await.error();
    assert!(line.contains("401") && line.contains("--token"), "{line}");

    let line = mesh
        .run(
            Some("sub=reader;roles=hub:read"),
            &["domain", "create", "x", "--name", "X"],
        )
        .await
        .error();
    assert!(line.contains("403"), "{line}");
}

#[tokio::test]
async fn an_unreachable_hub_is_explained() {
    let dir = tempfile::tempdir().expect("temp dir");
    let url = closed_url().await;
    let line = hubmesh(dir.path(), None, &["domain", "list", "--url", &url])
        .await
        .error();
    assert!(line.contains(&format!("cannot reach hub {url}")), "{line}");
    assert!(line.contains("try `hubmesh up`"), "{line}");

    write_endpoints(dir.path(), &[("dev", &url)]);
    let line = hubmesh(dir.path(), None, &["msg", "inbox"]).await.error();
    assert!(
        line.contains(&format!("cannot reach hub dev at {url}")),
        "{line}"
    );
}

#[tokio::test]
async fn a_missing_mesh_or_unknown_hub_is_explained() {
    let dir = tempfile::tempdir().expect("temp dir");
    let line = hubmesh(dir.path(), None, &["domain", "list"]).await.error();
    assert!(
        line.contains("endpoints.json") && line.contains("hubmesh up"),
        "{line}"
    );

    write_endpoints(
        dir.path(),
        &[("dev", "http://127.0.0.1:1"), ("ops", "http://127.0.0.1:2")],
    );
    let line = hubmesh(dir.path(), None, &["domain", "list", "--hub", "fin"])
        .await
        .error();
    assert!(
        line.contains("no hub fin") && line.contains("dev, ops"),
        "{line}"
    );
}
