//! The rdkafka transport (feature `rdkafka`): librdkafka's `FutureProducer` and `StreamConsumer`
//! under the typed clients.
//!
//! Configuration follows rdkafka's [`ClientConfig`] idiom: build one (or start from
//! [`producer_config`] / [`consumer_config`]) and pass it in. Producers default to
//! `partitioner=murmur2_random`, librdkafka's Java-compatible partitioner: a key goes to
//! `murmur2(key) % partitions` as with the Java client (and the in-memory broker), and keyless
//! records are spread randomly. Set `partitioner` yourself to override it.
//!
//! A consumer never outlives a `TopicPartitionList` taken from it here: every list is built and
//! dropped inside one call, since destroying a consumer while such a list is alive hangs
//! librdkafka.

use crate::ClientError;
use crate::transport::{
    ConsumerTransport, Delivered, DeliveryFuture, IncomingRecord, OutgoingRecord,
    ProducerTransport, RebalanceCallback, RebalanceEvent, TopicPartition,
};
use kcodec_codecs::{Header, Headers};
use parking_lot::Mutex;
pub use rdkafka::ClientConfig;
use rdkafka::Offset;
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer as _, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::message::{Header as KHeader, Headers as _, Message, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord, Producer as _};
use rdkafka::{ClientContext, TopicPartitionList};
use std::sync::Arc;
use std::time::Duration;

/// How long metadata calls (committed offsets, seeks) may take.
pub const REQUEST_TIMEOUT: Duration = Duration::from_secs(10);

/// A producer config for `bootstrap_servers` with the Java-compatible partitioner.
pub fn producer_config(bootstrap_servers: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap_servers)
        .set("partitioner", "murmur2_random");
    c
}

/// A consumer config for `bootstrap_servers` and `group.id`, with auto-commit off (the typed
/// consumer commits what it returned) and `auto.offset.reset=earliest`.
pub fn consumer_config(bootstrap_servers: &str, group_id: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap_servers)
        .set("group.id", group_id)
        .set("enable.auto.commit", "false")
        .set("auto.offset.reset", "earliest");
    c
}

/// A [`ProducerTransport`] over rdkafka's `FutureProducer`.
pub struct KafkaProducer {
    producer: FutureProducer,
}

impl std::fmt::Debug for KafkaProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaProducer").finish_non_exhaustive()
    }
}

impl KafkaProducer {
    /// Creates the producer; `partitioner` defaults to `murmur2_random`.
    pub fn new(config: &ClientConfig) -> Result<Self, ClientError> {
        let mut config = config.clone();
        if config.get("partitioner").is_none() {
            config.set("partitioner", "murmur2_random");
        }
        Ok(KafkaProducer {
            producer: config.create()?,
        })
    }

    /// rdkafka's producer underneath.
    pub fn inner(&self) -> &FutureProducer {
        &self.producer
    }
}

/// kcodec [`Headers`] as rdkafka's (in order, repeated keys kept; `None` when there are none,
/// so that no empty header block is sent).
pub fn to_kafka_headers(headers: &Headers) -> Option<OwnedHeaders> {
    if headers.is_empty() {
        return None;
    }
    let mut out = OwnedHeaders::new_with_capacity(headers.len());
    for h in headers.iter() {
        out = out.insert(KHeader {
            key: h.key.as_str(),
            value: h.value.as_deref(),
        });
    }
    Some(out)
}

impl ProducerTransport for KafkaProducer {
    fn enqueue(&self, record: OutgoingRecord<'_>) -> Result<DeliveryFuture, ClientError> {
        let mut fr: FutureRecord<'_, [u8], [u8]> = FutureRecord::to(record.topic);
        if let Some(k) = record.key.as_deref() {
            fr = fr.key(k);
        }
        if let Some(v) = record.value.as_deref() {
            fr = fr.payload(v);
        }
        if let Some(p) = record.partition {
            fr = fr.partition(p);
        }
        if let Some(ts) = record.timestamp {
            fr = fr.timestamp(ts);
        }
        if let Some(h) = to_kafka_headers(record.headers) {
            fr = fr.headers(h);
        }
        // librdkafka copies key and value here.
        let fut = self.producer.send_result(fr).map_err(|(e, _)| e)?;
        Ok(Box::pin(async move {
            match fut.await {
                Ok(Ok(d)) => Ok(Delivered {
                    partition: d.partition,
                    offset: d.offset,
                    timestamp: d.timestamp.to_millis(),
                }),
                Ok(Err((e, _))) => Err(ClientError::Kafka(e)),
                Err(_) => Err(ClientError::Cancelled("the producer was dropped")),
            }
        }))
    }

    fn flush(&self, timeout: Duration) -> Result<(), ClientError> {
        Ok(self.producer.flush(timeout)?)
    }
}

