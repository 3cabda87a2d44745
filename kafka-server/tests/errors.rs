//! Kafka's error codes on the request paths, checked with requests encoded by `kafka-protocol`
//! (the client side of the same message schemas) over a raw connection.

use bytes::{BufMut, Bytes, BytesMut};
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kcodec_broker::{Cluster, NewTopic, ProducerRecord, TopicPartition};
use std::time::Duration;
use support::{call, name, receive, send};
use tokio::net::TcpStream;

mod support;

/// One uncompressed v2 batch holding one record, as a producer writes it.
fn one_record_batch(value: &str, producer_id: i64, sequence: i32) -> Bytes {
    let mut records = BytesMut::new();
    let mut rec = BytesMut::new();
    rec.put_u8(0); // attributes
    rec.put_u8(0); // timestamp delta 0
    rec.put_u8(0); // offset delta 0
    rec.put_u8(1); // key: null (zigzag -1)
    rec.put_u8((value.len() as u8) << 1);
    rec.put_slice(value.as_bytes());
    rec.put_u8(0); // no headers
    records.put_u8((rec.len() as u8) << 1);
    records.put_slice(&rec);
    let mut b = BytesMut::new();
    b.put_i64(0);
    b.put_i32(0);
    b.put_i32(0);
    b.put_i8(2);
    b.put_u32(0);
    b.put_i16(0);
    b.put_i32(0);
    b.put_i64(1_000);
    b.put_i64(1_000);
    b.put_i64(producer_id);
    b.put_i16(0);
    b.put_i32(sequence);
    b.put_i32(1);
    b.put_slice(&records);
    let len = (b.len() - 12) as i32;
    b[8..12].copy_from_slice(&len.to_be_bytes());
    let crc = crc32c::crc32c(&b[21..]);
    b[17..21].copy_from_slice(&crc.to_be_bytes());
    b.freeze()
}

fn produce(topic: &str, partition: i32, acks: i16, records: Bytes) -> ProduceRequest {
    ProduceRequest::default()
        .with_acks(acks)
        .with_timeout_ms(30_000)
        .with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name(topic))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(partition)
                        .with_records(Some(records)),
                ]),
        ])
}

fn produce_code(r: &ProduceResponse) -> (i16, i64) {
    let p = &r.responses[0].partition_responses[0];
    (p.error_code, p.base_offset)
}

/// Produce's error codes, as Kafka's `ReplicaManager.appendRecords` answers them:
/// UNKNOWN_TOPIC_OR_PARTITION (3), NOT_LEADER_OR_FOLLOWER (6) on a follower, INVALID_REQUIRED_ACKS
/// (21), CORRUPT_MESSAGE (2) for a CRC mismatch; an injected broker fault answers its own code
/// (NOT_ENOUGH_REPLICAS, 19); `acks=0` gets no response at all (the next request's answer comes
/// first). The idempotent producer's OUT_OF_ORDER_SEQUENCE_NUMBER (45) for a gap, and a
/// duplicate answered with its first offset.
#[tokio::test]
async fn produce_answers_kafkas_error_codes() {
    let cluster = Cluster::builder().brokers(2).build();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut leader0 = TcpStream::connect(server.broker_addrs()[0]).await.unwrap();
    let v = 9;

    let r = call(
        &mut leader0,
        v,
        produce("missing", 0, 1, one_record_batch("x", -1, -1)),
    )
    .await;
    assert_eq!(produce_code(&r).0, 3);
    let r = call(
        &mut leader0,
        v,
        produce("t", 1, 1, one_record_batch("x", -1, -1)),
    )
    .await;
    assert_eq!(produce_code(&r).0, 6, "partition 1's leader is broker 1");
    let r = call(
        &mut leader0,
        v,
        produce("t", 0, 2, one_record_batch("x", -1, -1)),
    )
    .await;
    assert_eq!(produce_code(&r).0, 21);
    let mut corrupt = BytesMut::from(&one_record_batch("x", -1, -1)[..]);
    let last = corrupt.len() - 2;
    corrupt[last] ^= 0xff;
    let r = call(&mut leader0, v, produce("t", 0, 1, corrupt.freeze())).await;
    assert_eq!(produce_code(&r).0, 2);

    cluster.inject_produce_errors(1, kcodec_broker::BrokerError::NotEnoughReplicas);
    let r = call(
        &mut leader0,
        v,
        produce("t", 0, -1, one_record_batch("x", -1, -1)),
    )
    .await;
    assert_eq!(produce_code(&r).0, 19);

    // acks=0: appended, unanswered; the ApiVersions sent next is the next answer
    send(
        &mut leader0,
        v,
        50,
        &produce("t", 0, 0, one_record_batch("fire", -1, -1)),
    )
    .await;
    send(&mut leader0, 3, 51, &ApiVersionsRequest::default()).await;
    let (correlation, _) = receive::<ApiVersionsResponse>(&mut leader0, 3).await;
    assert_eq!(correlation, 51);
    let stored = cluster.records(&TopicPartition::new("t", 0)).unwrap();
    assert_eq!(stored.len(), 1);
    assert_eq!(stored[0].value.as_deref(), Some(&b"fire"[..]));

    // idempotence
    let init = call(
        &mut leader0,
        4,
        InitProducerIdRequest::default()
            .with_transactional_id(None)
            .with_transaction_timeout_ms(60_000),
    )
    .await;
    assert_eq!(init.error_code, 0);
    let pid = init.producer_id.0;
    let r = call(
        &mut leader0,
        v,
        produce("t", 0, -1, one_record_batch("s0", pid, 0)),
    )
    .await;
    assert_eq!(produce_code(&r), (0, 1));
    let r = call(
        &mut leader0,
        v,
        produce("t", 0, -1, one_record_batch("s0", pid, 0)),
    )
    .await;
    assert_eq!(
        produce_code(&r),
        (0, 1),
        "a duplicate gets its first offset"
    );
    let r = call(
        &mut leader0,
        v,
        produce("t", 0, -1, one_record_batch("s2", pid, 2)),
    )
    .await;
    assert_eq!(produce_code(&r).0, 45);
    assert_eq!(cluster.end_offset(&TopicPartition::new("t", 0)).unwrap(), 2);
}

