//! Interop with librdkafka (through rdkafka): a client no one here wrote.

use kcodec_broker::{Cluster, NewTopic};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::Duration;

/// Bounds a failing wait only: every wait ends as soon as the awaited event happens.
const DEADLINE: Duration = Duration::from_secs(60);

/// A partition's id, leader and replicas.
type Placement = (i32, i32, Vec<i32>);

fn config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4");
    c
}

/// Metadata as librdkafka reads it (`rd_kafka_metadata`): the three brokers on their own
/// listeners, and each partition's leader and replicas as the cluster placed them (replica `j`
/// of partition `p` on broker `(p + j) % 3`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_fetches_metadata_with_every_broker_and_the_clusters_leaders() {
    let cluster = Cluster::builder().brokers(3).build();
    cluster.create_topic(NewTopic::new("orders", 4, 2)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.local_addr().to_string();
    let (brokers, topics) = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config(&bootstrap).create().unwrap();
        let md = consumer.fetch_metadata(None, DEADLINE).unwrap();
        let mut brokers: Vec<(i32, String, i32)> = md
            .brokers()
            .iter()
            .map(|b| (b.id(), b.host().to_owned(), b.port()))
            .collect();
        brokers.sort();
        let topics: Vec<(String, Vec<Placement>)> = md
            .topics()
            .iter()
            .map(|t| {
                assert!(t.error().is_none(), "{:?}", t.error());
                let parts = t
                    .partitions()
                    .iter()
                    .map(|p| (p.id(), p.leader(), p.replicas().to_vec()))
                    .collect();
                (t.name().to_owned(), parts)
            })
            .collect();
        (brokers, topics)
    })
    .await
    .unwrap();
    let expected: Vec<(i32, String, i32)> = server
        .broker_addrs()
        .iter()
        .enumerate()
        .map(|(i, a)| (i as i32, a.ip().to_string(), i32::from(a.port())))
        .collect();
    assert_eq!(brokers, expected);
    assert_eq!(
        topics,
        vec![(
            "orders".to_owned(),
            vec![
                (0, 0, vec![0, 1]),
                (1, 1, vec![1, 2]),
                (2, 2, vec![2, 0]),
                (3, 0, vec![0, 1]),
            ]
        )]
    );
    server.shutdown().await;
}

use rdkafka::Message;
use rdkafka::Offset;
use rdkafka::TopicPartitionList;
use rdkafka::admin::{
    AdminClient, AdminOptions, NewPartitions, NewTopic as AdminTopic, TopicReplication,
};
use rdkafka::client::DefaultClientContext;
use rdkafka::consumer::StreamConsumer;
use rdkafka::message::{Header, Headers, OwnedHeaders};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::types::RDKafkaErrorCode;

/// A record as read back: partition, offset, key, value, headers.
type Read = (
    i32,
    i64,
    Option<Vec<u8>>,
    Option<Vec<u8>>,
    Vec<(String, Option<Vec<u8>>)>,
);

/// Reads `n` records of `topic`'s partitions from the beginning with a manually assigned
/// consumer (no group).
async fn read_back(bootstrap: &str, topic: &str, partitions: i32, n: usize) -> Vec<Read> {
    let consumer: StreamConsumer = config(bootstrap)
        .set("group.id", "read-back")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    for p in 0..partitions {
        tpl.add_partition_offset(topic, p, Offset::Beginning)
            .unwrap();
    }
    consumer.assign(&tpl).unwrap();
    drop(tpl);
    let mut out = Vec::new();
    while out.len() < n {
        let m = tokio::time::timeout(DEADLINE, consumer.recv())
            .await
            .expect("records within the deadline")
            .unwrap();
        let headers = m
            .headers()
            .map(|h| {
                h.iter()
                    .map(|h| (h.key.to_owned(), h.value.map(<[u8]>::to_vec)))
                    .collect()
            })
            .unwrap_or_default();
        out.push((
            m.partition(),
            m.offset(),
            m.key().map(<[u8]>::to_vec),
            m.payload().map(<[u8]>::to_vec),
            headers,
        ));
    }
    out.sort_by_key(|r| (r.0, r.1));
    out
}

async fn producer(bootstrap: &str, extra: &[(&str, &str)]) -> FutureProducer {
    let mut c = config(bootstrap);
    c.set("linger.ms", "0");
    for (k, v) in extra {
        c.set(*k, *v);
    }
    c.create().unwrap()
}

