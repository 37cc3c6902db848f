//! The MCP edge: the hub's tools and resources for AI agents, over streamable HTTP (`/mcp`) and
//! stdio. Each resource folder's `mcp.rs` holds its tool fns; they call the same service fns as
//! REST, so authorization and rules are the same. [`HubError`](crate::HubError) becomes a tool
//! error (`isError: true`) in one place, and a bad call never ends the session.

mod args;
mod deferred;
mod escaped;
mod handler;
pub mod http;
mod orientation;
pub mod stdio;
mod tool;

pub use args::{NoArgs, PageArgs, page};
pub use handler::{Caller, HubMcp};
pub use tool::{Catalog, CatalogError, McpResource, McpTool, PROFILE_ALL, ToolCall};

/// Profiles of the core tools (`?profile=` on `/mcp`, `--profile` on stdio). A module's tools
/// are also in the profile named by its module id; every tool is in [`PROFILE_ALL`].
pub mod profile {
    pub const MESSAGING: &str = "messaging";
    pub const CAPABILITIES: &str = "capabilities";
    pub const REPOS: &str = "repos";
    pub const TPSC: &str = "tpsc";
    pub const PROGRESS: &str = "progress";
}

/// The core tools and resources every hub serves.
pub fn core_catalog() -> Catalog {
    let mut catalog = Catalog::default();
    let tools = [
        orientation::tools(),
        crate::summary::mcp::tools(),
        crate::domain::mcp::tools(),
        crate::agent::mcp::tools(),
        crate::message::mcp::tools(),
        crate::capability::mcp::tools(),
        crate::repo::mcp::tools(),
        crate::tpsc::mcp::tools(),
        crate::progress::mcp::tools(),
        crate::federation::mcp::tools(),
    ];
    let resources = [
        crate::summary::mcp::resources(),
        crate::domain::mcp::resources(),
        crate::message::mcp::resources(),
    ];
    for t in tools {
        catalog
            .add(t)
            .expect("core tool names are unique and well-formed");
    }
    for r in resources {
        catalog
            .add_resources(r)
            .expect("core resource URIs are unique");
    }
    catalog
}

#[cfg(test)]
mod tests {
    /// Every tool the MCP issue names.
    pub const CORE_TOOLS: &[&str] = &[
        "get_state_summary",
        "get_domain_summary",
        "list_domains",
        "whoami",
        "send_message",
        "get_messages",
        "get_thread",
        "mark_message_read",
        "acknowledge_message",
        "reply_to_message",
        "register_capability",
        "list_capabilities",
        "request_capability",
        "accept_capability_request",
        "update_capability_request_status",
        "list_capability_requests",
        "get_capability_request",
        "register_repo",
        "update_repo_path",
        "list_domain_repos",
        "register_service",
        "list_services",
        "ingest_tpsc_tool",
        "get_gdpr_report",
        "record_event",
        "get_risks",
        "get_alerts",
        "raise_alert",
        "acknowledge_alert",
        "resolve_alert",
        "heartbeat",
        "list_agents",
    ];

    #[test]
    fn the_core_catalog_has_every_named_tool_and_resource() {
        let catalog = super::core_catalog();
        for name in CORE_TOOLS {
            assert!(catalog.get(name).is_some(), "{name}");
        }
        for uri in ["hub://state-summary", "hub://domains", "hub://inbox"] {
            assert!(catalog.resource(uri).is_some(), "{uri}");
        }
        let profiles: Vec<_> = catalog.profiles().into_iter().collect();
        assert_eq!(
            profiles,
            [
                "all",
                "capabilities",
                "messaging",
                "progress",
                "repos",
                "tpsc"
            ]
        );
    }
}
