//! hub-core integration tests: the router driven in-process against SQLite and PostgreSQL.

mod nats_server;
mod support;

mod bus;

mod domains;
mod errors;
mod modules;
