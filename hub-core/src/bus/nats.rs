//! The NATS JetStream bus: stream `HUBMESH` (file storage, duplicate window, replicas), durable
//! pull consumers, request-reply on core NATS and the registry's key-value bucket.
//!
//! The client connects and reconnects in the background; streams are created or updated on the
//! first operation that needs them, so a hub starts while NATS is down and catches up later.

use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

use async_nats::ConnectErrorKind;
use async_nats::jetstream::{self, consumer, kv, stream};
use async_trait::async_trait;
use bytes::Bytes;
use futures::StreamExt;
use futures::future::join_all;
use tokio::sync::{Mutex, OnceCell, mpsc};

use super::{
    Acker, Backoff, Bus, BusError, ConsumerSpec, DLQ_STREAM, DLQ_SUBJECTS, Delivery, KvBucket,
    KvEntry, Outgoing, Request, STREAM, STREAM_SUBJECTS,
};
use crate::config::{NatsAuth, NatsConfig};

/// How long JetStream API calls and publish acks may take before they count as failed.
const API_TIMEOUT: Duration = Duration::from_secs(5);
/// How long a delivery may stay unacknowledged before JetStream delivers it again.
const ACK_WAIT: Duration = Duration::from_secs(30);
/// How long events stay in the stream for consumers that are behind.
const STREAM_MAX_AGE: Duration = Duration::from_secs(7 * 24 * 3600);
/// Buffer of a subscription's channel.
const CHANNEL: usize = 512;

/// A hub's connection to NATS JetStream; clones share it.
#[derive(Clone)]
pub struct NatsBus(Arc<Inner>);

struct Inner {
    client: async_nats::Client,
    js: jetstream::Context,
    replicas: usize,
    window: Duration,
    streams_ready: OnceCell<()>,
    buckets: Mutex<HashMap<String, kv::Store>>,
}

fn unavailable(e: impl std::fmt::Display) -> BusError {
    BusError::Unavailable(e.to_string())
}

impl NatsBus {
    /// Connects to `url` as hub `hub` with the credentials and TLS settings of `cfg`.
    /// Credentials the server rejects fail here, at start; an unreachable server does not: the
    /// client then connects and reconnects in the background, and this returns at once.
    pub async fn connect(url: &str, cfg: &NatsConfig, hub: &str) -> Result<Self, BusError> {
        let opts = connect_options(cfg, hub).await?;
        let client = match opts.clone().connect(url).await {
            Ok(client) => client,
            Err(e) => match e.kind() {
                ConnectErrorKind::AuthorizationViolation | ConnectErrorKind::Authentication => {
                    // Neither the kind nor who the hub claims to be holds a secret; the URL may
                    // (`nats://user:password@…`), so it is left out.
                    return Err(BusError::Refused(format!(
                        "NATS refused the credentials of hub {hub} ({}): {}",
                        cfg.auth.describe(),
                        e.kind()
                    )));
                }
                _ => {
                    tracing::warn!(hub, error = %e, "NATS unreachable; connecting in the background");
                    opts.retry_on_initial_connect()
                        .connect(url)
                        .await
                        .map_err(unavailable)?
                }
            },
        };
        let js = jetstream::context::ContextBuilder::new()
            .timeout(API_TIMEOUT)
            .build(client.clone());
        Ok(Self(Arc::new(Inner {
            client,
            js,
            replicas: cfg.replicas,
            window: cfg.duplicate_window,
            streams_ready: OnceCell::new(),
            buckets: Mutex::default(),
        })))
    }
}

