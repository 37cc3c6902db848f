//! Risk and alert signals: each risk/alert event also leaves the hub as a `sig.risk` or
//! `sig.alert` outbox event (on `hubmesh.sig.risk` / `hubmesh.sig.alert`), written in the
//! event's transaction, with the key's state after it, so every hub can keep a federation view.

use chrono::{DateTime, Utc};
use serde::{Deserialize, Serialize};

use super::model::{Severity, State, StateKind, event, state};
use crate::ctx::Tx;
use crate::error::HubError;

/// What travels on `hubmesh.sig.risk` and `hubmesh.sig.alert`.
#[derive(Debug, Clone, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct Signal {
    pub kind: StateKind,
    pub key: String,
    /// The key's state after the event.
    pub state: State,
    pub severity: Severity,
    pub escalated: bool,
    pub domain: Option<String>,
    pub summary: String,
    /// The event that moved it (`alert_raised`, …).
    pub event_type: String,
    pub updated_at: DateTime<Utc>,
}

/// Writes the signal of `ev`, which moved its key to `after`, inside `tx`.
pub(super) async fn signal(
    tx: &mut Tx<'_>,
    ev: &event::Model,
    after: &state::Model,
) -> Result<(), HubError> {
    let signal = Signal {
        kind: after.kind,
        key: after.key.clone(),
        state: after.state,
        severity: after.severity,
        escalated: after.escalated,
        domain: after.domain.clone(),
        summary: after.summary.clone(),
        event_type: ev.event_type.clone(),
        updated_at: after.updated_at,
    };
    tx.emit("sig", &after.kind.to_string(), &ev.id, &signal)
        .await
}
