//! `hubmesh cap …` and `hubmesh repo …`.

use crate::support::Mesh;

const OPS: &str = "sub=ops-bot;roles=hub:write";
const DEV: &str = "sub=dev-bot;roles=hub:write";

#[tokio::test]
async fn capability_requests_follow_their_lifecycle() {
    let mesh = Mesh::start().await;
    mesh.run(
        Some(OPS),
        &[
            "cap",
            "register",
            "ops.deploy",
            "--description",
            "Deploys a service",
        ],
    )
    .await
    .ok();
    let list = mesh.run(Some(DEV), &["cap", "list"]).await.ok();
    assert_eq!(list.column("NAME"), ["ops.deploy"]);
    assert_eq!(list.column("PROVIDER"), ["ops-bot"]);

    let req = mesh
        .run(
            Some(DEV),
            &[
                "cap",
                "request",
                "ops.deploy",
                "--input",
                r#"{"service": "api"}"#,
                "--json",
            ],
        )
        .await
        .ok()
        .json();
    let id = req["id"].as_str().expect("id").to_owned();
    assert_eq!(req["status"], "requested");
    assert_eq!(req["input"]["service"], "api");

    let mine = mesh
        .run(
            Some(OPS),
            &[
                "cap",
                "requests",
                "--role",
                "provider",
                "--status",
                "requested",
            ],
        )
        .await
        .ok();
    assert_eq!(mine.column("ID"), [id.as_str()]);

    mesh.run(Some(OPS), &["cap", "accept", &id]).await.ok();
    let moving = mesh
        .run(
            Some(OPS),
            &[
                "cap",
                "status",
                &id,
                "in_progress",
                "--note",
                "rolling",
                "--json",
            ],
        )
        .await
        .ok()
        .json();
    assert_eq!(moving["status_note"], "rolling");
    let done = mesh
        .run(
            Some(OPS),
            &[
                "cap",
                "status",
                &id,
                "fulfilled",
                "--result",
                r#"{"version": "1.2"}"#,
                "--json",
            ],
        )
        .await
        .ok()
        .json();
    assert_eq!(done["status"], "fulfilled");
    assert_eq!(done["result"]["version"], "1.2");

    let shown = mesh.run(Some(DEV), &["cap", "show", &id]).await.ok();
    let fields = shown.column("FIELD");
    let values = shown.column("VALUE");
    let at = |f: &str| values[fields.iter().position(|x| x == f).expect(f)].clone();
    assert_eq!(at("status"), "fulfilled");
    assert_eq!(at("requester"), "dev-bot");
    assert_eq!(at("result.version"), "1.2");

    let line = mesh
        .run(Some(OPS), &["cap", "status", &id, "in_progress"])
        .await
        .error();
    assert!(line.contains("409"), "{line}");
}

#[tokio::test]
async fn repos_are_added_listed_and_moved() {
    let mesh = Mesh::start().await;
    mesh.admin(&["domain", "create", "platform", "--name", "Platform"])
        .await
        .ok();
    let repo = mesh
        .admin(&[
            "repo", "add", "api", "/src/api", "--domain", "platform", "--json",
        ])
        .await
        .ok()
        .json();
    let id = repo["id"].as_str().expect("id").to_owned();
    assert_eq!(repo["default_branch"], "main");

    let moved = mesh
        .admin(&["repo", "set-path", &id, "/srv/api", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(moved["location"], "/srv/api");

    let list = mesh
        .admin(&["repo", "list", "--domain", "platform"])
        .await
        .ok();
    assert_eq!(list.column("NAME"), ["api"]);
    assert_eq!(list.column("LOCATION"), ["/srv/api"]);

    let line = mesh
        .admin(&["repo", "add", "web", "/src/web", "--domain", "nowhere"])
        .await
        .error();
    assert!(line.contains("422") && line.contains("domain"), "{line}");
}
