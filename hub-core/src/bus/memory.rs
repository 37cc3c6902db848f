//! The in-process bus of the all-in-one mesh: the JetStream semantics hubs rely on (dedup by
//! message id inside a window, durable consumers that redeliver until acked, request-reply,
//! a TTL key-value store), kept in memory and shared by the hubs of one process.

use std::collections::{BTreeMap, HashMap};
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use bytes::Bytes;
use tokio::sync::{Notify, mpsc, watch};
use tokio::time::Instant;

use super::{
    Acker, Bus, BusError, ConsumerSpec, Delivery, KvBucket, KvEntry, Outgoing, Request,
    subject_matches,
};

/// How long a delivery may stay unacknowledged before it is delivered again.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// Deliveries a consumer may have outstanding at once.
const MAX_ACK_PENDING: usize = 1024;
/// Buffer of a subscription's channel.
const CHANNEL: usize = 256;

/// The in-process bus; clones share one store.
#[derive(Clone)]
pub struct MemoryBus(Arc<Inner>);

struct Inner {
    window: Duration,
    log: Mutex<Log>,
    /// The log's length, so consumers wake on appends.
    appended: watch::Sender<usize>,
    consumers: Mutex<HashMap<String, Arc<Consumer>>>,
    responders: Mutex<Vec<(String, mpsc::Sender<Request>)>>,
    kv: Mutex<HashMap<String, Bucket>>,
}

#[derive(Default)]
struct Log {
    messages: Vec<(String, Bytes)>,
    /// Message ids seen, with when; entries older than the window are forgotten.
    seen: HashMap<String, Instant>,
    last_pruned: Option<Instant>,
}

#[derive(Default)]
struct Bucket {
    entries: HashMap<String, (Bytes, Instant)>,
    watchers: Vec<mpsc::Sender<KvEntry>>,
}

/// A durable consumer's position and unacknowledged deliveries.
struct Consumer {
    filter: String,
    state: Mutex<ConsumerState>,
    /// Woken by acks and naks.
    changed: Notify,
}

#[derive(Default)]
struct ConsumerState {
    /// Index of the next log entry not yet looked at.
    next: usize,
    /// Log index -> (deliveries so far, when to deliver again).
    pending: BTreeMap<usize, (u64, Instant)>,
}

impl MemoryBus {
    /// A new, empty bus; a publish repeating a message id within `window` is dropped.
    pub fn new(window: Duration) -> Self {
        Self(Arc::new(Inner {
            window,
            log: Mutex::default(),
            appended: watch::channel(0).0,
            consumers: Mutex::default(),
            responders: Mutex::default(),
            kv: Mutex::default(),
        }))
    }

    fn consumer(&self, spec: &ConsumerSpec) -> Arc<Consumer> {
        let mut consumers = self.0.consumers.lock().expect("consumers poisoned");
        consumers
            .entry(spec.durable.clone())
            .or_insert_with(|| {
                Arc::new(Consumer {
                    filter: spec.filter.clone(),
                    state: Mutex::default(),
                    changed: Notify::new(),
                })
            })
            .clone()
    }
}

impl Inner {
    fn append(&self, m: Outgoing) {
        let mut log = self.log.lock().expect("log poisoned");
        let now = Instant::now();
        // Prune now and then rather than on every publish.
        if log
            .last_pruned
            .is_none_or(|t| now.duration_since(t) > self.window)
        {
            let window = self.window;
            log.seen.retain(|_, t| now.duration_since(*t) <= window);
            log.last_pruned = Some(now);
        }
        if let Some(t) = log.seen.get(&m.msg_id)
            && now.duration_since(*t) <= self.window
        {
            return;
        }
        log.seen.insert(m.msg_id, now);
        log.messages.push((m.subject, m.payload));
        let len = log.messages.len();
        drop(log);
        self.appended.send_replace(len);
    }
}

/// What a consumer task does next.
enum Step {
    Deliver(usize, u64, String, Bytes),
    Wait(Option<Instant>),
}

impl Consumer {
    fn next_step(&self, log: &Mutex<Log>) -> Step {
        let now = Instant::now();
        let mut st = self.state.lock().expect("consumer poisoned");
        let log = log.lock().expect("log poisoned");
        let due = st
            .pending
            .iter()
            .find(|(_, (_, at))| *at <= now)
            .map(|(i, (n, _))| (*i, *n));
        let pick = match due {
            Some(found) => Some(found),
            None if st.pending.len() < MAX_ACK_PENDING => {
                let found = log.messages[st.next..]
                    .iter()
                    .position(|(s, _)| subject_matches(&self.filter, s))
                    .map(|off| st.next + off);
                st.next = found.map_or(log.messages.len(), |i| i + 1);
                found.map(|i| (i, 0))
            }
            None => None,
        };
        match pick {
            Some((i, n)) => {
                st.pending.insert(i, (n + 1, now + ACK_WAIT));
                let (subject, payload) = log.messages[i].clone();
                Step::Deliver(i, n + 1, subject, payload)
            }
            None => Step::Wait(st.pending.values().map(|(_, at)| *at).min()),
        }
    }
}