/// Keyed records produced by rdkafka with the Java client's partitioner (`murmur2_random`,
/// librdkafka's port of Java's `BuiltInPartitioner.partitionForKey`) land where the broker's
/// own murmur2 (`kcodec_broker::partitioner::partition_for_key`) puts them, and read back with
/// a manually assigned consumer with their keys, values, timestamps and headers — a repeated
/// header key included (`RecordHeaders` keeps every one) — and a null value.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_keyed_records_land_on_javas_murmur2_partition_and_read_back() {
    let cluster = Cluster::builder().brokers(3).build();
    cluster.create_topic(NewTopic::new("orders", 6, 3)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.bootstrap();
    let p = producer(&bootstrap, &[("partitioner", "murmur2_random")]).await;
    let mut sent = Vec::new();
    for i in 0..40 {
        let key = format!("customer-{i}");
        let value = format!("order {i}");
        let headers = OwnedHeaders::new()
            .insert(Header {
                key: "trace",
                value: Some("a"),
            })
            .insert(Header {
                key: "trace",
                value: Some("b"),
            })
            .insert(Header {
                key: "empty",
                value: None::<&str>,
            });
        let mut record = FutureRecord::to("orders")
            .key(&key)
            .headers(headers)
            .timestamp(1_000 + i);
        if i % 10 != 9 {
            record = record.payload(&value);
        }
        let delivered = p.send(record, DEADLINE).await.unwrap();
        assert_eq!(
            delivered.partition,
            kcodec_broker::partitioner::partition_for_key(key.as_bytes(), 6),
            "{key}"
        );
        sent.push((
            delivered.partition,
            delivered.offset,
            key,
            (i % 10 != 9).then_some(value),
        ));
    }
    let read = read_back(&bootstrap, "orders", 6, sent.len()).await;
    sent.sort_by_key(|r| (r.0, r.1));
    assert_eq!(read.len(), sent.len());
    for (r, s) in read.iter().zip(&sent) {
        assert_eq!((r.0, r.1), (s.0, s.1));
        assert_eq!(r.2.as_deref(), Some(s.2.as_bytes()));
        assert_eq!(r.3.as_deref(), s.3.as_deref().map(str::as_bytes));
        assert_eq!(
            r.4,
            vec![
                ("trace".to_owned(), Some(b"a".to_vec())),
                ("trace".to_owned(), Some(b"b".to_vec())),
                ("empty".to_owned(), None),
            ]
        );
    }
    // the broker stored what was sent, with the producer's timestamps
    let stored = cluster
        .records(&kcodec_broker::TopicPartition::new("orders", sent[0].0))
        .unwrap();
    assert_eq!(stored[0].key.as_deref(), Some(sent[0].2.as_bytes()));
    assert!(
        stored
            .iter()
            .all(|r| (1_000..1_040).contains(&r.timestamp.unwrap()))
    );
    server.shutdown().await;
}

/// Every compression codec this librdkafka build has (gzip, snappy, lz4; zstd is not built in
/// by rdkafka's default features: the `records` unit tests cover it) decodes on the broker,
/// record for record.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_compressed_batches_of_every_codec_are_stored_record_for_record() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.bootstrap();
    for codec in ["gzip", "snappy", "lz4"] {
        cluster.create_topic(NewTopic::new(codec, 1, 1)).unwrap();
        // a long linger so the records share one compressed batch
        let p = producer(
            &bootstrap,
            &[("compression.type", codec), ("linger.ms", "50")],
        )
        .await;
        let sends: Vec<_> = (0..50)
            .map(|i| {
                let value = format!("{codec} record {i} {}", "x".repeat(i));
                p.send_result(FutureRecord::to(codec).key("k").payload(&value))
                    .unwrap()
            })
            .collect();
        for (i, s) in sends.into_iter().enumerate() {
            let d = tokio::time::timeout(DEADLINE, s)
                .await
                .unwrap()
                .unwrap()
                .unwrap();
            assert_eq!(d.offset, i as i64, "{codec}");
        }
        let stored = cluster
            .records(&kcodec_broker::TopicPartition::new(codec, 0))
            .unwrap();
        let values: Vec<String> = stored
            .iter()
            .map(|r| String::from_utf8(r.value.as_deref().unwrap().to_vec()).unwrap())
            .collect();
        let expected: Vec<String> = (0..50)
            .map(|i| format!("{codec} record {i} {}", "x".repeat(i)))
            .collect();
        assert_eq!(values, expected, "{codec}");
        // and they read back through Fetch
        let read = read_back(&bootstrap, codec, 1, 50).await;
        assert_eq!(read[49].3.as_deref(), Some(expected[49].as_bytes()));
    }
    server.shutdown().await;
}

