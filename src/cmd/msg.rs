//! `hubmesh msg send|inbox|read|ack|reply|thread|search`.

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::client::args::wire;
use crate::client::error::ClientError;
use crate::client::output::cell;
use crate::client::{Ctx, ListArgs, Params, seg};

const COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("FROM", "sender"),
    ("SUBJECT", "subject"),
    ("IMPORTANCE", "importance"),
    ("SENT", "created_at"),
    ("READ", "read_at"),
    ("ACK", "ack_required"),
];

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Importance {
    Low,
    Normal,
    High,
    Urgent,
}

#[derive(Debug, Subcommand)]
pub enum MsgCmd {
    /// Send a message; you are the sender.
    Send {
        /// Recipients, comma-separated: `agent` on this hub or `agent@hub`.
        #[arg(long, value_delimiter = ',', required = true, value_name = "ADDR,…")]
        to: Vec<String>,
        /// One line saying what it is about.
        #[arg(long)]
        subject: String,
        /// The message text.
        #[arg(long)]
        body: String,
        /// Continue this thread instead of starting one.
        #[arg(long, value_name = "THREAD_ID")]
        thread: Option<String>,
        /// Default normal.
        #[arg(long, value_enum)]
        importance: Option<Importance>,
        /// Ask the recipients to acknowledge.
        #[arg(long)]
        ack_required: bool,
        /// The domain the message belongs to.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Your inbox, newest first.
    Inbox {
        /// Only messages not read yet.
        #[arg(long)]
        unread: bool,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Show a message and mark it read.
    Read {
        /// The message's id.
        id: String,
    },
    /// Acknowledge a message (also marks it read).
    Ack {
        /// The message's id.
        id: String,
    },
    /// Reply in the message's thread.
    Reply {
        /// The id of the message to answer.
        id: String,
        /// The reply text.
        #[arg(long)]
        body: String,
        /// Default `Re: <subject>`.
        #[arg(long)]
        subject: Option<String>,
        /// Default normal.
        #[arg(long, value_enum)]
        importance: Option<Importance>,
        /// Also reply to every other recipient of the original.
        #[arg(long)]
        all: bool,
    },
    /// The messages of a thread, oldest first.
    Thread {
        /// The thread's id (a message's `thread_id`).
        thread_id: String,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Full-text search over the messages you may read.
    Search {
        /// The words to find in subject or body.
        query: String,
        #[command(flatten)]
        paging: ListArgs,
    },
}

pub async fn run(ctx: &Ctx, cmd: MsgCmd) -> anyhow::Result<()> {
    match cmd {
        MsgCmd::Send {
            to,
            subject,
            body,
            thread,
            importance,
            ack_required,
            domain,
        } => {
            let body = json!({
                "recipients": to, "subject": subject, "body": body, "thread_id": thread,
                "importance": wire(&importance.unwrap_or(Importance::Normal)),
                "ack_required": ack_required, "domain": domain,
            });
            ctx.post("/api/v1/messages", &body).await
        }
        MsgCmd::Inbox { unread, paging } => {
            let params = Params::new().opt("unread", unread.then_some(true));
            ctx.list("/api/v1/messages/inbox", params, COLUMNS, &paging)
                .await
        }
        MsgCmd::Read { id } => read(ctx, &id).await,
        MsgCmd::Ack { id } => {
            ctx.post(&format!("/api/v1/messages/{}/ack", seg(&id)), &json!({}))
                .await
        }
        MsgCmd::Reply {
            id,
            body,
            subject,
            importance,
            all,
        } => {
            let body = json!({
                "body": body, "subject": subject,
                "importance": importance.as_ref().map(wire), "all": all,
            });
            ctx.post(&format!("/api/v1/messages/{}/reply", seg(&id)), &body)
                .await
        }
        MsgCmd::Thread { thread_id, paging } => {
            let path = format!("/api/v1/threads/{}", seg(&thread_id));
            ctx.list(&path, Params::new(), COLUMNS, &paging).await
        }
        MsgCmd::Search { query, paging } => {
            let params = Params::new().set("q", query);
            ctx.list("/api/v1/messages/search", params, COLUMNS, &paging)
                .await
        }
    }
}

/// Marks the message read, then shows it as a letter: headers, then the body.
async fn read(ctx: &Ctx, id: &str) -> anyhow::Result<()> {
    let path = format!("/api/v1/messages/{}", seg(id));
    match ctx.client.post(&format!("{path}/read"), &json!({})).await {
        Ok(_) => {}
        // 409: you are its sender, not a recipient; there is nothing to mark but still a message to show.
        Err(e) if matches!(e.downcast_ref(), Some(ClientError::Problem { problem, .. }) if problem.status == 409) =>
            {}
        Err(e) => return Err(e),
    }
    let text = ctx.client.get(&path, &Params::new()).await?;
    if ctx.json {
        println!("{text}");
        return Ok(());
    }
    let m: Value = serde_json::from_str(&text)?;
    let to: Vec<String> = m["recipients"]
        .as_array()
        .into_iter()
        .flatten()
        .map(|r| cell(&r["address"]))
        .collect();
    for (label, value) in [
        ("From", cell(&m["sender"])),
        ("To", to.join(", ")),
        ("Subject", cell(&m["subject"])),
        ("Date", cell(&m["created_at"])),
        ("Importance", cell(&m["importance"])),
        ("Ack required", cell(&m["ack_required"])),
        ("Domain", cell(&m["domain"])),
        ("Thread", cell(&m["thread_id"])),
        ("Id", cell(&m["id"])),
    ] {
        println!("{label:<13} {value}");
    }
    println!("\n{}", m["body"].as_str().unwrap_or_default());
    Ok(())
}
