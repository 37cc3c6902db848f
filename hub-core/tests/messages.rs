//! Messages over REST: sending, inbox, read/ack state, replies, threads, search, visibility.

use hub_core::api::page::PageRequest;
use hub_core::message::service;
use sea_orm_migration::MigratorTrait;
use serde_json::{Value, json};

use crate::both;
use crate::identity::principal;
use crate::support::{ADMIN, Backend, Res, TestHub};

const ALICE: &str = "sub=alice;roles=hub:write;kind=agent";
const BOB: &str = "sub=bob;roles=hub:write;kind=agent";
const CAROL: &str = "sub=carol;roles=hub:write;kind=agent";
const DAVE: &str = "sub=dave;roles=hub:write;kind=agent";

/// Sends a message and returns its JSON.
async fn send(hub: &TestHub, token: &str, body: Value) -> Value {
    hub.post("/api/v1/messages", token, body)
        .await
        .expect(201)
        .json
}

async fn msg(hub: &TestHub, token: &str, to: &[&str], subject: &str, body: &str) -> String {
    let m = send(
        hub,
        token,
        json!({"recipients": to, "subject": subject, "body": body}),
    )
    .await;
    m["id"].as_str().unwrap().to_owned()
}

fn ids(page: &Value) -> Vec<String> {
    page["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|m| m["id"].as_str().unwrap().to_owned())
        .collect()
}

async fn n_messages(hub: &TestHub) -> u64 {
    service::count(&hub.ctx().db, None).await.unwrap()
}

both!(send_to_many_and_page_the_inbox, |hub: TestHub| async move {
    let m = send(
        &hub,
        ALICE,
        json!({"recipients": ["bob", "carol@dev", "dave@ops", "bob"], "subject": "Hello",
               "body": "first", "importance": "high", "ack_required": true}),
    )
    .await;
    let first = m["id"].as_str().unwrap().to_owned();
    assert_eq!(m["sender"], "alice");
    assert_eq!(m["thread_id"], m["id"]);
    assert_eq!(m["importance"], "high");
    assert_eq!(m["ack_required"], true);
    let recipients: Vec<(String, String, String)> = m["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            (
                r["address"].as_str().unwrap().into(),
                r["hub"].as_str().unwrap().into(),
                r["delivery"].as_str().unwrap().into(),
            )
        })
        .collect();
    assert_eq!(
        recipients,
        [
            ("bob".into(), "dev".into(), "delivered".into()),
            ("carol".into(), "dev".into(), "delivered".into()),
            ("dave@ops".into(), "ops".into(), "queued".into()),
        ]
    );
    let second = msg(&hub, ALICE, &["bob"], "Two", "second").await;
    let third = msg(&hub, CAROL, &["bob"], "Three", "third").await;
    assert_eq!(hub.outbox_count("message.created").await, 3);

    let p1 = hub
        .get("/api/v1/messages/inbox?limit=2", BOB)
        .await
        .expect(200);
    assert_eq!(ids(&p1.json), [third.as_str(), second.as_str()]);
    assert!(p1.json["items"][0]["read_at"].is_null());
    let cursor = p1.json["next_cursor"].as_str().unwrap();
    let p2 = hub
        .get(
            &format!("/api/v1/messages/inbox?limit=2&cursor={cursor}"),
            BOB,
        )
        .await
        .expect(200);
    assert_eq!(ids(&p2.json), [first.as_str()]);
    assert!(p2.json["next_cursor"].is_null());

    hub.post(&format!("/api/v1/messages/{second}/read"), BOB, json!({}))
        .await
        .expect(200);
    let unread = hub
        .get("/api/v1/messages/inbox?unread=true", BOB)
        .await
        .expect(200);
    assert_eq!(ids(&unread.json), [third.as_str(), first.as_str()]);
    let all = hub.get("/api/v1/messages/inbox", BOB).await.expect(200);
    assert!(all.json["items"][1]["read_at"].is_string());
    let carol = hub.get("/api/v1/messages/inbox", CAROL).await.expect(200);
    assert_eq!(ids(&carol.json), [first.as_str()]);
    assert_eq!(
        service::count_unread(&hub.ctx().db, "bob").await.unwrap(),
        2
    );
    assert_eq!(n_messages(&hub).await, 3);
});

