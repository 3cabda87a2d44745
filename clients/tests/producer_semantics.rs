//! Producer semantics: concurrent sends do not wait for each other's registry lookups, and
//! (feature `rdkafka`) a full librdkafka queue makes a send wait instead of failing at once.

use kcodec_broker::{Cluster, NewTopic};
use kcodec_clients::memory::MemoryProducer;
use kcodec_clients::{Producer, ProducerRecord};
use kcodec_codecs::builtin::StringSerde;
use kcodec_codecs::resolve::{ResolveFuture, Unresolved};
use kcodec_codecs::{BytesMut, Error, SerializeContext, Serialized, Serializer, Target};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;
use tokio::sync::Notify;

/// A value serializer whose topic `slow` needs a registration that completes only when the test
/// opens the gate.
struct Gated {
    gate: Arc<Notify>,
    registering: Arc<Notify>,
    open: AtomicBool,
}

impl Serializer<String> for Gated {
    fn serialize(
        &self,
        value: &String,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        if ctx.topic() == "slow" && !self.open.load(Ordering::SeqCst) {
            return Err(Error::Unresolved(Unresolved::WriterSchema {
                topic: ctx.topic().to_string(),
                target: Target::Value,
                subject: None,
            }));
        }
        StringSerde.serialize(value, ctx, out)
    }

