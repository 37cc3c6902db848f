//! Capabilities over REST: the catalog, requests and their lifecycle, visibility and races.

use axum::http::Method;
use hub_core::capability::service::count_open_requests;
use serde_json::{Value, json};

use crate::both;
use crate::support::{ADMIN, Res, TestHub};

const PROVIDER: &str = "sub=prov;roles=hub:write";
const REQUESTER: &str = "sub=req;roles=hub:write";
const STRANGER: &str = "sub=eve;roles=hub:write";
/// Limited to `finance`.
const LIMITED: &str = "sub=lim;roles=hub:write;domains=finance";

const STATUSES: [&str; 6] = [
    "requested",
    "accepted",
    "in_progress",
    "fulfilled",
    "rejected",
    "cancelled",
];

/// The legal moves, as the issue states them.
fn legal(from: &str, to: &str) -> bool {
    matches!(
        (from, to),
        ("requested", "accepted" | "rejected" | "cancelled")
            | ("accepted", "in_progress" | "rejected" | "cancelled")
            | ("in_progress", "fulfilled" | "rejected" | "cancelled")
    )
}

/// The token of the party who makes a move to `to`.
fn party(to: &str) -> &'static str {
    if to == "cancelled" {
        REQUESTER
    } else {
        PROVIDER
    }
}

/// Creates the `finance` and `infotech` domains and a catalog entry `ops.deploy` of `prov` in infotech.
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
    hub.post(
        "/api/v1/capabilities",
        PROVIDER,
        json!({"name": "ops.deploy", "description": "Deploy a service",
               "input_schema": {"type": "object"}, "domain": "infotech"}),
    )
    .await
    .expect(201);
}

/// A new request for `ops.deploy` by `req`; returns its id.
async fn new_request(hub: &TestHub) -> String {
    let res = hub
        .post(
            "/api/v1/capability-requests",
            REQUESTER,
            json!({"capability": "ops.deploy", "input": {"service": "web"}, "note": "asap"}),
        )
        .await
        .expect(201);
    res.json["id"].as_str().unwrap().to_owned()
}

async fn set_status(hub: &TestHub, id: &str, token: &str, body: Value) -> Res {
    hub.post(
        &format!("/api/v1/capability-requests/{id}/status"),
        token,
        body,
    )
    .await
}

/// A new request driven to `status` along the shortest legal path; returns its id.
async fn request_in(hub: &TestHub, status: &str) -> String {
    let id = new_request(hub).await;
    let path: &[&str] = match status {
        "requested" => &[],
        "accepted" => &["accepted"],
        "in_progress" => &["accepted", "in_progress"],
        "fulfilled" => &["accepted", "in_progress", "fulfilled"],
        other => &[other][..],
    };
    for to in path {
        set_status(hub, &id, party(to), json!({"status": to}))
            .await
            .expect(200);
    }
    id
}

fn ids(page: &Res) -> Vec<String> {
    page.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_str().unwrap().to_owned())
        .collect()
}

