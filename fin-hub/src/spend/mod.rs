//! The spend ledger: manual entries, the batch writer imports and token spend use, and the
//! cost totals per service and per domain.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
