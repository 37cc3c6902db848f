//! The transactional outbox: every change writes its event here in the same transaction.
//! Publishing the rows to the bus is the relay's work.

pub mod model;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::Value;
use utoipa::ToSchema;

use crate::error::HubError;

/// A committed change of a hub, in the CloudEvents 1.0 shape.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, ToSchema)]
pub struct Event {
    pub id: String,
    /// `/hubs/<hub>`.
    pub source: String,
    /// `hubmesh.<resource>.<action>`, e.g. `hubmesh.message.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The id of the changed resource.
    pub subject: String,
    pub time: DateTime<Utc>,
    pub specversion: String,
    pub datacontenttype: String,
    pub data: Value,
}

impl Event {
    pub fn new(hub: &str, resource: &str, action: &str, subject: &str, data: Value) -> Self {
        Self {
            id: crate::ids::new_id(),
            source: format!("/hubs/{hub}"),
            event_type: format!("hubmesh.{resource}.{action}"),
            subject: subject.to_owned(),
            time: Utc::now(),
            specversion: "1.0".into(),
            datacontenttype: "application/json".into(),
            data,
        }
    }

    /// The hub that produced the event, from `source`.
    pub fn hub(&self) -> &str {
        self.source.strip_prefix("/hubs/").unwrap_or(&self.source)
    }

    /// The event's data as `T`. Data that does not read is `Invalid` (naming `data`): a bus
    /// handler returns it as is, and the inbox parks the message instead of retrying it.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, HubError> {
        T::deserialize(&self.data).map_err(|e| HubError::invalid("data", e.to_string()))
    }

    /// `<resource>.<action>`, e.g. `message.created`.
    pub fn kind(&self) -> &str {
        self.event_type
            .strip_prefix("hubmesh.")
            .unwrap_or(&self.event_type)
    }

    /// The bus subject of the event: `hubmesh.evt.<hub>.<resource>.<action>`; federation
    /// messages (`fed.<hub>.msg`) and signals (`sig.…`) go on `hubmesh.<kind>` instead.
    pub fn bus_subject(&self) -> String {
        let kind = self.kind();
        if kind.starts_with("fed.") || kind.starts_with("sig.") {
            format!("hubmesh.{kind}")
        } else {
            format!("hubmesh.evt.{}.{kind}", self.hub())
        }
    }
}

impl From<model::Model> for Event {
    fn from(m: model::Model) -> Self {
        Self {
            id: m.id,
            source: m.source,
            event_type: m.event_type,
            subject: m.subject,
            time: m.time,
            specversion: "1.0".into(),
            datacontenttype: "application/json".into(),
            data: m.data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_and_type_follow_the_naming() {
        let e = Event::new("dev", "message", "created", "m1", Value::Null);
        assert_eq!(e.event_type, "hubmesh.message.created");
        assert_eq!(e.bus_subject(), "hubmesh.evt.dev.message.created");
        assert_eq!(e.hub(), "dev");
        assert_eq!(e.kind(), "message.created");
        let fed = Event::new("dev", "fed.ops", "msg", "m1", Value::Null);
        assert_eq!(fed.bus_subject(), "hubmesh.fed.ops.msg");
        let sig = Event::new("dev", "sig", "risk", "r1", Value::Null);
        assert_eq!(sig.bus_subject(), "hubmesh.sig.risk");
    }
}
