//! Cutover readiness: the configured gates per service, each passed or failed with its reason
//! and the evidence it rests on.

pub mod api;
pub mod mcp;
pub mod service;
