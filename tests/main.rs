//! Whole-mesh tests: the real hub binaries, a real nats-server, real PostgreSQL.

#[path = "../hub-core/tests/nats_server.rs"]
mod nats_server;

mod chaos;
