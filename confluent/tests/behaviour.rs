//! The clients' behaviour suite (`clients/tests/suite/mod.rs`, included by path: the same
//! scenarios as the in-memory and rdkafka transports) on the confluent-kafka transport, plus
//! what is particular to it (partitioning, order under back-pressure, errors).
//!
//! - Produce and manual-assign scenarios run against the broker at `KAFKA_BOOTSTRAP` (tansu in
//!   CI, with `metadata.cluster.check.enable=false`: tansu drops an `ApiVersions` v5 request
//!   carrying a cluster id). Without it they print why they skip, and fail if
//!   `KCODEC_REQUIRE_KAFKA=1`.
//! - Group scenarios need a KIP-848 broker (confluent-kafka speaks only
//!   `group.protocol=consumer`, which tansu lacks): they run against `KCODEC_KIP848_BOOTSTRAP`
//!   when it is set, and otherwise against kcodec's own broker served in-process over Kafka's
//!   protocol (`kcodec_kafka_server::serve`, one cluster per test), so they always run.
#![cfg(feature = "transport")]

#[path = "../../clients/tests/suite/mod.rs"]
#[macro_use]
mod suite;

use confluent_kafka::admin::{AdminClient, AdminClientConfig, NewTopic};
use kcodec_broker::Cluster;
use kcodec_broker::group::protocol::GroupSettings;
use kcodec_broker::partitioner::partition_for_key;
use kcodec_clients::{
    Consumer, ErrorKind, Producer, ProducerRecord, ProducerTransport, TopicPartition,
};
use kcodec_codecs::builtin::{I64Serde, StringSerde};
use kcodec_confluent::transport::{ConfluentConsumer, ConfluentProducer, Properties};
use kcodec_kafka_server::Server;
use std::time::{Duration, Instant};
use suite::*;

/// Bounds a failure only.
const DEADLINE: Duration = Duration::from_secs(60);

/// confluent-kafka transports against one broker.
struct ConfluentHarness {
    bootstrap: String,
    /// tansu needs `metadata.cluster.check.enable=false`.
    tansu: bool,
    /// kcodec's broker served in-process, when the test started one; dropping it stops it.
    _served: Option<Server>,
}

impl ConfluentHarness {
    /// The broker at `KAFKA_BOOTSTRAP` (produce and manual assignment).
    fn external() -> Option<Self> {
        Some(ConfluentHarness {
            bootstrap: external_bootstrap()?,
            tansu: true,
            _served: None,
        })
    }

    /// A broker that speaks KIP-848 (consumer groups): the one at `KCODEC_KIP848_BOOTSTRAP`
    /// when set, otherwise kcodec's broker served in-process by `kcodec_kafka_server::serve`
    /// (KIP-848 heartbeats every 100 ms, so assignments are handed out at once).
    async fn kip848() -> Option<Self> {
        if let Ok(b) = std::env::var("KCODEC_KIP848_BOOTSTRAP")
            && !b.is_empty()
        {
            return Some(ConfluentHarness {
                bootstrap: b,
                tansu: false,
                _served: None,
            });
        }
        let cluster = Cluster::builder().build();
        cluster.set_group_settings(GroupSettings {
            consumer_heartbeat_interval: Duration::from_millis(100),
            ..GroupSettings::default()
        });
        let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
            .await
            .expect("kcodec's broker served in-process");
        Some(ConfluentHarness {
            bootstrap: server.bootstrap(),
            tansu: false,
            _served: Some(server),
        })
    }

    fn props(&self, extra: &[(&str, &str)]) -> Properties {
        let mut p: Properties = [("bootstrap.servers", self.bootstrap.as_str())]
            .iter()
            .chain(extra)
            .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
            .collect();
        if self.tansu {
            p.insert("metadata.cluster.check.enable".into(), "false".into());
        }
        p
    }

    fn group_props(&self, group: &str, auto_commit: bool) -> Properties {
        let auto = if auto_commit { "true" } else { "false" };
        self.props(&[
            ("group.id", group),
            ("auto.offset.reset", "earliest"),
            ("enable.auto.commit", auto),
        ])
    }
}

