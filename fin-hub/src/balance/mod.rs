//! Balance snapshots: cash on hand at a date.

pub mod api;
pub mod model;
pub mod service;
