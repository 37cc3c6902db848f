//! The spend ledger, cost reports and token spend.

use serde_json::json;

use fin_hub::spend::model;
use migrations::fin::key_hash;
use sea_orm::{ActiveModelTrait, ConnectionTrait, Database, Set, Statement};
use sea_orm_migration::MigratorTrait;
use testkit::{Backend, fresh_database};

use crate::both;
use crate::support::{ADMIN, FINANCE, READER, Res, TestHub};

both!(
    manual_spend_dedupes_external_ids_and_feeds_cost_reports,
    |hub: TestHub| async move {
        let first = hub
        .post(
            "/api/v1/fin/spend",
            FINANCE,
            json!({"date": "2026-01-10", "amount": 12_345, "currency": "EUR", "domain": "finance", "external_id": "inv-1"}),
        )
        .await
        .expect(201)
        .json;
        assert_eq!(
            (first["source"].as_str(), first["period"].as_str()),
            (Some("manual"), Some("2026-01"))
        );
        let again = hub
        .post(
            "/api/v1/fin/spend",
            FINANCE,
            json!({"date": "2026-01-10", "amount": 12_345, "currency": "EUR", "domain": "finance", "external_id": "inv-1"}),
        )
        .await
        .expect(200)
        .json;
        assert_eq!(again["id"], first["id"]);
        hub.post(
        "/api/v1/fin/spend",
        ADMIN,
        json!({"date": "2026-01-11", "amount": 1_000, "currency": "USD", "domain": "infotech", "service_id": "crm", "vendor": "Acme"}),
    )
    .await
    .expect(201);

        let by_domain = hub
            .get("/api/v1/fin/costs/by-domain?period=2026-01", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(
            by_domain["items"],
            json!([
                {"key": "finance", "period": "2026-01", "amount": 12_345, "currency": "EUR", "entries": 1},
                {"key": "infotech", "period": "2026-01", "amount": 500, "currency": "EUR", "entries": 1},
            ])
        );
        let by_service = hub
            .get(
                "/api/v1/fin/costs/by-service?period=2026-01&currency=USD",
                ADMIN,
            )
            .await
            .expect(200)
            .json;
        assert_eq!(
            by_service["items"],
            json!([{"key": "crm", "period": "2026-01", "amount": 1_000, "currency": "USD", "entries": 1}])
        );
        let p = hub
            .get(
                "/api/v1/fin/costs/by-domain?period=2026-01&currency=GBP",
                ADMIN,
            )
            .await
            .problem(422);
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("no conversion rate from EUR to GBP"),
            "{p}"
        );
        // A domain-limited principal sees its domain only.
        let mine = hub
            .get("/api/v1/fin/costs/by-domain?period=2026-01", FINANCE)
            .await
            .expect(200)
            .json;
        assert_eq!(mine["items"].as_array().unwrap().len(), 1);
        let list = hub.get("/api/v1/fin/spend", FINANCE).await.expect(200).json;
        assert_eq!(list["items"].as_array().unwrap().len(), 1);
        let page = hub
            .get("/api/v1/fin/costs/by-domain?period=2026-01&limit=1", ADMIN)
            .await
            .expect(200)
            .json;
        let cursor = page["next_cursor"].as_str().unwrap();
        let rest = hub
            .get(
                &format!("/api/v1/fin/costs/by-domain?period=2026-01&limit=1&cursor={cursor}"),
                ADMIN,
            )
            .await
            .expect(200)
            .json;
        assert_eq!(rest["items"][0]["key"], "infotech");
        assert_eq!(hub.outbox_count("fin_spend.created").await, 2);
    }
);

