//! Decisions: what was chosen and why, linked to a workplan and its tasks.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
