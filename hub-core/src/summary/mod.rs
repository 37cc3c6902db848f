//! Orientation views: the hub at a glance (`state-summary`) and one domain at a glance.

pub mod api;
pub mod mcp;
pub mod service;
