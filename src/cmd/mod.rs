//! The operator commands, one file per command group; each turns its arguments into REST calls.

pub mod agents;
pub mod cap;
pub mod dev;
pub mod domain;
pub mod fin;
pub mod msg;
pub mod ops;
pub mod progress;
pub mod repo;
pub mod service;
pub mod system;
