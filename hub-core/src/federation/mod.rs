//! Federation: the live map of hubs (registry) and the views hubs share over the bus.

pub mod api;
pub mod bus;
pub mod mcp;
pub mod model;
pub mod registry;
pub mod service;
