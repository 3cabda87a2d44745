//! Typed Kafka producers and consumers, one API over two transports.
//!
//! * [`Producer`] serializes keys and values with any [`kcodec_codecs::Serializer`] (one reused
//!   buffer per producer; schema codecs register once, asynchronously, then stay synchronous)
//!   and hands the bytes to a [`ProducerTransport`].
//! * [`Consumer`] fetches with a [`ConsumerTransport`] and deserializes; a record that fails to
//!   deserialize is never dropped silently: [`OnDeserializeError`] fails (default), skips it, or
//!   forwards it to a dead-letter topic, and [`DeserializationError`] carries its topic,
//!   partition, offset and raw bytes.
//! * Offsets follow Kafka's Java consumer on both transports: explicit commits, auto-commit
//!   (on by default, as `enable.auto.commit=true` in Kafka), the commit before partitions are
//!   revoked and [`Consumer::close`] commit the offset after the last record `poll`/`recv`
//!   returned per partition, never past a record fetched ahead but not yet returned. A rebalance
//!   callback set with [`ConsumerBuilder::on_rebalance_with`] can commit in a [`RebalanceContext`].
//! * [`Consumer::poll`] and [`Consumer::recv`] are cancel-safe: dropping them in `select!` or a
//!   timeout loses no record.
//! * Transports: [`memory`] (feature `memory`, default: the in-memory broker, no Kafka, no C
//!   toolchain) and `kafka` (feature `rdkafka`: librdkafka's `FutureProducer` and
//!   `StreamConsumer`, configured with rdkafka's `ClientConfig`, Java-compatible partitioning).
//!
//! ```
//! # #[cfg(feature = "memory")] {
//! use kcodec_clients::memory::{MemoryConsumer, MemoryProducer, broker::{Cluster, ConsumerConfig, NewTopic, OffsetReset}};
//! use kcodec_clients::{Consumer, Producer, ProducerRecord};
//! use kcodec_codecs::builtin::{I64Serde, StringSerde};
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let cluster = Cluster::builder().brokers(3).build();
//! cluster.create_topic(NewTopic::new("payments", 3, 3)).unwrap();
//!
//! let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, I64Serde);
//! producer.send(ProducerRecord::new("payments", 1250i64).key("alice".to_string())).await.unwrap();
//!
//! let config = ConsumerConfig::new("billing").auto_offset_reset(OffsetReset::Earliest);
//! let mut consumer: Consumer<String, i64, _> =
//!     Consumer::new(MemoryConsumer::new(&cluster, config).unwrap(), StringSerde, I64Serde);
//! consumer.subscribe(&["payments"]).unwrap();
//! let record = consumer.recv().await.unwrap();
//! assert_eq!((record.key.as_str(), record.value), ("alice", 1250));
//! consumer.commit().await.unwrap();
//! # });
//! # }
//! ```

#![warn(missing_docs)]

mod consumer;
mod error;
#[cfg(feature = "rdkafka")]
pub mod kafka;
#[cfg(feature = "memory")]
pub mod memory;
mod producer;
pub mod transport;

pub use consumer::{
    Consumer, ConsumerBuilder, DeadLetterQueue, OnDeserializeError, RebalanceContext,
};
pub use error::{ClientError, DeserializationError, ErrorKind, SendError};
/// Kafka's record types (from `kcodec-record`): the typed clients' records are these, generic
/// over key and value; the transports move them with their default `Bytes` types.
pub use kcodec_record::{ConsumerRecord, ProducerRecord, RecordMetadata, TimestampType};
pub use producer::{Delivery, Producer};
pub use transport::{
    ConsumerTransport, Delivered, ProducerTransport, Queued, RebalanceCommitter, RebalanceEvent,
    TopicPartition,
};
