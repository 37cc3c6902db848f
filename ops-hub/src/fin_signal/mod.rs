//! What the ops hub takes from the fin hub: the monthly cost fin attributes to a service
//! (`hubmesh.sig.fin.cost`), stored as that service's cost of the period, and runway
//! (`hubmesh.sig.viability`), kept as the alert [`VIABILITY_ALERT`]. Hubs share no code but
//! hub-core, so the payloads are read into this hub's own types, which name only the fields ops
//! uses; a payload that does not read is parked on the dead-letter subject.

pub mod bus;

use hub_core::progress::model::Severity;
use serde::Deserialize;

/// fin -> ops: a service's total of a month.
pub const COST: &str = "hubmesh.sig.fin.cost";
/// fin -> every hub: runway fell under fin's threshold, or recovered.
pub const VIABILITY: &str = "hubmesh.sig.viability";

/// The key of the alert that mirrors fin's runway alert.
pub const VIABILITY_ALERT: &str = "fin.viability";

/// The payload of [`COST`].
#[derive(Debug, Deserialize)]
pub struct CostSignal {
    pub service_id: String,
    /// `YYYY-MM`.
    pub period: String,
    /// Minor units of `currency`.
    pub amount: i64,
    pub currency: String,
}

/// The payload of [`VIABILITY`]. Signals from before fin reported recovery lack the last three
/// fields: they read as a raise at fin's severity with a summary made here.
#[derive(Debug, Deserialize)]
pub struct ViabilitySignal {
    pub threshold_months: u32,
    #[serde(default = "high")]
    pub severity: Severity,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub recovered: bool,
}

fn high() -> Severity {
    Severity::High
}

impl ViabilitySignal {
    /// The alert's summary: fin's, else one made from the threshold.
    pub fn summary(&self) -> String {
        if self.summary.is_empty() {
            format!(
                "fin: runway is under the threshold of {} months",
                self.threshold_months
            )
        } else {
            format!("fin: {}", self.summary)
        }
    }
}
