//! Kafka's record vocabulary, independent of codecs and transports: topic-partitions,
//! headers, the records producers send and consumers receive, and where a record landed.
//!
//! One type per concept for the whole workspace. The records are generic over key and value
//! and hold bytes by default: `kcodec-broker` stores [`ProducerRecord`] (`<Bytes, Bytes>`) and
//! hands out [`ConsumerRecord`] (`<Option<Bytes>, Option<Bytes>>`, null keys and values as
//! `None`); the typed clients send `ProducerRecord<K, V>` and receive `ConsumerRecord<K, V>`
//! of the same types; codecs read and write the same [`Headers`]. `kcodec-codecs`,
//! `kcodec-broker` and `kcodec-clients` re-export what they use, so these types are reached
//! through them too.
//!
//! ```
//! use kcodec_record::{Bytes, ProducerRecord};
//! use std::sync::Arc;
//!
//! let r: ProducerRecord = ProducerRecord::new("orders", Bytes::from("42 EUR"))
//!     .key(Bytes::from("alice"))
//!     .header("trace", "1")
//!     .timestamp(1_700_000_000_000);
//! assert_eq!(r.key.as_deref(), Some(&b"alice"[..]));
//!
//! // typed: the same type with other key and value types
//! let typed = ProducerRecord::new("orders", 42i64).key("alice".to_string());
//! assert_eq!(typed.value, Some(42));
//!
//! // many records, one topic name
//! let orders: Arc<str> = Arc::from("orders");
//! let batch: Vec<ProducerRecord> =
//!     (0..3).map(|i| ProducerRecord::new(orders.clone(), Bytes::from(format!("v{i}")))).collect();
//! assert!(batch.iter().all(|r| Arc::ptr_eq(&r.topic, &orders)));
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod headers;

pub use bytes::Bytes;
pub use headers::{Header, Headers};

use std::fmt;
use std::sync::Arc;

/// A topic and partition (`TopicPartition`), displayed as Kafka does: `orders-0`.
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

/// How a record's timestamp was set (topic config `message.timestamp.type`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum TimestampType {
    /// The producer's timestamp (or the producer's clock when it gave none).
    #[default]
    CreateTime,
    /// The broker's clock at append, overriding the producer's.
    LogAppendTime,
}

impl fmt::Display for TimestampType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            TimestampType::CreateTime => "CreateTime",
            TimestampType::LogAppendTime => "LogAppendTime",
        })
    }
}

/// A record to send (Java's `ProducerRecord<K, V>`); bytes by default, what the broker stores.
///
/// `key: None` is a null key (the partitioner then spreads records); `value: None` is a
/// tombstone. The topic is an `Arc<str>`: records built from one shared name
/// (`topic.clone()`) carry no per-record allocation, and the [`RecordMetadata`] of a send
/// hands the name back without a copy.
///
/// Nothing in a keyless record names the key type `K`: where the receiver does not fix it
/// (the broker's producer does: bytes; a typed producer whose key serializer handles several
/// types does not), name it, e.g. `ProducerRecord::<String, _>::new("t", v)`.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerRecord<K = Bytes, V = Bytes> {
    /// Destination topic.
    pub topic: Arc<str>,
    /// Explicit partition; wins over the key and the partitioner.
    pub partition: Option<i32>,
    /// The key; `None` is a null key.
    pub key: Option<K>,
    /// The value; `None` is a null value (a tombstone).
    pub value: Option<V>,
    /// Headers, in order; serializers may add to them (schema codecs with header-carried ids).
    pub headers: Headers,
    /// `CreateTime` in epoch ms; `None` means "the producer's clock now".
    pub timestamp: Option<i64>,
}

impl<K, V> ProducerRecord<K, V> {
    /// A keyless record with a value.
    pub fn new(topic: impl Into<Arc<str>>, value: V) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value),
            headers: Headers::new(),
            timestamp: None,
        }
    }

    /// A tombstone (null value) for `key`.
    pub fn tombstone(topic: impl Into<Arc<str>>, key: K) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: Some(key),
            value: None,
            headers: Headers::new(),
            timestamp: None,
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: K) -> Self {
        self.key = Some(key);
        self
    }

    /// Sets an explicit partition (a negative one is refused by every producer).
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Appends a header with a value (`headers.push` appends one with a null value).
    pub fn header(mut self, key: impl Into<String>, value: impl Into<Bytes>) -> Self {
        self.headers.add(key, value);
        self
    }

    /// Sets the `CreateTime` timestamp (epoch ms; a negative one is refused by every producer).
    pub fn timestamp(mut self, timestamp: i64) -> Self {
        self.timestamp = Some(timestamp);
        self
    }
}

/// Where a record landed (Java's `RecordMetadata`): what every producer returns.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RecordMetadata {
    /// Topic: the sent record's own name, handed back without a copy.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset within the partition.
    pub offset: i64,
    /// The stored timestamp in epoch ms (the broker's clock for `LogAppendTime` topics);
    /// `None` when the transport did not report it (Java's `RecordMetadata.hasTimestamp()`
    /// false). The in-memory broker always reports it.
    pub timestamp: Option<i64>,
}

/// A record as a consumer receives it (Java's `ConsumerRecord<K, V>`); bytes by default, null
/// keys and values as `None`: what the broker and the transports hand out. A typed consumer's
/// records have its deserialized types (a nullable one is an `Option<_>`).
///
/// From the in-memory broker, key, value and headers share the stored bytes: polling copies
/// no payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord<K = Option<Bytes>, V = Option<Bytes>> {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in epoch ms; `None` when the record has none (Java's `NO_TIMESTAMP`).
    pub timestamp: Option<i64>,
    /// What the timestamp means; `None` with no timestamp (Java's `NO_TIMESTAMP_TYPE`).
    pub timestamp_type: Option<TimestampType>,
    /// The key.
    pub key: K,
    /// The value.
    pub value: V,
    /// Headers.
    pub headers: Headers,
}

impl<K, V> ConsumerRecord<K, V> {
    /// The record's topic-partition.
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(&*self.topic, self.partition)
    }
}
