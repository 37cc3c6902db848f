//! The bus hubs couple through: the [`Bus`] trait, its NATS JetStream and in-process
//! implementations, the outbox relay and the idempotent inbox.
//!
//! Both implementations keep the same promises: a publish with a message id already seen inside
//! the duplicate window is stored once; a durable consumer redelivers every message until it is
//! acknowledged; a request with no responder fails at once and one without an answer in time
//! fails with [`BusError::Timeout`]. Nothing outside this module knows NATS.

pub mod batch;
mod memory;
pub mod model;
mod nats;

pub mod inbox;
pub mod relay;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{mpsc, oneshot};

use crate::config::HubConfig;
use crate::error::HubError;

pub use memory::MemoryBus;
pub use nats::NatsBus;

/// The JetStream stream that holds events, signals and federation messages.
pub const STREAM: &str = "HUBMESH";
/// Subjects of [`STREAM`].
pub const STREAM_SUBJECTS: [&str; 4] = [
    "hubmesh.evt.>",
    "hubmesh.sig.>",
    "hubmesh.fed.*.msg",
    "hubmesh.fed.*.cap_status",
];
/// The stream that keeps parked (dead-lettered) messages for inspection.
pub const DLQ_STREAM: &str = "HUBMESH_DLQ";
/// Subjects of [`DLQ_STREAM`].
pub const DLQ_SUBJECTS: [&str; 1] = ["hubmesh.dlq.>"];

/// The dead-letter subject of hub `hub`.
pub fn dlq_subject(hub: &str) -> String {
    format!("hubmesh.dlq.{hub}")
}

/// Why a bus operation failed. Converted to [`HubError`] once, here.
#[derive(Debug, Clone, thiserror::Error, PartialEq, Eq)]
pub enum BusError {
    /// The bus cannot be reached or refused the operation for now; retrying may succeed.
    #[error("bus unavailable: {0}")]
    Unavailable(String),
    /// The bus rejected this hub's credentials; retrying will not help until they change.
    #[error("{0}")]
    Refused(String),
    /// Nobody serves the subject of a request.
    #[error("no responder on {0}")]
    NoResponders(String),
    /// The responder did not answer in time.
    #[error("no answer on {subject} within {after:?}")]
    Timeout { subject: String, after: Duration },
}

impl From<BusError> for HubError {
    fn from(e: BusError) -> Self {
        HubError::Unavailable(e.to_string())
    }
}

/// A message to publish durably.
#[derive(Debug, Clone, PartialEq)]
pub struct Outgoing {
    pub subject: String,
    /// Deduplication key (`Nats-Msg-Id`): a second publish with it inside the window is dropped.
    pub msg_id: String,
    pub payload: Bytes,
}

/// What a durable consumer reads and under which name the bus remembers its position.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerSpec {
    /// Durable name: letters, digits, `-` and `_`.
    pub durable: String,
    /// Subject filter (NATS wildcards `*` and `>`).
    pub filter: String,
}

/// Acknowledges one delivery.
#[async_trait]
pub trait Acker: Send + Sync {
    /// Done: never deliver this message again.
    async fn ack(&self) -> Result<(), BusError>;
    /// Not done: deliver it again after `delay`.
    async fn nak(&self, delay: Duration) -> Result<(), BusError>;
}

/// One delivery of a stored message to a durable consumer.
pub struct Delivery {
    pub subject: String,
    pub payload: Bytes,
    /// 1 on the first delivery, counting up with each redelivery.
    pub attempt: u64,
    acker: Box<dyn Acker>,
}

impl Delivery {
    pub fn new(subject: String, payload: Bytes, attempt: u64, acker: Box<dyn Acker>) -> Self {
        Self {
            subject,
            payload,
            attempt,
            acker,
        }
    }

    pub async fn ack(&self) -> Result<(), BusError> {
        self.acker.ack().await
    }

    pub async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.acker.nak(delay).await
    }
}

/// A request a responder got, with the way back to the requester.
pub struct Request {
    pub payload: Bytes,
    reply: oneshot::Sender<Bytes>,
}

impl Request {
    pub fn new(payload: Bytes) -> (Self, oneshot::Receiver<Bytes>) {
        let (reply, rx) = oneshot::channel();
        (Self { payload, reply }, rx)
    }

    /// Sends the answer; a requester that gave up meanwhile is not an error.
    pub fn respond(self, payload: Bytes) {
        let _ = self.reply.send(payload);
    }
}

/// A key-value bucket whose entries expire `ttl` after their last put.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct KvBucket {
    pub name: String,
    pub ttl: Duration,
}

/// One key's value as a watcher sees it.
#[derive(Debug, Clone, PartialEq)]
pub struct KvEntry {
    pub key: String,
    pub value: Bytes,
}

