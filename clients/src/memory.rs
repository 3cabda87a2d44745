//! The in-memory transport: [`kcodec_broker`]'s producer and consumer under the typed clients.
//!
//! The broker stores the `Bytes` the producer hands it (no copy), partitions keys with Kafka's
//! murmur2 exactly as the Java client does, and runs consumer groups with rebalances and
//! commits. [`broker`] re-exports the whole broker crate for cluster administration (topics,
//! group descriptions, the lag table).

use crate::ClientError;
use crate::transport::{
    ConsumerTransport, Delivered, DeliveryFuture, IncomingRecord, OutgoingRecord,
    ProducerTransport, RebalanceCallback, RebalanceEvent, TopicPartition,
};
pub use kcodec_broker as broker;
use kcodec_broker::{Cluster, ConsumerConfig, ProducerConfig, RebalanceContext, RebalanceListener};
use kcodec_codecs::{Header, Headers};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// A [`ProducerTransport`] over the in-memory broker.
#[derive(Debug)]
pub struct MemoryProducer {
    producer: kcodec_broker::Producer,
}

impl MemoryProducer {
    /// A producer with the Java client's defaults (murmur2 for keys, uniform sticky without).
    pub fn new(cluster: &Cluster) -> Self {
        Self::with_config(cluster, ProducerConfig::default())
    }

    /// A producer with a broker producer config.
    pub fn with_config(cluster: &Cluster, config: ProducerConfig) -> Self {
        MemoryProducer {
            producer: cluster.producer(config),
        }
    }
}

impl ProducerTransport for MemoryProducer {
    fn enqueue(&self, record: OutgoingRecord<'_>) -> Result<DeliveryFuture, ClientError> {
        let rec = kcodec_broker::ProducerRecord {
            topic: record.topic.into(),
            partition: record.partition,
            key: record.key,
            value: record.value,
            headers: record
                .headers
                .iter()
                .map(|h| kcodec_broker::Header::new(h.key.clone(), h.value.clone()))
                .collect(),
            timestamp: record.timestamp,
        };
        let result = self
            .producer
            .send(rec)
            .map(|md| Delivered {
                partition: md.partition,
                offset: md.offset,
                timestamp: Some(md.timestamp),
            })
            .map_err(ClientError::from);
        Ok(Box::pin(std::future::ready(result)))
    }

    fn flush(&self, _timeout: Duration) -> Result<(), ClientError> {
        self.producer.flush();
        Ok(())
    }
}

type SharedCallback = Arc<Mutex<Option<RebalanceCallback>>>;

struct Listener(SharedCallback);

fn tps(partitions: &[kcodec_broker::TopicPartition]) -> Vec<TopicPartition> {
    partitions
        .iter()
        .map(|tp| TopicPartition::new(tp.topic.as_str(), tp.partition))
        .collect()
}

impl RebalanceListener for Listener {
    fn on_partitions_revoked(
        &mut self,
        _ctx: &mut RebalanceContext<'_>,
        partitions: &[kcodec_broker::TopicPartition],
    ) {
        if let Some(cb) = self.0.lock().as_mut() {
            cb(&RebalanceEvent::Revoked(tps(partitions)));
        }
    }

    fn on_partitions_assigned(
        &mut self,
        _ctx: &mut RebalanceContext<'_>,
        partitions: &[kcodec_broker::TopicPartition],
    ) {
        if let Some(cb) = self.0.lock().as_mut() {
            cb(&RebalanceEvent::Assigned(tps(partitions)));
        }
    }
}

/// A [`ConsumerTransport`] over the in-memory broker.
pub struct MemoryConsumer {
    consumer: kcodec_broker::Consumer,
    buffered: VecDeque<kcodec_broker::ConsumerRecord>,
    callback: SharedCallback,
}

impl std::fmt::Debug for MemoryConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryConsumer")
            .field("client_id", &self.consumer.client_id())
            .field("buffered", &self.buffered.len())
            .finish_non_exhaustive()
    }
}

impl MemoryConsumer {
    /// A consumer with a broker consumer config (`ConsumerConfig::new(group)` for a group).
    pub fn new(cluster: &Cluster, config: ConsumerConfig) -> Result<Self, ClientError> {
        Ok(MemoryConsumer {
            consumer: cluster.consumer(config)?,
            buffered: VecDeque::new(),
            callback: Arc::new(Mutex::new(None)),
        })
    }

    /// The broker's consumer underneath.
    pub fn inner(&self) -> &kcodec_broker::Consumer {
        &self.consumer
    }

    /// Closes the consumer: it leaves its group (revoking its partitions) at once.
    pub fn close(self) {
        self.consumer.close();
    }
}

fn broker_tp(tp: &TopicPartition) -> kcodec_broker::TopicPartition {
    kcodec_broker::TopicPartition::new(tp.topic.as_str(), tp.partition)
}

impl ConsumerTransport for MemoryConsumer {
    fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError> {
        self.buffered.clear();
        let listener = Listener(self.callback.clone());
        Ok(self
            .consumer
            .subscribe_with_listener(topics.iter().copied(), Box::new(listener))?)
    }

    fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.buffered.clear();
        Ok(self.consumer.assign(partitions.iter().map(broker_tp))?)
    }

    async fn poll(&mut self, timeout: Duration) -> Result<Option<IncomingRecord>, ClientError> {
        // Group coordination only runs in the broker's poll, so the buffer is drained before
        // polling again: no record of a partition revoked meanwhile is ever returned.
        if self.buffered.is_empty() {
            self.buffered.extend(self.consumer.poll(timeout).await?);
        }
        Ok(self.buffered.pop_front().map(|r| {
            let mut headers = Headers::new();
            for h in r.headers.iter() {
                headers.push(Header {
                    key: h.key.clone(),
                    value: h.value.clone(),
                });
            }
            IncomingRecord {
                topic: r.topic,
                partition: r.partition,
                offset: r.offset,
                timestamp: Some(r.timestamp),
                key: r.key,
                value: r.value,
                headers,
            }
        }))
    }

    fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        let offsets: Vec<_> = offsets.iter().map(|(tp, o)| (broker_tp(tp), *o)).collect();
        Ok(self.consumer.commit_offsets(&offsets)?)
    }

    fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError> {
        partitions
            .iter()
            .map(|tp| {
                let c = self.consumer.committed(&broker_tp(tp))?;
                Ok((tp.clone(), c.map(|c| c.offset)))
            })
            .collect()
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        let btp = broker_tp(tp);
        self.buffered
            .retain(|r| !(*r.topic == *tp.topic && r.partition == tp.partition));
        Ok(self.consumer.seek(&btp, offset)?)
    }

    fn assignment(&mut self) -> Result<Vec<TopicPartition>, ClientError> {
        Ok(tps(&self.consumer.assignment()))
    }

    fn set_rebalance_callback(&mut self, callback: RebalanceCallback) {
        *self.callback.lock() = Some(callback);
    }
}