/// A transactional producer fails `init_transactions` at once with a fatal
/// TRANSACTIONAL_ID_AUTHORIZATION_FAILED (librdkafka's `rd_kafka_txn_handle_FindCoordinator`,
/// as Java's `TransactionManager.FindCoordinatorHandler`, gives up on it) instead of retrying a
/// coordinator lookup until its timeout (`_TIMED_OUT`), which is what the timeout here, far
/// beyond the test's run, would end in.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_transactional_producer_fails_init_transactions_at_once() {
    use rdkafka::producer::Producer;
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let p = producer(&server.bootstrap(), &[("transactional.id", "tx-1")]).await;
    let error = tokio::task::spawn_blocking(move || p.init_transactions(DEADLINE * 10))
        .await
        .unwrap()
        .unwrap_err();
    let rdkafka::error::KafkaError::Transaction(error) = error else {
        panic!("not a transaction error: {error}");
    };
    assert_eq!(
        error.code(),
        RDKafkaErrorCode::TransactionalIdAuthorizationFailed,
        "{error}"
    );
    assert!(error.is_fatal(), "{error}");
    assert!(
        error.string().contains("Transactions are not supported"),
        "{error}"
    );
    server.shutdown().await;
}

/// An idempotent producer (`enable.idempotence=true`) gets a producer id from InitProducerId
/// and its batches pass the broker's sequence checks: every record once, in order.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_idempotent_producer_writes_each_record_once_in_order() {
    let cluster = Cluster::new();
    cluster
        .create_topic(NewTopic::new("payments", 2, 1))
        .unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let p = producer(
        &server.bootstrap(),
        &[("enable.idempotence", "true"), ("linger.ms", "5")],
    )
    .await;
    let sends: Vec<_> = (0..200)
        .map(|i| {
            let value = i.to_string();
            p.send_result(
                FutureRecord::to("payments")
                    .key("k")
                    .payload(&value)
                    .partition(i % 2),
            )
            .unwrap()
        })
        .collect();
    for s in sends {
        tokio::time::timeout(DEADLINE, s)
            .await
            .unwrap()
            .unwrap()
            .unwrap();
    }
    for partition in 0..2 {
        let stored = cluster
            .records(&kcodec_broker::TopicPartition::new("payments", partition))
            .unwrap();
        let values: Vec<i32> = stored
            .iter()
            .map(|r| {
                std::str::from_utf8(r.value.as_deref().unwrap())
                    .unwrap()
                    .parse()
                    .unwrap()
            })
            .collect();
        let expected: Vec<i32> = (0..200).filter(|i| i % 2 == partition).collect();
        assert_eq!(values, expected);
    }
    server.shutdown().await;
}

/// A consumer waiting on an empty partition (Fetch's long poll) receives a record produced
/// after it started waiting; watermarks and offsets for times come from ListOffsets.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_waiting_consumer_gets_a_later_record_and_list_offsets_answers() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("events", 1, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.bootstrap();
    let reader = tokio::spawn({
        let bootstrap = bootstrap.clone();
        async move { read_back(&bootstrap, "events", 1, 1).await }
    });
    let p = producer(&bootstrap, &[]).await;
    p.send(
        FutureRecord::to("events")
            .key("a")
            .payload("first")
            .timestamp(5_000),
        DEADLINE,
    )
    .await
    .unwrap();
    let read = reader.await.unwrap();
    assert_eq!(read[0].3.as_deref(), Some(&b"first"[..]));
    p.send(
        FutureRecord::to("events")
            .key("b")
            .payload("second")
            .timestamp(9_000),
        DEADLINE,
    )
    .await
    .unwrap();

    let consumer: BaseConsumer = config(&bootstrap).create().unwrap();
    let (low, high) = tokio::task::spawn_blocking(move || {
        let w = consumer.fetch_watermarks("events", 0, DEADLINE).unwrap();
        let mut tpl = TopicPartitionList::new();
        tpl.add_partition_offset("events", 0, Offset::Offset(6_000))
            .unwrap();
        let found = consumer.offsets_for_times(tpl, DEADLINE).unwrap();
        let at = found.find_partition("events", 0).unwrap().offset();
        assert_eq!(
            at,
            Offset::Offset(1),
            "the first record at or after 6000 ms"
        );
        w
    })
    .await
    .unwrap();
    assert_eq!((low, high), (0, 2));
    server.shutdown().await;
}

