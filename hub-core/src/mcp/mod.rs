//! The MCP edge: the hub's tools and resources for AI agents, over streamable HTTP (`/mcp`) and
//! stdio. Each resource folder's `mcp.rs` holds its tool fns; they call the same service fns as
//! REST, so authorization and rules are the same. [`HubError`](crate::HubError) becomes a tool
//! error (`isError: true`) in one place, and a bad call never ends the session.

mod args;
mod handler;
pub mod http;
mod orientation;
pub mod stdio;
mod tool;

pub use args::{NoArgs, PageArgs};
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
    let tools = [orientation::tools(), crate::domain::mcp::tools()];
    let resources = [crate::domain::mcp::resources()];
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
    #[test]
    fn the_core_catalog_assembles() {
        let catalog = super::core_catalog();
        assert!(catalog.get("whoami").is_some());
        assert!(catalog.resource("hub://domains").is_some());
    }
}
