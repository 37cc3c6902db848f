//! The dev domain summary: workplans and tasks by status, what is ready, blocked and claimed.

pub mod api;
pub mod mcp;
pub mod service;
