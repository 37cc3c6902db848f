//! Commitments: subscriptions, contracts, salaries and other promised payments.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
