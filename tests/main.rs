//! End-to-end tests of the `hubmesh` binary against hubs served in-process on loopback, and
//! whole-mesh tests with the real hub binaries, a real nats-server and real PostgreSQL.

#[path = "../hub-core/tests/nats_server.rs"]
mod nats_server;
mod support;

mod capabilities;
mod chaos;
mod domains;
mod errors;
mod messages;
mod progress;
mod status;
mod up;
