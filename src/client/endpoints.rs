//! Where hubs answer: `--url`, or a hub name looked up in `<data-dir>/endpoints.json`.

use std::collections::BTreeMap;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use super::args::GlobalArgs;
use super::error::ClientError;

/// The hub commands talk to when neither `--hub` nor `--url` is given.
pub const DEFAULT_HUB: &str = "dev";

/// What `hubmesh up` writes to `endpoints.json`.
#[derive(Debug, Deserialize)]
struct Endpoints {
    hubs: BTreeMap<String, String>,
}

/// A hub to call: a name for messages and its base URL (no trailing slash).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Target {
    pub name: String,
    pub url: String,
}

impl Target {
    fn new(name: &str, url: &str) -> Self {
        Self {
            name: name.to_owned(),
            url: url.trim_end_matches('/').to_owned(),
        }
    }
}

impl std::fmt::Display for Target {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        if self.name == self.url {
            f.write_str(&self.url)
        } else {
            write!(f, "{} at {}", self.name, self.url)
        }
    }
}

fn endpoints_path(data_dir: &Path) -> PathBuf {
    data_dir.join("endpoints.json")
}

/// Every hub of the local mesh, by name.
pub fn mesh(data_dir: &Path) -> Result<Vec<Target>, ClientError> {
    let path = endpoints_path(data_dir);
    let text = std::fs::read_to_string(&path).map_err(|e| ClientError::Endpoints {
        path: path.clone(),
        reason: e.to_string(),
    })?;
    let endpoints: Endpoints = serde_json::from_str(&text).map_err(|e| ClientError::Endpoints {
        path,
        reason: format!("unreadable: {e}"),
    })?;
    Ok(endpoints
        .hubs
        .iter()
        .map(|(name, url)| Target::new(name, url))
        .collect())
}

/// The one hub a command talks to: `--url`, else `--hub` (default dev) from endpoints.json.
pub fn target(global: &GlobalArgs) -> Result<Target, ClientError> {
    if let Some(url) = &global.url {
        return Ok(Target::new(url, url));
    }
    let name = global.hub.as_deref().unwrap_or(DEFAULT_HUB);
    let hubs = mesh(&global.data_dir)?;
    hubs.iter()
        .find(|t| t.name == name)
        .cloned()
        .ok_or_else(|| ClientError::UnknownHub {
            name: name.to_owned(),
            path: endpoints_path(&global.data_dir),
            known: hubs.iter().map(|t| t.name.clone()).collect(),
        })
}

/// The hubs `hubmesh status` reports on: the one named by `--url`/`--hub`, else all of the mesh.
pub fn targets(global: &GlobalArgs) -> Result<Vec<Target>, ClientError> {
    if global.url.is_some() || global.hub.is_some() {
        return Ok(vec![target(global)?]);
    }
    mesh(&global.data_dir)
}