/// Fetch: OFFSET_OUT_OF_RANGE (1) past the log end, UNKNOWN_TOPIC_OR_PARTITION (3), and the
/// high watermark, last stable offset and log start offset of a partition; a fetch with
/// `min_bytes` on an empty partition answers once a record is appended (woken by the append:
/// `max_wait_ms` is far beyond the test's deadline).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn fetch_answers_watermarks_errors_and_waits_for_appends() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let fetch = |topic: &str, offset: i64, max_wait_ms: i32| {
        FetchRequest::default()
            .with_max_wait_ms(max_wait_ms)
            .with_min_bytes(1)
            .with_max_bytes(1 << 20)
            .with_session_epoch(-1)
            .with_topics(vec![
                FetchTopic::default()
                    .with_topic(name(topic))
                    .with_partitions(vec![
                        FetchPartition::default()
                            .with_partition(0)
                            .with_fetch_offset(offset)
                            .with_partition_max_bytes(1 << 20),
                    ]),
            ])
    };
    let r = call(&mut s, 12, fetch("t", 5, 0)).await;
    assert_eq!(r.responses[0].partitions[0].error_code, 1);
    let r = call(&mut s, 12, fetch("nope", 0, 0)).await;
    assert_eq!(r.responses[0].partitions[0].error_code, 3);

    let producer = cluster.producer(Default::default());
    let appender = tokio::spawn(async move {
        // appended once the fetch below waits (or before it: either way it is answered)
        tokio::task::yield_now().await;
        producer
            .send(ProducerRecord::new("t", Bytes::from("later")).partition(0))
            .unwrap();
    });
    let r = tokio::time::timeout(
        Duration::from_secs(60),
        call(&mut s, 12, fetch("t", 0, 600_000)),
    )
    .await
    .expect("answered on the append, not at max_wait_ms");
    appender.await.unwrap();
    let p = &r.responses[0].partitions[0];
    assert_eq!(
        (
            p.error_code,
            p.high_watermark,
            p.last_stable_offset,
            p.log_start_offset
        ),
        (0, 1, 1, 0)
    );
    assert!(p.records.as_ref().is_some_and(|r| !r.is_empty()));
}

/// ListOffsets: earliest (-2), latest (-1), by timestamp (the first record at or after it, -1
/// when none), max timestamp (-3); UNKNOWN_TOPIC_OR_PARTITION for a partition the topic lacks.
#[tokio::test]
async fn list_offsets_answers_earliest_latest_and_by_timestamp() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = cluster.producer(Default::default());
    for ts in [100, 300, 200] {
        producer
            .send(
                ProducerRecord::new("t", Bytes::from("v"))
                    .partition(0)
                    .timestamp(ts),
            )
            .unwrap();
    }
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let ask = |partition: i32, timestamp: i64| {
        ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![
                ListOffsetsTopic::default()
                    .with_name(name("t"))
                    .with_partitions(vec![
                        ListOffsetsPartition::default()
                            .with_partition_index(partition)
                            .with_timestamp(timestamp),
                    ]),
            ])
    };
    let mut got = Vec::new();
    for ts in [-2, -1, 150, 250, 301, -3] {
        let r = call(&mut s, 7, ask(0, ts)).await;
        let p = &r.topics[0].partitions[0];
        got.push((p.error_code, p.offset, p.timestamp));
    }
    assert_eq!(
        got,
        vec![
            (0, 0, -1),
            (0, 3, -1),
            (0, 1, 300),
            (0, 1, 300),
            (0, -1, -1),
            (0, 1, 300)
        ]
    );
    let r = call(&mut s, 7, ask(4, -1)).await;
    assert_eq!(r.topics[0].partitions[0].error_code, 3);
}