/// The admin API through rdkafka's `AdminClient`: CreateTopics (with Kafka's errors for an
/// existing topic and a replication factor above the broker count), CreatePartitions
/// (INVALID_PARTITIONS for a decrease), DeleteTopics (UNKNOWN_TOPIC_OR_PARTITION the second
/// time); each acts on the cluster the test holds.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_admin_creates_grows_and_deletes_topics_with_kafkas_errors() {
    let cluster = Cluster::builder().brokers(2).build();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let admin: AdminClient<DefaultClientContext> = config(&server.bootstrap()).create().unwrap();
    let opts = AdminOptions::new().operation_timeout(Some(DEADLINE));
    let created = admin
        .create_topics(
            [
                &AdminTopic::new("audit", 3, TopicReplication::Fixed(2))
                    .set("retention.ms", "1000"),
                &AdminTopic::new("too-replicated", 1, TopicReplication::Fixed(3)),
            ],
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(created[0], Ok("audit".to_owned()));
    assert_eq!(
        created[1],
        Err((
            "too-replicated".to_owned(),
            RDKafkaErrorCode::InvalidReplicationFactor
        ))
    );
    assert_eq!(cluster.partition_count("audit").unwrap(), 3);
    assert_eq!(
        cluster.describe_topic_configs("audit").unwrap()["retention.ms"],
        "1000"
    );

    let again = admin
        .create_topics(
            [&AdminTopic::new("audit", 1, TopicReplication::Fixed(1))],
            &opts,
        )
        .await
        .unwrap();
    assert_eq!(
        again[0],
        Err(("audit".to_owned(), RDKafkaErrorCode::TopicAlreadyExists))
    );

    let grown = admin
        .create_partitions([&NewPartitions::new("audit", 5)], &opts)
        .await
        .unwrap();
    assert_eq!(grown[0], Ok("audit".to_owned()));
    assert_eq!(cluster.partition_count("audit").unwrap(), 5);
    let shrunk = admin
        .create_partitions([&NewPartitions::new("audit", 2)], &opts)
        .await
        .unwrap();
    assert_eq!(
        shrunk[0],
        Err(("audit".to_owned(), RDKafkaErrorCode::InvalidPartitions))
    );

    let deleted = admin.delete_topics(&["audit"], &opts).await.unwrap();
    assert_eq!(deleted[0], Ok("audit".to_owned()));
    assert!(cluster.list_topics().is_empty());
    let deleted = admin.delete_topics(&["audit"], &opts).await.unwrap();
    assert_eq!(
        deleted[0],
        Err((
            "audit".to_owned(),
            RDKafkaErrorCode::UnknownTopicOrPartition
        ))
    );
    server.shutdown().await;
}

/// On a `LogAppendTime` topic the broker's clock stamps each batch, and a fetch marks the
/// batches so (attribute bit 3, the append time as the batch's max timestamp): rdkafka reports
/// `LogAppendTime` with the broker's time, not the producer's.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_reads_log_append_time_stamped_by_the_brokers_clock() {
    let clock = kcodec_broker::ManualClock::new(7_000);
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster
        .create_topic(
            NewTopic::new("stamped", 1, 1).config("message.timestamp.type", "LogAppendTime"),
        )
        .unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.bootstrap();
    let p = producer(&bootstrap, &[]).await;
    for (i, at) in [(0, 7_000), (1, 7_000), (2, 8_000)] {
        clock.set_ms(at);
        p.send(
            FutureRecord::to("stamped")
                .key("k")
                .payload(&format!("v{i}"))
                .timestamp(1),
            DEADLINE,
        )
        .await
        .unwrap();
    }
    let consumer: StreamConsumer = config(&bootstrap)
        .set("group.id", "stamps")
        .set("enable.auto.commit", "false")
        .create()
        .unwrap();
    let mut tpl = TopicPartitionList::new();
    tpl.add_partition_offset("stamped", 0, Offset::Beginning)
        .unwrap();
    consumer.assign(&tpl).unwrap();
    drop(tpl);
    let mut stamps = Vec::new();
    while stamps.len() < 3 {
        let m = tokio::time::timeout(DEADLINE, consumer.recv())
            .await
            .unwrap()
            .unwrap();
        stamps.push(m.timestamp());
    }
    use rdkafka::message::Timestamp::LogAppendTime;
    assert_eq!(
        stamps,
        vec![
            LogAppendTime(7_000),
            LogAppendTime(7_000),
            LogAppendTime(8_000)
        ]
    );
    server.shutdown().await;
}
