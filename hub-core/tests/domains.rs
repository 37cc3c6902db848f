//! Domains over REST.

use serde_json::json;

use crate::both;
use crate::support::{ADMIN, Res, TestHub};

both!(create_list_get, |hub: TestHub| async move {
    let created = hub
        .post(
            "/api/v1/domains",
            ADMIN,
            json!({"slug": "finance", "name": "Finance"}),
        )
        .await
        .expect(201);
    assert_eq!(created.json["id"], "finance");
    hub.post(
        "/api/v1/domains",
        ADMIN,
        json!({"slug": "infotech", "name": "IT", "owner": "cio"}),
    )
    .await
    .expect(201);

    let page = hub.get("/api/v1/domains?limit=1", ADMIN).await.expect(200);
    assert_eq!(page.json["items"][0]["slug"], "finance");
    let cursor = page.json["next_cursor"]
        .as_str()
        .expect("a second page")
        .to_owned();
    let page2 = hub
        .get(&format!("/api/v1/domains?limit=1&cursor={cursor}"), ADMIN)
        .await
        .expect(200);
    assert_eq!(page2.json["items"][0]["slug"], "infotech");
    assert!(page2.json["next_cursor"].is_null());

    let one = hub.get("/api/v1/domains/infotech", ADMIN).await.expect(200);
    assert_eq!(one.json["owner"], "cio");
});

both!(
    duplicates_and_bad_slugs_are_refused_and_leave_nothing,
    |hub: TestHub| async move {
        hub.post(
            "/api/v1/domains",
            ADMIN,
            json!({"slug": "finance", "name": "Finance"}),
        )
        .await
        .expect(201);
        let p = hub
            .post(
                "/api/v1/domains",
                ADMIN,
                json!({"slug": "finance", "name": "Again"}),
            )
            .await
            .problem(409);
        assert!(p["detail"].as_str().unwrap().contains("finance"));
        let p = hub
            .post(
                "/api/v1/domains",
                ADMIN,
                json!({"slug": "Not A Slug", "name": ""}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["slug", "name"]);
        let all = hub.get("/api/v1/domains", ADMIN).await.expect(200);
        assert_eq!(all.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(all.json["items"][0]["name"], "Finance");
    }
);

both!(
    domain_limited_principals_see_only_their_domains,
    |hub: TestHub| async move {
        for slug in ["finance", "infotech"] {
            hub.post(
                "/api/v1/domains",
                ADMIN,
                json!({"slug": slug, "name": slug}),
            )
            .await
            .expect(201);
        }
        let limited = "sub=bob;roles=hub:read;domains=finance";
        let all = hub.get("/api/v1/domains", limited).await.expect(200);
        let slugs: Vec<_> = all.json["items"]
            .as_array()
            .unwrap()
            .iter()
            .map(|d| d["slug"].as_str().unwrap().to_owned())
            .collect();
        assert_eq!(slugs, ["finance"]);
        hub.get("/api/v1/domains/infotech", limited)
            .await
            .problem(404);
        hub.post(
            "/api/v1/domains",
            limited,
            json!({"slug": "x", "name": "x"}),
        )
        .await
        .problem(403);
    }
);
