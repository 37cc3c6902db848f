//! Third-party services and tools (TPSC) a domain uses, with their GDPR facts and the GDPR report.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
