//! Repos: the repositories each domain manages.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
