//! Runway from the fin hub (`hubmesh.sig.viability`), which every other hub keeps as the alert
//! [`VIABILITY_ALERT`]: raised while fin reports runway under its threshold, resolved when fin
//! reports recovery. The consumer lives here because each hub that takes the signal does the
//! same with it; a hub registers it with `HubBuilder::on_bus`.

use async_trait::async_trait;
use serde::Deserialize;

use super::model::Severity;
use super::service::{AlertCondition, track_alert};
use crate::auth::Principal;
use crate::bus::inbox::BusHandler;
use crate::ctx::Tx;
use crate::error::HubError;
use crate::outbox::Event;

/// fin -> every hub: runway fell under fin's threshold, or recovered.
pub const VIABILITY: &str = "hubmesh.sig.viability";

/// The key of the alert that mirrors fin's runway alert.
pub const VIABILITY_ALERT: &str = "fin.viability";

/// The fields of the payload the alert needs. Signals from before fin reported recovery lack
/// the last three: they read as a raise at fin's severity with a summary made here.
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
    /// The alert's summary: fin's, else one made from the threshold; marked as fin's.
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

/// Keeps [`VIABILITY_ALERT`] in step with fin's viability signals, inside the inbox's
/// transaction; a payload that does not read is parked.
pub struct ViabilityAlert;

#[async_trait]
impl BusHandler for ViabilityAlert {
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError> {
        let s: ViabilitySignal = event.data_as()?;
        let who = Principal::hub_itself(tx.hub());
        let alert = AlertCondition {
            key: VIABILITY_ALERT,
            holds: !s.recovered,
            summary: &s.summary(),
            severity: s.severity,
            domain: None,
        };
        track_alert(tx, &who, alert).await.map(drop)
    }
}
