//! Deployments: which version of a service went into which environment, by whom, and how it went.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
