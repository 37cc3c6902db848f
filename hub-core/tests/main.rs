//! hub-core integration tests: the router driven in-process against SQLite and PostgreSQL.

mod nats_server;
mod support;

mod agents;
mod bus;
mod capabilities;
mod checkpoints;
mod domains;
mod errors;
mod federation;
mod identity;
mod mcp;
mod mcp_conformance;
mod messages;
mod modules;
mod nats_permissions;
mod outbox;
mod progress;
mod repos;
mod summary;
mod tpsc;
mod transactions;
