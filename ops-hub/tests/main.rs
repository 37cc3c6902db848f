//! ops-hub integration tests: the hub with the ops module, driven through its router and its
//! service fns against SQLite and PostgreSQL.

mod support;

mod evidence;
mod inventory;
mod mcp;
mod probe;
mod readiness;
mod records;
