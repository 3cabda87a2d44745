//! One behaviour suite, run against every transport: the in-memory broker (always), librdkafka's
//! mock cluster (feature `rdkafka`), kcodec's broker served in-process over Kafka's protocol by
//! kcodec-kafka-server (feature `rdkafka`; classic groups in `served`, KIP-848's
//! `group.protocol=consumer` in `served_kip848`) and an external Kafka-protocol broker at
//! `KAFKA_BOOTSTRAP` (feature `rdkafka`; skipped with a printed line when unset, unless
//! `KCODEC_REQUIRE_KAFKA=1`).
//!
//! Each test is written once as an async function generic over a `Harness`, which creates
//! topics and transports; the `suite!` macro instantiates every test per harness.
//! The scenarios and the macro live in `suite/mod.rs`, shared with the confluent-kafka transport
//! (`confluent/tests/behaviour.rs`).

#[macro_use]
mod suite;

use kcodec_clients::{ClientError, Producer, ProducerRecord};
use kcodec_codecs::builtin::StringSerde;
use kcodec_codecs::json::JsonSerde;
use std::time::Duration;
use suite::*;

// ---------------------------------------------------------------------------------------------
// Harnesses

mod memory_harness {
    use super::*;
    use kcodec_broker::{Cluster, ConsumerConfig, NewTopic, OffsetReset};
    use kcodec_clients::memory::{MemoryConsumer, MemoryProducer};

    pub struct MemoryHarness {
        pub cluster: Cluster,
    }

    impl MemoryHarness {
        pub fn new() -> Self {
            MemoryHarness {
                cluster: Cluster::builder().brokers(3).build(),
            }
        }
    }

    impl Harness for MemoryHarness {
        type P = MemoryProducer;
        type C = MemoryConsumer;
        async fn topic(&self, base: &str, partitions: i32) -> String {
            let name = unique(base);
            self.cluster
                .create_topic(NewTopic::new(name.as_str(), partitions, 3))
                .unwrap();
            name
        }
        fn producer(&self) -> MemoryProducer {
            MemoryProducer::new(&self.cluster)
        }
        fn consumer(&self, group: &str) -> MemoryConsumer {
            let config = ConsumerConfig::new(group)
                .auto_offset_reset(OffsetReset::Earliest)
                .enable_auto_commit(false)
                .session_timeout(Duration::from_secs(6));
            MemoryConsumer::new(&self.cluster, config).unwrap()
        }
        fn auto_consumer(&self, group: &str) -> MemoryConsumer {
            let config = ConsumerConfig::new(group)
                .auto_offset_reset(OffsetReset::Earliest)
                .session_timeout(Duration::from_secs(6));
            MemoryConsumer::new(&self.cluster, config).unwrap()
        }
    }
}

#[cfg(feature = "rdkafka")]
mod kafka_harness {
    use super::*;
    use kcodec_clients::kafka::{ClientConfig, KafkaConsumer, KafkaProducer, consumer_config};
    use rdkafka::admin::{AdminClient, AdminOptions, NewTopic, TopicReplication};
    use rdkafka::client::DefaultClientContext;
    use rdkafka::producer::{BaseProducer, Producer as _};