/// The consumer context: forwards rebalances to the callback.
pub struct KcodecContext {
    callback: Arc<Mutex<Option<RebalanceCallback>>>,
}

impl ClientContext for KcodecContext {}

fn tpl_to_vec(tpl: &TopicPartitionList) -> Vec<TopicPartition> {
    tpl.elements()
        .iter()
        .map(|e| TopicPartition::new(e.topic(), e.partition()))
        .collect()
}

impl ConsumerContext for KcodecContext {
    fn pre_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Revoke(tpl) = rebalance
            && let Some(cb) = self.callback.lock().as_mut()
        {
            cb(&RebalanceEvent::Revoked(tpl_to_vec(tpl)));
        }
    }

    fn post_rebalance(&self, _: &BaseConsumer<Self>, rebalance: &Rebalance<'_>) {
        if let Rebalance::Assign(tpl) = rebalance
            && let Some(cb) = self.callback.lock().as_mut()
        {
            cb(&RebalanceEvent::Assigned(tpl_to_vec(tpl)));
        }
    }
}

/// A [`ConsumerTransport`] over rdkafka's `StreamConsumer`.
pub struct KafkaConsumer {
    consumer: StreamConsumer<KcodecContext>,
    callback: Arc<Mutex<Option<RebalanceCallback>>>,
}

impl std::fmt::Debug for KafkaConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("KafkaConsumer").finish_non_exhaustive()
    }
}

impl KafkaConsumer {
    /// Creates the consumer from a config (see [`consumer_config`]).
    pub fn new(config: &ClientConfig) -> Result<Self, ClientError> {
        let callback = Arc::new(Mutex::new(None));
        let consumer = config.create_with_context(KcodecContext {
            callback: callback.clone(),
        })?;
        Ok(KafkaConsumer { consumer, callback })
    }

    /// rdkafka's consumer underneath. Drop every `TopicPartitionList` taken from it before
    /// dropping this consumer.
    pub fn inner(&self) -> &StreamConsumer<KcodecContext> {
        &self.consumer
    }
}

fn tpl_of(
    partitions: &[TopicPartition],
    offset: Offset,
) -> Result<TopicPartitionList, ClientError> {
    let mut tpl = TopicPartitionList::with_capacity(partitions.len());
    for tp in partitions {
        tpl.add_partition_offset(&tp.topic, tp.partition, offset)?;
    }
    Ok(tpl)
}

impl ConsumerTransport for KafkaConsumer {
    fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError> {
        Ok(self.consumer.subscribe(topics)?)
    }

    fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let tpl = tpl_of(partitions, Offset::Stored)?;
        Ok(self.consumer.assign(&tpl)?)
    }

    async fn poll(&mut self, timeout: Duration) -> Result<Option<IncomingRecord>, ClientError> {
        let msg = match tokio::time::timeout(timeout, self.consumer.recv()).await {
            Err(_) => return Ok(None),
            Ok(m) => m?,
        };
        let mut headers = Headers::new();
        if let Some(hs) = msg.headers() {
            for h in hs.iter() {
                headers.push(Header {
                    key: h.key.to_owned(),
                    value: h.value.map(bytes::Bytes::copy_from_slice),
                });
            }
        }
        Ok(Some(IncomingRecord {
            topic: Arc::from(msg.topic()),
            partition: msg.partition(),
            offset: msg.offset(),
            timestamp: msg.timestamp().to_millis(),
            key: msg.key().map(bytes::Bytes::copy_from_slice),
            value: msg.payload().map(bytes::Bytes::copy_from_slice),
            headers,
        }))
    }

    fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        let mut tpl = TopicPartitionList::with_capacity(offsets.len());
        for (tp, o) in offsets {
            tpl.add_partition_offset(&tp.topic, tp.partition, Offset::Offset(*o))?;
        }
        Ok(self.consumer.commit(&tpl, CommitMode::Sync)?)
    }

    fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError> {
        let tpl = tpl_of(partitions, Offset::Invalid)?;
        let got = self.consumer.committed_offsets(tpl, REQUEST_TIMEOUT)?;
        Ok(got
            .elements()
            .iter()
            .map(|e| {
                let o = match e.offset() {
                    Offset::Offset(o) => Some(o),
                    _ => None,
                };
                (TopicPartition::new(e.topic(), e.partition()), o)
            })
            .collect())
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        Ok(self.consumer.seek(
            &tp.topic,
            tp.partition,
            Offset::Offset(offset),
            REQUEST_TIMEOUT,
        )?)
    }

    fn assignment(&mut self) -> Result<Vec<TopicPartition>, ClientError> {
        let tpl = self.consumer.assignment()?;
        Ok(tpl_to_vec(&tpl))
    }

    fn set_rebalance_callback(&mut self, callback: RebalanceCallback) {
        *self.callback.lock() = Some(callback);
    }
}
