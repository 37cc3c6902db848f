//! Events on the wire: a bus message carries one event (a CloudEvents JSON object) or several of
//! one subject as a JSON array of them (the CloudEvents JSON batch format).
//!
//! The relay packs a round's events into as few messages as keep their order: per bus message
//! the broker stores, delivers and takes an ack, and both hubs' clients build, parse and track
//! one, which under load cost more than the events' own work.

use std::collections::HashMap;

use bytes::Bytes;
use serde_json::value::RawValue;
use sha2::{Digest, Sha256};

use super::Outgoing;
use crate::outbox::Event;

/// Events a message carries at most.
pub const MAX_EVENTS: usize = 100;
/// Bytes a message grows to at most, unless one event alone is larger (NATS's default limit is
/// 1 MiB a message).
pub const MAX_BYTES: usize = 256 * 1024;

/// The events a round publishes, packed into messages in the order they are to be published.
#[derive(Default)]
pub struct Packer {
    messages: Vec<Packed>,
    /// The message each order key's last event went into.
    open: HashMap<String, usize>,
}

/// A message being packed, with the ids of its events.
struct Packed {
    subject: String,
    ids: Vec<String>,
    /// `[` and the events' JSON, comma-separated; closed in [`Packer::finish`].
    payload: Vec<u8>,
}

impl Packer {
    /// Adds `event` to the message its subject's last event went into, if no event of the same
    /// order key but another subject came between them and the message has room; else to a new
    /// message, published after every message packed so far.
    pub fn push(&mut self, event: &Event) {
        let json = serde_json::to_vec(event).expect("an event serializes");
        let subject = event.bus_subject();
        let key = order_key(&subject);
        if let Some(&at) = self.open.get(key) {
            let m = &mut self.messages[at];
            if m.subject == subject
                && m.ids.len() < MAX_EVENTS
                && m.payload.len() + json.len() + 2 <= MAX_BYTES
            {
                m.payload.push(b',');
                m.payload.extend_from_slice(&json);
                m.ids.push(event.id.clone());
                return;
            }
        }
        self.open.insert(key.to_owned(), self.messages.len());
        let mut payload = Vec::with_capacity(json.len() + 1);
        payload.push(b'[');
        payload.extend_from_slice(&json);
        self.messages.push(Packed {
            subject,
            ids: vec![event.id.clone()],
            payload,
        });
    }

    /// The messages to publish, in order, each with the ids of its events.
    pub fn finish(self) -> Vec<(Outgoing, Vec<String>)> {
        self.messages.into_iter().map(Packed::finish).collect()
    }
}

impl Packed {
    fn finish(mut self) -> (Outgoing, Vec<String>) {
        let (msg_id, payload) = if let [id] = &self.ids[..] {
            // One event goes as itself, its id the message id, as before batches existed.
            (id.clone(), Bytes::from(self.payload).slice(1..))
        } else {
            self.payload.push(b']');
            (batch_id(&self.ids), Bytes::from(self.payload))
        };
        let message = Outgoing {
            subject: self.subject,
            msg_id,
            payload,
        };
        (message, self.ids)
    }
}

/// The message id of a batch: a digest of its events' ids, so that publishing the same events
/// again is dropped as a duplicate, and a batch that differs by one event is not.
fn batch_id(ids: &[String]) -> String {
    let mut digest = Sha256::new();
    for id in ids {
        digest.update(id.as_bytes());
        digest.update(b"\n");
    }
    let hash = digest.finalize();
    let hex: String = hash[..16].iter().map(|b| format!("{b:02x}")).collect();
    format!("batch-{hex}")
}

/// What the order of events is kept within, beyond one subject: a hub's events of one resource
/// (`hubmesh.evt.<hub>.<resource>`), its federation messages to one hub (`hubmesh.fed.<hub>`),
/// and all its signals (`hubmesh.sig`). Packing never moves an event past another of its key.
fn order_key(subject: &str) -> &str {
    if subject.starts_with("hubmesh.sig.") {
        return "hubmesh.sig";
    }
    subject.rsplit_once('.').map_or(subject, |(key, _)| key)
}

/// One event of a message: read, or its text with why it does not read.
pub enum Item {
    Event(Event),
    Unreadable { text: String, error: String },
}

