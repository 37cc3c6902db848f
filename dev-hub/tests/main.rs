//! dev-hub integration tests: the dev hub driven through its router and its service fns
//! against SQLite and PostgreSQL, and over MCP with the official Python SDK.

mod support;

mod documents;
mod mcp_client;
mod tasks;
