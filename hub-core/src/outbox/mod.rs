//! The transactional outbox: every change writes its event here in the same transaction.
//! Publishing the rows to the bus is the relay's work.

pub mod model;

use chrono::{DateTime, Utc};
use serde::de::DeserializeOwned;
use serde::{Deserialize, Serialize};
use serde_json::value::RawValue;

use crate::error::HubError;

/// A committed change of a hub, in the CloudEvents 1.0 shape.
#[derive(Debug, Clone, Serialize, Deserialize)]
pub struct Event {
    pub id: String,
    /// `/hubs/<hub>`.
    pub source: String,
    /// `hubmesh.<resource>.<action>`, e.g. `hubmesh.message.created`.
    #[serde(rename = "type")]
    pub event_type: String,
    /// The id of the changed resource.
    pub subject: String,
    #[serde(serialize_with = "crate::api::time::rfc3339")]
    pub time: DateTime<Utc>,
    pub specversion: String,
    pub datacontenttype: String,
    /// The data as the JSON text it travels and is stored as: written once when the event is
    /// made, and parsed only by whoever reads it ([`Event::data_as`]), straight into its type.
    pub data: Box<RawValue>,
}

impl Event {
    pub fn new(
        hub: &str,
        resource: &str,
        action: &str,
        subject: &str,
        data: &impl Serialize,
    ) -> Result<Self, HubError> {
        let data = serde_json::value::to_raw_value(data)
            .map_err(|e| HubError::Internal(format!("event data: {e}")))?;
        Ok(Self {
            id: crate::ids::new_id(),
            source: format!("/hubs/{hub}"),
            event_type: format!("hubmesh.{resource}.{action}"),
            subject: subject.to_owned(),
            time: Utc::now(),
            specversion: "1.0".into(),
            datacontenttype: "application/json".into(),
            data,
        })
    }

    /// The hub that produced the event, from `source`.
    pub fn hub(&self) -> &str {
        self.source.strip_prefix("/hubs/").unwrap_or(&self.source)
    }

    /// The event's data as `T`. Data that does not read is `Invalid` (naming `data`): a bus
    /// handler returns it as is, and the inbox parks the message instead of retrying it.
    pub fn data_as<T: DeserializeOwned>(&self) -> Result<T, HubError> {
        serde_json::from_str(self.data.get()).map_err(|e| HubError::invalid("data", e.to_string()))
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
        // The hub wrote the text from a JSON value; text that is no longer JSON (edited in the
        // database by hand) travels as a JSON string, which its consumer parks as unreadable
        // rather than the relay stopping at the row.
        let data = match serde_json::from_str::<&RawValue>(&m.data) {
            Ok(raw) => raw.to_owned(),
            Err(e) => {
                tracing::warn!(event = %m.id, error = %e, "outbox row data is not JSON; sent as a string");
                serde_json::value::to_raw_value(&m.data).expect("a string serializes")
            }
        };
        Self {
            id: m.id,
            source: m.source,
            event_type: m.event_type,
            subject: m.subject,
            time: m.time,
            specversion: "1.0".into(),
            datacontenttype: "application/json".into(),
            data,
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn subject_and_type_follow_the_naming() {
        let e = Event::new("dev", "message", "created", "m1", &()).unwrap();
        assert_eq!(e.event_type, "hubmesh.message.created");
        assert_eq!(e.bus_subject(), "hubmesh.evt.dev.message.created");
        assert_eq!(e.hub(), "dev");
        assert_eq!(e.kind(), "message.created");
        let fed = Event::new("dev", "fed.ops", "msg", "m1", &()).unwrap();
        assert_eq!(fed.bus_subject(), "hubmesh.fed.ops.msg");
        let sig = Event::new("dev", "sig", "risk", "r1", &()).unwrap();
        assert_eq!(sig.bus_subject(), "hubmesh.sig.risk");
    }

    fn row(data: &str) -> model::Model {
        model::Model {
            id: "e1".into(),
            source: "/hubs/dev".into(),
            event_type: "hubmesh.message.created".into(),
            subject: "m1".into(),
            time: Utc::now(),
            data: data.into(),
            sent_at: None,
            attempts: 0,
        }
    }

    /// A row's data goes on the bus as the text it was stored as, and reads back as its type.
    #[test]
    fn a_rows_data_travels_as_stored() {
        let text = r#"{"to":["bob","carol@ops"],"n":2,"note":"a \"quoted\" line"}"#;
        let event = Event::from(row(text));
        assert_eq!(event.data.get(), text);
        let wire = serde_json::to_string(&event).unwrap();
        assert!(wire.contains(&format!(r#""data":{text}"#)), "{wire}");
        let back: Event = serde_json::from_str(&wire).unwrap();
        let data: serde_json::Value = back.data_as().unwrap();
        assert_eq!(data["note"], "a \"quoted\" line");
        assert_eq!(data["to"][1], "carol@ops");
    }

    /// Text that is not JSON (a row edited by hand) goes as a JSON string, which a consumer reads
    /// as data of the wrong shape and parks, instead of stopping the relay at that row.
    #[test]
    fn a_row_whose_data_is_not_json_goes_as_a_string() {
        let event = Event::from(row("{not json"));
        assert_eq!(event.data_as::<String>().unwrap(), "{not json");
        let err = event.data_as::<Vec<u32>>().unwrap_err();
        assert!(matches!(err, HubError::Invalid(_)), "{err:?}");
    }
}
