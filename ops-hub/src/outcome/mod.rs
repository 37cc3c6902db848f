//! Outcome signals: a metric or a judgement tied to a service or one of its deployments.

pub mod api;
pub mod model;
pub mod service;