/// ListOffsets with a partition named twice (Kafka's `ListOffsetsRequest.duplicatePartitions`
/// and `ReplicaManager.fetchOffset`, whose answers are a map by partition): that partition is
/// answered once, INVALID_REQUEST (42) with no offset; the others of the request get theirs; a
/// topic named twice is answered as one topic.
#[tokio::test]
async fn list_offsets_answers_a_duplicated_partition_once_with_invalid_request() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let producer = cluster.producer(Default::default());
    for p in [0, 1, 1] {
        producer
            .send(ProducerRecord::new("t", Bytes::from("v")).partition(p))
            .unwrap();
    }
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let latest = |partition: i32| {
        ListOffsetsPartition::default()
            .with_partition_index(partition)
            .with_timestamp(-1)
    };
    let topic = |partitions: Vec<ListOffsetsPartition>| {
        ListOffsetsTopic::default()
            .with_name(name("t"))
            .with_partitions(partitions)
    };
    let r = call(
        &mut s,
        7,
        ListOffsetsRequest::default()
            .with_replica_id(BrokerId(-1))
            .with_topics(vec![
                topic(vec![latest(0), latest(1)]),
                topic(vec![latest(0)]),
            ]),
    )
    .await;
    assert_eq!(r.topics.len(), 1, "one answer for the topic named twice");
    let got: Vec<(i32, i16, i64)> = r.topics[0]
        .partitions
        .iter()
        .map(|p| (p.partition_index, p.error_code, p.offset))
        .collect();
    assert_eq!(got, vec![(0, 42, -1), (1, 0, 2)]);
}