/// The client options for hub `hub`: its credentials, TLS, and reply inboxes under
/// `_INBOX.<hub>`, so a hub's NATS user needs to subscribe only to its own inboxes.
async fn connect_options(
    cfg: &NatsConfig,
    hub: &str,
) -> Result<async_nats::ConnectOptions, BusError> {
    let mut opts = match &cfg.auth {
        NatsAuth::None => async_nats::ConnectOptions::new(),
        NatsAuth::UserPassword { user, password } => {
            async_nats::ConnectOptions::with_user_and_password(user.clone(), password.clone())
        }
        NatsAuth::NKey { seed } => async_nats::ConnectOptions::with_nkey(seed.clone()),
        NatsAuth::CredsFile(path) => async_nats::ConnectOptions::with_credentials_file(path)
            .await
            .map_err(|e| unavailable(format!("creds file {}: {e}", path.display())))?,
    };
    opts = opts
        .name(format!("hubmesh-{hub}"))
        .custom_inbox_prefix(format!("_INBOX.{hub}"))
        .max_reconnects(None)
        .require_tls(cfg.require_tls)
        .event_callback(|event| async move {
            // The server's errors name a publish or subscription this hub's user may not
            // make (`Permissions Violation for Publish to "…"`): the operator has to act.
            if let async_nats::Event::ServerError(_) = &event {
                tracing::warn!(%event, "nats connection");
            } else {
                tracing::info!(%event, "nats connection");
            }
        });
    if let Some(ca) = &cfg.tls_ca_file {
        opts = opts.add_root_certificates(ca.clone());
    }
    if let Some((cert, key)) = &cfg.client_cert {
        opts = opts.add_client_certificate(cert.clone(), key.clone());
    }
    Ok(opts)
}

impl Inner {
    /// Creates the streams, or updates them to this hub's settings, once per connection.
    async fn ensure_streams(&self) -> Result<(), BusError> {
        self.streams_ready
            .get_or_try_init(|| async {
                for (name, subjects) in [
                    (STREAM, &STREAM_SUBJECTS[..]),
                    (DLQ_STREAM, &DLQ_SUBJECTS[..]),
                ] {
                    let config = stream::Config {
                        name: name.to_owned(),
                        subjects: subjects.iter().map(|s| (*s).to_owned()).collect(),
                        storage: stream::StorageType::File,
                        retention: stream::RetentionPolicy::Limits,
                        duplicate_window: self.window,
                        num_replicas: self.replicas,
                        max_age: STREAM_MAX_AGE,
                        ..Default::default()
                    };
                    self.js
                        .get_or_create_stream(config.clone())
                        .await
                        .map_err(|e| unavailable(format!("stream {name}: {e}")))?;
                    self.js
                        .update_stream(config)
                        .await
                        .map_err(|e| unavailable(format!("stream {name}: {e}")))?;
                }
                Ok(())
            })
            .await
            .map(|_| ())
    }

    async fn bucket(&self, bucket: &KvBucket) -> Result<kv::Store, BusError> {
        let mut buckets = self.buckets.lock().await;
        if let Some(store) = buckets.get(&bucket.name) {
            return Ok(store.clone());
        }
        // The bucket's stream is made here, as the client's KV helpers would make it: their
        // account query does not parse the answers of nats-server 2.9.
        let config = stream::Config {
            name: format!("KV_{}", bucket.name),
            subjects: vec![format!("$KV.{}.>", bucket.name)],
            max_messages_per_subject: 1,
            max_age: bucket.ttl,
            duplicate_window: bucket.ttl.min(Duration::from_secs(120)),
            storage: stream::StorageType::File,
            num_replicas: self.replicas,
            allow_rollup: true,
            deny_delete: true,
            allow_direct: true,
            discard: stream::DiscardPolicy::New,
            ..Default::default()
        };
        let failed =
            |e: &dyn std::fmt::Display| unavailable(format!("bucket {}: {e}", bucket.name));
        self.js
            .get_or_create_stream(config.clone())
            .await
            .map_err(|e| failed(&e))?;
        self.js
            .update_stream(config)
            .await
            .map_err(|e| failed(&e))?;
        let store = self
            .js
            .get_key_value(bucket.name.clone())
            .await
            .map_err(|e| failed(&e))?;
        buckets.insert(bucket.name.clone(), store.clone());
        Ok(store)
    }