impl Harness for ConfluentHarness {
    type P = ConfluentProducer;
    type C = ConfluentConsumer;

    async fn topic(&self, base: &str, partitions: i32) -> String {
        let name = unique(base);
        let admin = AdminClient::create(AdminClientConfig::new(&self.props(&[])).unwrap()).unwrap();
        let t = NewTopic::with_num_partitions_replication_factor(&name, Some(partitions), Some(1));
        admin.create_topics(&[t]).all().get().await.unwrap();
        admin.close().await;
        name
    }

    fn producer(&self) -> ConfluentProducer {
        ConfluentProducer::new(&self.props(&[("linger.ms", "5")])).unwrap()
    }

    fn consumer(&self, group: &str) -> ConfluentConsumer {
        ConfluentConsumer::new(&self.group_props(group, false)).unwrap()
    }

    fn auto_consumer(&self, group: &str) -> ConfluentConsumer {
        ConfluentConsumer::new(&self.group_props(group, true)).unwrap()
    }
}

// Produce and manual assignment: any Kafka-protocol broker (tansu in CI).
suite!(external, ConfluentHarness::external(); keyed_ordering_assigned, assign_and_seek,
    deserialize_error_dead_letters_assigned,
    serialization_error_sends_nothing, negative_partition_is_refused,
    pause_resume_position_and_seeks);

// Groups: a KIP-848 broker (kcodec's own, in-process, unless KCODEC_KIP848_BOOTSTRAP is set).
suite!(kip848, ConfluentHarness::kip848().await; keyed_ordering, rebalance_on_second_member, deserialize_error_fails, deserialize_error_skips,
    deserialize_error_dead_letters, headers_round_trip, deserialize_error_stays_until_skipped,
    revoke_callback_commits, group_commit_and_resume, auto_commit_commits_returned_records_only);

/// The transport's partitioner is Java's `BuiltInPartitioner.partitionForKey`:
/// `toPositive(murmur2(key)) % partitions`, the partition kcodec-broker computes, for every key
/// (confluent-kafka's own default hashes with CRC-32; the transport selects
/// `Murmur2RandomPartitioner`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn keyed_partition_is_javas_murmur2() {
    let Some(h) = ConfluentHarness::external() else {
        return;
    };
    let topic = h.topic("murmur2", 7).await;
    let producer = Producer::new(h.producer(), StringSerde, I64Serde);
    for i in 0..64i64 {
        let key = format!("key-{i}-{}", i * 7919);
        let md = producer
            .send(ProducerRecord::new(topic.as_str(), i).key(key.clone()))
            .await
            .unwrap();
        assert_eq!(md.partition, partition_for_key(key.as_bytes(), 7), "{key}");
    }
}

/// Per-key order under back-pressure (Java's `KafkaProducer.send` blocks its caller for room
/// in `buffer.memory`, so a later record never lands before an earlier one): with a buffer of
/// a few records, 200 sends of one key joined in one task, and 50 `enqueue(..).await` in a
/// row, land at consecutive offsets in the order they were made.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn one_key_keeps_its_order_under_back_pressure() {
    let Some(h) = ConfluentHarness::external() else {
        return;
    };
    let topic = h.topic("pressure", 1).await;
    let transport = ConfluentProducer::new(&h.props(&[
        ("buffer.memory", "4096"),
        ("batch.size", "1024"),
        ("linger.ms", "1"),
    ]))
    .unwrap();
    let p = Producer::new(transport, StringSerde, StringSerde);
    let value = |i: usize| format!("{i:0>300}");
    let rec = |i: usize| ProducerRecord::new(topic.as_str(), value(i)).key("k".to_string());
    let sends = (0..200).map(|i| p.send(rec(i)));
    let joined = tokio::time::timeout(DEADLINE, futures_util::future::join_all(sends))
        .await
        .expect("all delivered");
    let offsets: Vec<i64> = joined.into_iter().map(|r| r.unwrap().offset).collect();
    assert_eq!(offsets, (0..200).collect::<Vec<_>>());

    let mut deliveries = Vec::new();
    for i in 200..250 {
        deliveries.push(p.enqueue(rec(i)).await.unwrap());
    }
    let mut offsets = Vec::new();
    for d in deliveries {
        let md = tokio::time::timeout(DEADLINE, d)
            .await
            .expect("delivered")
            .unwrap();
        offsets.push(md.offset);
    }
    assert_eq!(offsets, (200..250).collect::<Vec<_>>());
    p.transport().flush(DEADLINE).await.unwrap();
}

