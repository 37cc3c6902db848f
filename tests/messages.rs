//! `hubmesh msg …` and `hubmesh agents …`.

use crate::support::Mesh;

const ALICE: &str = "sub=alice;roles=hub:write";
const BOB: &str = "sub=bob;roles=hub:write";

#[tokio::test]
async fn messages_are_sent_read_acknowledged_replied_and_found() {
    let mesh = Mesh::start().await;
    let sent = mesh
        .run(
            Some(ALICE),
            &[
                "msg",
                "send",
                "--to",
                "bob,carol",
                "--subject",
                "Deploy window",
                "--body",
                "Friday 18:00, ok?",
                "--importance",
                "high",
                "--ack-required",
                "--json",
            ],
        )
        .await
        .ok()
        .json();
    let id = sent["id"].as_str().expect("id").to_owned();
    let thread = sent["thread_id"].as_str().expect("thread").to_owned();
    assert_eq!(sent["sender"], "alice");
    assert_eq!(sent["importance"], "high");
    assert_eq!(sent["recipients"].as_array().map(Vec::len), Some(2));

    let inbox = mesh
        .run(Some(BOB), &["msg", "inbox", "--unread"])
        .await
        .ok();
    assert_eq!(inbox.column("ID"), [id.as_str()]);
    assert_eq!(inbox.column("FROM"), ["alice"]);
    assert_eq!(inbox.column("READ"), ["-"]);

    let read = mesh.run(Some(BOB), &["msg", "read", &id]).await.ok();
    assert!(
        read.stdout.contains("Subject       Deploy window"),
        "{read:#?}"
    );
    assert!(
        read.stdout.contains("To            bob, carol"),
        "{read:#?}"
    );
    assert!(
        read.stdout.trim_end().ends_with("Friday 18:00, ok?"),
        "{read:#?}"
    );
    let unread = mesh
        .run(Some(BOB), &["msg", "inbox", "--unread", "--json"])
        .await
        .ok()
        .json();
    assert_eq!(unread["items"], serde_json::json!([]));
    // The sender may read its own message; there is nothing to mark.
    mesh.run(Some(ALICE), &["msg", "read", &id]).await.ok();

    let acked = mesh
        .run(Some(BOB), &["msg", "ack", &id, "--json"])
        .await
        .ok()
        .json();
    assert!(acked["acked_at"].is_string(), "{acked}");

    let reply = mesh
        .run(
            Some(BOB),
            &["msg", "reply", &id, "--body", "Friday works", "--json"],
        )
        .await
        .ok()
        .json();
    assert_eq!(reply["thread_id"], thread.as_str());
    assert_eq!(reply["subject"], "Re: Deploy window");

    let thread_out = mesh
        .run(Some(ALICE), &["msg", "thread", &thread])
        .await
        .ok();
    assert_eq!(thread_out.column("FROM"), ["alice", "bob"]);

    let found = mesh
        .run(Some(ALICE), &["msg", "search", "works"])
        .await
        .ok();
    assert_eq!(found.column("SUBJECT"), ["Re: Deploy window"]);

    let line = mesh
        .run(
            Some(ALICE),
            &["msg", "send", "--to", "bob", "--subject", "", "--body", "x"],
        )
        .await
        .error();
    assert!(line.contains("422") && line.contains("subject"), "{line}");
}

#[tokio::test]
async fn agents_report_heartbeats() {
    let mesh = Mesh::start().await;
    let beat = mesh
        .run(
            Some(ALICE),
            &[
                "agents",
                "heartbeat",
                "--status",
                "reviewing",
                "--metadata",
                r#"{"tokens_used": 1200}"#,
            ],
        )
        .await
        .ok();
    let fields = beat.column("FIELD");
    assert!(
        fields.contains(&"metadata.tokens_used".to_owned()),
        "{beat:#?}"
    );

    let list = mesh.admin(&["agents", "list", "--online"]).await.ok();
    assert_eq!(list.column("AGENT"), ["alice"]);
    assert_eq!(list.column("STATUS"), ["reviewing"]);
    assert_eq!(list.column("ONLINE"), ["yes"]);

    let bad = mesh
        .run(Some(ALICE), &["agents", "heartbeat", "--metadata", "{oops"])
        .await;
    assert_eq!(bad.code, Some(2), "{bad:#?}");
    assert!(bad.stderr.contains("not valid JSON"), "{bad:#?}");
}
