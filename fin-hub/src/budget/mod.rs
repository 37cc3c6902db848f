//! Budgets per domain and month, and their status: committed, spent, projected, thresholds crossed.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