    fn resolve<'a>(&'a self, _need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(async move {
            self.registering.notify_one();
            self.gate.notified().await;
            self.open.store(true, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// A send waiting for its schema registration does not stall a concurrent send to another topic.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_slow_registration_does_not_stall_other_sends() {
    let cluster = Cluster::builder().brokers(1).build();
    cluster.create_topic(NewTopic::new("slow", 1, 1)).unwrap();
    cluster.create_topic(NewTopic::new("fast", 1, 1)).unwrap();
    let gate = Arc::new(Notify::new());
    let registering = Arc::new(Notify::new());
    let producer = Producer::new(
        MemoryProducer::new(&cluster),
        StringSerde,
        Gated {
            gate: gate.clone(),
            registering: registering.clone(),
            open: AtomicBool::new(false),
        },
    );
    let slow = {
        let p = producer.clone();
        tokio::spawn(async move {
            p.send(ProducerRecord::<String, _>::new("slow", "s".to_string()))
                .await
                .map(|md| md.offset)
                .map_err(|e| e.error.to_string())
        })
    };
    registering.notified().await;
    let fast = tokio::time::timeout(
        Duration::from_secs(5),
        producer.send(ProducerRecord::<String, _>::new("fast", "f".to_string())),
    )
    .await
    .expect("the send to `fast` waited for the registration of `slow`")
    .unwrap();
    assert_eq!(fast.offset, 0);
    assert!(!slow.is_finished());
    gate.notify_one();
    assert_eq!(slow.await.unwrap(), Ok(0));
}

#[cfg(feature = "rdkafka")]
mod rdkafka_queue {
    use super::*;
    use kcodec_clients::ClientError;
    use kcodec_clients::kafka::{KafkaProducer, producer_config};
    use kcodec_codecs::builtin::I64Serde;
    use rdkafka::error::{KafkaError, RDKafkaErrorCode};
    use rdkafka::mocking::MockCluster;
    use rdkafka::producer::Producer as _;

    /// Ten concurrent sends into a queue of two: each waits for room (Java's `max.block.ms`)
    /// and all are delivered, each at its own offset of 0..10 (a send that waited may land
    /// after one made later, so the offsets are compared as a set).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn full_queue_waits_for_room() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("t", 1, 1).unwrap();
        let mut cfg = producer_config(&mock.bootstrap_servers());
        cfg.set("queue.buffering.max.messages", "2")
            .set("linger.ms", "20");
        let p = Producer::new(KafkaProducer::new(&cfg).unwrap(), StringSerde, I64Serde);
        let mut tasks = Vec::new();
        for i in 0..10i64 {
            let p = p.clone();
            tasks.push(tokio::spawn(async move {
                p.send(ProducerRecord::new("t", i).key("k".to_string()))
                    .await
                    .map(|m| m.offset)
                    .map_err(|e| e.error.to_string())
            }));
        }
        let mut offsets = Vec::new();
        for t in tasks {
            offsets.push(t.await.unwrap().expect("delivered after waiting for room"));
        }
        offsets.sort();
        assert_eq!(offsets, (0..10).collect::<Vec<_>>());
    }

    /// Sends into a full queue with `max.block.ms` at Java's "block forever"
    /// (`Long.MAX_VALUE`) or `Duration::MAX`: no overflow, they wait and are delivered.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn max_block_forever_waits_without_overflow() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("t", 1, 1).unwrap();
        let mut cfg = producer_config(&mock.bootstrap_servers());
        cfg.set("queue.buffering.max.messages", "1")
            .set("linger.ms", "20")
            .set("max.block.ms", "9223372036854775807");
        let by_config = KafkaProducer::new(&cfg).unwrap();
        cfg.remove("max.block.ms");
        let by_builder = KafkaProducer::new(&cfg).unwrap().max_block(Duration::MAX);
        for transport in [by_config, by_builder] {
            let p = Producer::new(transport, StringSerde, I64Serde);
            let mut tasks = Vec::new();
            for i in 0..4i64 {
                let p = p.clone();
                tasks.push(tokio::spawn(async move {
                    p.send(ProducerRecord::new("t", i).key("k".to_string()))
                        .await
                        .is_ok()
                }));
            }
            for t in tasks {
                let delivered = tokio::time::timeout(Duration::from_secs(20), t)
                    .await
                    .expect("delivered in time")
                    .expect("no panic");
                assert!(delivered);
            }
        }
    }

    /// A one-partition topic `t` on a mock cluster whose broker is down, and a producer with a
    /// queue of one record.
    fn full_queue_with_broker_down() -> (
        MockCluster<'static, rdkafka::producer::DefaultProducerContext>,
        KafkaProducer,
    ) {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("t", 1, 1).unwrap();
        mock.broker_down(1).unwrap();
        let mut cfg = producer_config(&mock.bootstrap_servers());
        cfg.set("queue.buffering.max.messages", "1")
            .set("message.timeout.ms", "30000");
        let p = KafkaProducer::new(&cfg).unwrap();
        (mock, p)
    }

    /// `flush` covers a send still waiting for room (its future not even polled yet): the
    /// broker is down while the queue of one is full; once it is up, `flush` sends the waiting
    /// record itself and returns only when it is delivered (the broker goes down again right
    /// after, so a record sent later would not be delivered).
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn flush_waits_for_sends_waiting_for_room() {
        use kcodec_clients::{ProducerRecord, ProducerTransport};
        use kcodec_codecs::Bytes;
        let (mock, p) = full_queue_with_broker_down();
        let p = Arc::new(p);
        let record = |v: &'static str| ProducerRecord::new("t", Bytes::from(v));
        let a = p.enqueue(record("a")).unwrap();
        let b = p.enqueue(record("b")).unwrap();
        let flusher = {
            let p = p.clone();
            tokio::spawn(async move { p.flush(Duration::from_secs(20)).await })
        };
        tokio::time::sleep(Duration::from_millis(300)).await;
        assert!(
            !flusher.is_finished(),
            "flush waits while the broker is down"
        );
        mock.broker_up(1).unwrap();
        let flushed = flusher.await.unwrap();
        assert!(flushed.is_ok(), "{flushed:?}");
        mock.broker_down(1).unwrap();
        assert!(a.is_ready() && !b.is_ready(), "b waits for room");
        let a = tokio::time::timeout(Duration::from_secs(30), async { a.await?.await })
            .await
            .expect("a delivered before flush returned")
            .unwrap();
        let b = tokio::time::timeout(Duration::from_secs(30), async { b.await?.await })
            .await
            .expect("b sent and delivered by flush")
            .unwrap();
        assert_eq!((a.offset, b.offset), (0, 1));
    }

    /// Per-key order under back-pressure. Java's `KafkaProducer.send` blocks the caller for
    /// room (`max.block.ms`), so a later record of a key can never be appended before an
    /// earlier one; here the earlier record waits for room (its future not even polled) and
    /// a later record of the same key, enqueued once librdkafka's queue has room again, must
    /// wait behind it instead of taking that room.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn a_later_record_never_overtakes_one_waiting_for_room() {
        use kcodec_clients::{ProducerRecord, ProducerTransport};
        use kcodec_codecs::Bytes;
        let (mock, p) = full_queue_with_broker_down();
        let record =
            |v: &'static str| ProducerRecord::new("t", Bytes::from(v)).key(Bytes::from("k"));
        let a = p.enqueue(record("a")).unwrap();
        let b = p.enqueue(record("b")).unwrap();
        assert!(a.is_ready() && !b.is_ready(), "b waits for room");
        mock.broker_up(1).unwrap();
        let a = tokio::time::timeout(Duration::from_secs(30), async { a.await?.await })
            .await
            .expect("a delivered")
            .unwrap();
        // Wait (on the event, bounded only for failure) until librdkafka's queue is empty.
        let deadline = std::time::Instant::now() + Duration::from_secs(30);
        while p.inner().in_flight_count() > 0 {
            assert!(
                std::time::Instant::now() < deadline,
                "a never left the queue"
            );
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
        let c = p.enqueue(record("c")).unwrap();
        assert!(
            !c.is_ready(),
            "c queues behind b although librdkafka has room"
        );
        let (b, c) = tokio::time::timeout(Duration::from_secs(30), async {
            let (b, c) = tokio::join!(async { b.await?.await }, async { c.await?.await });
            Ok::<_, ClientError>((b?, c?))
        })
        .await
        .expect("b and c delivered")
        .unwrap();
        assert_eq!((a.offset, b.offset, c.offset), (0, 1, 2));
    }

    /// Twenty sends of one key joined in one task into a queue of one (most wait for room):
    /// each lands at its own index, in the order the sends were made (Java's
    /// `KafkaProducer.send` from one thread: per-partition order), and so do twenty
    /// `enqueue(..).await` in a row, each held back until there is room.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn one_key_keeps_its_order_through_a_full_queue() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("t", 1, 1).unwrap();
        let mut cfg = producer_config(&mock.bootstrap_servers());
        cfg.set("queue.buffering.max.messages", "1")
            .set("linger.ms", "5");
        let p = Producer::new(KafkaProducer::new(&cfg).unwrap(), StringSerde, I64Serde);
        let rec = |i: i64| ProducerRecord::new("t", i).key("k".to_string());
        let sends = (0..20).map(|i| p.send(rec(i)));
        let joined = tokio::time::timeout(
            Duration::from_secs(60),
            futures_util::future::join_all(sends),
        )
        .await
        .expect("all delivered");
        let offsets: Vec<i64> = joined.into_iter().map(|r| r.unwrap().offset).collect();
        assert_eq!(offsets, (0..20).collect::<Vec<_>>());

        let mut deliveries = Vec::new();
        for i in 20..40 {
            deliveries.push(p.enqueue(rec(i)).await.unwrap());
        }
        let mut offsets = Vec::new();
        for d in deliveries {
            let md = tokio::time::timeout(Duration::from_secs(30), d)
                .await
                .expect("delivered")
                .unwrap();
            offsets.push(md.offset);
        }
        assert_eq!(offsets, (20..40).collect::<Vec<_>>());
    }

