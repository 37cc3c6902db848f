//! Workplans: a plan of work in a domain (`CUST-WP-0025`), its phases and its progress.

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
