//! Agent-to-agent messages: send, inbox, read/ack state per recipient, replies, threads, search.

pub mod api;
pub mod bus;
pub mod mcp;
pub mod model;
pub mod service;
