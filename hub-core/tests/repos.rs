//! Repos over REST: registration, listing, changes and domain limits.

use axum::http::Method;
use hub_core::repo::service::count;
use serde_json::json;

use crate::both;
use crate::support::{ADMIN, Res, TestHub};

const WRITER: &str = "sub=wes;roles=hub:write";
/// Limited to `finance`.
const LIMITED: &str = "sub=lim;roles=hub:write;domains=finance";

async fn setup(hub: &TestHub) {
    for slug in ["finance", "infotech"] {
        hub.post(
            "/api/v1/domains",
            ADMIN,
            json!({"slug": slug, "name": slug}),
        )
        .await
        .expect(201);
    }
}

/// Registers `name` in `domain` as the writer; returns its id.
async fn new_repo(hub: &TestHub, domain: &str, name: &str) -> String {
    let res = hub
        .post(
            "/api/v1/repos",
            WRITER,
            json!({"domain": domain, "name": name, "location": format!("/srv/git/{name}")}),
        )
        .await
        .expect(201);
    res.json["id"].as_str().unwrap().to_owned()
}

fn names(page: &Res) -> Vec<String> {
    page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["name"].as_str().unwrap().to_owned())
        .collect()
}

both!(register_list_get_and_update, |hub: TestHub| async move {
    setup(&hub).await;
    let created = hub
        .post(
            "/api/v1/repos",
            WRITER,
            json!({"domain": "infotech", "name": "hubmesh",
                   "location": "https://git.example.com/hubmesh.git", "default_branch": "trunk"}),
        )
        .await
        .expect(201);
    let id = created.json["id"].as_str().unwrap().to_owned();
    assert_eq!(created.json["default_branch"], "trunk");
    new_repo(&hub, "infotech", "website").await;
    let ledger = new_repo(&hub, "finance", "ledger").await;
    let one = hub
        .get(&format!("/api/v1/repos/{ledger}"), WRITER)
        .await
        .expect(200);
    assert_eq!(one.json["default_branch"], "main");
    assert_eq!(one.json["location"], "/srv/git/ledger");
    assert_eq!(one.json["domain"], "finance");

    let page = hub.get("/api/v1/repos?limit=2", WRITER).await.expect(200);
    assert_eq!(names(&page), ["hubmesh", "website"]);
    let cursor = page.json["next_cursor"].as_str().unwrap().to_owned();
    let page2 = hub
        .get(&format!("/api/v1/repos?limit=2&cursor={cursor}"), WRITER)
        .await
        .expect(200);
    assert_eq!(names(&page2), ["ledger"]);
    assert!(page2.json["next_cursor"].is_null());
    let it = hub
        .get("/api/v1/repos?domain=infotech", WRITER)
        .await
        .expect(200);
    assert_eq!(names(&it), ["hubmesh", "website"]);

    let changed = hub
        .patch(
            &format!("/api/v1/repos/{id}"),
            WRITER,
            json!({"default_branch": "main"}),
        )
        .await
        .expect(200);
    assert_eq!(changed.json["default_branch"], "main");
    assert_eq!(
        changed.json["location"],
        "https://git.example.com/hubmesh.git"
    );
    let moved = hub
        .patch(
            &format!("/api/v1/repos/{id}"),
            WRITER,
            json!({"location": "/srv/git/hubmesh"}),
        )
        .await
        .expect(200);
    assert_eq!(moved.json["location"], "/srv/git/hubmesh");
    assert_eq!(moved.json["default_branch"], "main");
    let again = hub
        .get(&format!("/api/v1/repos/{id}"), WRITER)
        .await
        .expect(200);
    assert_eq!(again.json, moved.json);

    let registered = hub.events("repo.registered").await;
    assert_eq!(registered.len(), 3);
    assert_eq!(registered[0]["name"], "hubmesh");
    assert_eq!(registered[0]["domain"], "infotech");
    let updated = hub.events("repo.updated").await;
    assert_eq!(updated.len(), 2);
    assert_eq!(updated[1]["location"], "/srv/git/hubmesh");

    let doc = hub
        .call(Method::GET, "/api/v1/openapi.json", None, None)
        .await
        .json;
    for (path, method) in [
        ("/api/v1/repos", "post"),
        ("/api/v1/repos", "get"),
        ("/api/v1/repos/{id}", "get"),
        ("/api/v1/repos/{id}", "patch"),
    ] {
        assert!(doc["paths"][path][method].is_object(), "{method} {path}");
    }
    let db = &hub.ctx().db;
    assert_eq!(count(db, None).await.unwrap(), 3);
    assert_eq!(count(db, Some("infotech")).await.unwrap(), 2);
    assert_eq!(count(db, Some("nowhere")).await.unwrap(), 0);
});

