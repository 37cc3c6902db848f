//! Token spend: what agents' model calls cost, priced from the configured table when the cost is absent.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