both!(
    read_and_ack_state_is_per_recipient,
    |hub: TestHub| async move {
        let id = send(
            &hub,
            ALICE,
            json!({"recipients": ["bob", "carol"], "subject": "Ack me", "body": "please",
               "ack_required": true}),
        )
        .await["id"]
            .as_str()
            .unwrap()
            .to_owned();
        let read = hub
            .post(&format!("/api/v1/messages/{id}/read"), BOB, json!({}))
            .await
            .expect(200);
        assert!(read.json["read_at"].is_string());
        assert!(read.json["acked_at"].is_null());
        let again = hub
            .post(&format!("/api/v1/messages/{id}/read"), BOB, json!({}))
            .await
            .expect(200);
        assert_eq!(again.json["read_at"], read.json["read_at"]);

        let acked = hub
            .post(&format!("/api/v1/messages/{id}/ack"), BOB, json!({}))
            .await
            .expect(200);
        assert_eq!(acked.json["read_at"], read.json["read_at"]);
        assert!(acked.json["acked_at"].is_string());
        let acked_again = hub
            .post(&format!("/api/v1/messages/{id}/ack"), BOB, json!({}))
            .await
            .expect(200);
        assert_eq!(acked_again.json["acked_at"], acked.json["acked_at"]);

        // Carol acknowledges without reading first: the ack marks it read too.
        let carol = hub
            .post(&format!("/api/v1/messages/{id}/ack"), CAROL, json!({}))
            .await
            .expect(200);
        assert!(carol.json["read_at"].is_string());

        let detail = hub
            .get(&format!("/api/v1/messages/{id}"), ALICE)
            .await
            .expect(200);
        assert!(detail.json["read_at"].is_null(), "alice is no recipient");
        for r in detail.json["recipients"].as_array().unwrap() {
            assert!(r["read_at"].is_string() && r["acked_at"].is_string());
        }
        assert_eq!(hub.outbox_count("message.read").await, 2);
        assert_eq!(hub.outbox_count("message.acked").await, 2);

        // The sender is no recipient: it cannot mark its own message.
        hub.post(&format!("/api/v1/messages/{id}/ack"), ALICE, json!({}))
            .await
            .problem(409);
        assert_eq!(hub.outbox_count("message.acked").await, 2);
    }
);

both!(replies_stay_in_the_thread, |hub: TestHub| async move {
    let orig = msg(&hub, ALICE, &["bob", "carol"], "Plan", "the plan").await;
    let r1 = hub
        .post(
            &format!("/api/v1/messages/{orig}/reply"),
            BOB,
            json!({"body": "ok"}),
        )
        .await
        .expect(201)
        .json;
    assert_eq!(r1["subject"], "Re: Plan");
    assert_eq!(r1["thread_id"], orig.as_str());
    assert_eq!(r1["sender"], "bob");
    assert_eq!(r1["recipients"].as_array().unwrap().len(), 1);
    assert_eq!(r1["recipients"][0]["address"], "alice");
    let r1_id = r1["id"].as_str().unwrap().to_owned();

    let r2 = hub
        .post(
            &format!("/api/v1/messages/{r1_id}/reply"),
            ALICE,
            json!({"body": "thanks", "all": true, "importance": "urgent", "subject": "Done"}),
        )
        .await
        .expect(201)
        .json;
    assert_eq!(r2["subject"], "Done");
    assert_eq!(r2["importance"], "urgent");
    let to: Vec<_> = r2["recipients"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["address"].as_str().unwrap())
        .collect();
    assert_eq!(to, ["bob"], "reply-all leaves out the replier");

    let r3 = hub
        .post(
            &format!("/api/v1/messages/{orig}/reply"),
            CAROL,
            json!({"body": "me too", "all": true}),
        )
        .await
        .expect(201)
        .json;
    assert_eq!(r3["recipients"].as_array().unwrap().len(), 2);
    let r3_id = r3["id"].as_str().unwrap().to_owned();

    // An explicit thread_id continues the thread.
    let r4 = send(
        &hub,
        BOB,
        json!({"recipients": ["alice"], "subject": "more", "body": "x", "thread_id": orig}),
    )
    .await;
    assert_eq!(r4["thread_id"], orig.as_str());

    let all = hub
        .get(&format!("/api/v1/threads/{orig}"), ALICE)
        .await
        .expect(200);
    assert_eq!(all.json["items"].as_array().unwrap().len(), 5);
    assert_eq!(all.json["items"][0]["id"], orig.as_str());
    let p1 = hub
        .get(&format!("/api/v1/threads/{orig}?limit=2"), ALICE)
        .await
        .expect(200);
    assert_eq!(ids(&p1.json), [orig.as_str(), r1_id.as_str()]);
    let cursor = p1.json["next_cursor"].as_str().unwrap();
    let p2 = hub
        .get(
            &format!("/api/v1/threads/{orig}?limit=2&cursor={cursor}"),
            ALICE,
        )
        .await
        .expect(200);
    assert_eq!(p2.json["items"].as_array().unwrap().len(), 2);

    // Carol sees only what she sent or received: not bob's reply to alice, nor alice's to bob.
    let carol = hub
        .get(&format!("/api/v1/threads/{orig}"), CAROL)
        .await
        .expect(200);
    assert_eq!(ids(&carol.json), [orig.as_str(), r3_id.as_str()]);

    hub.get(&format!("/api/v1/threads/{orig}"), DAVE)
        .await
        .problem(404);
    let p = hub
        .post(
            "/api/v1/messages",
            DAVE,
            json!({"recipients": ["alice"], "subject": "s", "body": "b", "thread_id": orig}),
        )
        .await
        .problem(422);
    assert_eq!(Res::fields(&p), ["thread_id"]);
});

