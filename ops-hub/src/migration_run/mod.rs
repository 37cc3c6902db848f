//! Migration runs: data moved from a source to a target for a service, with counts and a status.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
