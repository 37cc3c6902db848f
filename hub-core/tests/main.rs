//! hub-core integration tests: the router driven in-process against SQLite and PostgreSQL.

mod support;

mod agents;
mod capabilities;
mod domains;
mod errors;
mod mcp;
mod mcp_client;
mod mcp_conformance;
mod identity;
mod messages;
mod modules;
mod progress;
mod repos;
mod summary;
mod tpsc;