both!(
    bad_input_is_refused_and_leaves_nothing,
    |hub: TestHub| async move {
        setup(&hub).await;
        let id = new_repo(&hub, "infotech", "hubmesh").await;
        let p = hub
            .post(
                "/api/v1/repos",
                WRITER,
                json!({"domain": "infotech", "name": "hubmesh", "location": "/elsewhere"}),
            )
            .await
            .problem(409);
        let detail = p["detail"].as_str().unwrap();
        assert!(
            detail.contains("hubmesh") && detail.contains("infotech"),
            "{p}"
        );
        // The same name in another domain is fine.
        new_repo(&hub, "finance", "hubmesh").await;

        let p = hub
            .post(
                "/api/v1/repos",
                WRITER,
                json!({"domain": "infotech", "name": " ", "location": "", "default_branch": ""}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["name", "location", "default_branch"]);
        let p = hub
            .post(
                "/api/v1/repos",
                WRITER,
                json!({"domain": "nowhere", "name": "x", "location": "/x"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["domain"]);
        let p = hub
            .post(
                "/api/v1/repos",
                WRITER,
                json!({"domain": "infotech", "name": 1, "location": "/x"}),
            )
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["name"]);
        let p = hub
            .post(
                "/api/v1/repos",
                WRITER,
                json!({"name": "x", "location": "/x"}),
            )
            .await
            .problem(400);
        assert!(p["detail"].as_str().unwrap().contains("domain"), "{p}");
        hub.post(
            "/api/v1/repos",
            "sub=r;roles=hub:read",
            json!({"domain": "infotech", "name": "x", "location": "/x"}),
        )
        .await
        .problem(403);

        let path = format!("/api/v1/repos/{id}");
        let p = hub.patch(&path, WRITER, json!({})).await.problem(422);
        assert_eq!(Res::fields(&p), ["location", "default_branch"]);
        let p = hub
            .patch(
                &path,
                WRITER,
                json!({"location": "", "default_branch": "  "}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["location", "default_branch"]);
        let p = hub
            .patch(&path, WRITER, json!({"location": 7}))
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["location"]);
        hub.patch(&path, WRITER, json!({"name": "renamed"}))
            .await
            .problem(400);
        let unknown = "0190a0a0-0000-7000-8000-000000000000";
        hub.get(&format!("/api/v1/repos/{unknown}"), WRITER)
            .await
            .problem(404);
        hub.patch(
            &format!("/api/v1/repos/{unknown}"),
            WRITER,
            json!({"location": "/x"}),
        )
        .await
        .problem(404);
        let p = hub
            .get("/api/v1/repos?cursor=garbage!", WRITER)
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["cursor"]);
        hub.get("/api/v1/repos?limit=x", WRITER).await.problem(400);

        let unchanged = hub.get(&path, WRITER).await.expect(200);
        assert_eq!(unchanged.json["location"], "/srv/git/hubmesh");
        assert_eq!(unchanged.json["default_branch"], "main");
        assert_eq!(hub.events("repo.registered").await.len(), 2);
        assert!(hub.events("repo.updated").await.is_empty());
        assert_eq!(count(&hub.ctx().db, None).await.unwrap(), 2);
    }
);

both!(
    domain_limited_principals_see_and_change_only_their_repos,
    |hub: TestHub| async move {
        setup(&hub).await;
        let it = new_repo(&hub, "infotech", "hubmesh").await;
        let fin = new_repo(&hub, "finance", "ledger").await;
        let all = hub.get("/api/v1/repos", LIMITED).await.expect(200);
        assert_eq!(names(&all), ["ledger"]);
        hub.get("/api/v1/repos?domain=infotech", LIMITED)
            .await
            .problem(403);
        hub.get(&format!("/api/v1/repos/{it}"), LIMITED)
            .await
            .problem(404);
        hub.patch(
            &format!("/api/v1/repos/{it}"),
            LIMITED,
            json!({"location": "/stolen"}),
        )
        .await
        .problem(404);
        let p = hub
            .post(
                "/api/v1/repos",
                LIMITED,
                json!({"domain": "infotech", "name": "x", "location": "/x"}),
            )
            .await
            .problem(403);
        assert!(p["detail"].as_str().unwrap().contains("infotech"), "{p}");
        hub.patch(
            &format!("/api/v1/repos/{fin}"),
            LIMITED,
            json!({"default_branch": "release"}),
        )
        .await
        .expect(200);
        let untouched = hub
            .get(&format!("/api/v1/repos/{it}"), ADMIN)
            .await
            .expect(200);
        assert_eq!(untouched.json["location"], "/srv/git/hubmesh");
        assert_eq!(count(&hub.ctx().db, None).await.unwrap(), 2);
    }
);