    /// Reads the durable consumer `spec` into `tx` until the stream ends or fails.
    async fn pump(&self, spec: &ConsumerSpec, tx: &mpsc::Sender<Delivery>) -> Result<(), BusError> {
        self.ensure_streams().await?;
        let stream = self
            .js
            .get_stream(stream_of(&spec.filter))
            .await
            .map_err(unavailable)?;
        let consumer: consumer::PullConsumer = stream
            .get_or_create_consumer(
                &spec.durable,
                consumer::pull::Config {
                    durable_name: Some(spec.durable.clone()),
                    filter_subject: spec.filter.clone(),
                    ack_policy: consumer::AckPolicy::Explicit,
                    ack_wait: ACK_WAIT,
                    max_ack_pending: 10_000,
                    num_replicas: self.replicas,
                    ..Default::default()
                },
            )
            .await
            .map_err(unavailable)?;
        let mut messages = consumer
            .stream()
            .max_messages_per_batch(1000)
            .messages()
            .await
            .map_err(unavailable)?;
        while let Some(next) = messages.next().await {
            match next {
                Ok(message) => {
                    let attempt = message.info().map_or(1, |i| i.delivered.max(1) as u64);
                    let (message, acker) = message.split();
                    let delivery = Delivery::new(
                        message.subject.to_string(),
                        message.payload,
                        attempt,
                        Box::new(NatsAcker(acker)),
                    );
                    if tx.send(delivery).await.is_err() {
                        return Ok(());
                    }
                }
                // Missed heartbeats while the server restarts: the stream recovers by itself.
                Err(e) => tracing::debug!(consumer = %spec.durable, error = %e, "pull consumer"),
            }
        }
        Err(unavailable("pull consumer stream ended"))
    }

    async fn watch_into(
        &self,
        bucket: &KvBucket,
        tx: &mpsc::Sender<KvEntry>,
    ) -> Result<(), BusError> {
        let store = self.bucket(bucket).await?;
        let mut watch = store.watch_with_history(">").await.map_err(unavailable)?;
        while let Some(entry) = watch.next().await {
            let entry = entry.map_err(unavailable)?;
            if entry.operation != kv::Operation::Put {
                continue;
            }
            let entry = KvEntry {
                key: entry.key,
                value: entry.value,
            };
            if tx.send(entry).await.is_err() {
                return Ok(());
            }
        }
        Err(unavailable("watch ended"))
    }
}

/// The stream holding the subjects of `filter`.
fn stream_of(filter: &str) -> &'static str {
    if filter.starts_with("hubmesh.dlq.") {
        DLQ_STREAM
    } else {
        STREAM
    }
}

struct NatsAcker(jetstream::message::Acker);

#[async_trait]
impl Acker for NatsAcker {
    async fn ack(&self) -> Result<(), BusError> {
        self.0.ack().await.map_err(unavailable)
    }

    async fn nak(&self, delay: Duration) -> Result<(), BusError> {
        self.0
            .ack_with(jetstream::AckKind::Nak(Some(delay)))
            .await
            .map_err(unavailable)
    }
}

