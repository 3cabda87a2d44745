//! The in-memory broker over Kafka's wire protocol.
//!
//! [`serve`] puts a [`kcodec_broker::Cluster`] behind TCP listeners that speak Kafka's
//! protocol, so any Kafka client (rdkafka, Confluent's clients, kcat, a Java service) can
//! produce to it, consume from it and administer it, while the test that started it keeps the
//! same cluster handle: its clock, its fault injection and its inspection apply to what the
//! clients see.
//!
//! One listener per broker of the cluster (node ids `0..brokers`), each advertised in the
//! metadata it answers, with partition leaders and replicas as the cluster places them.
//!
//! Implemented (versions as ApiVersions advertises them): Produce v3–12 (record batches v2,
//! gzip/snappy/lz4/zstd, `acks` 0/1/-1, idempotent producers), Fetch v4–12 (long poll),
//! ListOffsets v1–10, Metadata v0–13 (auto-creation as the cluster is configured),
//! ApiVersions v0–4, CreateTopics v2–7, DeleteTopics v1–6, InitProducerId v0–5,
//! DescribeConfigs v1–4, CreatePartitions v0–3, DescribeCluster v0–2. Transactions are not
//! implemented.
//!
//! Requests on one connection are answered in order, one at a time, as Kafka does (a long
//! `Fetch` holds that connection's later requests back; clients use several connections).
//! A request the front end does not implement, or a version it does not support, is answered
//! with `UNSUPPORTED_VERSION`; the connection stays open. A frame larger than
//! [`MAX_REQUEST_SIZE`] (Kafka's `socket.request.max.bytes`) or a request header that does not
//! parse closes the connection, as Kafka does.
//!
//! ```no_run
//! use kcodec_broker::{Cluster, NewTopic};
//!
//! # async fn run() -> Result<(), kcodec_kafka_server::Error> {
//! let cluster = Cluster::builder().brokers(3).build();
//! cluster.create_topic(NewTopic::new("orders", 3, 3)).unwrap();
//! let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0").await?;
//! // point any Kafka client at it
//! let bootstrap_servers: String = server.bootstrap();
//! # let _ = bootstrap_servers;
//! server.shutdown().await;
//! # Ok(()) }
//! ```

#![warn(missing_docs)]
#![forbid(unsafe_code)]

mod api;
mod conn;
mod error;
#[cfg(fuzzing)]
#[doc(hidden)]
pub mod fuzzing;
mod records;
mod server;

pub use api::TOPIC_CONFIG_NAMES;
pub use conn::MAX_REQUEST_SIZE;
pub use error::Error;
pub use server::{Server, serve};
