//! Federation: the live map of hubs (registry), the views hubs share over the bus, and calls
//! to another hub's REST API (`peer`).

pub mod api;
pub mod bus;
pub mod mcp;
pub mod model;
pub mod peer;
pub mod registry;
pub mod service;
