//! The hub registry: each hub puts its manifest and a heartbeat into the key-value bucket
//! `hubmesh_registry` (entries expire after the TTL) and watches the bucket into a local map,
//! so listing hubs needs no bus round trip and a hub that stops disappears after its TTL.

use std::collections::HashMap;
use std::sync::RwLock;
use std::time::Duration;

use bytes::Bytes;
use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;
use utoipa::ToSchema;

use crate::bus::KvBucket;
use crate::ctx::Ctx;

/// The registry bucket's name.
pub const BUCKET: &str = "hubmesh_registry";

/// The bucket with entries that live `ttl`.
pub fn bucket(ttl: Duration) -> KvBucket {
    KvBucket {
        name: BUCKET.to_owned(),
        ttl,
    }
}

/// A module as the registry lists it.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct ModuleEntry {
    pub id: String,
    pub version: String,
    /// `running`, `error` or `disabled`.
    pub state: String,
}

/// What a hub announces about itself.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct HubManifest {
    pub name: String,
    pub version: String,
    pub modules: Vec<ModuleEntry>,
    /// Names of the MCP tools the hub serves.
    pub mcp_tools: Vec<String>,
    /// Bus subjects the hub consumes.
    pub consumes: Vec<String>,
    /// Bus subjects the hub produces.
    pub produces: Vec<String>,
    pub rest_url: String,
    pub mcp_url: String,
    /// The `aud` the hub's tokens must carry: other hubs request their tokens for it.
    pub audience: String,
    pub started_at: DateTime<Utc>,
    /// When the hub last put this entry.
    pub heartbeat_at: DateTime<Utc>,
    /// Seconds after the last heartbeat the entry counts as gone.
    pub ttl_secs: u64,
}

/// The hubs this hub has heard from, with when (local clock, so peers' clock skew does not matter).
#[derive(Default)]
pub struct Registry {
    hubs: RwLock<HashMap<String, (HubManifest, Instant)>>,
}

impl Registry {
    /// Records a manifest heard now.
    pub fn heard(&self, manifest: HubManifest) {
        let mut hubs = self.hubs.write().expect("registry poisoned");
        hubs.insert(manifest.name.clone(), (manifest, Instant::now()));
    }

    /// Hubs whose last heartbeat arrived within their TTL as of `now`, by name.
    pub fn live_at(&self, now: Instant) -> Vec<HubManifest> {
        let hubs = self.hubs.read().expect("registry poisoned");
        let mut live: Vec<_> = hubs
            .values()
            .filter(|(m, heard)| now.duration_since(*heard) <= Duration::from_secs(m.ttl_secs))
            .map(|(m, _)| m.clone())
            .collect();
        live.sort_by(|a, b| a.name.cmp(&b.name));
        live
    }
}

/// Puts `manifest` into the registry every third of the TTL, and watches the registry into
/// `ctx.registry`, until `stop` is cancelled.
pub fn spawn(ctx: Ctx, manifest: HubManifest, stop: CancellationToken) {
    let ttl = Duration::from_secs(manifest.ttl_secs);
    let bucket = bucket(ttl);
    let mut entries = ctx.bus.kv_watch(&bucket);
    let watch_ctx = ctx.clone();
    let watch_stop = stop.clone();
    tokio::spawn(async move {
        loop {
            let entry = tokio::select! {
                _ = watch_stop.cancelled() => return,
                e = entries.recv() => match e { Some(e) => e, None => return },
            };
            match serde_json::from_slice::<HubManifest>(&entry.value) {
                Ok(m) => watch_ctx.registry.heard(m),
                Err(e) => tracing::warn!(key = %entry.key, error = %e, "unreadable registry entry"),
            }
        }
    });
    tokio::spawn(async move {
        let mut tick = tokio::time::interval(ttl / 3);
        loop {
            tokio::select! {
                _ = stop.cancelled() => return,
                _ = tick.tick() => {}
            }
            let mut m = manifest.clone();
            m.heartbeat_at = Utc::now();
            let value = Bytes::from(serde_json::to_vec(&m).expect("a manifest serializes"));
            if let Err(e) = ctx.bus.kv_put(&bucket, &m.name, value).await {
                tracing::warn!(error = %e, "registry heartbeat failed; will retry");
            }
        }
    });
}

#[cfg(test)]
mod tests {
    use super::*;

    fn manifest(name: &str, ttl_secs: u64) -> HubManifest {
        HubManifest {
            name: name.into(),
            version: "1".into(),
            modules: Vec::new(),
            mcp_tools: Vec::new(),
            consumes: Vec::new(),
            produces: Vec::new(),
            rest_url: String::new(),
            mcp_url: String::new(),
            audience: String::new(),
            started_at: Utc::now(),
            heartbeat_at: Utc::now(),
            ttl_secs,
        }
    }

    #[tokio::test]
    async fn entries_expire_after_their_ttl() {
        let r = Registry::default();
        r.heard(manifest("ops", 10));
        r.heard(manifest("dev", 30));
        let now = Instant::now();
        let names = |v: Vec<HubManifest>| v.into_iter().map(|m| m.name).collect::<Vec<_>>();
        assert_eq!(names(r.live_at(now)), ["dev", "ops"]);
        assert_eq!(names(r.live_at(now + Duration::from_secs(20))), ["dev"]);
        assert!(r.live_at(now + Duration::from_secs(31)).is_empty());
    }
}