both!(
    search_finds_only_readable_messages,
    |hub: TestHub| async move {
        let a = msg(&hub, ALICE, &["bob"], "Budget review", "numbers for Q3").await;
        let b = msg(&hub, BOB, &["alice"], "Lunch", "the budget is tight").await;
        msg(&hub, BOB, &["carol"], "Budget secret", "not for alice").await;
        let found = hub
            .get("/api/v1/messages/search?q=budget", ALICE)
            .await
            .expect(200);
        assert_eq!(ids(&found.json), [b.as_str(), a.as_str()]);
        let p1 = hub
            .get("/api/v1/messages/search?q=budget&limit=1", ALICE)
            .await
            .expect(200);
        assert_eq!(ids(&p1.json), [b.as_str()]);
        let cursor = p1.json["next_cursor"].as_str().unwrap();
        let p2 = hub
            .get(
                &format!("/api/v1/messages/search?q=budget&limit=1&cursor={cursor}"),
                ALICE,
            )
            .await
            .expect(200);
        assert_eq!(ids(&p2.json), [a.as_str()]);
        let both_words = hub
            .get("/api/v1/messages/search?q=budget%20Q3", ALICE)
            .await
            .expect(200);
        assert_eq!(ids(&both_words.json), [a.as_str()]);
        assert_eq!(
            ids(&hub
                .get("/api/v1/messages/search?q=budget", DAVE)
                .await
                .expect(200)
                .json),
            Vec::<String>::new()
        );

        for hostile in [
            "%22",
            "*",
            "AND%20OR%20(",
            "NEAR(",
            "a%22b%20%22",
            "')--",
            "%5E%3A-%2B",
            "budget*",
            "NOT",
            "%7B%7D%5B%5D",
        ] {
            let res = hub
                .get(&format!("/api/v1/messages/search?q={hostile}"), ALICE)
                .await;
            assert_eq!(res.status, 200, "{hostile}: {}", res.text);
        }
        for empty in ["/api/v1/messages/search?q=%20", "/api/v1/messages/search"] {
            let p = hub.get(empty, ALICE).await.problem(422);
            assert_eq!(Res::fields(&p), ["q"]);
        }
    }
);

