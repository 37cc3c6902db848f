//! Third-party services over REST: registration, ingest, the GDPR report.

use serde_json::{Value, json};

use crate::both;
use crate::support::{ADMIN, Res, TestHub};

const FIN_WRITER: &str = "sub=fin-bot;roles=hub:write;domains=finance;kind=agent";

fn entry(name: &str, domain: &str, categories: &[&str], region: &str, dpa: bool) -> Value {
    json!({
        "name": name, "domain": domain, "data_categories": categories, "region": region,
        "dpa_in_place": dpa, "processing_purpose": "operations",
    })
}

async fn services_in(hub: &TestHub, domain: Option<&str>) -> u64 {
    hub_core::tpsc::service::count(&hub.ctx().db, domain)
        .await
        .unwrap()
}

both!(
    register_get_list_and_duplicates,
    |hub: TestHub| async move {
        hub.domains(&["finance", "infotech"]).await;
        let created = hub
        .post(
            "/api/v1/services",
            ADMIN,
            json!({
                "name": "Stripe", "domain": "finance", "vendor": "Stripe Inc.",
                "url": "https://stripe.com", "data_categories": ["Financial", "contact", "financial"],
                "processing_purpose": "payments", "region": "eu-west-1", "dpa_in_place": true,
                "sub_processors": ["AWS", "AWS"],
            }),
        )
        .await
        .expect(201);
        let id = created.json["id"].as_str().unwrap().to_owned();
        assert_eq!(
            created.json["data_categories"],
            json!(["financial", "contact"])
        );
        assert_eq!(created.json["sub_processors"], json!(["AWS"]));
        assert_eq!(created.json["personal_data"], true);
        hub.post(
            "/api/v1/services",
            ADMIN,
            json!({"name": "Grafana", "domain": "infotech", "region": "US", "dpa_in_place": false}),
        )
        .await
        .expect(201)
        .json["personal_data"]
            .as_bool()
            .filter(|p| !p)
            .expect("no categories: no personal data by default");

        let one = hub
            .get(&format!("/api/v1/services/{id}"), ADMIN)
            .await
            .expect(200);
        assert_eq!(one.json["vendor"], "Stripe Inc.");
        assert_eq!(one.json["region"], "eu-west-1");

        let p = hub
            .post(
                "/api/v1/services",
                ADMIN,
                entry("Stripe", "infotech", &[], "US", false),
            )
            .await
            .problem(409);
        assert!(p["detail"].as_str().unwrap().contains("Stripe"), "{p}");
        assert_eq!(hub.outbox_count("tpsc_service.registered").await, 2);

        let page = hub.get("/api/v1/services?limit=1", ADMIN).await.expect(200);
        assert_eq!(page.json["items"][0]["name"], "Grafana");
        let cursor = page.json["next_cursor"].as_str().unwrap().to_owned();
        let page2 = hub
            .get(&format!("/api/v1/services?limit=1&cursor={cursor}"), ADMIN)
            .await
            .expect(200);
        assert_eq!(page2.json["items"][0]["name"], "Stripe");
        assert!(page2.json["next_cursor"].is_null());
        let fin = hub
            .get("/api/v1/services?domain=finance", ADMIN)
            .await
            .expect(200);
        assert_eq!(fin.json["items"].as_array().unwrap().len(), 1);
        assert_eq!(services_in(&hub, Some("finance")).await, 1);
        assert_eq!(services_in(&hub, None).await, 2);
    }
);

