//! dev-hub integration tests: the dev hub driven through its router and MCP against SQLite and PostgreSQL.

mod mcp_client;
