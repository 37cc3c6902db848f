//! hub-core integration tests: the router driven in-process against SQLite and PostgreSQL.

mod support;

mod domains;
mod errors;
mod mcp;
mod modules;