/// CreateTopics with Kafka's codes (TOPIC_ALREADY_EXISTS 36, INVALID_PARTITIONS 37,
/// INVALID_REPLICATION_FACTOR 38, INVALID_TOPIC_EXCEPTION 17, INVALID_REQUEST 42, once, for a name
/// given twice (`ControllerApis.createTopics`), INVALID_CONFIG 40 for an unknown config name as `LogConfig.validateNames`), `validate_only` creating nothing, `-1` taking the broker defaults;
/// DescribeConfigs for a topic (its own settings as DYNAMIC_TOPIC_CONFIG, defaults as
/// DEFAULT_CONFIG) and an unknown one; DescribeCluster listing the brokers.
#[tokio::test]
async fn admin_requests_answer_kafkas_codes() {
    let cluster = Cluster::builder().brokers(2).default_partitions(3).build();
    cluster.create_topic(NewTopic::new("exists", 1, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let topic = |n: &str, partitions: i32, rf: i16| {
        CreatableTopic::default()
            .with_name(name(n))
            .with_num_partitions(partitions)
            .with_replication_factor(rf)
    };
    let r = call(
        &mut s,
        7,
        CreateTopicsRequest::default()
            .with_timeout_ms(1000)
            .with_topics(vec![
                topic("exists", 1, 1),
                topic("zero", 0, 1),
                topic("rf3", 1, 3),
                topic("bad/name", 1, 1),
                topic("twice", 1, 1),
                topic("twice", 1, 1),
                topic("defaults", -1, -1),
            ]),
    )
    .await;
    let codes: Vec<(String, i16)> = r
        .topics
        .iter()
        .map(|t| (t.name.0.to_string(), t.error_code))
        .collect();
    assert_eq!(
        codes,
        vec![
            ("exists".into(), 36),
            ("zero".into(), 37),
            ("rf3".into(), 38),
            ("bad/name".into(), 17),
            ("twice".into(), 42),
            ("defaults".into(), 0),
        ]
    );
    assert_eq!(
        (r.topics[5].num_partitions, r.topics[5].replication_factor),
        (3, 1)
    );
    assert_eq!(cluster.partition_count("defaults").unwrap(), 3);

    let r = call(
        &mut s,
        7,
        CreateTopicsRequest::default()
            .with_validate_only(true)
            .with_topics(vec![topic("dry", 2, 2)]),
    )
    .await;
    assert_eq!(r.topics[0].error_code, 0);
    assert!(
        cluster.describe_topic("dry").is_err(),
        "validate_only creates nothing"
    );

    // An unknown config name: INVALID_CONFIG (40) with `LogConfig.validateNames`' message,
    // nothing created; a known one is kept.
    let configured = |n: &str, key: &str| {
        topic(n, 1, 1).with_configs(vec![
            kafka_protocol::messages::create_topics_request::CreatableTopicConfig::default()
                .with_name(StrBytes::from_string(key.to_owned()))
                .with_value(Some(StrBytes::from_static_str("1000"))),
        ])
    };
    let r = call(
        &mut s,
        7,
        CreateTopicsRequest::default().with_topics(vec![
            configured("unknown-config", "retention"),
            configured("known-config", "retention.ms"),
        ]),
    )
    .await;
    assert_eq!(r.topics[0].error_code, 40);
    assert_eq!(
        r.topics[0].error_message.as_deref(),
        Some("Unknown topic config name: retention")
    );
    assert!(cluster.describe_topic("unknown-config").is_err());
    assert_eq!(r.topics[1].error_code, 0);
    assert_eq!(
        cluster.describe_topic_configs("known-config").unwrap()["retention.ms"],
        "1000"
    );

    cluster
        .create_topic(NewTopic::new("configured", 1, 1).config("retention.ms", "1000"))
        .unwrap();
    let r = call(
        &mut s,
        4,
        DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(StrBytes::from_static_str("configured"))
                .with_configuration_keys(Some(vec![
                    StrBytes::from_static_str("retention.ms"),
                    StrBytes::from_static_str("cleanup.policy"),
                ])),
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(StrBytes::from_static_str("missing")),
        ]),
    )
    .await;
    let configs: Vec<(String, Option<String>, i8)> = r.results[0]
        .configs
        .iter()
        .map(|c| {
            (
                c.name.to_string(),
                c.value.as_ref().map(|v| v.to_string()),
                c.config_source,
            )
        })
        .collect();
    assert_eq!(
        configs,
        vec![
            ("cleanup.policy".into(), Some("delete".into()), 5),
            ("retention.ms".into(), Some("1000".into()), 1),
        ]
    );
    assert_eq!(r.results[1].error_code, 3);

    let r = call(
        &mut s,
        1,
        DescribeClusterRequest::default().with_endpoint_type(1),
    )
    .await;
    let brokers: Vec<(i32, i32)> = r.brokers.iter().map(|b| (b.broker_id.0, b.port)).collect();
    let expected: Vec<(i32, i32)> = server
        .broker_addrs()
        .iter()
        .enumerate()
        .map(|(i, a)| (i as i32, i32::from(a.port())))
        .collect();
    assert_eq!(brokers, expected);
    assert_eq!(r.cluster_id.len(), 22);
}

/// Metadata creates a missing topic only when both the request allows it
/// (`allow_auto_topic_creation`) and the cluster auto-creates topics (`num.partitions` of them),
/// as Kafka's `KafkaApis.getTopicMetadata`; otherwise UNKNOWN_TOPIC_OR_PARTITION (3), and
/// INVALID_TOPIC_EXCEPTION (17) for a name no topic can have.
#[tokio::test]
async fn metadata_auto_creates_topics_as_the_cluster_and_the_request_allow() {
    use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
    let ask = |topic: &str, allow: bool| {
        MetadataRequest::default()
            .with_topics(Some(vec![
                MetadataRequestTopic::default().with_name(Some(name(topic))),
            ]))
            .with_allow_auto_topic_creation(allow)
    };
    let auto = Cluster::builder()
        .auto_create_topics(true)
        .default_partitions(4)
        .build();
    let server = kcodec_kafka_server::serve(&auto, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let r = call(&mut s, 12, ask("not-allowed", false)).await;
    assert_eq!(r.topics[0].error_code, 3);
    assert!(auto.list_topics().is_empty());
    let r = call(&mut s, 12, ask("created", true)).await;
    assert_eq!(
        (r.topics[0].error_code, r.topics[0].partitions.len()),
        (0, 4)
    );
    assert_eq!(auto.partition_count("created").unwrap(), 4);
    let r = call(&mut s, 12, ask("bad name", true)).await;
    assert_eq!(r.topics[0].error_code, 17);

    let manual = Cluster::new();
    let server = kcodec_kafka_server::serve(&manual, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let r = call(&mut s, 12, ask("missing", true)).await;
    assert_eq!(r.topics[0].error_code, 3);
    assert!(manual.list_topics().is_empty());
}
