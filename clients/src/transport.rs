//! The transport traits the typed clients are generic over, and the raw records they move.
//!
//! A transport moves bytes only: the typed [`Producer`](crate::Producer) serializes before it
//! calls [`ProducerTransport::enqueue`], the typed [`Consumer`](crate::Consumer) deserializes what
//! [`ConsumerTransport::poll`] returns. Implementations: [`memory`](crate::memory) (the in-memory
//! broker) and `rdkafka` (feature `rdkafka`).

use crate::ClientError;
use bytes::Bytes;
use kcodec_codecs::Headers;
use std::fmt;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// A topic and partition, displayed as Kafka does: `orders-0`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct TopicPartition {
    /// Topic name.
    pub topic: String,
    /// Partition number, from 0.
    pub partition: i32,
}

impl TopicPartition {
    /// Builds a topic-partition.
    pub fn new(topic: impl Into<String>, partition: i32) -> Self {
        TopicPartition {
            topic: topic.into(),
            partition,
        }
    }
}

impl fmt::Display for TopicPartition {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}-{}", self.topic, self.partition)
    }
}

/// A serialized record on its way to a transport.
#[derive(Debug, Clone)]
pub struct OutgoingRecord<'a> {
    /// Destination topic.
    pub topic: &'a str,
    /// Explicit partition; `None` lets the transport's partitioner choose.
    pub partition: Option<i32>,
    /// Key bytes (`None` = null key).
    pub key: Option<Bytes>,
    /// Value bytes (`None` = null value, a tombstone).
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: &'a Headers,
    /// `CreateTime` in epoch ms; `None` = now.
    pub timestamp: Option<i64>,
}

/// Where a transport stored a record.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct Delivered {
    /// Partition.
    pub partition: i32,
    /// Offset in the partition.
    pub offset: i64,
    /// The stored timestamp in epoch ms, when the transport reports one.
    pub timestamp: Option<i64>,
}

/// A fetched record, still bytes.
#[derive(Debug, Clone)]
pub struct IncomingRecord {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in epoch ms, when the record has one.
    pub timestamp: Option<i64>,
    /// Key bytes (`None` = null).
    pub key: Option<Bytes>,
    /// Value bytes (`None` = null).
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Headers,
}

/// A change of a group member's assignment.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum RebalanceEvent {
    /// Partitions are being taken away (commit what was processed before they go).
    Revoked(Vec<TopicPartition>),
    /// Partitions were assigned.
    Assigned(Vec<TopicPartition>),
}

/// A rebalance callback: called on the thread that drives the consumer.
pub type RebalanceCallback = Box<dyn FnMut(&RebalanceEvent) + Send>;

/// The future a [`ProducerTransport`] returns for a record it accepted.
pub type DeliveryFuture =
    std::pin::Pin<Box<dyn Future<Output = Result<Delivered, ClientError>> + Send + 'static>>;

/// Sends serialized records.
pub trait ProducerTransport: Send + Sync + 'static {
    /// Hands a record to the transport. An error here means it was not accepted; the returned
    /// future resolves once the broker stored it (or gave up).
    fn enqueue(&self, record: OutgoingRecord<'_>) -> Result<DeliveryFuture, ClientError>;

    /// Waits until every accepted record is delivered or failed.
    fn flush(&self, timeout: Duration) -> Result<(), ClientError>;
}

/// Fetches serialized records, in a group or from assigned partitions.
pub trait ConsumerTransport: Send + 'static {
    /// Joins the consumer's group with a subscription to `topics`.
    fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError>;

    /// Reads `partitions` without group management, from their committed offsets (or the
    /// reset policy).
    fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError>;

    /// The next record, waiting up to `timeout`; `None` when none came. Runs group
    /// coordination (rebalance callbacks included).
    fn poll(
        &mut self,
        timeout: Duration,
    ) -> impl Future<Output = Result<Option<IncomingRecord>, ClientError>> + Send;

    /// Commits offsets (the next offset to read) synchronously.
    fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError>;

    /// The group's committed offsets for `partitions` (`None`: nothing committed).
    fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError>;

    /// Moves an assigned partition's position.
    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError>;

    /// The current assignment.
    fn assignment(&mut self) -> Result<Vec<TopicPartition>, ClientError>;

    /// Installs the rebalance callback; call before [`subscribe`](Self::subscribe).
    fn set_rebalance_callback(&mut self, callback: RebalanceCallback);
}