    /// With `max.block.ms` short and nothing draining the queue (the broker is down), a send
    /// fails with `QueueFull` once the time is up.
    #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
    async fn full_queue_fails_after_max_block() {
        let mock = MockCluster::new(1).unwrap();
        mock.create_topic("t", 1, 1).unwrap();
        mock.broker_down(1).unwrap();
        let mut cfg = producer_config(&mock.bootstrap_servers());
        cfg.set("queue.buffering.max.messages", "1")
            .set("message.timeout.ms", "30000")
            .set("max.block.ms", "300");
        let p = Producer::new(KafkaProducer::new(&cfg).unwrap(), StringSerde, I64Serde);
        // `enqueue` resolves once the first record is in librdkafka's queue, filling it.
        let first = p
            .enqueue(ProducerRecord::<String, _>::new("t", 1i64))
            .await
            .unwrap();
        let err = tokio::time::timeout(
            Duration::from_secs(10),
            p.send(ProducerRecord::<String, _>::new("t", 2i64)),
        )
        .await
        .expect("gave up within max.block.ms")
        .unwrap_err();
        assert!(
            matches!(
                err.error,
                ClientError::Kafka(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull))
            ),
            "{:?}",
            err.error
        );
        mock.broker_up(1).unwrap();
        let first = tokio::time::timeout(Duration::from_secs(60), first)
            .await
            .expect("delivered once the broker is up");
        assert!(first.is_ok(), "{first:?}");
    }
}

/// Java's `ProducerRecord` constructor refuses a negative timestamp; the typed producer does so
/// before serializing, on every transport.
#[tokio::test]
async fn negative_timestamp_is_refused_before_sending() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    let err = producer
        .send(ProducerRecord::<String, _>::new("t", "v".to_string()).timestamp(-5))
        .await
        .unwrap_err();
    assert!(
        matches!(
            err.error,
            kcodec_clients::ClientError::InvalidTimestamp { timestamp: -5, .. }
        ),
        "{:?}",
        err.error
    );
    assert!(
        cluster
            .records(&kcodec_broker::TopicPartition::new("t", 0))
            .unwrap()
            .is_empty()
    );
}