/// The events of a message's payload, in order. Fails only if the payload as a whole is not one
/// event or an array of them; an element of an array that is no event is `Unreadable`, alone.
pub fn unpack(payload: &[u8]) -> Result<Vec<Item>, serde_json::Error> {
    let is_batch = payload.iter().find(|b| !b.is_ascii_whitespace()) == Some(&b'[');
    if !is_batch {
        return serde_json::from_slice::<Event>(payload).map(|e| vec![Item::Event(e)]);
    }
    if let Ok(events) = serde_json::from_slice::<Vec<Event>>(payload) {
        return Ok(events.into_iter().map(Item::Event).collect());
    }
    let raw: Vec<&RawValue> = serde_json::from_slice(payload)?;
    Ok(raw
        .into_iter()
        .map(|r| match serde_json::from_str::<Event>(r.get()) {
            Ok(e) => Item::Event(e),
            Err(e) => Item::Unreadable {
                text: r.get().to_owned(),
                error: e.to_string(),
            },
        })
        .collect())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn event(resource: &str, action: &str, n: u32) -> Event {
        Event::new("dev", resource, action, &format!("s{n}"), &n).unwrap()
    }

    fn events_of(payload: &[u8]) -> Vec<Event> {
        unpack(payload)
            .unwrap()
            .into_iter()
            .map(|i| match i {
                Item::Event(e) => e,
                Item::Unreadable { text, error } => panic!("{text}: {error}"),
            })
            .collect()
    }

    #[test]
    fn a_single_event_goes_as_itself_under_its_own_id() {
        let e = event("fed.ops", "msg", 1);
        let mut p = Packer::default();
        p.push(&e);
        let [(m, ids)] = &p.finish()[..] else {
            panic!("one message")
        };
        assert_eq!((&m.msg_id, ids), (&e.id, &vec![e.id.clone()]));
        assert_eq!(m.payload, serde_json::to_vec(&e).unwrap());
        assert_eq!(events_of(&m.payload)[0].id, e.id);
    }

    /// Interleaved subjects of different order keys are packed per subject; within a key an
    /// event never passes another, so a run of another subject starts a new message.
    #[test]
    fn events_are_packed_per_subject_without_passing_one_of_their_key() {
        let rounds = [
            event("message", "created", 1),
            event("fed.ops", "msg", 1),
            event("message", "created", 2),
            event("fed.ops", "msg", 2),
            event("message", "read", 3),
            event("message", "created", 4),
            event("fed.ops", "msg", 3),
        ];
        let mut p = Packer::default();
        rounds.iter().for_each(|e| p.push(e));
        let packed: Vec<(String, Vec<u32>)> = p
            .finish()
            .into_iter()
            .map(|(m, ids)| {
                let events = events_of(&m.payload);
                assert_eq!(
                    events.iter().map(|e| &e.id).collect::<Vec<_>>(),
                    ids.iter().collect::<Vec<_>>()
                );
                let data = events.iter().map(|e| e.data_as().unwrap()).collect();
                (m.subject, data)
            })
            .collect();
        let at = |s: &str| format!("hubmesh.evt.dev.message.{s}");
        assert_eq!(
            packed,
            [
                (at("created"), vec![1, 2]),
                ("hubmesh.fed.ops.msg".into(), vec![1, 2, 3]),
                (at("read"), vec![3]),
                (at("created"), vec![4]),
            ]
        );
    }

    #[test]
    fn a_message_holds_at_most_its_count_and_size() {
        let mut p = Packer::default();
        (0..MAX_EVENTS as u32 * 2 + 1).for_each(|n| p.push(&event("fed.ops", "msg", n)));
        let counts: Vec<usize> = p.finish().iter().map(|(_, ids)| ids.len()).collect();
        assert_eq!(counts, [MAX_EVENTS, MAX_EVENTS, 1]);

        let big = "x".repeat(MAX_BYTES / 3);
        let mut p = Packer::default();
        for n in 0..4 {
            p.push(&Event::new("dev", "fed.ops", "msg", &format!("s{n}"), &big).unwrap());
        }
        let messages = p.finish();
        let counts: Vec<usize> = messages.iter().map(|(_, ids)| ids.len()).collect();
        assert_eq!(counts, [2, 2]);
        assert!(messages.iter().all(|(m, _)| m.payload.len() <= MAX_BYTES));
    }

    #[test]
    fn a_batchs_id_names_exactly_its_events() {
        let (a, b, c) = (
            event("fed.ops", "msg", 1),
            event("fed.ops", "msg", 2),
            event("fed.ops", "msg", 3),
        );
        let id_of = |events: &[&Event]| {
            let mut p = Packer::default();
            events.iter().for_each(|e| p.push(e));
            p.finish().remove(0).0.msg_id
        };
        assert_eq!(id_of(&[&a, &b]), id_of(&[&a, &b]));
        assert_ne!(id_of(&[&a, &b]), id_of(&[&a, &c]));
        assert_ne!(id_of(&[&a, &b]), id_of(&[&a, &b, &c]));
    }

    #[test]
    fn an_unreadable_element_is_alone_in_failing() {
        let good = serde_json::to_string(&event("fed.ops", "msg", 1)).unwrap();
        let payload = format!(r#"[{good}, {{"id": 7}}, {good}]"#);
        let items = unpack(payload.as_bytes()).unwrap();
        assert!(matches!(
            &items[..],
            [Item::Event(_), Item::Unreadable { text, .. }, Item::Event(_)] if text == r#"{"id": 7}"#
        ));
        assert!(unpack(b"[{good}").is_err());
        assert!(unpack(b"not json").is_err());
        assert!(unpack(br#"{"id": 7}"#).is_err());
    }
}
