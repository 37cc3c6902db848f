//! End-to-end tests of the `hubmesh` binary against hubs served in-process on loopback, and
//! whole-mesh tests with the real hub binaries, a real nats-server and real PostgreSQL.

#[path = "../hub-core/tests/support.rs"]
mod core_support;
#[path = "../hub-core/tests/nats_server.rs"]
mod nats_server;
mod support;

mod capabilities;
mod chaos;
mod domains;
mod errors;
mod fin;
mod messages;
mod progress;
mod signals;
mod status;
mod up;
