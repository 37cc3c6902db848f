//! The consumers of fin's signals: each applies one signal inside the inbox's transaction, so a
//! redelivered signal changes nothing.

use async_trait::async_trait;
use hub_core::auth::Principal;
use hub_core::bus::inbox::BusHandler;
use hub_core::outbox::Event;
use hub_core::{HubError, Tx};

use super::CostSignal;
use crate::cost::service::{CostFigure, record_in};

/// Stores each cost signal as the service's cost of the period (the newer figure replaces the older).
pub struct Costs;

#[async_trait]
impl BusHandler for Costs {
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError> {
        let s: CostSignal = event.data_as()?;
        let who = Principal::hub_itself(tx.hub());
        let figure = CostFigure {
            service_id: s.service_id,
            period: s.period,
            amount: s.amount,
            currency: s.currency,
        };
        record_in(tx, &who, figure).await.map(drop)
    }
}
