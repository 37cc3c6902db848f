//! The service inventory: what runs where, who owns it, and what it depends on.

pub mod api;
pub mod file;
pub mod mcp;
pub mod model;
pub mod service;
