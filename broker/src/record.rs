//! Records as producers send them, the broker stores them and consumers receive them.

use bytes::Bytes;
use std::fmt;
use std::ops::Deref;
use std::sync::Arc;

/// A topic and partition (`TopicPartition`), displayed as Kafka does: `orders-0`. The typed
/// clients use this type too (`kcodec_clients::TopicPartition`).
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

/// A record header. Keys may repeat; order is kept (Kafka's `RecordHeader`).
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Header {
    /// Header key.
    pub key: String,
    /// Header value; `None` is a null value, distinct from empty.
    pub value: Option<Bytes>,
}

impl Header {
    /// Builds a header.
    pub fn new(key: impl Into<String>, value: Option<Bytes>) -> Self {
        Header {
            key: key.into(),
            value,
        }
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

/// A record to send (`ProducerRecord`).
///
/// The topic is an `Arc<str>`, like the topic of [`RecordMetadata`] and [`ConsumerRecord`]:
/// records built from one shared name (`topic.clone()`) carry no per-record allocation, and
/// [`crate::Producer::send`] hands the record's name back in the metadata without copying it.
/// `&str` and `String` convert too (allocating one name per record).
///
/// ```
/// use kcodec_broker::{Header, ProducerRecord};
/// use std::sync::Arc;
/// let r = ProducerRecord::new("orders", "v")
///     .key("k")
///     .header(Header::new("trace", Some("1".into())))
///     .timestamp(1_700_000_000_000);
/// assert_eq!(r.key.as_deref(), Some(&b"k"[..]));
///
/// // many records, one topic name
/// let orders: Arc<str> = Arc::from("orders");
/// let batch: Vec<_> = (0..3).map(|i| ProducerRecord::new(orders.clone(), format!("v{i}"))).collect();
/// assert!(batch.iter().all(|r| Arc::ptr_eq(&r.topic, &orders)));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerRecord {
    /// Destination topic.
    pub topic: Arc<str>,
    /// Explicit partition; wins over the key and the partitioner.
    pub partition: Option<i32>,
    /// Key bytes; `None` is a null key (sticky/round-robin partitioning), empty is a real key.
    pub key: Option<Bytes>,
    /// Value bytes; `None` is a null value (a tombstone).
    pub value: Option<Bytes>,
    /// Headers, in order.
    pub headers: Vec<Header>,
    /// `CreateTime` in epoch ms; `None` means "the producer's clock now".
    pub timestamp: Option<i64>,
}

impl ProducerRecord {
    /// A keyless record with a value.
    pub fn new(topic: impl Into<Arc<str>>, value: impl Into<Bytes>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: Some(value.into()),
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// A record with a null value (tombstone) and no key yet.
    pub fn tombstone(topic: impl Into<Arc<str>>) -> Self {
        ProducerRecord {
            topic: topic.into(),
            partition: None,
            key: None,
            value: None,
            headers: Vec::new(),
            timestamp: None,
        }
    }

    /// Sets the key.
    pub fn key(mut self, key: impl Into<Bytes>) -> Self {
        self.key = Some(key.into());
        self
    }

    /// Sets an explicit partition.
    pub fn partition(mut self, partition: i32) -> Self {
        self.partition = Some(partition);
        self
    }

    /// Appends a header.
    pub fn header(mut self, header: Header) -> Self {
        self.headers.push(header);
        self
    }

    /// Sets the `CreateTime` timestamp (epoch ms).
    pub fn timestamp(mut self, ts: i64) -> Self {
        self.timestamp = Some(ts);
        self
    }
}

/// Where a record landed (Java's `RecordMetadata`): what the broker's [`crate::Producer`] and
/// the typed clients' producers (`kcodec_clients::RecordMetadata` is this type) return.
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

/// A record's headers as stored: shared, immutable, cheap to clone. Derefs to `[Header]`.
#[derive(Debug, Clone, Default, PartialEq, Eq)]
pub struct Headers(Option<Arc<Vec<Header>>>);

impl Headers {
    pub(crate) fn from_vec(v: Vec<Header>) -> Self {
        if v.is_empty() {
            Headers(None)
        } else {
            // the producer's `Vec` moves into the `Arc` (no copy); one pointer wide, so a
            // stored record stays at 80 bytes
            Headers(Some(Arc::new(v)))
        }
    }

    /// The last header with this key (Kafka's `Headers.lastHeader`).
    pub fn last_header(&self, key: &str) -> Option<&Header> {
        self.iter().rev().find(|h| h.key == key)
    }

    /// All headers with this key, in order (Kafka's `Headers.headers(key)`).
    pub fn headers<'a>(&'a self, key: &'a str) -> impl Iterator<Item = &'a Header> + 'a {
        self.iter().filter(move |h| h.key == key)
    }
}

impl Deref for Headers {
    type Target = [Header];
    fn deref(&self) -> &[Header] {
        match &self.0 {
            Some(h) => h,
            None => &[],
        }
    }
}

/// A record as a consumer receives it (`ConsumerRecord`). Key, value and headers share the
/// broker's stored bytes: polling copies no payload.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsumerRecord {
    /// Topic.
    pub topic: Arc<str>,
    /// Partition.
    pub partition: i32,
    /// Offset.
    pub offset: i64,
    /// Timestamp in epoch ms.
    pub timestamp: i64,
    /// What the timestamp means.
    pub timestamp_type: TimestampType,
    /// Key bytes (`None` = null).
    pub key: Option<Bytes>,
    /// Value bytes (`None` = null).
    pub value: Option<Bytes>,
    /// Headers.
    pub headers: Headers,
}

impl ConsumerRecord {
    /// The record's topic-partition.
    pub fn topic_partition(&self) -> TopicPartition {
        TopicPartition::new(&*self.topic, self.partition)
    }
}

/// One stored record: 80 bytes plus the shared payload buffers.
#[derive(Debug, Clone)]
pub(crate) struct StoredRecord {
    pub(crate) timestamp: i64,
    pub(crate) key: Option<Bytes>,
    pub(crate) value: Option<Bytes>,
    pub(crate) headers: Headers,
}

const _: () = assert!(std::mem::size_of::<StoredRecord>() == 80);