/// Runs `attempt` again with backoff until it returns `Ok` (the subscriber is gone) or `closed`.
async fn keep_alive<F, Fut>(what: String, closed: impl Fn() -> bool, mut attempt: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = Result<(), BusError>>,
{
    let mut backoff = Backoff::new(Duration::from_millis(100), Duration::from_secs(5));
    loop {
        match attempt().await {
            Ok(()) => return,
            Err(e) => {
                if closed() {
                    return;
                }
                tracing::warn!(subscription = %what, error = %e, "bus subscription interrupted; retrying");
                tokio::time::sleep(backoff.next_delay()).await;
            }
        }
    }
}

#[async_trait]
impl Bus for NatsBus {
    async fn publish(&self, messages: Vec<Outgoing>) -> Vec<Result<(), BusError>> {
        if let Err(e) = self.0.ensure_streams().await {
            return messages.iter().map(|_| Err(e.clone())).collect();
        }
        // Send everything first, then wait for the acks: pipelining is what makes batches fast.
        let mut pending = Vec::with_capacity(messages.len());
        for m in messages {
            let publish = jetstream::message::PublishMessage::build()
                .payload(m.payload)
                .message_id(&m.msg_id);
            pending.push(self.0.js.send_publish(m.subject, publish).await);
        }
        join_all(pending.into_iter().map(|sent| async move {
            match sent {
                Ok(ack) => ack.await.map(|_| ()).map_err(unavailable),
                Err(e) => Err(unavailable(e)),
            }
        }))
        .await
    }

    fn consume(&self, spec: ConsumerSpec) -> mpsc::Receiver<Delivery> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let bus = self.0.clone();
        tokio::spawn(async move {
            let what = format!("consumer {}", spec.durable);
            keep_alive(what, || tx.is_closed(), || bus.pump(&spec, &tx)).await;
        });
        rx
    }

    async fn request(
        &self,
        subject: &str,
        payload: Bytes,
        timeout: Duration,
    ) -> Result<Bytes, BusError> {
        let timed_out = || BusError::Timeout {
            subject: subject.to_owned(),
            after: timeout,
        };
        let request = async_nats::Request::new()
            .payload(payload)
            .timeout(Some(timeout));
        let sent = tokio::time::timeout(
            timeout,
            self.0.client.send_request(subject.to_owned(), request),
        )
        .await
        .map_err(|_| timed_out())?;
        match sent {
            Ok(message) => Ok(message.payload),
            Err(e) => Err(match e.kind() {
                async_nats::RequestErrorKind::NoResponders => {
                    BusError::NoResponders(subject.to_owned())
                }
                async_nats::RequestErrorKind::TimedOut => timed_out(),
                _ => unavailable(e),
            }),
        }
    }

    fn serve(&self, subject: &str, group: &str) -> mpsc::Receiver<Request> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let client = self.0.client.clone();
        let (subject, group) = (subject.to_owned(), group.to_owned());
        tokio::spawn(async move {
            let what = format!("responder {subject}");
            keep_alive(
                what,
                || tx.is_closed(),
                || async {
                    let mut sub = client
                        .queue_subscribe(subject.clone(), group.clone())
                        .await
                        .map_err(unavailable)?;
                    while let Some(message) = sub.next().await {
                        let Some(reply) = message.reply else { continue };
                        let (request, answer) = Request::new(message.payload);
                        if tx.send(request).await.is_err() {
                            return Ok(());
                        }
                        let client = client.clone();
                        tokio::spawn(async move {
                            if let Ok(payload) = answer.await
                                && let Err(e) = client.publish(reply, payload).await
                            {
                                tracing::warn!(error = %e, "cannot send a reply");
                            }
                        });
                    }
                    Err(unavailable("subscription ended"))
                },
            )
            .await;
        });
        rx
    }

    async fn kv_put(&self, bucket: &KvBucket, key: &str, value: Bytes) -> Result<(), BusError> {
        let store = self.0.bucket(bucket).await?;
        store.put(key, value).await.map(|_| ()).map_err(unavailable)
    }

    async fn kv_get(&self, bucket: &KvBucket, key: &str) -> Result<Option<Bytes>, BusError> {
        let store = self.0.bucket(bucket).await?;
        store.get(key).await.map_err(unavailable)
    }

    fn kv_watch(&self, bucket: &KvBucket) -> mpsc::Receiver<KvEntry> {
        let (tx, rx) = mpsc::channel(CHANNEL);
        let bus = self.0.clone();
        let bucket = bucket.clone();
        tokio::spawn(async move {
            let what = format!("watch {}", bucket.name);
            keep_alive(what, || tx.is_closed(), || bus.watch_into(&bucket, &tx)).await;
        });
        rx
    }
}