    fn rd_consumer_config(bootstrap: &str, group: &str) -> ClientConfig {
        let mut c = consumer_config(bootstrap, group);
        c.set("auto.offset.reset", "earliest")
            .set("enable.auto.commit", "false")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "500")
            .set("topic.metadata.refresh.interval.ms", "1000");
        c
    }

    fn rd_auto_consumer_config(bootstrap: &str, group: &str) -> ClientConfig {
        let mut c = consumer_config(bootstrap, group);
        c.set("auto.offset.reset", "earliest")
            .set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "500")
            .set("topic.metadata.refresh.interval.ms", "1000");
        c
    }

    fn rd_producer_config(bootstrap: &str) -> ClientConfig {
        let mut c = kcodec_clients::kafka::producer_config(bootstrap);
        c.set("linger.ms", "5").set("message.timeout.ms", "30000");
        c
    }

    /// librdkafka's mock cluster (3 brokers), owned by a client handle of its own.
    pub struct MockHarness {
        owner: BaseProducer,
        bootstrap: String,
    }

    impl MockHarness {
        pub fn new() -> Self {
            let owner: BaseProducer = ClientConfig::new()
                .set("test.mock.num.brokers", "3")
                .create()
                .expect("mock cluster");
            let raw =
                unsafe { rdkafka_sys::rd_kafka_handle_mock_cluster(owner.client().native_ptr()) };
            assert!(!raw.is_null(), "no mock cluster");
            // Group joins wait 3 s by default; the tests need them at once.
            unsafe { rdkafka_sys::rd_kafka_mock_group_initial_rebalance_delay_ms(raw, 0) };
            let bootstrap = owner.client().mock_cluster().unwrap().bootstrap_servers();
            MockHarness { owner, bootstrap }
        }

        pub fn mock(&self) -> rdkafka::mocking::MockCluster<'_, impl rdkafka::ClientContext> {
            self.owner.client().mock_cluster().unwrap()
        }
    }

    impl Harness for MockHarness {
        type P = KafkaProducer;
        type C = KafkaConsumer;
        async fn topic(&self, base: &str, partitions: i32) -> String {
            let name = unique(base);
            self.mock().create_topic(&name, partitions, 3).unwrap();
            name
        }
        fn producer(&self) -> KafkaProducer {
            KafkaProducer::new(&rd_producer_config(&self.bootstrap)).unwrap()
        }
        fn consumer(&self, group: &str) -> KafkaConsumer {
            KafkaConsumer::new(&rd_consumer_config(&self.bootstrap, group)).unwrap()
        }
        fn auto_consumer(&self, group: &str) -> KafkaConsumer {
            KafkaConsumer::new(&rd_auto_consumer_config(&self.bootstrap, group)).unwrap()
        }
    }

    /// kcodec's broker (one cluster per test) served in-process over Kafka's protocol by
    /// `kcodec_kafka_server::serve`; groups on the classic protocol, or on KIP-848's consumer
    /// protocol (`group.protocol=consumer`, heartbeats every 100 ms) with `kip848`.
    pub struct ServedHarness {
        bootstrap: String,
        kip848: bool,
        server: kcodec_kafka_server::Server,
    }

    impl ServedHarness {
        pub async fn new(kip848: bool) -> Self {
            let cluster = kcodec_broker::Cluster::builder().build();
            cluster.set_group_settings(kcodec_broker::group::protocol::GroupSettings {
                consumer_heartbeat_interval: Duration::from_millis(100),
                ..Default::default()
            });
            let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
                .await
                .expect("kcodec's broker served in-process");
            ServedHarness {
                bootstrap: server.bootstrap(),
                kip848,
                server,
            }
        }

        /// librdkafka refuses the classic session settings with `group.protocol=consumer`
        /// (the broker sets the session and heartbeat there).
        fn group_config(&self, mut c: ClientConfig) -> ClientConfig {
            if self.kip848 {
                c.remove("session.timeout.ms");
                c.remove("heartbeat.interval.ms");
                c.set("group.protocol", "consumer");
            }
            c
        }
    }

    impl Harness for ServedHarness {
        type P = KafkaProducer;
        type C = KafkaConsumer;
        async fn topic(&self, base: &str, partitions: i32) -> String {
            let name = unique(base);
            self.server
                .cluster()
                .create_topic(kcodec_broker::NewTopic::new(name.as_str(), partitions, 1))
                .unwrap();
            name
        }
        fn producer(&self) -> KafkaProducer {
            KafkaProducer::new(&rd_producer_config(&self.bootstrap)).unwrap()
        }
        fn consumer(&self, group: &str) -> KafkaConsumer {
            let c = self.group_config(rd_consumer_config(&self.bootstrap, group));
            KafkaConsumer::new(&c).unwrap()
        }
        fn auto_consumer(&self, group: &str) -> KafkaConsumer {
            let c = self.group_config(rd_auto_consumer_config(&self.bootstrap, group));
            KafkaConsumer::new(&c).unwrap()
        }
    }

    /// An external broker at `KAFKA_BOOTSTRAP` (tansu in CI).
    pub struct ExternalHarness {
        bootstrap: String,
        admin: AdminClient<DefaultClientContext>,
    }

    impl ExternalHarness {
        pub fn from_env() -> Option<Self> {
            let bootstrap = external_bootstrap()?;
            let admin = ClientConfig::new()
                .set("bootstrap.servers", &bootstrap)
                .create()
                .unwrap();
            Some(ExternalHarness { bootstrap, admin })
        }
    }

    impl Harness for ExternalHarness {
        type P = KafkaProducer;
        type C = KafkaConsumer;
        async fn topic(&self, base: &str, partitions: i32) -> String {
            let name = unique(base);
            let t = NewTopic::new(&name, partitions, TopicReplication::Fixed(1));
            let res = self
                .admin
                .create_topics(
                    [&t],
                    &AdminOptions::new().operation_timeout(Some(Duration::from_secs(10))),
                )
                .await
                .unwrap();
            for r in res {
                r.map_err(|(t, e)| format!("create {t}: {e}")).unwrap();
            }
            name
        }
        fn producer(&self) -> KafkaProducer {
            KafkaProducer::new(&rd_producer_config(&self.bootstrap)).unwrap()
        }
        fn consumer(&self, group: &str) -> KafkaConsumer {
            KafkaConsumer::new(&rd_consumer_config(&self.bootstrap, group)).unwrap()
        }
        fn auto_consumer(&self, group: &str) -> KafkaConsumer {
            KafkaConsumer::new(&rd_auto_consumer_config(&self.bootstrap, group)).unwrap()
        }
    }
}

