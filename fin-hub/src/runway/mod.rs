//! Runway: months until the cash runs out at the projected burn, and the day it does.

pub mod api;
pub mod calc;
pub mod mcp;
pub mod service;
