//! An in-memory broker that behaves like Kafka, for tests and examples that need Kafka's
//! semantics without a Kafka.
//!
//! It stores byte arrays only (keys, values, headers) and knows no codec or schema. What it
//! reproduces:
//!
//! * **Topics** with partitions and replication factors checked against the broker count,
//!   Kafka's naming rules and error messages ([`Cluster`], [`NewTopic`], [`BrokerError`]).
//! * **Partitioning** exactly as the Java client: `murmur2` for keys, the KIP-794 uniform
//!   sticky partitioner by default, KIP-480 sticky and round-robin on request ([`partitioner`]).
//! * **Consumers** with `assign`/`subscribe`, async `poll` woken by appends (no busy-waiting),
//!   `seek`, `pause`/`resume`, commits and `auto.offset.reset` ([`Consumer`]).
//! * **Consumer groups**: joins, leaves, session and poll timeouts on the broker clock,
//!   `range`/`roundrobin`/`sticky`/`cooperative-sticky` assignors with Kafka's results,
//!   rebalance listeners, group states, offset retention ([`group`], [`assignor`]).
//! * **Lag** rows and the `kafka-consumer-groups --describe` table ([`lag`]).
//! * **Test controls**: a [`ManualClock`], injected produce errors, forced rebalances and
//!   record inspection.
//!
//! Concurrency: each partition's log has its own lock, held only for a push (a run of at most
//! a few thousand pushes for [`Producer::send_all`]) or a copy of `Bytes` handles (payloads are
//! shared, never copied, on poll); the group coordinator sits behind one mutex off the record
//! path.
//!
//! ```
//! use kcodec_broker::{Bytes, Cluster, ConsumerConfig, NewTopic, OffsetReset, ProducerConfig, ProducerRecord};
//! use std::time::Duration;
//!
//! # tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap().block_on(async {
//! let cluster = Cluster::builder().brokers(3).build();
//! cluster.create_topic(NewTopic::new("orders", 3, 3)).unwrap();
//!
//! let producer = cluster.producer(ProducerConfig::default());
//! let md = producer.send(ProducerRecord::new("orders", Bytes::from("42 EUR")).key(Bytes::from("alice"))).unwrap();
//! assert_eq!(md.partition, kcodec_broker::partitioner::partition_for_key(b"alice", 3));
//!
//! let mut consumer = cluster
//!     .consumer(ConsumerConfig::new("billing").auto_offset_reset(OffsetReset::Earliest))
//!     .unwrap();
//! consumer.subscribe(["orders"]).unwrap();
//! let records = consumer.poll(Duration::from_secs(1)).await.unwrap();
//! assert_eq!(records[0].value.as_deref(), Some(&b"42 EUR"[..]));
//! consumer.commit_sync().unwrap();
//!
//! let rows = cluster.describe_group_offsets("billing").unwrap();
//! let row = rows.iter().find(|r| r.partition == Some(md.partition)).unwrap();
//! assert_eq!((row.current_offset, row.lag), (Some(1), Some(0)));
//! # });
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

pub mod assignor;
mod clock;
mod cluster;
mod consumer;
mod error;
mod fault;
pub mod group;
pub mod lag;
mod log;
pub mod partitioner;
mod producer;
mod record;
mod sent;

pub use assignor::Assignor;
pub use bytes::Bytes;
pub use clock::{Clock, ManualClock};
pub use cluster::{
    Cluster, ClusterBuilder, DEFAULT_OFFSETS_RETENTION, MAX_PARTITIONS_PER_TOPIC,
    MAX_TOPIC_NAME_LENGTH, NewTopic, PartitionDescription, TopicDescription, validate_topic_name,
};
pub use consumer::{Consumer, ConsumerConfig, OffsetReset, RebalanceContext, RebalanceListener};
pub use error::{BrokerError, InvalidValue, ProtocolMismatch, Result};
pub use fault::InjectedErrors;
pub use group::{GroupDescription, GroupListing, GroupState, MemberDescription, OffsetAndMetadata};
pub use lag::{LagRow, format_lag_table};
pub use partitioner::PartitionerKind;
pub use producer::{Producer, ProducerConfig};
pub use record::{
    ConsumerRecord, Header, Headers, ProducerRecord, RecordMetadata, TimestampType, TopicPartition,
};
pub use sent::{SendResults, SendResultsIter};