/// A record for a partition the topic lacks: as Java's `KafkaProducer.waitOnMetadata`, the
/// send fails after `max.block.ms` with a (retriable) `TimeoutException`, mapped to
/// `ErrorKind::Retriable` with confluent-kafka's error, and its message, as the source.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn missing_partition_times_out_as_retriable() {
    let Some(h) = ConfluentHarness::external() else {
        return;
    };
    let topic = h.topic("no-partition", 1).await;
    let transport = ConfluentProducer::new(&h.props(&[("max.block.ms", "300")])).unwrap();
    let p = Producer::new(transport, StringSerde, I64Serde);
    let err = p
        .send(ProducerRecord::<String, _>::new(topic.as_str(), 1i64).partition(5))
        .await
        .unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::Retriable, "{:?}", err.error);
    let source = std::error::Error::source(&err.error).expect("confluent-kafka's error");
    assert!(
        source.to_string().contains("max.block.ms") || source.to_string().contains("metadata"),
        "{source}"
    );
    assert_eq!(err.record.value, Some(1));
}

/// A setting the transport reads itself is checked when the consumer is built, and the error
/// names it (confluent-kafka's `ConfigException`, kind `Other`).
#[test]
fn bad_auto_commit_interval_is_refused() {
    let props: Properties = [
        ("bootstrap.servers", "127.0.0.1:1"),
        ("group.id", "g"),
        ("auto.commit.interval.ms", "soon"),
    ]
    .iter()
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect();
    let err = ConfluentConsumer::new(&props).unwrap_err();
    assert_eq!(err.kind(), ErrorKind::Other);
    let source = std::error::Error::source(&err).unwrap().to_string();
    assert!(
        source.contains("auto.commit.interval.ms") && source.contains("soon"),
        "{source}"
    );
}

/// Commits from assigned partitions (a group id, no membership): `commit_async` (Java's
/// `KafkaConsumer.commitAsync`) returns before the broker answers, and its offset shows in
/// `committed` once the broker took it; `commit` (`commitSync`) commits the consumed positions
/// and has them at once.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn commit_async_then_sync_from_assigned_partitions() {
    let Some(h) = ConfluentHarness::external() else {
        return;
    };
    let topic = h.topic("commits", 1).await;
    let p = Producer::new(h.producer(), StringSerde, I64Serde);
    for i in 0..4i64 {
        p.send(ProducerRecord::<String, _>::new(topic.as_str(), i))
            .await
            .unwrap();
    }
    let tp = TopicPartition::new(topic.as_str(), 0);
    let tps = std::slice::from_ref(&tp);
    let mut c: Consumer<Option<String>, i64, _> =
        Consumer::new(h.consumer(&unique("commits")), StringSerde, I64Serde);
    c.assign(tps).unwrap();
    let got = drain(&mut c, 2, DEADLINE).await;
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), [0, 1]);
    assert_eq!(c.committed(tps).await.unwrap()[0].1, None);
    c.transport_mut()
        .commit_async(&[(tp.clone(), 2)])
        .await
        .unwrap();
    // Waits on the outcome; the deadline only bounds a failure.
    let deadline = Instant::now() + DEADLINE;
    loop {
        let committed = c.committed(tps).await.unwrap()[0].1;
        if committed == Some(2) {
            break;
        }
        assert!(Instant::now() < deadline, "never committed: {committed:?}");
        tokio::time::sleep(Duration::from_millis(20)).await;
    }
    let got = drain(&mut c, 2, DEADLINE).await;
    assert_eq!(got.iter().map(|r| r.offset).collect::<Vec<_>>(), [2, 3]);
    c.commit().await.unwrap();
    assert_eq!(c.committed(tps).await.unwrap()[0].1, Some(4));
    c.close().await.unwrap();
}
