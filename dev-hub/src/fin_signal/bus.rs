//! The consumers of fin's signals: each moves its alert inside the inbox's transaction, so a
//! redelivered signal changes nothing and a repeated one records a repeat of the open alert.

use async_trait::async_trait;
use hub_core::auth::Principal;
use hub_core::bus::inbox::BusHandler;
use hub_core::outbox::Event;
use hub_core::progress::service::{AlertCondition, track_alert};
use hub_core::{HubError, Tx};

use super::{PressureSignal, pressure_alert};

/// Keeps the domain's alert of each budget threshold in step with fin's pressure signals.
pub struct Pressure;

#[async_trait]
impl BusHandler for Pressure {
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError> {
        let s: PressureSignal = event.data_as()?;
        let who = Principal::hub_itself(tx.hub());
        let alert = AlertCondition {
            key: &pressure_alert(&s.domain, &s.period, s.threshold),
            holds: !s.recovered,
            summary: &s.summary(),
            severity: s.severity,
            domain: Some(&s.domain),
        };
        track_alert(tx, &who, alert).await.map(drop)
    }
}