both!(
    full_lifecycle_between_two_principals,
    |hub: TestHub| async move {
        setup(&hub).await;
        let catalog = hub.get("/api/v1/capabilities", REQUESTER).await.expect(200);
        let entry = &catalog.json["items"][0];
        assert_eq!(entry["id"], "ops.deploy");
        assert_eq!(entry["provider"], "prov");
        assert_eq!(entry["hub"], "dev");
        assert_eq!(entry["input_schema"], json!({"type": "object"}));
        assert_eq!(
            hub.events("capability.registered").await,
            [json!({"name": "ops.deploy", "provider": "prov", "hub": "dev", "domain": "infotech"})]
        );

        let id = new_request(&hub).await;
        let one = hub
            .get(&format!("/api/v1/capability-requests/{id}"), REQUESTER)
            .await
            .expect(200);
        assert_eq!(one.json["status"], "requested");
        assert_eq!(one.json["requester"], "req");
        assert_eq!(one.json["provider"], "prov");
        assert_eq!(
            one.json["domain"], "infotech",
            "inherited from the catalog entry"
        );
        assert_eq!(one.json["input"], json!({"service": "web"}));
        assert_eq!(one.json["note"], "asap");
        let created = hub.events("capability_request.created").await;
        assert_eq!(created.len(), 1);
        assert_eq!(created[0]["id"], id);
        assert_eq!(created[0]["provider"], "prov");

        let mine = hub
            .get("/api/v1/capability-requests?role=requester", REQUESTER)
            .await
            .expect(200);
        assert_eq!(ids(&mine), [id.as_str()]);
        let addressed = hub
            .get("/api/v1/capability-requests?role=provider", PROVIDER)
            .await
            .expect(200);
        assert_eq!(ids(&addressed), [id.as_str()]);
        let none = hub
            .get("/api/v1/capability-requests?role=provider", REQUESTER)
            .await
            .expect(200);
        assert!(ids(&none).is_empty());

        let accepted = hub
            .post(
                &format!("/api/v1/capability-requests/{id}/accept"),
                PROVIDER,
                json!({}),
            )
            .await
            .expect(200);
        assert_eq!(accepted.json["status"], "accepted");
        set_status(
            &hub,
            &id,
            PROVIDER,
            json!({"status": "in_progress", "note": "on it"}),
        )
        .await
        .expect(200);
        let done = set_status(
            &hub,
            &id,
            PROVIDER,
            json!({"status": "fulfilled", "result": {"version": "1.2.3"}}),
        )
        .await
        .expect(200);
        assert_eq!(done.json["status"], "fulfilled");
        assert_eq!(done.json["result"], json!({"version": "1.2.3"}));

        let seen = hub
            .get(&format!("/api/v1/capability-requests/{id}"), REQUESTER)
            .await
            .expect(200);
        assert_eq!(seen.json["status"], "fulfilled");
        assert_eq!(seen.json["result"], json!({"version": "1.2.3"}));
        let moves: Vec<_> = hub
            .events("capability_request.status_changed")
            .await
            .iter()
            .map(|e| (e["from"].clone(), e["to"].clone(), e["by"].clone()))
            .collect();
        assert_eq!(
            moves,
            [
                (json!("requested"), json!("accepted"), json!("prov")),
                (json!("accepted"), json!("in_progress"), json!("prov")),
                (json!("in_progress"), json!("fulfilled"), json!("prov")),
            ]
        );
        let doc = hub
            .call(Method::GET, "/api/v1/openapi.json", None, None)
            .await
            .json;
        for (path, method) in [
            ("/api/v1/capabilities", "post"),
            ("/api/v1/capabilities", "get"),
            ("/api/v1/capability-requests", "post"),
            ("/api/v1/capability-requests", "get"),
            ("/api/v1/capability-requests/{id}", "get"),
            ("/api/v1/capability-requests/{id}/accept", "post"),
            ("/api/v1/capability-requests/{id}/status", "post"),
        ] {
            assert!(doc["paths"][path][method].is_object(), "{method} {path}");
        }
        let fulfilled = hub
            .get("/api/v1/capability-requests?status=fulfilled", PROVIDER)
            .await
            .expect(200);
        assert_eq!(ids(&fulfilled), [id]);
    }
);

both!(
    the_requester_cancels_and_the_provider_rejects,
    |hub: TestHub| async move {
        setup(&hub).await;
        let id = request_in(&hub, "accepted").await;
        let res = set_status(
            &hub,
            &id,
            REQUESTER,
            json!({"status": "cancelled", "note": "no longer needed"}),
        )
        .await
        .expect(200);
        assert_eq!(res.json["status"], "cancelled");
        assert_eq!(res.json["status_note"], "no longer needed");
        let id = request_in(&hub, "in_progress").await;
        let res = set_status(&hub, &id, PROVIDER, json!({"status": "rejected"}))
            .await
            .expect(200);
        assert_eq!(res.json["status"], "rejected");
    }
);

