//! Agent presence: heartbeats, last seen, who is online.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
