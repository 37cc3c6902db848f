//! The operator's REST client: hub resolution, credentials, requests, errors and output.

pub mod args;
pub mod auth;
pub mod ctx;
pub mod endpoints;
pub mod error;
pub mod http;
pub mod output;

pub use args::{GlobalArgs, Group, ListArgs, Single};
pub use ctx::Ctx;
pub use http::{Params, seg};
