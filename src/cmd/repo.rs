//! `hubmesh repo list|add|set-path`.

use clap::Subcommand;
use serde_json::json;

use crate::client::{Ctx, ListArgs, Params, seg};

const COLUMNS: &[(&str, &str)] = &[
    ("ID", "id"),
    ("DOMAIN", "domain"),
    ("NAME", "name"),
    ("LOCATION", "location"),
    ("BRANCH", "default_branch"),
];

#[derive(Debug, Subcommand)]
pub enum RepoCmd {
    /// Repos in creation order.
    List {
        /// Only repos of this domain.
        #[arg(long)]
        domain: Option<String>,
        #[command(flatten)]
        paging: ListArgs,
    },
    /// Register a repo in a domain.
    Add {
        /// Unique within the domain.
        name: String,
        /// A filesystem path or a URL.
        location: String,
        /// The owning domain's slug.
        #[arg(long)]
        domain: String,
        /// Default main.
        #[arg(long)]
        default_branch: Option<String>,
    },
    /// Change where a repo lives.
    SetPath {
        /// The repo's id.
        id: String,
        /// The new filesystem path or URL.
        path: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: RepoCmd) -> anyhow::Result<()> {
    match cmd {
        RepoCmd::List { domain, paging } => {
            let params = Params::new().opt("domain", domain);
            ctx.list("/api/v1/repos", params, COLUMNS, &paging).await
        }
        RepoCmd::Add {
            name,
            location,
            domain,
            default_branch,
        } => {
            let body = json!({"domain": domain, "name": name, "location": location, "default_branch": default_branch});
            ctx.post("/api/v1/repos", &body).await
        }
        RepoCmd::SetPath { id, path } => {
            let text = ctx
                .client
                .patch(
                    &format!("/api/v1/repos/{}", seg(&id)),
                    &json!({"location": path}),
                )
                .await?;
            ctx.print(&text)
        }
    }
}
