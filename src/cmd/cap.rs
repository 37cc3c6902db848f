//! `hubmesh cap list|register|request|requests|show|accept|status`: capabilities and requests for them.

use clap::{Subcommand, ValueEnum};
use serde_json::{Value, json};

use crate::client::args::{json_value, wire};
use crate::client::{Ctx, ListArgs, Params, seg};

const CAPABILITIES: &[(&str, &str)] = &[
    ("NAME", "name"),
    ("PROVIDER", "provider"),
    ("HUB", "hub"),
    ("DOMAIN", "domain"),
    ("DESCRIPTION", "description"),
];

const REQUESTS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("CAPABILITY", "capability"),
    ("STATUS", "status"),
    ("REQUESTER", "requester"),
    ("PROVIDER", "provider"),
    ("DOMAIN", "domain"),
    ("UPDATED", "updated_at"),
];

/// A request's lifecycle: requested -> accepted -> in_progress -> fulfilled | rejected | cancelled.
#[derive(Debug, Clone, Copy, ValueEnum)]
#[value(rename_all = "snake_case")]
pub enum Status {
    Requested,
    Accepted,
    InProgress,
    Fulfilled,
    Rejected,
    Cancelled,
}

#[derive(Debug, Clone, Copy, ValueEnum)]
pub enum Role {
    /// Your own requests.
    Requester,
    /// Requests addressed to you.
    Provider,
}

#[derive(Debug, Subcommand)]
pub enum CapCmd {
    /// The capability catalog, by name.
    List {
        /// Only capabilities of this provider (sub).
        #[arg(long)]
        provider: Option<String>,
        /// Only this domain's capabilities.
        #[arg(long)]
        domain: Option<String>,
        /// Case-insensitive text in the name or description.
        #[arg(long)]
        query: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Offer a capability; you are its provider.
    Register {
        /// Unique in the hub: a-z, 0-9, '-', '_', '.' (e.g. ops.deploy).
        name: String,
        /// What the capability does.
        #[arg(long)]
        description: Option<String>,
        /// JSON Schema of the request input.
        #[arg(long, value_parser = json_value, value_name = "JSON")]
        input_schema: Option<Value>,
        /// The domain the capability serves.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Request a capability from its provider.
    Request {
        /// The capability's name.
        capability: String,
        /// The input, as JSON.
        #[arg(long, value_parser = json_value, value_name = "JSON")]
        input: Option<Value>,
        /// A note for the provider.
        #[arg(long)]
        note: Option<String>,
        /// Default: the capability's domain.
        #[arg(long)]
        domain: Option<String>,
    },
    /// Capability requests you may see, newest first.
    Requests {
        /// Only requests in this status.
        #[arg(long, value_enum)]
        status: Option<Status>,
        /// Only requests for this capability.
        #[arg(long)]
        capability: Option<String>,
        /// Only your own requests (requester) or those addressed to you (provider).
        #[arg(long, value_enum)]
        role: Option<Role>,
        /// Only this domain's requests.
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Show one request.
    Show {
        /// The request's id.
        id: String,
    },
    /// Accept a request addressed to you.
    Accept {
        /// The request's id.
        id: String,
    },
    /// Move a request to STATUS.
    Status {
        /// The request's id.
        id: String,
        /// The new status.
        #[arg(value_enum)]
        status: Status,
        /// Why, for the other side.
        #[arg(long)]
        note: Option<String>,
        /// The outcome as JSON; only with fulfilled.
        #[arg(long, value_parser = json_value, value_name = "JSON")]
        result: Option<Value>,
    },
}

fn request_path(id: &str) -> String {
    format!("/api/v1/capability-requests/{}", seg(id))
}

pub async fn run(ctx: &Ctx, cmd: CapCmd) -> anyhow::Result<()> {
    match cmd {
        CapCmd::List {
            provider,
            domain,
            query,
            paging,
        } => {
            let params = Params::new()
                .opt("provider", provider)
                .opt("domain", domain)
                .opt("q", query);
            ctx.list("/api/v1/capabilities", params, CAPABILITIES, &paging)
                .await
        }
        CapCmd::Register {
            name,
            description,
            input_schema,
            domain,
        } => {
            let body = json!({"name": name, "description": description, "input_schema": input_schema, "domain": domain});
            ctx.post("/api/v1/capabilities", &body).await
        }
        CapCmd::Request {
            capability,
            input,
            note,
            domain,
        } => {
            let body =
                json!({"capability": capability, "input": input, "note": note, "domain": domain});
            ctx.post("/api/v1/capability-requests", &body).await
        }
        CapCmd::Requests {
            status,
            capability,
            role,
            domain,
            paging,
        } => {
            let params = Params::new()
                .opt("status", status.as_ref().map(wire))
                .opt("capability", capability)
                .opt("role", role.as_ref().map(wire))
                .opt("domain", domain);
            ctx.list("/api/v1/capability-requests", params, REQUESTS, &paging)
                .await
        }
        CapCmd::Show { id } => ctx.show(&request_path(&id)).await,
        CapCmd::Accept { id } => {
            ctx.post(&format!("{}/accept", request_path(&id)), &json!({}))
                .await
        }
        CapCmd::Status {
            id,
            status,
            note,
            result,
        } => {
            let body = json!({"status": wire(&status), "note": note, "result": result});
            ctx.post(&format!("{}/status", request_path(&id)), &body)
                .await
        }
    }
}
