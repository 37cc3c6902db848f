//! hub-core integration tests: the router driven in-process against SQLite and PostgreSQL.

mod support;

mod agents;
mod capabilities;
mod domains;
mod errors;
mod identity;
mod mcp;
mod mcp_conformance;
mod messages;
mod modules;
mod progress;
mod repos;
mod summary;
mod tpsc;
