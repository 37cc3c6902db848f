//! Cost per service and period, as the fin hub attributes it (`hubmesh.sig.fin.cost`).

pub mod api;
pub mod mcp;
pub mod model;
pub mod service;