suite!(memory, Some(memory_harness::MemoryHarness::new()));
#[cfg(feature = "rdkafka")]
suite!(mock, Some(kafka_harness::MockHarness::new()));
#[cfg(feature = "rdkafka")]
suite!(served, Some(kafka_harness::ServedHarness::new(false).await));
#[cfg(feature = "rdkafka")]
suite!(
    served_kip848,
    Some(kafka_harness::ServedHarness::new(true).await)
);
#[cfg(feature = "rdkafka")]
suite!(external, kafka_harness::ExternalHarness::from_env());

/// The in-memory broker refuses a record (an injected `RECORD_TOO_LARGE`, not retriable): the delivery
/// error carries the record back, and sending it again works.
#[tokio::test]
async fn memory_delivery_error_carries_the_record_back() {
    let h = memory_harness::MemoryHarness::new();
    let topic = h.topic("delivery", 1).await;
    let producer = Producer::new(h.producer(), StringSerde, JsonSerde);
    h.cluster
        .inject_produce_errors(1, kcodec_broker::BrokerError::RecordTooLarge);
    let rec = ProducerRecord::new(topic.as_str(), 7u32)
        .key("k".to_string())
        .header("h", "1");
    let err = producer.send(rec.clone()).await.unwrap_err();
    assert!(
        matches!(
            err.error,
            ClientError::Broker(kcodec_broker::BrokerError::RecordTooLarge)
        ),
        "{:?}",
        err.error
    );
    assert_eq!(err.record, rec);
    let md = producer.send(err.into_record()).await.unwrap();
    assert_eq!(md.offset, 0);
}

/// The partition leader goes down during production and comes back: every record sent is
/// delivered (librdkafka retries), and a consumer reads each at least once.
#[cfg(feature = "rdkafka")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn mock_broker_down_during_production_keeps_at_least_once() {
    use kcodec_clients::Consumer;
    use std::sync::Arc;
    let h = kafka_harness::MockHarness::new();
    let topic = h.topic("fault", 1).await;
    h.mock().partition_leader(&topic, 0, Some(1)).unwrap();
    let producer = Arc::new(Producer::new(h.producer(), StringSerde, JsonSerde));
    for i in 0..10u32 {
        producer
            .send(ProducerRecord::new(topic.as_str(), i).key("k".to_string()))
            .await
            .unwrap();
    }
    h.mock().broker_down(1).unwrap();
    let mut pending = Vec::new();
    for i in 10..30u32 {
        let p = producer.clone();
        let t = topic.clone();
        pending.push(tokio::spawn(async move {
            p.send(ProducerRecord::new(t, i).key("k".to_string())).await
        }));
    }
    tokio::time::sleep(Duration::from_millis(1500)).await;
    assert!(
        pending.iter().all(|t| !t.is_finished()),
        "nothing is delivered while the leader is down"
    );
    h.mock().broker_up(1).unwrap();
    for t in pending {
        t.await
            .unwrap()
            .expect("delivered after the broker came back");
    }
    let mut c: Consumer<String, u32, _> =
        Consumer::new(h.consumer(&unique("fault")), StringSerde, JsonSerde);
    c.subscribe(&[topic.as_str()]).unwrap();
    let got = drain(&mut c, 30, WAIT).await;
    let mut values: Vec<u32> = got.iter().map(|r| r.value).collect();
    values.sort();
    values.dedup();
    assert_eq!(values, (0..30).collect::<Vec<_>>());
}
