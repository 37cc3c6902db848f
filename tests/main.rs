//! End-to-end tests of the `hubmesh` binary against hubs served in-process on loopback.

mod support;

mod capabilities;
mod domains;
mod errors;
mod messages;
mod progress;
mod status;
mod up;
