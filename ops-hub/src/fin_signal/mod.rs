//! What the ops hub takes from the fin hub: the monthly cost fin attributes to a service
//! (`hubmesh.sig.fin.cost`), stored as that service's cost of the period. Runway
//! (`hubmesh.sig.viability`) is kept by hub-core's `progress::viability` consumer, which every
//! hub taking it registers. Hubs share no code but hub-core, so the payload is read into this
//! hub's own type, which names only the fields ops uses; a payload that does not read is parked
//! on the dead-letter subject.

pub mod bus;

use serde::Deserialize;

/// fin -> ops: a service's total of a month.
pub const COST: &str = "hubmesh.sig.fin.cost";

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
