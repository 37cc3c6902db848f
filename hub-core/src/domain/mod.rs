//! Domains: the organisational areas (`infotech`, `finance`, …) other resources belong to.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