both!(
    bad_input_is_refused_and_writes_nothing,
    |hub: TestHub| async move {
        hub.domains(&["finance", "infotech"]).await;
        let good = entry("Zendesk", "finance", &["contact"], "US", true);
        let with = |k: &str, v: Value| {
            let mut b = good.clone();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = good.clone();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        for (body, field) in [
            (with("name", json!(5)), "name"),
            (with("dpa_in_place", json!("yes")), "dpa_in_place"),
            (with("data_categories", json!("contact")), "data_categories"),
        ] {
            let p = hub.post("/api/v1/services", ADMIN, body).await.problem(400);
            assert_eq!(Res::fields(&p), [field], "{p}");
        }
        for (body, missing) in [
            (without("region"), "region"),
            (without("dpa_in_place"), "dpa_in_place"),
            (without("name"), "name"),
            (with("colour", json!("red")), "colour"),
        ] {
            let p = hub.post("/api/v1/services", ADMIN, body).await.problem(400);
            assert!(p["detail"].as_str().unwrap().contains(missing), "{p}");
        }
        let p = hub
            .post(
                "/api/v1/services",
                ADMIN,
                with("url", json!("ftp://files.example.com")),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["url"]);
        let p = hub
            .post(
                "/api/v1/services",
                ADMIN,
                json!({"name": " ", "domain": "finance", "region": "", "dpa_in_place": true,
                   "data_categories": ["ok", " "], "sub_processors": [""]}),
            )
            .await
            .problem(422);
        assert_eq!(
            Res::fields(&p),
            ["name", "region", "data_categories[1]", "sub_processors[0]"]
        );
        let p = hub
            .post("/api/v1/services", ADMIN, with("domain", json!("nowhere")))
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["domain"]);
        hub.post(
            "/api/v1/services",
            FIN_WRITER,
            with("domain", json!("infotech")),
        )
        .await
        .problem(403);
        hub.post(
            "/api/v1/services",
            "sub=reader;roles=hub:read",
            good.clone(),
        )
        .await
        .problem(403);
        hub.get("/api/v1/services?cursor=nope!", ADMIN)
            .await
            .problem(400);
        hub.get(
            "/api/v1/services/0190c4f0-0000-7000-8000-000000000000",
            ADMIN,
        )
        .await
        .problem(404);
        assert_eq!(services_in(&hub, None).await, 0);
        assert_eq!(hub.outbox_count("tpsc_service.registered").await, 0);

        // A domain-limited principal neither sees nor lists other domains' services.
        let id = hub
            .post("/api/v1/services", ADMIN, with("domain", json!("infotech")))
            .await
            .expect(201)
            .json["id"]
            .as_str()
            .unwrap()
            .to_owned();
        hub.get(&format!("/api/v1/services/{id}"), FIN_WRITER)
            .await
            .problem(404);
        let seen = hub.get("/api/v1/services", FIN_WRITER).await.expect(200);
        assert_eq!(seen.json["items"], json!([]));
        hub.get("/api/v1/services?domain=infotech", FIN_WRITER)
            .await
            .problem(403);
    }
);

both!(
    ingest_reports_each_entry_and_writes_only_valid_ones,
    |hub: TestHub| async move {
        hub.domains(&["finance", "infotech"]).await;
        hub.post(
            "/api/v1/services",
            ADMIN,
            entry("Stripe", "finance", &["financial"], "EU", true),
        )
        .await
        .expect(201);
        let res = hub
        .post(
            "/api/v1/services/ingest",
            FIN_WRITER,
            json!([
                entry("Zendesk", "finance", &["contact"], "US", true),
                entry("Stripe", "finance", &["financial"], "US", false),
                {"name": "Typed", "domain": "finance", "region": 5, "dpa_in_place": true},
                entry("BadUrl", "finance", &[], "EU", true).as_object().unwrap().clone().into_iter()
                    .chain([("url".to_owned(), json!("mailto:x@example.com"))]).collect::<serde_json::Map<_, _>>(),
                entry("Elsewhere", "infotech", &[], "EU", true),
                entry("Ghost", "nowhere", &[], "EU", true),
                {"domain": "finance", "region": "EU", "dpa_in_place": true},
                "not an object",
            ]),
        )
        .await
        .expect(200);
        let r = &res.json;
        assert_eq!(
            (
                r["created"].as_u64(),
                r["updated"].as_u64(),
                r["rejected"].as_u64()
            ),
            (Some(1), Some(1), Some(6)),
            "{r}"
        );
        let outcomes: Vec<(&str, &str)> = r["results"]
            .as_array()
            .unwrap()
            .iter()
            .map(|x| {
                (
                    x["name"].as_str().unwrap_or("-"),
                    x["outcome"].as_str().unwrap(),
                )
            })
            .collect();
        assert_eq!(
            outcomes,
            [
                ("Zendesk", "created"),
                ("Stripe", "updated"),
                ("Typed", "rejected"),
                ("BadUrl", "rejected"),
                ("Elsewhere", "rejected"),
                ("Ghost", "rejected"),
                ("-", "rejected"),
                ("-", "rejected"),
            ]
        );
        let results = r["results"].as_array().unwrap();
        for (i, x) in results.iter().enumerate() {
            assert_eq!(x["index"], i);
            assert_eq!(x["id"].is_string(), i < 2, "{x}");
            assert_eq!(x["errors"].is_array(), i >= 2, "{x}");
        }
        let fields = |i: usize| Res::fields(&results[i]);
        assert_eq!(fields(2), ["region"]);
        assert_eq!(fields(3), ["url"]);
        assert_eq!(fields(4), ["domain"]);
        assert_eq!(fields(5), ["domain"]);
        assert!(
            results[6]["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("name")
        );
        assert_eq!(fields(7), ["body"]);

        let stripe = hub
            .get(
                &format!("/api/v1/services/{}", results[1]["id"].as_str().unwrap()),
                ADMIN,
            )
            .await
            .expect(200);
        assert_eq!(stripe.json["region"], "US");
        assert_eq!(stripe.json["dpa_in_place"], false);
        assert_eq!(services_in(&hub, None).await, 2);
        assert_eq!(hub.outbox_count("tpsc_service.registered").await, 2);
        assert_eq!(hub.outbox_count("tpsc_service.updated").await, 1);

        // Taking over another domain's service by name needs access to that domain too.
        hub.post(
            "/api/v1/services",
            ADMIN,
            entry("Slack", "infotech", &["contact"], "EU", true),
        )
        .await
        .expect(201);
        let res = hub
            .post(
                "/api/v1/services/ingest",
                FIN_WRITER,
                json!([entry("Slack", "finance", &[], "US", false)]),
            )
            .await
            .expect(200);
        assert_eq!(res.json["rejected"], 1);
        assert_eq!(Res::fields(&res.json["results"][0]), ["domain"]);
        assert_eq!(services_in(&hub, Some("infotech")).await, 1);
        assert_eq!(hub.outbox_count("tpsc_service.updated").await, 1);

        // Too many entries or a body that is no list: refused whole, nothing written.
        let many: Vec<Value> = (0..1001)
            .map(|i| entry(&format!("S{i}"), "finance", &[], "EU", true))
            .collect();
        let p = hub
            .post("/api/v1/services/ingest", ADMIN, json!(many))
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["body"]);
        hub.post("/api/v1/services/ingest", ADMIN, json!({"name": "x"}))
            .await
            .problem(400);
        hub.post("/api/v1/services/ingest", "sub=r;roles=hub:read", json!([]))
            .await
            .problem(403);
        assert_eq!(services_in(&hub, None).await, 3);
    }
);

