//! The typed consumer.

use crate::transport::{
    ConsumerTransport, DeliveryFuture, IncomingRecord, OutgoingRecord, ProducerTransport,
    RebalanceCallback, RebalanceEvent, TopicPartition,
};
use crate::{ClientError, DeserializationError};
use bytes::Bytes;
use kcodec_codecs::{DeserializeContext, Deserializer, Headers, Target, resolve};
use parking_lot::Mutex;
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

/// A fetched record with its key and value deserialized.
#[derive(Debug, Clone, PartialEq)]
pub struct ConsumerRecord<K, V> {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in epoch ms, when the record has one.
    pub timestamp: Option<i64>,
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// Headers.
    pub headers: Headers,
}

impl<K, V> ConsumerRecord<K, V> {
    /// The record's topic and partition.
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(&*self.topic, self.partition)
    }
}

/// Sends raw records to a dead-letter topic (object-safe view of a [`ProducerTransport`]).
trait DeadLetterSink: Send + Sync {
    fn enqueue(&self, record: OutgoingRecord<'_>) -> Result<DeliveryFuture, ClientError>;
}

impl<P: ProducerTransport> DeadLetterSink for P {
    fn enqueue(&self, record: OutgoingRecord<'_>) -> Result<DeliveryFuture, ClientError> {
        ProducerTransport::enqueue(self, record)
    }
}

/// A dead-letter topic and the transport that writes to it.
///
/// A record that fails to deserialize is forwarded there with its key and value bytes and
/// headers unchanged, plus the headers `kcodec.dlt.topic`, `kcodec.dlt.partition`,
/// `kcodec.dlt.offset` (decimal text) and `kcodec.dlt.error` (the error chain as text).
#[derive(Clone)]
pub struct DeadLetterQueue {
    topic: String,
    sink: Arc<dyn DeadLetterSink>,
}

impl std::fmt::Debug for DeadLetterQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetterQueue")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl DeadLetterQueue {
    /// Dead letters go to `topic` through `transport`.
    pub fn new(topic: impl Into<String>, transport: impl ProducerTransport) -> Self {
        DeadLetterQueue {
            topic: topic.into(),
            sink: Arc::new(transport),
        }
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

/// What the consumer does with a record that fails to deserialize.
#[derive(Debug, Clone, Default)]
pub enum OnDeserializeError {
    /// Return [`ClientError::Deserialization`] from `recv`; the record is not marked consumed,
    /// so [`Consumer::commit`] does not pass it (the default). The fetch position has moved
    /// past it: the next `recv` returns the record after it; `seek` to its offset to re-read it.
    #[default]
    Fail,
    /// Skip it (marked consumed; counted in [`Consumer::skipped`]).
    Skip,
    /// Forward it to a dead-letter topic, then go on (marked consumed once delivered).
    DeadLetter(DeadLetterQueue),
}

type BoxDe<T> = Box<dyn Deserializer<T> + Send + Sync>;

/// A typed consumer: fetches with its transport, deserializes keys and values.
///
/// `K`/`V` are the key and value types; a nullable key or value is an `Option<_>` with a
/// deserializer that maps null to `None` (the built-ins do).
pub struct Consumer<K, V, T> {
    transport: T,
    key_de: BoxDe<K>,
    value_de: BoxDe<V>,
    policy: OnDeserializeError,
    consumed: HashMap<TopicPartition, i64>,
    events: Arc<Mutex<Vec<RebalanceEvent>>>,
    skipped: u64,
    dead_lettered: u64,
}

impl<K, V, T: std::fmt::Debug> std::fmt::Debug for Consumer<K, V, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("transport", &self.transport)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Consumer`].
pub struct ConsumerBuilder<K, V, T> {
    transport: T,
    key_de: BoxDe<K>,
    value_de: BoxDe<V>,
    policy: OnDeserializeError,
    callback: Option<RebalanceCallback>,
}

impl<K, V, T: ConsumerTransport> ConsumerBuilder<K, V, T> {
    /// The policy for records that fail to deserialize (default: fail).
    pub fn on_deserialize_error(mut self, policy: OnDeserializeError) -> Self {
        self.policy = policy;
        self
    }

    /// A callback for partitions assigned and revoked in group rebalances.
    pub fn on_rebalance(mut self, callback: impl FnMut(&RebalanceEvent) + Send + 'static) -> Self {
        self.callback = Some(Box::new(callback));
        self
    }

    /// Builds the consumer (not yet subscribed or assigned).
    pub fn build(self) -> Consumer<K, V, T> {
        let mut transport = self.transport;
        let events = Arc::new(Mutex::new(Vec::new()));
        let sink = events.clone();
        let mut user = self.callback;
        transport.set_rebalance_callback(Box::new(move |e: &RebalanceEvent| {
            sink.lock().push(e.clone());
            if let Some(cb) = user.as_mut() {
                cb(e);
            }
        }));
        Consumer {
            transport,
            key_de: self.key_de,
            value_de: self.value_de,
            policy: self.policy,
            consumed: HashMap::new(),
            events,
            skipped: 0,
            dead_lettered: 0,
        }
    }
}

impl<K, V, T: ConsumerTransport> Consumer<K, V, T> {
    /// A builder over `transport` with a key and a value deserializer.
    pub fn builder(
        transport: T,
        key_deserializer: impl Deserializer<K> + Send + Sync + 'static,
        value_deserializer: impl Deserializer<V> + Send + Sync + 'static,
    ) -> ConsumerBuilder<K, V, T> {
        ConsumerBuilder {
            transport,
            key_de: Box::new(key_deserializer),
            value_de: Box::new(value_deserializer),
            policy: OnDeserializeError::Fail,
            callback: None,
        }
    }

    /// A consumer with the default policy and no rebalance callback.
    pub fn new(
        transport: T,
        key_deserializer: impl Deserializer<K> + Send + Sync + 'static,
        value_deserializer: impl Deserializer<V> + Send + Sync + 'static,
    ) -> Self {
        Self::builder(transport, key_deserializer, value_deserializer).build()
    }

    /// Joins the group with a subscription.
    pub fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError> {
        self.transport.subscribe(topics)
    }

    /// Reads `partitions` without a group subscription.
    pub fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.consumed.clear();
        self.transport.assign(partitions)
    }

    /// The next record, waiting as long as it takes.
    pub async fn recv(&mut self) -> Result<ConsumerRecord<K, V>, ClientError> {
        loop {
            if let Some(r) = self.poll(Duration::from_secs(1)).await? {
                return Ok(r);
            }
        }
    }

    /// The next record, or `None` when none came within `timeout`.
    pub async fn poll(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<ConsumerRecord<K, V>>, ClientError> {
        let deadline = tokio::time::Instant::now() + timeout;
        loop {
            let left = deadline.saturating_duration_since(tokio::time::Instant::now());
            let raw = self.transport.poll(left).await;
            self.apply_rebalances();
            let Some(raw) = raw? else { return Ok(None) };
            match self.decode(&raw).await {
                Ok(rec) => {
                    self.mark(&raw);
                    return Ok(Some(rec));
                }
                Err((target, source)) => {
                    let err = DeserializationError {
                        topic: raw.topic.to_string(),
                        partition: raw.partition,
                        offset: raw.offset,
                        target,
                        key: raw.key.clone(),
                        value: raw.value.clone(),
                        headers: raw.headers.clone(),
                        source,
                    };
                    match &self.policy {
                        OnDeserializeError::Fail => {
                            return Err(ClientError::Deserialization(Box::new(err)));
                        }
                        OnDeserializeError::Skip => {
                            self.skipped += 1;
                            self.mark(&raw);
                        }
                        OnDeserializeError::DeadLetter(dlq) => {
                            let dlq = dlq.clone();
                            dead_letter(&dlq, &raw, &err).await?;
                            self.dead_lettered += 1;
                            self.mark(&raw);
                        }
                    }
                }
            }
            if tokio::time::Instant::now() >= deadline {
                return Ok(None);
            }
        }
    }

    /// The records as a `Stream` (each item as [`recv`](Self::recv) returns it).
    pub fn stream(
        &mut self,
    ) -> impl futures_util::Stream<Item = Result<ConsumerRecord<K, V>, ClientError>> + '_ {
        futures_util::stream::unfold(self, |c| async move {
            let r = c.recv().await;
            Some((r, c))
        })
    }

    async fn decode(
        &self,
        raw: &IncomingRecord,
    ) -> Result<ConsumerRecord<K, V>, (Target, kcodec_codecs::Error)> {
        let ctx = DeserializeContext::new(&raw.topic, Target::Key, &raw.headers);
        let key = resolve::deserialize(&*self.key_de, raw.key.as_ref(), &ctx)
            .await
            .map_err(|e| (Target::Key, e))?;
        let ctx = DeserializeContext::new(&raw.topic, Target::Value, &raw.headers);
        let value = resolve::deserialize(&*self.value_de, raw.value.as_ref(), &ctx)
            .await
            .map_err(|e| (Target::Value, e))?;
        Ok(ConsumerRecord {
            topic: raw.topic.clone(),
            partition: raw.partition,
            offset: raw.offset,
            timestamp: raw.timestamp,
            key,
            value,
            headers: raw.headers.clone(),
        })
    }

    fn mark(&mut self, raw: &IncomingRecord) {
        let tp = TopicPartition::new(&*raw.topic, raw.partition);
        self.consumed.insert(tp, raw.offset + 1);
    }

    fn apply_rebalances(&mut self) {
        let events = std::mem::take(&mut *self.events.lock());
        for e in events {
            if let RebalanceEvent::Revoked(tps) = e {
                for tp in tps {
                    self.consumed.remove(&tp);
                }
            }
        }
    }

    /// Commits, for each partition, the offset after the last record `recv` returned (or
    /// skipped / dead-lettered) from it.
    pub fn commit(&mut self) -> Result<(), ClientError> {
        self.apply_rebalances();
        if self.consumed.is_empty() {
            return Ok(());
        }
        let offsets: Vec<_> = self
            .consumed
            .iter()
            .map(|(tp, o)| (tp.clone(), *o))
            .collect();
        self.transport.commit(&offsets)
    }

    /// Commits the offset after `record`.
    pub fn commit_record(&mut self, record: &ConsumerRecord<K, V>) -> Result<(), ClientError> {
        self.transport
            .commit(&[(record.topic_partition(), record.offset + 1)])
    }

    /// Commits explicit offsets (each the next offset to read).
    pub fn commit_offsets(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        self.transport.commit(offsets)
    }

    /// The group's committed offsets.
    pub fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError> {
        self.transport.committed(partitions)
    }

    /// The next offset `recv` would return per partition it has returned records from.
    pub fn consumed_positions(&self) -> Vec<(TopicPartition, i64)> {
        let mut v: Vec<_> = self.consumed.iter().map(|(t, o)| (t.clone(), *o)).collect();
        v.sort();
        v
    }

    /// Moves a partition's position.
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        self.transport.seek(tp, offset)
    }

    /// The current assignment.
    pub fn assignment(&mut self) -> Result<Vec<TopicPartition>, ClientError> {
        let mut v = self.transport.assignment()?;
        v.sort();
        Ok(v)
    }

    /// How many records the `Skip` policy skipped.
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// How many records went to the dead-letter topic.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }
}

async fn dead_letter(
    dlq: &DeadLetterQueue,
    raw: &IncomingRecord,
    err: &DeserializationError,
) -> Result<(), ClientError> {
    let mut headers = raw.headers.clone();
    headers.add("kcodec.dlt.topic", Bytes::from(raw.topic.to_string()));
    headers.add(
        "kcodec.dlt.partition",
        Bytes::from(raw.partition.to_string()),
    );
    headers.add("kcodec.dlt.offset", Bytes::from(raw.offset.to_string()));
    headers.add("kcodec.dlt.error", Bytes::from(error_chain(err)));
    let delivery = dlq.sink.enqueue(OutgoingRecord {
        topic: &dlq.topic,
        partition: None,
        key: raw.key.clone(),
        value: raw.value.clone(),
        headers: &headers,
        timestamp: raw.timestamp,
    })?;
    delivery.await.map(|_| ())
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}