// SQLite finds repeats by a 64-bit hash of the key: entries whose keys differ but whose hashes
// are equal must both stay, and a repeat of either must still be found.
both!(
    entries_whose_key_hashes_collide_are_both_kept,
    |hub: TestHub| async move {
        // An entry stored as a key that hashes like `inv-2` would be.
        model::ActiveModel {
            id: Set(hub_core::ids::new_id()),
            date: Set("2026-01-10".parse().unwrap()),
            period: Set("2026-01".into()),
            amount: Set(1),
            currency: Set("EUR".into()),
            domain: Set("finance".into()),
            service_id: Set(None),
            vendor: Set(None),
            source: Set(model::Source::Manual),
            external_id: Set("collides-with-inv-2".into()),
            import_id: Set(None),
            created_at: Set(hub_core::db::now()),
            key_hash: Set(key_hash("manual", "inv-2")),
        }
        .insert(&hub.ctx().db)
        .await
        .expect("stored");
        let body = json!({"date": "2026-01-10", "amount": 700, "currency": "EUR", "domain": "finance", "external_id": "inv-2"});
        let first = hub
            .post("/api/v1/fin/spend", FINANCE, body.clone())
            .await
            .expect(201)
            .json;
        assert_eq!(first["external_id"], "inv-2");
        let again = hub
            .post("/api/v1/fin/spend", FINANCE, body)
            .await
            .expect(200)
            .json;
        assert_eq!(again["id"], first["id"]);
        let items = hub
            .get("/api/v1/fin/spend?limit=10", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(items["items"].as_array().unwrap().len(), 2, "{items}");
    }
);

/// The migration that added the hash fills it in for entries already in the ledger.
async fn migration_hashes_existing_entries(backend: Backend) {
    let (url, _dir) = fresh_database(backend).await;
    let db = Database::connect(&url).await.expect("connect");
    migrations::fin::Migrator::up(&db, Some(6))
        .await
        .expect("migrations before the hash");
    let insert = "INSERT INTO fin_spend (id, date, period, amount, currency, domain, source, external_id, created_at) \
                  VALUES ('e1', '2026-01-10', '2026-01', 5, 'EUR', 'finance', 'import', 'sha256:ab', '2026-01-10T00:00:00Z')";
    db.execute_unprepared(insert).await.expect("old entry");
    migrations::fin::Migrator::up(&db, None)
        .await
        .expect("the rest");
    let row = db
        .query_one_raw(Statement::from_string(
            db.get_database_backend(),
            "SELECT key_hash FROM fin_spend WHERE id = 'e1'",
        ))
        .await
        .expect("read")
        .expect("the entry");
    let hash: i64 = row.try_get("", "key_hash").expect("key_hash");
    assert_eq!(hash, key_hash("import", "sha256:ab"));
    // Undone, the ledger is as before: no hash, and the key unique again.
    migrations::fin::Migrator::down(&db, Some(1))
        .await
        .expect("down");
    assert!(
        db.execute_unprepared("SELECT key_hash FROM fin_spend")
            .await
            .is_err()
    );
    let again = insert.replace("'e1'", "'e2'");
    assert!(
        db.execute_unprepared(&again).await.is_err(),
        "the key is unique"
    );
}

#[tokio::test]
async fn migration_hashes_existing_entries_sqlite() {
    migration_hashes_existing_entries(Backend::Sqlite).await;
}

#[tokio::test]
async fn migration_hashes_existing_entries_postgres() {
    migration_hashes_existing_entries(Backend::Postgres).await;
}

both!(spend_bad_input_names_the_field, |hub: TestHub| async move {
    let ok = json!({"date": "2026-01-10", "amount": 1, "currency": "EUR", "domain": "finance"});
    let with = |k: &str, v: serde_json::Value| {
        let mut b = ok.clone();
        b[k] = v;
        b
    };
    for (body, field) in [
        (with("amount", json!(-1)), "amount"),
        (with("amount", json!(10_000_000_000_000i64)), "amount"),
        (with("currency", json!("usd")), "currency"),
        (with("currency", json!("XXX")), "currency"),
        (with("date", json!("1999-12-31")), "date"),
        (with("date", json!("2101-01-01")), "date"),
        (with("domain", json!("nowhere")), "domain"),
    ] {
        let p = hub
            .post("/api/v1/fin/spend", ADMIN, body.clone())
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), [field], "{body}");
    }
    hub.post(
        "/api/v1/fin/spend",
        ADMIN,
        with("date", json!("10/01/2026")),
    )
    .await
    .problem(400);
    hub.post("/api/v1/fin/spend", ADMIN, with("amount", json!(1.5)))
        .await
        .problem(400);
    hub.post(
        "/api/v1/fin/spend",
        FINANCE,
        with("domain", json!("infotech")),
    )
    .await
    .problem(403);
    hub.post("/api/v1/fin/spend", READER, ok.clone())
        .await
        .problem(403);
    hub.get("/api/v1/fin/spend/nope", ADMIN).await.problem(404);
    hub.get("/api/v1/fin/spend?limit=0", ADMIN)
        .await
        .problem(400);
    assert_eq!(
        hub.get("/api/v1/fin/spend", ADMIN).await.expect(200).json["items"],
        json!([])
    );
});

