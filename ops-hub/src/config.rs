//! The ops module's settings (`[modules.ops]` in the hub config), validated at registration.

use std::time::Duration;

use hub_core::progress::model::Severity;
use serde::Deserialize;

use crate::readiness::service::Gate;

/// The settings as written.
#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct RawOpsConfig {
    probe_interval_secs: Option<u64>,
    probe_timeout_ms: Option<u64>,
    probe_concurrency: Option<usize>,
    probe_spread: Option<bool>,
    probe_flush_ms: Option<u64>,
    probe_flush_rows: Option<usize>,
    /// `false` turns the probe loop off (the hub still records probe evidence sent to it).
    probes: Option<bool>,
    gates: Option<Vec<Gate>>,
    smoke_max_age_hours: Option<u32>,
    alert_severity: Option<Severity>,
}

/// How the probe loop runs.
#[derive(Debug, Clone)]
pub struct ProbeConfig {
    pub enabled: bool,
    pub interval: Duration,
    pub timeout: Duration,
    /// Health checks in flight at once.
    pub concurrency: usize,
    /// Start the checks of a round evenly over the interval instead of all at once, so the
    /// evidence they write never crowds out API requests.
    pub spread: bool,
    /// A round's evidence is written in one transaction per `flush` or per `flush_rows`
    /// results, whichever comes first, instead of one commit per check: on SQLite every
    /// commit makes the other pooled connections drop their page caches, which shows in the
    /// API's tail latency. A check is stored at most `flush` after it finished.
    pub flush: Duration,
    pub flush_rows: usize,
}

/// What cutover readiness requires.
#[derive(Debug, Clone)]
pub struct GateConfig {
    pub gates: Vec<Gate>,
    /// A passing smoke evidence must be at most this old.
    pub smoke_max_age: chrono::Duration,
    /// Open alerts about the service at or above this severity block cutover.
    pub alert_severity: Severity,
}

/// Validated settings of the ops module.
#[derive(Debug, Clone)]
pub struct OpsConfig {
    pub probe: ProbeConfig,
    pub readiness: GateConfig,
}

impl Default for OpsConfig {
    fn default() -> Self {
        Self::from_toml(None).expect("the defaults are valid")
    }
}

impl OpsConfig {
    /// Validates the `[modules.ops]` table (absent: every default).
    pub fn from_toml(table: Option<&toml::Table>) -> Result<Self, String> {
        let raw: RawOpsConfig = match table {
            Some(t) => toml::Value::Table(t.clone())
                .try_into()
                .map_err(|e: toml::de::Error| e.to_string())?,
            None => RawOpsConfig::default(),
        };
        let interval = raw.probe_interval_secs.unwrap_or(60);
        let timeout = raw.probe_timeout_ms.unwrap_or(5000);
        let concurrency = raw.probe_concurrency.unwrap_or(32);
        let flush = raw.probe_flush_ms.unwrap_or(1000);
        let flush_rows = raw.probe_flush_rows.unwrap_or(200);
        if interval == 0 {
            return Err("probe_interval_secs: must be at least 1".into());
        }
        if !(1..=60_000).contains(&timeout) {
            return Err("probe_timeout_ms: must be between 1 and 60000".into());
        }
        if !(1..=1024).contains(&concurrency) {
            return Err("probe_concurrency: must be between 1 and 1024".into());
        }
        if !(1..=60_000).contains(&flush) {
            return Err("probe_flush_ms: must be between 1 and 60000".into());
        }
        if !(1..=10_000).contains(&flush_rows) {
            return Err("probe_flush_rows: must be between 1 and 10000".into());
        }
        let mut gates = raw.gates.unwrap_or_else(|| Gate::ALL.to_vec());
        gates.dedup();
        Ok(Self {
            probe: ProbeConfig {
                enabled: raw.probes.unwrap_or(true),
                interval: Duration::from_secs(interval),
                timeout: Duration::from_millis(timeout),
                concurrency,
                spread: raw.probe_spread.unwrap_or(true),
                flush: Duration::from_millis(flush),
                flush_rows,
            },
            readiness: GateConfig {
                gates,
                smoke_max_age: chrono::Duration::hours(i64::from(
                    raw.smoke_max_age_hours.unwrap_or(24),
                )),
                alert_severity: raw.alert_severity.unwrap_or(Severity::High),
            },
        })
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn defaults_and_refusals() {
        let c = OpsConfig::default();
        assert_eq!(c.probe.interval, Duration::from_secs(60));
        assert_eq!(c.readiness.gates, Gate::ALL);
        let t: toml::Table =
            toml::from_str("gates = [\"smoke\", \"probe\"]\nalert_severity = \"critical\"")
                .unwrap();
        let c = OpsConfig::from_toml(Some(&t)).unwrap();
        assert_eq!(c.readiness.gates, [Gate::Smoke, Gate::Probe]);
        assert_eq!(c.readiness.alert_severity, Severity::Critical);
        for bad in [
            "probe_interval_secs = 0",
            "probe_concurrency = 0",
            "probe_flush_ms = 0",
            "probe_flush_rows = 0",
            "gates = [\"vibes\"]",
            "nope = 1",
        ] {
            let t: toml::Table = toml::from_str(bad).unwrap();
            assert!(OpsConfig::from_toml(Some(&t)).is_err(), "{bad}");
        }
    }
}