both!(
    only_sender_and_recipients_see_a_message,
    |hub: TestHub| async move {
        let id = msg(&hub, ALICE, &["bob"], "Private", "just us").await;
        hub.get(&format!("/api/v1/messages/{id}"), ALICE)
            .await
            .expect(200);
        hub.get(&format!("/api/v1/messages/{id}"), BOB)
            .await
            .expect(200);
        hub.get(&format!("/api/v1/messages/{id}"), DAVE)
            .await
            .problem(404);
        for action in ["read", "ack"] {
            hub.post(&format!("/api/v1/messages/{id}/{action}"), DAVE, json!({}))
                .await
                .problem(404);
        }
        hub.post(
            &format!("/api/v1/messages/{id}/reply"),
            DAVE,
            json!({"body": "sneaky"}),
        )
        .await
        .problem(404);
        assert!(
            hub.get("/api/v1/messages/inbox", DAVE)
                .await
                .expect(200)
                .json["items"]
                .as_array()
                .unwrap()
                .is_empty()
        );
        assert_eq!(n_messages(&hub).await, 1);
        assert_eq!(hub.outbox_count("message.read").await, 0);
    }
);

both!(domain_limits_apply_to_messages, |hub: TestHub| async move {
    for slug in ["finance", "infotech"] {
        hub.post(
            "/api/v1/domains",
            ADMIN,
            json!({"slug": slug, "name": slug}),
        )
        .await
        .expect(201);
    }
    let fin = "sub=fin;roles=hub:write;domains=finance;kind=agent";
    hub.post(
        "/api/v1/messages",
        fin,
        json!({"recipients": ["bob"], "subject": "s", "body": "b", "domain": "infotech"}),
    )
    .await
    .problem(403);
    let p = hub
        .post(
            "/api/v1/messages",
            ALICE,
            json!({"recipients": ["bob"], "subject": "s", "body": "b", "domain": "nowhere"}),
        )
        .await
        .problem(422);
    assert_eq!(Res::fields(&p), ["domain"]);
    assert_eq!(n_messages(&hub).await, 0);
    let ok = send(
        &hub,
        fin,
        json!({"recipients": ["bob"], "subject": "s", "body": "b", "domain": "finance"}),
    )
    .await;
    assert_eq!(ok["domain"], "finance");

    let it = send(
        &hub,
        ALICE,
        json!({"recipients": ["fin"], "subject": "servers", "body": "it stuff", "domain": "infotech"}),
    )
    .await["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let plain = msg(&hub, ALICE, &["fin"], "servers too", "no domain").await;
    let inbox = hub.get("/api/v1/messages/inbox", fin).await.expect(200);
    assert_eq!(ids(&inbox.json), [plain.as_str()]);
    hub.get(&format!("/api/v1/messages/{it}"), fin)
        .await
        .problem(404);
    hub.post(&format!("/api/v1/messages/{it}/read"), fin, json!({}))
        .await
        .problem(404);
    let found = hub
        .get("/api/v1/messages/search?q=servers", fin)
        .await
        .expect(200);
    assert_eq!(ids(&found.json), [plain.as_str()]);
    hub.get(&format!("/api/v1/threads/{it}"), fin)
        .await
        .problem(404);
    assert_eq!(
        service::count(&hub.ctx().db, Some("infotech"))
            .await
            .unwrap(),
        1
    );
});

both!(the_body_cannot_set_the_sender, |hub: TestHub| async move {
    for field in ["sender", "from"] {
        let p = hub
            .post(
                "/api/v1/messages",
                ALICE,
                json!({"recipients": ["bob"], "subject": "s", "body": "b", field: "mallory"}),
            )
            .await
            .problem(400);
        assert!(p["detail"].as_str().unwrap().contains(field), "{p}");
    }
    assert_eq!(n_messages(&hub).await, 0);
    let m = send(
        &hub,
        ALICE,
        json!({"recipients": ["bob"], "subject": "s", "body": "b"}),
    )
    .await;
    assert_eq!(m["sender"], "alice");
    let inbox = hub.get("/api/v1/messages/inbox", BOB).await.expect(200);
    assert_eq!(inbox.json["items"][0]["sender"], "alice");
    hub.post(
        &format!("/api/v1/messages/{}/reply", m["id"].as_str().unwrap()),
        BOB,
        json!({"body": "b", "sender": "mallory"}),
    )
    .await
    .problem(400);
    assert_eq!(n_messages(&hub).await, 1);
});

both!(
    bad_input_is_refused_and_writes_nothing,
    |hub: TestHub| async move {
        let ok = || json!({"recipients": ["bob"], "subject": "s", "body": "b"});
        let with = |k: &str, v: Value| {
            let mut b = ok();
            b[k] = v;
            b
        };
        let without = |k: &str| {
            let mut b = ok();
            b.as_object_mut().unwrap().remove(k);
            b
        };
        let many: Vec<String> = (0..101).map(|i| format!("agent{i}")).collect();
        let cases: Vec<(Value, u16, &str)> = vec![
            (with("recipients", json!("bob")), 400, "recipients"),
            (with("subject", json!(5)), 400, "subject"),
            (with("importance", json!("extreme")), 400, "importance"),
            (with("ack_required", json!("yes")), 400, "ack_required"),
            (without("body"), 400, "body"),
            (without("recipients"), 400, "body"),
            (with("recipients", json!(many)), 422, "recipients"),
            (with("recipients", json!([])), 422, "recipients"),
            (
                with("recipients", json!(["bob", "a b"])),
                422,
                "recipients[1]",
            ),
            (with("recipients", json!(["@ops"])), 422, "recipients[0]"),
            (with("subject", json!("  ")), 422, "subject"),
            (with("subject", json!("x".repeat(201))), 422, "subject"),
            (with("body", json!("")), 422, "body"),
            (with("body", json!("nul\u{0}")), 422, "body"),
            (with("thread_id", json!("no-such-thread")), 422, "thread_id"),
        ];
        for (body, status, field) in cases {
            let p = hub
                .post("/api/v1/messages", ALICE, body.clone())
                .await
                .problem(status);
            assert_eq!(Res::fields(&p), [field], "{body}");
        }
        hub.post("/api/v1/messages", "sub=reader;roles=hub:read", ok())
            .await
            .problem(403);
        assert_eq!(n_messages(&hub).await, 0);
        assert_eq!(hub.outbox_count("message.created").await, 0);

        let id = msg(&hub, ALICE, &["bob"], "s", "b").await;
        let unknown = "01900000-0000-7000-8000-000000000000";
        hub.get(&format!("/api/v1/messages/{unknown}"), ALICE)
            .await
            .problem(404);
        for action in ["read", "ack"] {
            hub.post(
                &format!("/api/v1/messages/{unknown}/{action}"),
                BOB,
                json!({}),
            )
            .await
            .problem(404);
        }
        hub.post(
            &format!("/api/v1/messages/{unknown}/reply"),
            BOB,
            json!({"body": "b"}),
        )
        .await
        .problem(404);
        let p = hub
            .post(
                &format!("/api/v1/messages/{id}/reply"),
                BOB,
                json!({"body": " "}),
            )
            .await
            .problem(422);
        assert_eq!(Res::fields(&p), ["body"]);
        hub.post(
            &format!("/api/v1/messages/{id}/reply"),
            BOB,
            json!({"body": "b", "all": "yes"}),
        )
        .await
        .problem(400);
        hub.get(&format!("/api/v1/threads/{unknown}"), ALICE)
            .await
            .problem(404);
        for path in [
            "/api/v1/messages/inbox?cursor=nonsense".to_owned(),
            format!("/api/v1/threads/{id}?cursor=nonsense"),
            "/api/v1/messages/search?q=s&cursor=nonsense".to_owned(),
        ] {
            let p = hub.get(&path, BOB).await.problem(400);
            assert_eq!(Res::fields(&p), ["cursor"], "{path}");
        }
        hub.get("/api/v1/messages/inbox?unread=maybe", BOB)
            .await
            .problem(400);
        hub.get("/api/v1/messages/inbox?limit=0", BOB)
            .await
            .problem(400);
        assert_eq!(n_messages(&hub).await, 1);
        assert_eq!(hub.outbox_count("message.created").await, 1);
        assert_eq!(hub.outbox_count("message.read").await, 0);
    }
);

/// On SQLite the inbox is read inline (`db::InlineReads`), elsewhere through sea-orm: both ways
/// read the same pages of the same file, every column alike.
#[tokio::test]
async fn inline_inbox_reads_match_sea_orms() {
    let hub = TestHub::new(Backend::Sqlite).await;
    hub.domains(&["finance"]).await;
    send(
        &hub,
        ALICE,
        json!({"recipients": ["bob", "carol", "dave@ops"], "subject": "urgent", "body": "b",
               "importance": "urgent", "ack_required": true}),
    )
    .await;
    send(
        &hub,
        CAROL,
        json!({"recipients": ["bob"], "subject": "budget", "body": "b", "domain": "finance"}),
    )
    .await;
    let mut plain = Vec::new();
    for i in 0..5 {
        plain.push(msg(&hub, ALICE, &["bob"], &format!("plain {i}"), "b").await);
    }
    for (id, state) in [(&plain[1], "read"), (&plain[3], "ack")] {
        hub.post(&format!("/api/v1/messages/{id}/{state}"), BOB, json!({}))
            .await
            .expect(200);
    }

    let inline = hub.ctx().clone();
    assert!(inline.inline_reads.is_some(), "a SQLite file reads inline");
    let mut orm = inline.clone();
    orm.inline_reads = None;
    let bob = principal("bob", &["hub:write"], None);
    let bob_in_it = principal("bob", &["hub:write"], Some(&["infotech"]));
    for (who, unread, expected) in [(&bob, false, 7), (&bob, true, 5), (&bob_in_it, false, 6)] {
        let mut page = PageRequest::first(3);
        let mut seen = Vec::new();
        loop {
            let a = service::inbox(&inline, who, unread, &page).await.unwrap();
            let b = service::inbox(&orm, who, unread, &page).await.unwrap();
            assert_eq!(a.items, b.items);
            assert_eq!(a.next_cursor, b.next_cursor);
            seen.extend(a.items.iter().map(|s| s.mine.expect("a recipient row")));
            match a.items.last() {
                Some(last) if a.next_cursor.is_some() => page.after = Some(last.message.id.clone()),
                _ => break,
            }
        }
        assert_eq!(seen.len(), expected, "{} unread={unread}", who.sub);
        if !unread && who.domains.is_none() {
            assert!(
                seen.iter()
                    .any(|r| r.read_at.is_some() && r.acked_at.is_none())
            );
            assert!(seen.iter().any(|r| r.acked_at.is_some()));
        }
    }
}

/// The inbox's index columns, in order (descending ones without their `DESC`).
async fn inbox_index_columns(db: &sea_orm::DatabaseConnection) -> Vec<String> {
    use sea_orm::ConnectionTrait;
    let backend = db.get_database_backend();
    let sql = match backend {
        sea_orm::DbBackend::Sqlite => {
            "SELECT group_concat(name, ', ') FROM \
             (SELECT name FROM pragma_index_info('message_recipients_inbox') ORDER BY seqno)"
        }
        _ => {
            "SELECT substring(indexdef from '\\((.*)\\)') FROM pg_indexes \
             WHERE indexname = 'message_recipients_inbox' AND schemaname = current_schema()"
        }
    };
    let row = db
        .query_one_raw(sea_orm::Statement::from_string(backend, sql))
        .await
        .expect("the index's columns")
        .expect("the inbox index");
    let columns: String = row.try_get_by_index(0).expect("a column list");
    columns
        .split(", ")
        .map(|c| c.trim_end_matches(" DESC").to_owned())
        .collect()
}

/// A page of the inbox reads a recipient's read and ack times from the inbox's index, not from
/// each recipient row (migration 13); taking the migration back restores the narrower index.
async fn the_inbox_index_holds_what_a_page_reads(backend: Backend) {
    let (url, _dir) = crate::support::fresh_database(backend).await;
    let db = hub_core::db::connect(&url).await.expect("database");
    migrations::core::Migrator::up(&db, None)
        .await
        .expect("migrations");
    assert_eq!(
        inbox_index_columns(&db).await,
        ["recipient", "message_id", "read_at", "acked_at"]
    );
    migrations::core::Migrator::down(&db, Some(1))
        .await
        .expect("migration 13 down");
    assert_eq!(inbox_index_columns(&db).await, ["recipient", "message_id"]);
}

#[tokio::test]
async fn the_inbox_index_holds_what_a_page_reads_sqlite() {
    the_inbox_index_holds_what_a_page_reads(Backend::Sqlite).await;
}

#[tokio::test]
async fn the_inbox_index_holds_what_a_page_reads_postgres() {
    the_inbox_index_holds_what_a_page_reads(Backend::Postgres).await;
}
