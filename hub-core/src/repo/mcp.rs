//! MCP tools for managed repositories per domain.

use schemars::JsonSchema;
use serde::Deserialize;

use super::api::{CreateRepo, Repo};
use super::service;
use crate::api::page::Page;
use crate::auth::Access;
use crate::error::HubError;
use crate::mcp::{McpTool, ToolCall, page, profile};

pub fn tools() -> Vec<McpTool> {
    vec![
        McpTool::new(
            "register_repo",
            "Register a repository of a domain: its name, where it lives (path or URL) and default branch.",
            Access::Write,
            register_repo,
        ),
        McpTool::new(
            "update_repo_path",
            "Change where a registered repository lives (path or URL) and/or its default branch.",
            Access::Write,
            update_repo_path,
        ),
        McpTool::new(
            "list_domain_repos",
            "The registered repositories, of one domain or of every domain you may use.",
            Access::Read,
            list_domain_repos,
        ),
    ]
    .into_iter()
    .map(|t| t.profile(profile::REPOS))
    .collect()
}

async fn register_repo(call: ToolCall, args: CreateRepo) -> Result<Repo, HubError> {
    let new = service::NewRepo {
        domain: args.domain,
        name: args.name,
        location: args.location,
        default_branch: args.default_branch,
    };
    Ok(service::register(call.ctx(), &call.who, new).await?.into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct UpdateRepoArgs {
    /// The repo id.
    pub id: String,
    /// The new path or URL.
    pub location: Option<String>,
    /// The new default branch.
    pub default_branch: Option<String>,
}

async fn update_repo_path(call: ToolCall, args: UpdateRepoArgs) -> Result<Repo, HubError> {
    let change = service::RepoChange {
        location: args.location,
        default_branch: args.default_branch,
    };
    Ok(service::update(call.ctx(), &call.who, &args.id, change)
        .await?
        .into())
}

#[derive(Debug, Deserialize, JsonSchema)]
#[serde(deny_unknown_fields)]
pub struct ListReposArgs {
    /// Only repos of this domain.
    pub domain: Option<String>,
    /// Page size, 1..=500 (default 50).
    pub limit: Option<u64>,
    /// The `next_cursor` of the previous page.
    pub cursor: Option<String>,
}

async fn list_domain_repos(call: ToolCall, args: ListReposArgs) -> Result<Page<Repo>, HubError> {
    let page = page(args.limit, &args.cursor)?;
    let res = service::list(call.ctx(), &call.who, args.domain.as_deref(), &page).await?;
    Ok(res.map(Repo::from))
}
