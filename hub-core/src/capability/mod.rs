//! Capabilities: a catalog of what principals offer, and requests that move through a lifecycle.

pub mod api;
pub mod bus;
pub mod mcp;
pub mod model;
pub mod service;
