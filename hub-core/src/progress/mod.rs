//! Progress events (append-only) and the risks and alerts they track.

pub mod api;
pub mod bus;
pub mod mcp;
pub mod model;
pub mod service;
pub mod viability;
