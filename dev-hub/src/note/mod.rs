//! Progress notes on a workplan, task, decision or topic.

pub mod api;
pub mod model;
pub mod service;
