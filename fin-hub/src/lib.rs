//! The fin hub: budgets, commitments, spend, token spend, burn rate, runway.
//! Until its domain module lands it serves the core resources of hub-core.

use hub_core::module::HubModule;

/// The hub's short name: in events, subjects, role names and default ports.
pub const NAME: &str = "fin";

/// The modules this hub runs on top of hub-core.
pub fn modules() -> Vec<Box<dyn HubModule>> {
    Vec::new()
}
