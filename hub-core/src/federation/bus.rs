//! The federation alerts view's feed: every hub consumes `hubmesh.sig.risk` and
//! `hubmesh.sig.alert` (its own signals included) through the inbox, keeping the latest state
//! of each (hub, kind, key).

use std::sync::Arc;

use async_trait::async_trait;
use sea_orm::sea_query::OnConflict;
use sea_orm::{EntityTrait, Set};

use super::model as alert;
use crate::bus::inbox::{BusHandler, Subscription};
use crate::ctx::Tx;
use crate::error::HubError;
use crate::module::durable_name;
use crate::outbox::Event;
use crate::progress::bus::Signal;

/// The two subscriptions every hub runs for the view.
pub fn subscriptions(hub: &str) -> Vec<Subscription> {
    ["risk", "alert"]
        .into_iter()
        .map(|kind| Subscription {
            durable: durable_name(&[hub, "core", "fed-sig", kind]),
            filter: format!("hubmesh.sig.{kind}"),
            handler: Arc::new(SignalHandler),
        })
        .collect()
}

struct SignalHandler;

#[async_trait]
impl BusHandler for SignalHandler {
    async fn handle(&self, tx: &mut Tx<'_>, event: &Event) -> Result<(), HubError> {
        let s: Signal = event.data_as()?;
        let hub = event.hub();
        let id = format!("{hub}:{}:{}", s.kind, s.key);
        // A signal older than the stored one (a late redelivery) must not turn the state back.
        if let Some(stored) = alert::Entity::find_by_id(id.as_str()).one(&**tx).await?
            && stored.updated_at > s.updated_at
        {
            return Ok(());
        }
        let row = alert::ActiveModel {
            id: Set(id),
            hub: Set(hub.to_owned()),
            kind: Set(s.kind),
            key: Set(s.key),
            state: Set(s.state),
            open: Set(s.state.is_open()),
            severity: Set(s.severity),
            escalated: Set(s.escalated),
            domain: Set(s.domain),
            summary: Set(s.summary),
            event_type: Set(s.event_type),
            updated_at: Set(s.updated_at),
        };
        alert::Entity::insert(row)
            .on_conflict(
                OnConflict::column(alert::Column::Id)
                    .update_columns([
                        alert::Column::State,
                        alert::Column::Open,
                        alert::Column::Severity,
                        alert::Column::Escalated,
                        alert::Column::Domain,
                        alert::Column::Summary,
                        alert::Column::EventType,
                        alert::Column::UpdatedAt,
                    ])
                    .to_owned(),
            )
            .exec_without_returning(&**tx)
            .await?;
        Ok(())
    }
}