both!(
    every_illegal_transition_is_409_and_changes_nothing,
    |hub: TestHub| async move {
        setup(&hub).await;
        for from in STATUSES {
            let id = request_in(&hub, from).await;
            let before = hub
                .get(&format!("/api/v1/capability-requests/{id}"), ADMIN)
                .await
                .expect(200)
                .json;
            let n_events = hub.events("capability_request.status_changed").await.len();
            for to in STATUSES.into_iter().filter(|to| !legal(from, to)) {
                let p = set_status(&hub, &id, party(to), json!({"status": to}))
                    .await
                    .problem(409);
                let detail = p["detail"].as_str().unwrap();
                assert!(
                    detail.contains(&format!("is {from}"))
                        && detail.contains(&format!("become {to}")),
                    "{from} -> {to}: {detail}"
                );
            }
            if from != "requested" {
                hub.post(
                    &format!("/api/v1/capability-requests/{id}/accept"),
                    PROVIDER,
                    json!({}),
                )
                .await
                .problem(409);
            }
            let after = hub
                .get(&format!("/api/v1/capability-requests/{id}"), ADMIN)
                .await
                .expect(200)
                .json;
            assert_eq!(before, after, "{from}");
            assert_eq!(
                hub.events("capability_request.status_changed").await.len(),
                n_events,
                "{from}"
            );
        }
    }
);

both!(
    only_the_right_party_may_move_a_request,
    |hub: TestHub| async move {
        setup(&hub).await;
        let id = new_request(&hub).await;
        let accept = format!("/api/v1/capability-requests/{id}/accept");
        let p = hub.post(&accept, REQUESTER, json!({})).await.problem(403);
        assert!(p["detail"].as_str().unwrap().contains("provider"), "{p}");
        // hub:admin sees every request but is not a party to this one.
        hub.post(&accept, ADMIN, json!({})).await.problem(403);
        for to in ["accepted", "rejected"] {
            set_status(&hub, &id, REQUESTER, json!({"status": to}))
                .await
                .problem(403);
        }
        let p = set_status(&hub, &id, PROVIDER, json!({"status": "cancelled"}))
            .await
            .problem(403);
        assert!(p["detail"].as_str().unwrap().contains("requester"), "{p}");
        // A stranger cannot even see it.
        hub.get(&format!("/api/v1/capability-requests/{id}"), STRANGER)
            .await
            .problem(404);
        hub.post(&accept, STRANGER, json!({})).await.problem(404);
        let list = hub
            .get("/api/v1/capability-requests", STRANGER)
            .await
            .expect(200);
        assert!(ids(&list).is_empty());
        let all = hub
            .get("/api/v1/capability-requests", ADMIN)
            .await
            .expect(200);
        assert_eq!(ids(&all), [id.as_str()]);
        // Readers may look but not write.
        hub.post(&accept, "sub=prov;roles=hub:read", json!({}))
            .await
            .problem(403);
        let still = hub
            .get(&format!("/api/v1/capability-requests/{id}"), REQUESTER)
            .await
            .expect(200);
        assert_eq!(still.json["status"], "requested");
        assert!(
            hub.events("capability_request.status_changed")
                .await
                .is_empty()
        );
    }
);

