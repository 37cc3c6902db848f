//! Tasks: units of work in a workplan (`CUST-WP-0025-T03`) with dependencies, claims and
//! the status rules between them.

pub mod api;
pub mod claim;
pub mod deps;
pub mod mcp;
pub mod model;
pub mod query;
pub mod service;