both!(gdpr_report_numbers, |hub: TestHub| async move {
    hub.domains(&["finance", "infotech", "legal"]).await;
    let mut stripe = entry(
        "Stripe",
        "finance",
        &["financial", "contact"],
        "eu-west-1",
        false,
    );
    stripe["sub_processors"] = json!(["AWS", "Visa"]);
    let mut zendesk = entry("Zendesk", "finance", &["contact", "support"], "US", true);
    zendesk["sub_processors"] = json!(["AWS"]);
    let mut nopurpose = entry("Lab", "finance", &["health"], "DE", true);
    nopurpose
        .as_object_mut()
        .unwrap()
        .remove("processing_purpose");
    let res = hub
        .post(
            "/api/v1/services/ingest",
            ADMIN,
            json!([
                stripe,
                zendesk,
                nopurpose,
                entry("Grafana", "finance", &[], "US", false),
                entry("Slack", "infotech", &["contact"], "EU", true),
            ]),
        )
        .await
        .expect(200);
    assert_eq!(res.json["created"], 5);

    let report = hub.get("/api/v1/gdpr-report", ADMIN).await.expect(200);
    let domains = report.json["domains"].as_array().unwrap();
    let names: Vec<_> = domains
        .iter()
        .map(|d| d["domain"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["finance", "infotech", "legal"]);
    let fin = &domains[0];
    assert_eq!(fin["services"], 4);
    assert_eq!(fin["personal_data"], 3);
    assert_eq!(fin["without_dpa"], json!(["Grafana", "Stripe"]));
    assert_eq!(
        fin["data_categories"],
        json!([
            {"category": "contact", "services": ["Stripe", "Zendesk"]},
            {"category": "financial", "services": ["Stripe"]},
            {"category": "health", "services": ["Lab"]},
            {"category": "support", "services": ["Zendesk"]},
        ])
    );
    assert_eq!(fin["regions"], json!(["DE", "US", "eu-west-1"]));
    assert_eq!(fin["sub_processors"], json!(["AWS", "Visa"]));
    let findings: Vec<(&str, &str)> = fin["findings"]
        .as_array()
        .unwrap()
        .iter()
        .map(|f| (f["service"].as_str().unwrap(), f["kind"].as_str().unwrap()))
        .collect();
    assert_eq!(
        findings,
        [
            ("Lab", "personal_data_without_purpose"),
            ("Stripe", "personal_data_without_dpa"),
            ("Zendesk", "personal_data_outside_eea"),
        ]
    );
    assert_eq!(domains[1]["services"], 1);
    assert_eq!(domains[1]["findings"], json!([]));
    assert_eq!(domains[2]["services"], 0);

    let only = hub
        .get("/api/v1/gdpr-report?domain=infotech", ADMIN)
        .await
        .expect(200);
    assert_eq!(only.json["domains"].as_array().unwrap().len(), 1);
    assert_eq!(only.json["domains"][0]["personal_data"], 1);
    let limited = hub.get("/api/v1/gdpr-report", FIN_WRITER).await.expect(200);
    assert_eq!(limited.json["domains"].as_array().unwrap().len(), 1);
    assert_eq!(limited.json["domains"][0]["domain"], "finance");
    hub.get("/api/v1/gdpr-report?domain=infotech", FIN_WRITER)
        .await
        .problem(403);
    let p = hub
        .get("/api/v1/gdpr-report?domain=nowhere", ADMIN)
        .await
        .problem(422);
    assert_eq!(Res::fields(&p), ["domain"]);
});
