//! What the dev hub takes from the fin hub: budget pressure on a domain
//! (`hubmesh.sig.fin.pressure`), kept as the domain's alert [`pressure_alert`], and runway
//! (`hubmesh.sig.viability`), kept by hub-core's `progress::viability` consumer; each is raised
//! while fin reports the condition and resolved when fin reports recovery. A domain's open fin
//! alerts travel with its workplans. Hubs share no code but hub-core, so the payloads are read
//! into this hub's own types, which name only the fields dev uses; a payload that does not read,
//! or names a domain this hub does not have, is parked on the dead-letter subject.

pub mod bus;

use hub_core::HubError;
use hub_core::progress::model::{Severity, State, StateKind, state};
use sea_orm::{ColumnTrait, ConnectionTrait, EntityTrait, QueryFilter, QueryOrder};
use serde::Deserialize;

/// fin -> dev: a domain's budget crossed a threshold, or is back under it.
pub const PRESSURE: &str = "hubmesh.sig.fin.pressure";
/// Every fin alert's key starts so.
const PREFIX: &str = "fin.";

/// The key of the alert of one budget threshold: one per domain, period and threshold, so a
/// repeated signal lands on the same alert.
pub fn pressure_alert(domain: &str, period: &str, threshold: u32) -> String {
    format!("{PREFIX}pressure.{domain}.{period}.{threshold}")
}

/// The payload of [`PRESSURE`]. Signals from before fin reported recovery lack the last three
/// fields: they read as a raise of medium severity with a summary made here.
#[derive(Debug, Deserialize)]
pub struct PressureSignal {
    pub domain: String,
    /// `YYYY-MM`.
    pub period: String,
    /// The threshold, in percent.
    pub threshold: u32,
    /// Spent plus committed, in percent of the allocation.
    pub percent: u32,
    #[serde(default = "medium")]
    pub severity: Severity,
    #[serde(default)]
    pub summary: String,
    #[serde(default)]
    pub recovered: bool,
}

fn medium() -> Severity {
    Severity::Medium
}

/// fin's summary marked as fin's, or `made` when the signal has none.
fn from_fin(summary: &str, made: impl FnOnce() -> String) -> String {
    if summary.is_empty() {
        format!("fin: {}", made())
    } else {
        format!("fin: {summary}")
    }
}

impl PressureSignal {
    pub fn summary(&self) -> String {
        from_fin(&self.summary, || {
            format!(
                "budget of {} for {} is at {}%: crossed {}%",
                self.domain, self.period, self.percent, self.threshold
            )
        })
    }
}

/// The open fin alerts of `domains`, by key.
pub async fn open_alerts(
    db: &impl ConnectionTrait,
    domains: impl IntoIterator<Item = String>,
) -> Result<Vec<state::Model>, HubError> {
    Ok(state::Entity::find()
        .filter(state::Column::Kind.eq(StateKind::Alert))
        .filter(state::Column::State.is_in(State::OPEN))
        .filter(state::Column::Key.starts_with(PREFIX))
        .filter(state::Column::Domain.is_in(domains))
        .order_by_asc(state::Column::Key)
        .all(db)
        .await?)
}
