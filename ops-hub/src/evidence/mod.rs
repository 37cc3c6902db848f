//! Evidence: smoke tests, probes, migration checks, reviews… about a service, deployment or run.
//! Secrets are refused before anything is stored.

pub mod api;
pub mod mcp;
pub mod model;
pub mod secret;
pub mod service;
