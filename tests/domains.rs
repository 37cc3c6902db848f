//! `hubmesh domain …`: tables, `--json`, paging.

use crate::support::Mesh;

#[tokio::test]
async fn domains_are_created_shown_and_listed_as_tables_and_json() {
    let mesh = Mesh::start().await;
    let created = mesh
        .admin(&[
            "domain", "create", "finance", "--name", "Finance", "--owner", "cfo",
        ])
        .await
        .ok();
    assert_eq!(created.column("FIELD")[..2], ["id", "created_at"]);
    assert_eq!(created.column("VALUE")[0], "finance");

    let shown = mesh.admin(&["domain", "show", "finance"]).await.ok();
    let fields = shown.column("FIELD");
    let values = shown.column("VALUE");
    let owner = fields.iter().position(|f| f == "owner").expect("owner row");
    assert_eq!(values[owner], "cfo");

    let listed = mesh.admin(&["domain", "list"]).await.ok();
    assert_eq!(listed.column("SLUG"), ["finance"]);
    assert_eq!(listed.column("NAME"), ["Finance"]);
    assert_eq!(listed.column("DESCRIPTION"), [""]);

    let json = mesh.admin(&["domain", "list", "--json"]).await.ok().json();
    assert_eq!(json["items"][0]["slug"], "finance");
    assert_eq!(json["items"][0]["owner"], "cfo");
    assert!(json["next_cursor"].is_null());

    let json = mesh
        .admin(&["domain", "show", "finance", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(json["name"], "Finance");
}

#[tokio::test]
async fn lists_show_one_page_with_a_hint_or_every_page_with_all() {
    let mesh = Mesh::start().await;
    for slug in ["a1", "b2", "c3"] {
        mesh.admin(&["domain", "create", slug, "--name", slug])
            .await
            .ok();
    }
    let page = mesh.admin(&["domain", "list", "--limit", "2"]).await.ok();
    assert_eq!(page.column("SLUG"), ["a1", "b2"]);
    assert!(page.stderr.contains("--all"), "{page:#?}");

    let json = mesh
        .admin(&["domain", "list", "--limit", "2", "--json"])
        .await
        .ok()
        .json();
    let cursor = json["next_cursor"]
        .as_str()
        .expect("a next cursor")
        .to_owned();
    let rest = mesh
        .admin(&["domain", "list", "--limit", "2", "--cursor", &cursor])
        .await
        .ok();
    assert_eq!(rest.column("SLUG"), ["c3"]);

    let all = mesh
        .admin(&["domain", "list", "--limit", "2", "--all"])
        .await
        .ok();
    assert_eq!(all.column("SLUG"), ["a1", "b2", "c3"]);
    assert!(!all.stderr.contains("--all"), "{all:#?}");

    let json = mesh
        .admin(&["domain", "list", "--limit", "2", "--all", "--json"])
        .await
        .ok()
        .json();
    let slugs: Vec<&str> = json["items"]
        .as_array()
        .expect("items")
        .iter()
        .map(|d| d["slug"].as_str().expect("slug"))
        .collect();
    assert_eq!(slugs, ["a1", "b2", "c3"]);
    assert!(json["next_cursor"].is_null());
}
