//! Burn rate: actual spend per month, commitments, the trailing average and projections.

pub mod api;
pub mod calc;
pub mod mcp;
pub mod service;
