//! CSV imports of costs (FOCUS, native or mapped columns) and token usage.

pub mod api;
pub mod mcp;
pub mod model;
pub mod read;
pub mod service;