/// `Producer::enqueue` as Java's `KafkaProducer.send` (tested as with Kafka's
/// `MockProducer(autoComplete = false)`): it returns once the record is handed over, before it
/// is stored, with a future of its metadata; deliveries complete in the order of the enqueues
/// (per-partition order); a failed delivery hands the record back.
#[tokio::test(flavor = "current_thread")]
async fn enqueue_returns_before_delivery_and_keeps_order() {
    use kcodec_broker::{BrokerError, TopicPartition};
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let held = MemoryProducer::new(&cluster).auto_complete(false);
    let producer = Producer::new(held, StringSerde, StringSerde);
    let rec = |k: &str, v: &str| ProducerRecord::new("t", v.to_string()).key(k.to_string());
    let mut deliveries = Vec::new();
    for (k, v) in [("k", "1"), ("k", "2"), ("other", "x"), ("k", "3")] {
        deliveries.push(producer.enqueue(rec(k, v)).await.unwrap());
    }
    let t = producer.transport();
    assert_eq!(
        t.in_flight(),
        4,
        "enqueue returned before anything was stored"
    );
    assert_eq!(deliveries[1].record().unwrap().value.as_deref(), Some("2"));
    assert!(t.complete_next() && t.complete_next());
    assert!(t.error_next(BrokerError::RecordTooLarge));
    assert!(t.complete_next());
    let mut outcomes = Vec::new();
    for d in deliveries {
        outcomes.push(d.await);
    }
    let key_partition = outcomes[0].as_ref().unwrap().partition;
    let offsets: Vec<_> = [0, 1, 3]
        .iter()
        .map(|&i| {
            let md = outcomes[i].as_ref().unwrap();
            assert_eq!(md.partition, key_partition);
            md.offset
        })
        .collect();
    assert_eq!(offsets, [0, 1, 2], "stored in the order enqueued");
    let failed = outcomes.remove(2).unwrap_err();
    assert_eq!(failed.record.key.as_deref(), Some("other"));
    let stored: Vec<_> = cluster
        .records(&TopicPartition::new("t", key_partition))
        .unwrap()
        .iter()
        .map(|r| r.value.clone().unwrap())
        .collect();
    assert_eq!(stored, ["1", "2", "3"]);
}

/// Kafka's `MockProducer(autoComplete = false)`: sends stay in flight until the test completes
/// (`completeNext`) or fails (`errorNext`) the oldest; nothing is stored before; the history
/// (`MockProducer.history()`) keeps every record given, in order; `flush` completes the rest.
#[tokio::test(flavor = "current_thread")]
async fn manual_completion_error_next_and_history() {
    use kcodec_broker::{BrokerError, TopicPartition};
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(
        MemoryProducer::new(&cluster).auto_complete(false),
        StringSerde,
        StringSerde,
    );
    let t = producer.transport();
    let tp = TopicPartition::new("t", 0);
    let (a, b, ()) = tokio::join!(
        producer.send(ProducerRecord::new("t", "a".to_string()).key("k".to_string())),
        producer.send(ProducerRecord::new("t", "b".to_string()).key("k".to_string())),
        async {
            while t.in_flight() < 2 {
                tokio::task::yield_now().await;
            }
            assert!(
                cluster.records(&tp).unwrap().is_empty(),
                "nothing stored yet"
            );
            assert!(t.complete_next());
            assert!(t.error_next(BrokerError::NotEnoughReplicas));
            assert!(!t.complete_next(), "none left");
        }
    );
    assert_eq!(a.unwrap().offset, 0);
    assert!(matches!(
        b.unwrap_err().error,
        kcodec_clients::ClientError::Broker(BrokerError::NotEnoughReplicas)
    ));
    let (c, ()) = tokio::join!(
        producer.send(ProducerRecord::new("t", "c".to_string()).key("k".to_string())),
        async {
            while t.in_flight() < 1 {
                tokio::task::yield_now().await;
            }
            producer.flush(Duration::from_secs(1)).await.unwrap();
        }
    );
    assert_eq!(c.unwrap().offset, 1, "flush completed it");
    let values: Vec<_> = t
        .history()
        .iter()
        .map(|r| r.value.clone().unwrap())
        .collect();
    assert_eq!(values, ["a", "b", "c"]);
    t.clear_history();
    assert!(t.history().is_empty());
}

