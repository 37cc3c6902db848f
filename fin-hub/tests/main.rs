//! fin-hub integration tests: the hub with the fin module, driven through its router against
//! SQLite and PostgreSQL.

mod support;

mod alerts;
mod budgets;
mod imports;
mod mcp;
mod reports;
mod spend;
