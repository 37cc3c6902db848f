//! `hubmesh domain list|create|show|summary`.

use clap::Subcommand;
use serde_json::json;

use crate::client::{Ctx, ListArgs, Params, seg};

const COLUMNS: &[(&str, &str)] = &[
    ("SLUG", "slug"),
    ("NAME", "name"),
    ("OWNER", "owner"),
    ("DESCRIPTION", "description"),
    ("CREATED", "created_at"),
];

#[derive(Debug, Subcommand)]
pub enum DomainCmd {
    /// List the domains you may see.
    List(ListArgs),
    /// Create a domain (needs hub:admin).
    Create {
        /// Lowercase key: a-z, 0-9, '-', '_'.
        slug: String,
        /// Display name.
        #[arg(long)]
        name: String,
        /// What the domain is for.
        #[arg(long)]
        description: Option<String>,
        /// Principal (sub) or team owning the domain.
        #[arg(long)]
        owner: Option<String>,
    },
    /// Show one domain.
    Show {
        /// The domain's slug.
        slug: String,
    },
    /// Counts of a domain: messages, open capability requests, repos, services, open risks and alerts.
    Summary {
        /// The domain's slug.
        slug: String,
    },
}

pub async fn run(ctx: &Ctx, cmd: DomainCmd) -> anyhow::Result<()> {
    match cmd {
        DomainCmd::List(paging) => {
            ctx.list("/api/v1/domains", Params::new(), COLUMNS, &paging)
                .await
        }
        DomainCmd::Create {
            slug,
            name,
            description,
            owner,
        } => {
            let body =
                json!({"slug": slug, "name": name, "description": description, "owner": owner});
            ctx.post("/api/v1/domains", &body).await
        }
        DomainCmd::Show { slug } => ctx.show(&format!("/api/v1/domains/{}", seg(&slug))).await,
        DomainCmd::Summary { slug } => {
            ctx.show(&format!("/api/v1/domains/{}/summary", seg(&slug)))
                .await
        }
    }
}
