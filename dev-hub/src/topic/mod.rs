//! Topics: the subjects workplans are grouped under (`customers`, `billing`, …).

pub mod api;
pub mod model;
pub mod service;