both!(
    token_spend_is_priced_or_refused_and_enters_the_ledger,
    |hub: TestHub| async move {
        let call = json!({"provider": "openai", "model": "gpt-4o", "tokens_in": 1_000_000, "tokens_out": 200_000,
                      "domain": "finance", "session_id": "s1", "external_id": "call-1", "time": "2026-02-03T10:00:00Z"});
        let t = hub
            .post("/api/v1/fin/token-spend", FINANCE, call.clone())
            .await
            .expect(201)
            .json;
        // 1M in at 2.50 + 200k out at 10.00 per million = 4.50 USD.
        assert_eq!(
            (
                t["cost"].as_i64(),
                t["currency"].as_str(),
                t["priced"].as_bool()
            ),
            (Some(450), Some("USD"), Some(true))
        );
        assert_eq!(t["agent"], "fina");
        let again = hub
            .post("/api/v1/fin/token-spend", FINANCE, call.clone())
            .await
            .expect(200)
            .json;
        assert_eq!(again["id"], t["id"]);
        let given = hub
        .post(
            "/api/v1/fin/token-spend",
            FINANCE,
            json!({"provider": "local", "model": "llama", "tokens_in": 5, "tokens_out": 5, "cost": 7, "domain": "finance"}),
        )
        .await
        .expect(201)
        .json;
        assert_eq!(
            (given["priced"].as_bool(), given["currency"].as_str()),
            (Some(false), Some("EUR"))
        );

        let p = hub
        .post("/api/v1/fin/token-spend", FINANCE, json!({"provider": "openai", "model": "gpt-9", "tokens_in": 1, "tokens_out": 1, "domain": "finance"}))
        .await
        .problem(422);
        assert_eq!(Res::fields(&p), ["cost"]);
        assert!(
            p["errors"][0]["message"]
                .as_str()
                .unwrap()
                .contains("no price known for provider openai model gpt-9")
        );
        for (body, field) in [
            (
                json!({"provider": "openai", "model": "gpt-4o", "tokens_in": -1, "tokens_out": 1, "domain": "finance"}),
                "tokens_in",
            ),
            (
                json!({"provider": "openai", "model": "gpt-4o", "tokens_in": 1, "tokens_out": 1, "domain": "finance", "currency": "EUR"}),
                "currency",
            ),
            (
                json!({"provider": "", "model": "gpt-4o", "tokens_in": 1, "tokens_out": 1, "domain": "finance"}),
                "provider",
            ),
            (
                json!({"provider": "openai", "model": "gpt-4o", "tokens_in": 1, "tokens_out": 1, "domain": "finance", "time": "1990-01-01T00:00:00Z"}),
                "time",
            ),
        ] {
            let p = hub
                .post("/api/v1/fin/token-spend", FINANCE, body.clone())
                .await
                .problem(422);
            assert_eq!(Res::fields(&p), [field], "{body}");
        }
        let ledger = hub
            .get("/api/v1/fin/spend?source=token", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(ledger["items"].as_array().unwrap().len(), 2);
        let tokens = hub
            .get("/api/v1/fin/token-spend?session_id=s1", ADMIN)
            .await
            .expect(200)
            .json;
        assert_eq!(tokens["items"].as_array().unwrap().len(), 1);
        let cost = hub
            .get(
                "/api/v1/fin/costs/by-domain?period=2026-02&currency=USD",
                ADMIN,
            )
            .await
            .expect(200)
            .json;
        assert_eq!(cost["items"][0]["amount"], 450);
    }
);