struct MemoryAcker {
    consumer: Arc<Consumer>,
    index: usize,
}

#[async_trait]
impl Acker for MemoryAcker {
    async fn ack(&self) -> Result<(), BusError> {
        let mut st = self.consumer.state.lock().expect("consumer poisoned");
        st.pending.remove(&self.index);
        drop(st);
        self.consumer.changed.notify_one();
        Ok(())
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        let mut st = self.consumer.state.lock().expect("consumer poisoned");
        if let Some(entry) = st.pending.get_mut(&self.index) {
            entry.1 = Instant::now() + delay;
        }
        drop(st);
        self.consumer.changed.notify_one();
        Ok(())
    }
}

#[async_trait]
impl Bus for MemoryBus {
    async fn publish(&self, messages: Vec<Outgoing>) -> Vec<Result<(), BusError>> {
        messages
            .into_iter()
            .map(|m| {
                self.0.append(m);
                Ok(())
            })
            .collect()
    }

    fn consume(&self, spec: ConsumerSpec) -> mpsc::Receiver<Delivery> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let consumer = self.consumer(&spec);
        let inner = self.0.clone();
        let mut appended = self.0.appended.subscribe();
        tokio::spawn(async move {
            loop {
                match consumer.next_step(&inner.log) {
                    Step::Deliver(index, attempt, subject, payload) => {
                        let acker = MemoryAcker {
                            consumer: consumer.clone(),
                            index,
                        };
                        let d = Delivery::new(subject, payload, attempt, Box::new(acker));
                        if tx.send(d).await.is_err() {
                            return;
                        }
                    }
                    Step::Wait(until) => {
                        let sleep = async {
                            match until {
                                Some(at) => tokio::time::sleep_until(at).await,
                                None => std::future::pending().await,
                            }
                        };
                        tokio::select! {
                            _ = tx.closed() => return,
                            _ = appended.changed() => {}
                            _ = consumer.changed.notified() => {}
                            _ = sleep => {}
                        }
                    }
                }
            }
        });
        rx
    }

    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        let responder = {
            let mut responders = self.0.responders.lock().expect("responders poisoned");
            responders.retain(|(_, tx)| !tx.is_closed());
            responders
                .iter()
                .find(|(pattern, _)| subject_matches(pattern, subject))
                .map(|(_, tx)| tx.clone())
        };
        let responder = responder.ok_or_else(|| BusError::NoResponders(subject.to_owned()))?;
        let (request, answer) = Request::new(payload);
        let timed_out = || BusError::Timeout {
            subject: subject.to_owned(),
            after: timeout,
        };
        tokio::time::timeout(timeout, async {
            responder
                .send(request)
                .await
                .map_err(|_| BusError::NoResponders(subject.to_owned()))?;
            // A responder that drops the request without answering looks like silence.
            answer.await.map_err(|_| timed_out())
        })
        .await
        .map_err(|_| timed_out())?
    }

    fn serve(&self, subject: &str, _group: &str) -> mpsc::Receiver<Request> {
        // One process holds one responder per subject and hub, so the group needs no balancing.
        let (tx, rx) = mpsc::channel(CHANNEL);
        self.0
            .responders
            .lock()
            .expect("responders poisoned")
            .push((subject.to_owned(), tx));
        rx
    }

    async fn kv_put(&self, bucket: &KvBucket, key: &str, value: Bytes) -> Result<(), BusError> {
        let mut kv = self.0.kv.lock().expect("kv poisoned");
        let b = kv.entry(bucket.name.clone()).or_default();
        b.entries
            .insert(key.to_owned(), (value.clone(), Instant::now()));
        let entry = KvEntry {
            key: key.to_owned(),
            value,
        };
        // A watcher that is full or gone misses this put; heartbeats repeat.
        b.watchers.retain(|w| match w.try_send(entry.clone()) {
            Ok(()) | Err(mpsc::error::TrySendError::Full(_)) => true,
            Err(mpsc::error::TrySendError::Closed(_)) => false,
        });
        Ok(())
    }

    async fn kv_get(&self, bucket: &KvBucket, key: &str) -> Result<Option<Bytes>, BusError> {
        let kv = self.0.kv.lock().expect("kv poisoned");
        Ok(kv
            .get(&bucket.name)
            .and_then(|b| b.entries.get(key))
            .filter(|(_, at)| at.elapsed() <= bucket.ttl)
            .map(|(v, _)| v.clone()))
    }

    fn kv_watch(&self, bucket: &KvBucket) -> mpsc::Receiver<KvEntry> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let mut kv = self.0.kv.lock().expect("kv poisoned");
        let b = kv.entry(bucket.name.clone()).or_default();
        for (key, (value, at)) in &b.entries {
            if at.elapsed() <= bucket.ttl {
                let _ = tx.try_send(KvEntry {
                    key: key.clone(),
                    value: value.clone(),
                });
            }
        }
        b.watchers.push(tx);
        rx
    }
}
