//! Cross-hub signals of the fin hub and what a change touched. Signals are written to the outbox
//! as events whose type is their bus subject (`hubmesh.sig.fin.pressure`, …), in the
//! transaction that decides to send them. A pressure or viability signal goes out with each move
//! of fin's own alert: when it is raised and, with `recovered: true`, when it is resolved, so
//! the hubs that mirror it can resolve theirs. Fields added later carry serde defaults, so a
//! payload written before them still reads.

pub mod model;
pub mod watch;

use std::collections::BTreeSet;

use chrono::NaiveDate;
use hub_core::progress::model::Severity;
use hub_core::{HubError, Tx};
use serde::{Deserialize, Serialize};
use utoipa::ToSchema;

/// fin -> dev: a domain's budget crossed a threshold, or is back under it.
pub const PRESSURE: &str = "hubmesh.sig.fin.pressure";
/// fin -> ops: the cost attributed to a service in a month changed.
pub const COST: &str = "hubmesh.sig.fin.cost";
/// fin -> every hub: runway fell below the threshold, or recovered.
pub const VIABILITY: &str = "hubmesh.sig.viability";

/// The payload of [`PRESSURE`]; amounts in minor units of `currency`.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Pressure {
    pub domain: String,
    pub period: String,
    /// The threshold crossed, in percent.
    pub threshold: u32,
    /// Spent plus committed, in percent of the allocation.
    pub percent: u32,
    pub currency: String,
    pub allocated: i64,
    pub spent: i64,
    pub committed: i64,
    pub projected: i64,
    /// The severity of fin's alert (by threshold).
    #[serde(default)]
    pub severity: Severity,
    /// What fin's alert says: the raise's summary, or the resolution's note.
    #[serde(default)]
    pub summary: String,
    /// True when the budget is back under `threshold` and fin resolved its alert.
    #[serde(default)]
    pub recovered: bool,
}

/// The payload of [`COST`]: the service's total of the month so far.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize, ToSchema)]
pub struct Cost {
    pub service_id: String,
    pub period: String,
    pub amount: i64,
    pub currency: String,
}

/// The payload of [`VIABILITY`].
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Viability {
    pub months_left: Option<f64>,
    pub run_out_date: Option<NaiveDate>,
    pub threshold_months: u32,
    pub cash: i64,
    pub monthly_burn: i64,
    pub currency: String,
    /// The severity of fin's alert.
    #[serde(default)]
    pub severity: Severity,
    /// What fin's alert says: the raise's summary, or the resolution's note.
    #[serde(default)]
    pub summary: String,
    /// True when runway is back at or over the threshold and fin resolved its alert.
    #[serde(default)]
    pub recovered: bool,
}

/// Writes a signal to the outbox: the event type `hubmesh.<resource>.<action>` spells `subject`.
pub async fn emit(
    tx: &mut Tx<'_>,
    subject: &str,
    key: &str,
    payload: &impl Serialize,
) -> Result<(), HubError> {
    let (resource, action) = subject
        .strip_prefix("hubmesh.")
        .and_then(|s| s.split_once('.'))
        .ok_or_else(|| HubError::Internal(format!("signal subject {subject}")))?;
    tx.emit(resource, action, key, payload).await
}

/// What a change may have moved: budgets, service costs, runway (always re-checked).
#[derive(Debug, Clone, Default, PartialEq, Eq, Serialize, Deserialize)]
pub struct Touched {
    /// (domain, period) pairs whose spend or budget changed.
    pub budgets: BTreeSet<(String, String)>,
    /// Domains whose every budget may have moved (a commitment spans months).
    pub domains: BTreeSet<String>,
    /// (service id, period) pairs whose cost changed.
    pub services: BTreeSet<(String, String)>,
}

impl Touched {
    pub fn merge(&mut self, other: Touched) {
        self.budgets.extend(other.budgets);
        self.domains.extend(other.domains);
        self.services.extend(other.services);
    }
}

/// The data of a fin change event: the row and what it touched.
#[derive(Debug, Serialize)]
pub struct Changed<'a, T: Serialize> {
    pub row: &'a T,
    pub touched: &'a Touched,
}