/// `ClientError::kind` classifies errors after the Java client's exception families
/// (`RetriableException`, `SerializationException`, …), the same on every transport.
#[tokio::test]
async fn error_kinds_are_transport_neutral() {
    use kcodec_broker::BrokerError;
    use kcodec_clients::{ClientError, ErrorKind};
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    let kind = |r: ProducerRecord<String, String>| {
        let p = producer.clone();
        async move { p.send(r).await.unwrap_err().error.kind() }
    };
    let rec = || ProducerRecord::new("t", "v".to_string());
    assert_eq!(kind(rec().partition(-1)).await, ErrorKind::InvalidRecord);
    assert_eq!(kind(rec().partition(5)).await, ErrorKind::InvalidRecord);
    assert_eq!(kind(rec().timestamp(-1)).await, ErrorKind::InvalidRecord);
    cluster.inject_produce_errors(1, BrokerError::RecordTooLarge);
    assert_eq!(kind(rec()).await, ErrorKind::InvalidRecord);
    let once = Producer::new(
        MemoryProducer::with_config(
            &cluster,
            kcodec_broker::ProducerConfig::default().retries(0),
        ),
        StringSerde,
        StringSerde,
    );
    cluster.inject_produce_errors(1, BrokerError::NotEnoughReplicas);
    let e = once.send(rec()).await.unwrap_err().error;
    assert_eq!(e.kind(), ErrorKind::Retriable);
    assert_eq!(
        ClientError::from(BrokerError::CommitFailed("gen".into())).kind(),
        ErrorKind::State
    );
    #[cfg(feature = "rdkafka")]
    {
        use rdkafka::error::{KafkaError, RDKafkaErrorCode};
        let q = ClientError::Kafka(KafkaError::MessageProduction(RDKafkaErrorCode::QueueFull));
        assert_eq!(q.kind(), ErrorKind::Retriable);
        let big = KafkaError::MessageProduction(RDKafkaErrorCode::MessageSizeTooLarge);
        assert_eq!(ClientError::Kafka(big).kind(), ErrorKind::InvalidRecord);
        assert_eq!(
            ClientError::Kafka(KafkaError::Canceled).kind(),
            ErrorKind::Cancelled
        );
    }
}

/// Errors injected into one producer (`MemoryProducer::inject_send_errors`) are retried when
/// retriable, as Kafka's `org.apache.kafka.clients.producer.internals.Sender` retries a
/// `RetriableException` (`NotEnoughReplicasException`…) until `retries` or
/// `delivery.timeout.ms` runs out: the send succeeds once, stored once; a non-retriable error
/// fails it at once; with `retries = 1` the second retriable failure is returned. Another
/// producer of the same cluster is not affected.
#[tokio::test(flavor = "current_thread")]
async fn per_producer_injected_errors_are_retried_like_javas_sender() {
    use kcodec_broker::{BrokerError, ProducerConfig};
    use kcodec_clients::ErrorKind;
    let cluster = Cluster::builder().build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let faulty = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    let other = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    let record = |v: &str| ProducerRecord::new("t", v.to_string()).key("k".to_string());

    faulty
        .transport()
        .inject_send_errors(3, BrokerError::NotEnoughReplicas);
    // the other producer takes none of them
    assert_eq!(other.send(record("other")).await.unwrap().offset, 0);
    // three retriable failures, then stored once
    assert_eq!(faulty.send(record("retried")).await.unwrap().offset, 1);
    assert_eq!(
        cluster
            .records(&kcodec_broker::TopicPartition::new("t", 0))
            .unwrap()
            .len(),
        2
    );

    faulty
        .transport()
        .inject_send_errors(1, BrokerError::RecordTooLarge);
    faulty
        .transport()
        .inject_send_errors(1, BrokerError::NotEnoughReplicas);
    let err = faulty.send(record("too large")).await.unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::InvalidRecord, "{err}");
    // the retriable one queued behind it is taken by the next send, which succeeds
    assert_eq!(faulty.send(record("next")).await.unwrap().offset, 2);

    let limited = Producer::new(
        MemoryProducer::with_config(&cluster, ProducerConfig::default().retries(1)),
        StringSerde,
        StringSerde,
    );
    limited
        .transport()
        .inject_send_errors(2, BrokerError::NotEnoughReplicas);
    let err = limited.send(record("gives up")).await.unwrap_err();
    assert_eq!(err.error.kind(), ErrorKind::Retriable, "{err}");
    // nothing was stored by the failed send, nothing is left injected
    assert_eq!(limited.send(record("after")).await.unwrap().offset, 3);
}