/// The bus a hub publishes to and consumes from. Cheap to share (`Arc<dyn Bus>`).
///
/// Subscriptions (`consume`, `serve`, `kv_watch`) return at once and keep themselves alive in
/// the background across outages: a hub starts and serves while the bus is down.
#[async_trait]
pub trait Bus: Send + Sync + 'static {
    /// Publishes `messages` and waits for the bus to store each; the result per message, in order.
    async fn publish(&self, messages: Vec<Outgoing>) -> Vec<Result<(), BusError>>;

    /// Deliveries to the durable consumer `spec`, until the receiver is dropped.
    fn consume(&self, spec: ConsumerSpec) -> mpsc::Receiver<Delivery>;

    /// Sends `payload` to a responder of `subject` and waits up to `timeout` for its answer.
    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError>;

    /// Requests on `subject`, shared among all responders of the same `group`.
    fn serve(&self, subject: &str, group: &str) -> mpsc::Receiver<Request>;

    /// Sets `key` in `bucket` (created on first use).
    async fn kv_put(&self, bucket: &KvBucket, key: &str, value: Bytes) -> Result<(), BusError>;

    /// The live value of `key` in `bucket`.
    async fn kv_get(&self, bucket: &KvBucket, key: &str) -> Result<Option<Bytes>, BusError>;

    /// The current entries of `bucket`, then every later put, until the receiver is dropped.
    fn kv_watch(&self, bucket: &KvBucket) -> mpsc::Receiver<KvEntry>;
}

/// The bus for `config`: NATS JetStream when a NATS URL is set, else a fresh in-process bus.
/// Connecting never waits for the server: the NATS client connects (and reconnects) in the background.
pub async fn for_config(config: &HubConfig) -> Result<Arc<dyn Bus>, BusError> {
    match &config.nats_url {
        Some(url) => Ok(Arc::new(
            NatsBus::connect(url, &config.nats, &config.name).await?,
        )),
        None => Ok(Arc::new(MemoryBus::new(config.nats.duplicate_window))),
    }
}

/// Whether `subject` matches the NATS filter `pattern` (`*` one token, `>` the rest).
pub fn subject_matches(pattern: &str, subject: &str) -> bool {
    let mut subject_tokens = subject.split('.');
    for p in pattern.split('.') {
        match (p, subject_tokens.next()) {
            (">", Some(_)) => return true,
            ("*", Some(_)) => {}
            (p, Some(s)) if p == s => {}
            _ => return false,
        }
    }
    subject_tokens.next().is_none()
}

/// Doubling delay with a ceiling, for retry loops.
#[derive(Debug, Clone)]
pub struct Backoff {
    first: Duration,
    max: Duration,
    next: Duration,
}

impl Backoff {
    pub fn new(first: Duration, max: Duration) -> Self {
        Self {
            first,
            max,
            next: first,
        }
    }

    /// The delay to wait now; the next one is twice as long, up to the ceiling.
    pub fn next_delay(&mut self) -> Duration {
        let d = self.next;
        self.next = (self.next * 2).min(self.max);
        d
    }

    pub fn reset(&mut self) {
        self.next = self.first;
    }

    /// The delay before attempt number `attempt` (1-based) without keeping state.
    pub fn for_attempt(first: Duration, max: Duration, attempt: u64) -> Duration {
        let shift = attempt.saturating_sub(1).min(20) as u32;
        first.saturating_mul(1u32 << shift).min(max)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn wildcards_match_like_nats() {
        assert!(subject_matches(
            "hubmesh.evt.>",
            "hubmesh.evt.dev.message.created"
        ));
        assert!(!subject_matches("hubmesh.evt.>", "hubmesh.evt"));
        assert!(subject_matches("hubmesh.fed.*.msg", "hubmesh.fed.ops.msg"));
        assert!(!subject_matches("hubmesh.fed.*.msg", "hubmesh.fed.ops.cap"));
        assert!(!subject_matches(
            "hubmesh.fed.*.msg",
            "hubmesh.fed.ops.msg.x"
        ));
        assert!(subject_matches("a.b", "a.b"));
        assert!(!subject_matches("a.b", "a.b.c"));
    }

    #[test]
    fn backoff_doubles_up_to_the_ceiling() {
        let (first, max) = (Duration::from_millis(100), Duration::from_millis(500));
        let mut b = Backoff::new(first, max);
        let delays: Vec<_> = (0..4).map(|_| b.next_delay().as_millis()).collect();
        assert_eq!(delays, [100, 200, 400, 500]);
        b.reset();
        assert_eq!(b.next_delay(), first);
        assert_eq!(Backoff::for_attempt(first, max, 1), first);
        assert_eq!(
            Backoff::for_attempt(first, max, 3),
            Duration::from_millis(400)
        );
        assert_eq!(Backoff::for_attempt(first, max, 60), max);
    }
}
