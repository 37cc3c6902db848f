//! hub-core: the kernel every Hubmesh hub embeds — configuration, database, authentication,
//! the generic resources (domains, messages, agents, capabilities, repos, third-party services,
//! progress events), the REST edge and the module API domain hubs plug into.

mod alloc;
pub mod api;
pub mod auth;
pub mod bus;
pub mod cli;
pub mod config;
pub mod ctx;
pub mod db;
pub mod error;
pub mod federation;
pub mod hub;
pub mod ids;
pub mod issuer;
pub mod mcp;
pub mod module;
pub mod outbox;
pub mod runner;
pub mod server;

pub mod agent;
pub mod capability;
pub mod domain;
pub mod message;
pub mod progress;
pub mod repo;
pub mod summary;
pub mod tpsc;

pub use ctx::{Ctx, Tx, Writes};
pub use error::HubError;
pub use hub::Hub;
