//! Workstreams: named lines of work within a workplan that tasks belong to.

pub mod model;
pub mod service;