both!(
    bad_input_is_refused_and_leaves_nothing,
    |hub: TestHub| async move {
        setup(&hub).await;
        let p = hub
            .post(
                "/api/v1/capabilities",
                PROVIDER,
                json!({"name": "ops.deploy"}),
            )
            .await
            .problem(409);
        assert!(p["detail"].as_str().unwrap().contains("ops.deploy"), "{p}");
        let p = hub
            .post(
                "/api/v1/capabilities",
                PROVIDER,
                json!({"name": "Bad Name", "input_schema": [1], "domain": "nowhere"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["name", "input_schema"]);
        let p = hub
            .post(
                "/api/v1/capabilities",
                PROVIDER,
                json!({"name": "x.y", "domain": "nowhere"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["domain"]);
        let p = hub
            .post("/api/v1/capabilities", PROVIDER, json!({"name": 5}))
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["name"]);
        hub.post(
            "/api/v1/capabilities",
            PROVIDER,
            json!({"name": "a", "colour": 1}),
        )
        .await
        .problem(400);
        hub.post(
            "/api/v1/capabilities",
            "sub=r;roles=hub:read",
            json!({"name": "a"}),
        )
        .await
        .problem(403);

        let p = hub
            .post(
                "/api/v1/capability-requests",
                REQUESTER,
                json!({"capability": "ops.nothing"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["capability"]);
        assert!(p["detail"].as_str().unwrap().contains("ops.nothing"), "{p}");
        let p = hub
            .post(
                "/api/v1/capability-requests",
                REQUESTER,
                json!({"capability": "ops.deploy", "domain": "nowhere"}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["domain"]);
        let p = hub
            .post(
                "/api/v1/capability-requests",
                REQUESTER,
                json!({"capability": ["ops.deploy"]}),
            )
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["capability"]);
        hub.post("/api/v1/capability-requests", REQUESTER, json!({}))
            .await
            .problem(400);

        let id = new_request(&hub).await;
        let p = set_status(&hub, &id, PROVIDER, json!({"status": "bogus"}))
            .await
            .problem(400);
        assert_eq!(Res::fields(&p), ["status"]);
        let p = set_status(
            &hub,
            &id,
            PROVIDER,
            json!({"status": "accepted", "result": 1}),
        )
        .await
        .problem(422);
        assert_eq!(Res::fields(&p), ["result"]);
        set_status(
            &hub,
            &id,
            PROVIDER,
            json!({"status": "accepted", "extra": 1}),
        )
        .await
        .problem(400);

        let unknown = "0190a0a0-0000-7000-8000-000000000000";
        hub.get(&format!("/api/v1/capability-requests/{unknown}"), ADMIN)
            .await
            .problem(404);
        hub.post(
            &format!("/api/v1/capability-requests/{unknown}/accept"),
            PROVIDER,
            json!({}),
        )
        .await
        .problem(404);
        set_status(&hub, unknown, REQUESTER, json!({"status": "cancelled"}))
            .await
            .problem(404);

        for path in ["/api/v1/capabilities", "/api/v1/capability-requests"] {
            let p = hub
                .get(&format!("{path}?cursor=garbage!"), ADMIN)
                .await
                .problem(400);
            assert_eq!(Res::fields(&p), ["cursor"]);
        }
        hub.get("/api/v1/capability-requests?status=bogus", ADMIN)
            .await
            .problem(400);
        hub.get("/api/v1/capability-requests?role=boss", ADMIN)
            .await
            .problem(400);

        // Only the first catalog entry and request were written.
        let catalog = hub.get("/api/v1/capabilities", ADMIN).await.expect(200);
        assert_eq!(ids(&catalog), ["ops.deploy"]);
        assert_eq!(hub.events("capability.registered").await.len(), 1);
        let all = hub
            .get("/api/v1/capability-requests", ADMIN)
            .await
            .expect(200);
        assert_eq!(ids(&all), [id.as_str()]);
        assert_eq!(all.json["items"][0]["status"], "requested");
        assert_eq!(hub.events("capability_request.created").await.len(), 1);
    }
);

both!(catalog_filters_and_pages, |hub: TestHub| async move {
    setup(&hub).await;
    for (name, desc, who) in [
        ("fin.budget", "Check a BUDGET", REQUESTER),
        ("dev.review", "Review 100% of a change", PROVIDER),
        ("dev_x", "underscore", PROVIDER),
    ] {
        hub.post(
            "/api/v1/capabilities",
            who,
            json!({"name": name, "description": desc}),
        )
        .await
        .expect(201);
    }
    let names = |res: Res| ids(&res);
    let page = hub
        .get("/api/v1/capabilities?limit=2", ADMIN)
        .await
        .expect(200);
    assert_eq!(ids(&page), ["dev.review", "dev_x"]);
    let cursor = page.json["next_cursor"].as_str().unwrap().to_owned();
    let page2 = hub
        .get(
            &format!("/api/v1/capabilities?limit=2&cursor={cursor}"),
            ADMIN,
        )
        .await
        .expect(200);
    assert_eq!(ids(&page2), ["fin.budget", "ops.deploy"]);
    assert!(page2.json["next_cursor"].is_null());
    assert_eq!(
        names(
            hub.get("/api/v1/capabilities?provider=req", ADMIN)
                .await
                .expect(200)
        ),
        ["fin.budget"]
    );
    assert_eq!(
        names(
            hub.get("/api/v1/capabilities?domain=infotech", ADMIN)
                .await
                .expect(200)
        ),
        ["ops.deploy"]
    );
    assert_eq!(
        names(
            hub.get("/api/v1/capabilities?q=budget", ADMIN)
                .await
                .expect(200)
        ),
        ["fin.budget"]
    );
    assert_eq!(
        names(
            hub.get("/api/v1/capabilities?q=DEPLOY", ADMIN)
                .await
                .expect(200)
        ),
        ["ops.deploy"]
    );
    // LIKE wildcards in `q` match literally.
    assert_eq!(
        names(
            hub.get("/api/v1/capabilities?q=100%25", ADMIN)
                .await
                .expect(200)
        ),
        ["dev.review"]
    );
    assert_eq!(
        names(hub.get("/api/v1/capabilities?q=_", ADMIN).await.expect(200)),
        ["dev_x"]
    );
});

both!(
    domain_limited_principals_stay_in_their_domains,
    |hub: TestHub| async move {
        setup(&hub).await;
        // `ops.deploy` lives in infotech: the limited principal neither sees nor requests it.
        let p = hub
            .post(
                "/api/v1/capability-requests",
                LIMITED,
                json!({"capability": "ops.deploy"}),
            )
            .await
            .problem(403);
        assert!(p["detail"].as_str().unwrap().contains("infotech"), "{p}");
        hub.post(
            "/api/v1/capabilities",
            LIMITED,
            json!({"name": "lim.it", "domain": "infotech"}),
        )
        .await
        .problem(403);
        let catalog = hub.get("/api/v1/capabilities", LIMITED).await.expect(200);
        assert!(ids(&catalog).is_empty());
        hub.get("/api/v1/capabilities?domain=infotech", LIMITED)
            .await
            .problem(403);

        // An entry of the limited principal; one request for it in finance, one in infotech.
        hub.post("/api/v1/capabilities", LIMITED, json!({"name": "lim.help"}))
            .await
            .expect(201);
        let mut by_domain = Vec::new();
        for domain in ["finance", "infotech"] {
            let res = hub
                .post(
                    "/api/v1/capability-requests",
                    REQUESTER,
                    json!({"capability": "lim.help", "domain": domain}),
                )
                .await
                .expect(201);
            by_domain.push(res.json["id"].as_str().unwrap().to_owned());
        }
        let [finance, infotech] = <[String; 2]>::try_from(by_domain).unwrap();
        let seen = hub
            .get("/api/v1/capability-requests?role=provider", LIMITED)
            .await
            .expect(200);
        assert_eq!(ids(&seen), [finance.as_str()]);
        hub.get(&format!("/api/v1/capability-requests/{infotech}"), LIMITED)
            .await
            .problem(404);
        hub.post(
            &format!("/api/v1/capability-requests/{infotech}/accept"),
            LIMITED,
            json!({}),
        )
        .await
        .problem(404);
        hub.get("/api/v1/capability-requests?domain=infotech", LIMITED)
            .await
            .problem(403);
        hub.post(
            &format!("/api/v1/capability-requests/{finance}/accept"),
            LIMITED,
            json!({}),
        )
        .await
        .expect(200);
        let untouched = hub
            .get(&format!("/api/v1/capability-requests/{infotech}"), ADMIN)
            .await
            .expect(200);
        assert_eq!(untouched.json["status"], "requested");
        assert_eq!(hub.events("capability_request.created").await.len(), 2);
    }
);

both!(
    requests_list_newest_first_and_page,
    |hub: TestHub| async move {
        setup(&hub).await;
        let mut made = Vec::new();
        for _ in 0..3 {
            made.push(new_request(&hub).await);
        }
        made.reverse();
        let page = hub
            .get("/api/v1/capability-requests?limit=2", REQUESTER)
            .await
            .expect(200);
        assert_eq!(ids(&page), made[..2]);
        let cursor = page.json["next_cursor"].as_str().unwrap().to_owned();
        let page2 = hub
            .get(
                &format!("/api/v1/capability-requests?limit=2&cursor={cursor}"),
                REQUESTER,
            )
            .await
            .expect(200);
        assert_eq!(ids(&page2), made[2..]);
        assert!(page2.json["next_cursor"].is_null());
        let by_name = hub
            .get(
                "/api/v1/capability-requests?capability=ops.deploy&domain=infotech",
                REQUESTER,
            )
            .await
            .expect(200);
        assert_eq!(ids(&by_name), made);
        let other = hub
            .get(
                "/api/v1/capability-requests?capability=fin.other",
                REQUESTER,
            )
            .await
            .expect(200);
        assert!(ids(&other).is_empty());
    }
);

both!(open_requests_are_counted, |hub: TestHub| async move {
    setup(&hub).await;
    hub.post(
        "/api/v1/capabilities",
        PROVIDER,
        json!({"name": "free.help"}),
    )
    .await
    .expect(201);
    for status in STATUSES {
        request_in(&hub, status).await;
    }
    hub.post(
        "/api/v1/capability-requests",
        REQUESTER,
        json!({"capability": "free.help"}),
    )
    .await
    .expect(201);
    let db = &hub.ctx().db;
    assert_eq!(count_open_requests(db, None).await.unwrap(), 4);
    assert_eq!(count_open_requests(db, Some("infotech")).await.unwrap(), 3);
    assert_eq!(count_open_requests(db, Some("finance")).await.unwrap(), 0);
});

/// Sends two moves of one request at once and checks that exactly one won; returns the winner's status.
async fn race(hub: &TestHub, id: &str, a: (&str, &str), b: (&str, &str)) -> String {
    let (ra, rb) = tokio::join!(
        set_status(hub, id, a.0, json!({"status": a.1})),
        set_status(hub, id, b.0, json!({"status": b.1})),
    );
    let codes = [ra.status.as_u16(), rb.status.as_u16()];
    assert!(
        codes == [200, 409] || codes == [409, 200],
        "{codes:?}: {} / {}",
        ra.text,
        rb.text
    );
    let winner = if codes[0] == 200 { a.1 } else { b.1 };
    let now = hub
        .get(&format!("/api/v1/capability-requests/{id}"), ADMIN)
        .await
        .expect(200);
    assert_eq!(now.json["status"], winner);
    winner.to_owned()
}

/// The moves of request `id` recorded in the outbox.
async fn moves_of(hub: &TestHub, id: &str) -> Vec<String> {
    hub.events("capability_request.status_changed")
        .await
        .into_iter()
        .filter(|e| e["id"] == id)
        .map(|e| e["to"].as_str().unwrap().to_owned())
        .collect()
}

both!(
    of_two_concurrent_moves_exactly_one_wins,
    |hub: TestHub| async move {
        setup(&hub).await;
        for _ in 0..3 {
            // Fulfilling and cancelling exclude each other in either order.
            let id = request_in(&hub, "in_progress").await;
            let winner = race(&hub, &id, (PROVIDER, "fulfilled"), (REQUESTER, "cancelled")).await;
            assert_eq!(
                moves_of(&hub, &id).await,
                ["accepted", "in_progress", winner.as_str()]
            );
            // The provider accepting twice at once: one accept, one conflict.
            let id = new_request(&hub).await;
            race(&hub, &id, (PROVIDER, "accepted"), (PROVIDER, "accepted")).await;
            assert_eq!(moves_of(&hub, &id).await, ["accepted"]);
            // Accepting and cancelling at once: both may succeed one after the other (accepted
            // requests can still be cancelled), but never both from `requested`.
            let id = new_request(&hub).await;
            let accept = format!("/api/v1/capability-requests/{id}/accept");
            let (accepted, cancelled) = tokio::join!(
                hub.post(&accept, PROVIDER, json!({})),
                set_status(&hub, &id, REQUESTER, json!({"status": "cancelled"})),
            );
            let moves = moves_of(&hub, &id).await;
            match (accepted.status.as_u16(), cancelled.status.as_u16()) {
                (200, 200) => assert_eq!(moves, ["accepted", "cancelled"]),
                (200, 409) => assert_eq!(moves, ["accepted"]),
                (409, 200) => assert_eq!(moves, ["cancelled"]),
                other => panic!("{other:?}: {} / {}", accepted.text, cancelled.text),
            }
        }
    }
);
