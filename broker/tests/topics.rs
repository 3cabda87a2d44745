//! Topics, records, errors and test controls.

use bytes::Bytes;
use kcodec_broker::{
    BrokerError, Cluster, ConsumerConfig, Header, ManualClock, NewTopic, OffsetReset,
    ProducerConfig, ProducerRecord, TimestampType, TopicPartition,
};
use std::time::Duration;

#[test]
fn replication_factor_above_broker_count_is_refused_with_kafkas_message() {
    let c = Cluster::builder().brokers(2).build();
    let err = c.create_topic(NewTopic::new("t", 3, 3)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Unable to replicate the partition 3 time(s): The target replication factor of 3 cannot be reached because only 2 broker(s) are registered."
    );
    assert!(matches!(
        err,
        BrokerError::ReplicationFactorTooLarge {
            replication_factor: 3,
            brokers: 2
        }
    ));
    let one = Cluster::new();
    let err = one.create_topic(NewTopic::new("t", 1, 2)).unwrap_err();
    assert!(err.to_string().contains("only 1 broker(s) are registered"));
    assert_eq!(
        one.create_topic(NewTopic::new("t", 1, 0)).unwrap_err(),
        BrokerError::InvalidReplicationFactor
    );
}

#[test]
fn duplicate_zero_partitions_and_bad_names() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("orders", 1, 1)).unwrap();
    let err = c.create_topic(NewTopic::new("orders", 1, 1)).unwrap_err();
    assert_eq!(err, BrokerError::TopicExists("orders".into()));
    assert_eq!(err.to_string(), "Topic 'orders' already exists.");
    let err = c.create_topic(NewTopic::new("zero", 0, 1)).unwrap_err();
    assert!(matches!(err, BrokerError::InvalidPartitions(_)));
    assert_eq!(
        err.to_string(),
        "Number of partitions must be larger than 0."
    );
    assert!(matches!(
        c.create_topic(NewTopic::new("neg", -1, 1)),
        Err(BrokerError::InvalidPartitions(_))
    ));

    for bad in ["", ".", "..", "has space", "ünï", "a/b", "a:b"] {
        let err = c.create_topic(NewTopic::new(bad, 1, 1)).unwrap_err();
        assert!(
            matches!(err, BrokerError::InvalidTopic(_)),
            "{bad:?}: {err}"
        );
    }
    assert!(
        c.create_topic(NewTopic::new("a b", 1, 1))
            .unwrap_err()
            .to_string()
            .contains("contains a character other than ASCII alphanumerics, '.', '_' and '-'")
    );
    let long = "x".repeat(250);
    let err = c.create_topic(NewTopic::new(long, 1, 1)).unwrap_err();
    assert!(
        err.to_string()
            .contains("can't be longer than 249 characters")
    );
    c.create_topic(NewTopic::new("y".repeat(249), 1, 1))
        .unwrap();
    c.create_topic(NewTopic::new("Legal.name_with-all.9", 1, 1))
        .unwrap();
    // '.' and '_' collide, as in Kafka metrics names.
    c.create_topic(NewTopic::new("a.b", 1, 1)).unwrap();
    let err = c.create_topic(NewTopic::new("a_b", 1, 1)).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Topic 'a_b' collides with existing topic: a.b"
    );
}

#[test]
fn describe_list_delete_and_add_partitions() {
    let c = Cluster::builder().brokers(3).build();
    c.create_topic(NewTopic::new("t", 4, 2)).unwrap();
    c.create_topic(NewTopic::new("a", 1, 1)).unwrap();
    assert_eq!(c.list_topics(), ["a", "t"]);
    let d = c.describe_topic("t").unwrap();
    assert_eq!(d.partitions.len(), 4);
    for p in &d.partitions {
        assert_eq!(p.replicas.len(), 2);
        assert_eq!(p.leader, p.replicas[0]);
        assert_eq!(p.isr, p.replicas);
        assert!(p.replicas.iter().all(|&b| (0..3).contains(&b)));
        assert_ne!(p.replicas[0], p.replicas[1]);
    }
    // leaders spread over brokers
    let leaders: std::collections::BTreeSet<i32> = d.partitions.iter().map(|p| p.leader).collect();
    assert_eq!(leaders.len(), 3);

    c.create_partitions("t", 6).unwrap();
    assert_eq!(c.describe_topic("t").unwrap().partitions.len(), 6);
    assert_eq!(c.describe_topic("t").unwrap().topic_id, d.topic_id);
    let err = c.create_partitions("t", 5).unwrap_err();
    assert_eq!(
        err.to_string(),
        "Topic currently has 6 partitions, which is higher than the requested 5."
    );
    assert!(matches!(
        c.create_partitions("t", 6),
        Err(BrokerError::InvalidPartitions(_))
    ));
    assert!(matches!(
        c.create_partitions("nope", 6),
        Err(BrokerError::UnknownTopicOrPartition(_))
    ));

    c.delete_topic("t").unwrap();
    assert_eq!(c.list_topics(), ["a"]);
    assert!(matches!(
        c.describe_topic("t"),
        Err(BrokerError::UnknownTopicOrPartition(_))
    ));
    assert!(matches!(
        c.delete_topic("t"),
        Err(BrokerError::UnknownTopicOrPartition(_))
    ));
    let p = c.producer(ProducerConfig::default());
    assert!(matches!(
        p.send(ProducerRecord::new("t", Bytes::from("v"))),
        Err(BrokerError::UnknownTopicOrPartition(_))
    ));
}

#[test]
fn producer_cache_sees_a_recreated_topic() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let p = c.producer(ProducerConfig::default());
    p.send(ProducerRecord::new("t", Bytes::from("old")))
        .unwrap();
    c.delete_topic("t").unwrap();
    c.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let md = p
        .send(ProducerRecord::new("t", Bytes::from("new")).partition(1))
        .unwrap();
    assert_eq!((md.partition, md.offset), (1, 0));
    assert!(c.records(&TopicPartition::new("t", 0)).unwrap().is_empty());
}

#[test]
fn auto_create_is_off_by_default_and_optional() {
    let c = Cluster::new();
    let p = c.producer(ProducerConfig::default());
    let err = p
        .send(ProducerRecord::new("nope", Bytes::from("v")))
        .unwrap_err();
    assert_eq!(err, BrokerError::UnknownTopicOrPartition("nope".into()));
    assert!(err.is_retriable());

    let c = Cluster::builder()
        .auto_create_topics(true)
        .default_partitions(3)
        .build();
    let p = c.producer(ProducerConfig::default());
    p.send(ProducerRecord::new("auto", Bytes::from("v")))
        .unwrap();
    assert_eq!(c.partition_count("auto").unwrap(), 3);
    assert!(matches!(
        p.send(ProducerRecord::new("bad name", Bytes::from("v"))),
        Err(BrokerError::InvalidTopic(_))
    ));
}

/// Kafka refuses a name that equals an existing topic's once '.' and '_' are treated alike
/// (`InvalidTopicException`), whichever came first, and also when the topic would be
/// auto-created by a produce; the refused topic is not created.
#[test]
fn colliding_names_are_refused_on_create_and_on_auto_create() {
    let c = Cluster::builder()
        .auto_create_topics(true)
        .default_partitions(1)
        .build();
    c.create_topic(NewTopic::new("foo.bar", 1, 1)).unwrap();
    c.create_topic(NewTopic::new("x_y", 1, 1)).unwrap();
    assert_eq!(
        c.create_topic(NewTopic::new("x.y", 1, 1)),
        Err(BrokerError::InvalidTopic(
            "Topic 'x.y' collides with existing topic: x_y".into()
        ))
    );
    let p = c.producer(ProducerConfig::default());
    assert_eq!(
        p.send(ProducerRecord::new("foo_bar", Bytes::from("v")))
            .unwrap_err(),
        BrokerError::InvalidTopic("Topic 'foo_bar' collides with existing topic: foo.bar".into())
    );
    assert_eq!(c.list_topics(), ["foo.bar", "x_y"]);
    // Same name again is "already exists", not a collision; names that differ elsewhere are fine.
    assert_eq!(
        c.create_topic(NewTopic::new("foo.bar", 1, 1)),
        Err(BrokerError::TopicExists("foo.bar".into()))
    );
    c.create_topic(NewTopic::new("foo-bar", 1, 1)).unwrap();
    p.send(ProducerRecord::new("foo.bar", Bytes::from("v")))
        .unwrap();
}

/// Topic configs given at creation are kept as strings and reported (the broker applies none);
/// `LogAppendTime` shows as `message.timestamp.type`.
#[test]
fn topic_configs_are_kept_and_described() {
    let c = Cluster::new();
    c.create_topic(
        NewTopic::new("compacted", 1, 1)
            .config("retention.ms", "1000")
            .config("cleanup.policy", "compact"),
    )
    .unwrap();
    c.create_topic(NewTopic::new("lat", 1, 1).timestamp_type(TimestampType::LogAppendTime))
        .unwrap();
    c.create_topic(NewTopic::new("plain", 1, 1)).unwrap();
    let described = |t: &str| -> Vec<(String, String)> {
        c.describe_topic_configs(t).unwrap().into_iter().collect()
    };
    assert_eq!(
        described("compacted"),
        [
            ("cleanup.policy".to_owned(), "compact".to_owned()),
            ("retention.ms".to_owned(), "1000".to_owned())
        ]
    );
    assert_eq!(
        described("lat"),
        [(
            "message.timestamp.type".to_owned(),
            "LogAppendTime".to_owned()
        )]
    );
    assert!(described("plain").is_empty());
    assert_eq!(
        c.describe_topic_configs("nope"),
        Err(BrokerError::UnknownTopicOrPartition("nope".into()))
    );
    // message.timestamp.type given as a config is applied, not only reported
    c.create_topic(NewTopic::new("lat2", 1, 1).config("message.timestamp.type", "LogAppendTime"))
        .unwrap();
    assert_eq!(
        c.describe_topic("lat2").unwrap().timestamp_type,
        TimestampType::LogAppendTime
    );
    let p = c.producer(kcodec_broker::ProducerConfig::default());
    let md = p
        .send(kcodec_broker::ProducerRecord::new("lat2", Bytes::from("v")).timestamp(5))
        .unwrap();
    assert_ne!(
        md.timestamp,
        Some(5),
        "LogAppendTime replaces the producer's timestamp"
    );
    let back = NewTopic::new("ct", 1, 1)
        .timestamp_type(TimestampType::LogAppendTime)
        .config("message.timestamp.type", "CreateTime");
    assert_eq!(back.timestamp_type, TimestampType::CreateTime);
    let err = c
        .create_topic(NewTopic::new("bad", 1, 1).config("message.timestamp.type", "Never"))
        .unwrap_err();
    assert!(matches!(err, BrokerError::InvalidConfig(_)), "{err}");
    assert!(c.describe_topic("bad").is_err());
}

#[test]
fn records_keep_keys_values_headers_timestamps_and_offsets() {
    let clock = ManualClock::new(1_000);
    let c = Cluster::builder().clock(clock.clone()).build();
    c.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    c.create_topic(NewTopic::new("lat", 1, 1).timestamp_type(TimestampType::LogAppendTime))
        .unwrap();
    let p = c.producer(ProducerConfig::default());
    let mut r = ProducerRecord::new("t", Bytes::from("v1"))
        .key(Bytes::from("k"))
        .header("h", "1")
        .timestamp(42);
    r.headers
        .push(Header::new("h", None))
        .push(Header::new("other", Some(Bytes::new())));
    let md = p.send(r).unwrap();
    assert_eq!((md.offset, md.timestamp, &*md.topic), (0, Some(42), "t"));
    clock.advance(Duration::from_millis(5));
    let mut tombstone = ProducerRecord::new("t", Bytes::new());
    tombstone.value = None;
    let md = p.send(tombstone).unwrap();
    assert_eq!(
        (md.offset, md.timestamp),
        (1, Some(1_005)),
        "no timestamp: the clock"
    );
    let md = p
        .send(ProducerRecord::new("lat", Bytes::from("x")).timestamp(7))
        .unwrap();
    assert_eq!(
        md.timestamp,
        Some(1_005),
        "LogAppendTime overrides the producer"
    );

    let recs = c.records(&TopicPartition::new("t", 0)).unwrap();
    assert_eq!(recs.len(), 2);
    assert_eq!(recs[0].key.as_deref(), Some(&b"k"[..]));
    assert_eq!(recs[0].value.as_deref(), Some(&b"v1"[..]));
    assert_eq!(recs[0].timestamp_type, Some(TimestampType::CreateTime));
    let keys: Vec<&str> = recs[0].headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(keys, ["h", "h", "other"]);
    assert_eq!(recs[0].headers.last_header("h").unwrap().value, None);
    assert_eq!(recs[0].headers.headers("h").count(), 2);
    assert_eq!(
        recs[0].headers.last_header("other").unwrap().value,
        Some(Bytes::new())
    );
    assert_eq!((recs[1].key.clone(), recs[1].value.clone()), (None, None));
    assert!(recs[1].headers.is_empty());
    let lat = c.records(&TopicPartition::new("lat", 0)).unwrap();
    assert_eq!(lat[0].timestamp_type, Some(TimestampType::LogAppendTime));
    assert_eq!(c.end_offset(&TopicPartition::new("t", 0)).unwrap(), 2);
    assert_eq!(
        c.offset_for_time(&TopicPartition::new("t", 0), 43).unwrap(),
        Some(1)
    );
    assert_eq!(
        c.offset_for_time(&TopicPartition::new("t", 0), 2_000)
            .unwrap(),
        None
    );
}

#[test]
fn injected_errors_fail_exactly_the_next_n_sends() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    // No retries: a retriable error fails the send at once (`retries=0`).
    let p = c.producer(ProducerConfig::default().retries(0));
    c.inject_produce_errors(2, BrokerError::NotLeaderOrFollower);
    c.inject_produce_errors(1, BrokerError::Injected("disk full".into()));
    assert_eq!(
        p.send(ProducerRecord::new("t", Bytes::from("a")))
            .unwrap_err(),
        BrokerError::NotLeaderOrFollower
    );
    assert!(BrokerError::NotLeaderOrFollower.is_retriable());
    assert_eq!(
        p.send(ProducerRecord::new("t", Bytes::from("b")))
            .unwrap_err(),
        BrokerError::NotLeaderOrFollower
    );
    let e = p
        .send(ProducerRecord::new("t", Bytes::from("c")))
        .unwrap_err();
    assert_eq!(e.to_string(), "Injected failure: disk full");
    assert_eq!(
        p.send(ProducerRecord::new("t", Bytes::from("d")))
            .unwrap()
            .offset,
        0,
        "failed sends stored nothing"
    );
    assert_eq!(c.records(&TopicPartition::new("t", 0)).unwrap().len(), 1);
}

#[tokio::test]
async fn poll_waits_and_is_woken_by_an_append() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let mut consumer = c.consumer(ConsumerConfig::without_group()).unwrap();
    consumer
        .assign([TopicPartition::new("t", 0), TopicPartition::new("t", 1)])
        .unwrap();
    let producer = c.producer(ProducerConfig::default());
    let c2 = c.clone();
    let handle = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(50)).await;
        producer
            .send(ProducerRecord::new("t", Bytes::from("late")).partition(1))
            .unwrap();
        drop(c2);
    });
    // A poll without a deadline returns only when woken; the outer deadline bounds a failure.
    let recs = tokio::time::timeout(Duration::from_secs(60), consumer.poll(Duration::MAX))
        .await
        .expect("woken by the append")
        .unwrap();
    assert_eq!(recs.len(), 1);
    handle.await.unwrap();
    // Nothing more: an empty poll returns after its timeout.
    assert!(
        consumer
            .poll(Duration::from_millis(20))
            .await
            .unwrap()
            .is_empty()
    );
}

#[tokio::test]
async fn assign_seek_pause_resume_position_and_resets() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let p = c.producer(ProducerConfig::default());
    for i in 0..10 {
        p.send(ProducerRecord::new("t", Bytes::from(format!("{i}"))).partition(i % 2))
            .unwrap();
    }
    let tp0 = TopicPartition::new("t", 0);
    let tp1 = TopicPartition::new("t", 1);
    let mut latest = c.consumer(ConsumerConfig::without_group()).unwrap();
    latest.assign([tp0.clone()]).unwrap();
    assert_eq!(latest.position(&tp0).unwrap(), 5, "latest by default");

    let mut cons = c
        .consumer(
            ConsumerConfig::without_group()
                .auto_offset_reset(OffsetReset::Earliest)
                .max_poll_records(3),
        )
        .unwrap();
    cons.assign([tp0.clone(), tp1.clone()]).unwrap();
    assert_eq!(cons.position(&tp0).unwrap(), 0);
    let first = cons.poll(Duration::ZERO).await.unwrap();
    assert_eq!(first.len(), 3, "max.poll.records");
    cons.pause(std::slice::from_ref(&tp1)).unwrap();
    assert_eq!(cons.paused(), std::slice::from_ref(&tp1));
    let mut seen = Vec::new();
    loop {
        let r = cons.poll(Duration::ZERO).await.unwrap();
        if r.is_empty() {
            break;
        }
        seen.extend(r);
    }
    assert!(
        seen.iter().all(|r| r.partition == 0),
        "paused partition not fetched"
    );
    cons.resume(std::slice::from_ref(&tp1)).unwrap();
    cons.seek(&tp0, 1).unwrap();
    cons.seek_to_end(std::slice::from_ref(&tp1)).unwrap();
    let r = cons.poll(Duration::ZERO).await.unwrap();
    assert_eq!(r.iter().map(|r| r.offset).collect::<Vec<_>>(), [1, 2, 3]);
    assert_eq!(cons.position(&tp0).unwrap(), 4);
    cons.seek_to_beginning(std::slice::from_ref(&tp0)).unwrap();
    assert_eq!(cons.position(&tp0).unwrap(), 0);

    let other = TopicPartition::new("t", 9);
    assert!(matches!(
        cons.seek(&other, 0),
        Err(BrokerError::IllegalState(_))
    ));
    assert!(matches!(
        cons.pause(&[other]),
        Err(BrokerError::IllegalState(_))
    ));
    assert!(cons.seek(&tp0, -1).is_err());
    assert!(matches!(
        cons.subscribe(["t"]),
        Err(BrokerError::InvalidGroupId)
    ));
    // Without a group, commits are refused.
    assert_eq!(cons.commit_sync().unwrap_err(), BrokerError::InvalidGroupId);

    // A position past the end resets (earliest here), or fails with reset=none.
    cons.seek(&tp0, 100).unwrap();
    let r = cons.poll(Duration::ZERO).await.unwrap();
    assert_eq!(r[0].offset, 0);
    let mut strict = c
        .consumer(ConsumerConfig::without_group().auto_offset_reset(OffsetReset::None))
        .unwrap();
    strict.assign([tp0.clone()]).unwrap();
    let err = strict.poll(Duration::ZERO).await.unwrap_err();
    assert_eq!(err, BrokerError::NoOffsetForPartition(vec![tp0.clone()]));
    strict.seek(&tp0, 100).unwrap();
    let err = strict.poll(Duration::ZERO).await.unwrap_err();
    assert_eq!(
        err.to_string(),
        "Offsets out of range with no configured reset policy for partitions: {t-0=100}"
    );

    let mut idle = c.consumer(ConsumerConfig::without_group()).unwrap();
    assert!(matches!(
        idle.poll(Duration::ZERO).await,
        Err(BrokerError::IllegalState(_))
    ));
    assert!(matches!(
        c.consumer(ConsumerConfig::without_group().max_poll_records(0)),
        Err(BrokerError::InvalidConfig(v)) if v.name == "max.poll.records" && v.value == "0"
    ));
}

#[tokio::test]
async fn polled_records_share_the_stored_bytes() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let value = Bytes::from(vec![7u8; 1000]);
    c.producer(ProducerConfig::default())
        .send(ProducerRecord::new("t", value.clone()))
        .unwrap();
    let mut cons = c
        .consumer(ConsumerConfig::without_group().auto_offset_reset(OffsetReset::Earliest))
        .unwrap();
    cons.assign([TopicPartition::new("t", 0)]).unwrap();
    let recs = cons.poll(Duration::ZERO).await.unwrap();
    assert_eq!(
        recs[0].value.as_ref().unwrap().as_ptr(),
        value.as_ptr(),
        "zero-copy"
    );
}

#[test]
fn handles_are_thread_safe_and_cheap_to_clone() {
    fn send_sync<T: Send + Sync>() {}
    fn send<T: Send>() {}
    send_sync::<Cluster>();
    send_sync::<kcodec_broker::Producer>();
    send::<kcodec_broker::Consumer>();
    send_sync::<BrokerError>();
    let c = Cluster::new();
    let c2 = c.clone();
    c2.create_topic(NewTopic::new("shared", 1, 1)).unwrap();
    assert_eq!(c.list_topics(), ["shared"], "clones share one cluster");
}

#[tokio::test]
async fn extreme_inputs_are_refused_or_handled_without_panics() {
    let clock = ManualClock::new(i64::MAX - 10);
    let c = Cluster::builder().clock(clock.clone()).build();
    let err = c
        .create_topic(NewTopic::new("huge", i32::MAX, 1))
        .unwrap_err();
    assert!(matches!(err, BrokerError::InvalidPartitions(_)), "{err}");
    c.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    assert!(matches!(
        c.create_partitions("t", i32::MAX),
        Err(BrokerError::InvalidPartitions(_))
    ));
    clock.advance(Duration::MAX); // saturates
    assert_eq!(clock.now_ms(), i64::MAX);
    let mut cons = c
        .consumer(
            ConsumerConfig::new("g")
                .session_timeout(Duration::MAX)
                .max_poll_interval(Duration::MAX)
                .auto_commit_interval(Duration::MAX)
                .max_poll_records(usize::MAX),
        )
        .unwrap();
    cons.subscribe(["t"]).unwrap();
    c.producer(ProducerConfig::default())
        .send(ProducerRecord::new("t", Bytes::from("v")))
        .unwrap();
    cons.seek_to_beginning(&[]).unwrap();
    // Joined and assigned; a huge poll timeout returns as soon as there is data.
    let recs = tokio::time::timeout(Duration::from_secs(60), async {
        cons.poll(Duration::ZERO).await.unwrap();
        cons.seek(&TopicPartition::new("t", 0), 0).unwrap();
        cons.poll(Duration::MAX).await.unwrap()
    })
    .await
    .unwrap();
    assert_eq!(recs.len(), 1);
    clock.set_ms(i64::MIN);
    cons.poll(Duration::ZERO).await.unwrap();
    assert_eq!(
        c.describe_group("g").members.len(),
        1,
        "a clock jump back expels nobody"
    );
}

#[test]
fn producing_to_an_illegal_topic_name_is_an_invalid_topic_error() {
    for auto_create in [false, true] {
        let c = Cluster::builder().auto_create_topics(auto_create).build();
        let p = c.producer(ProducerConfig::default());
        for name in ["bad topic!", "", ".."] {
            let err = p
                .send(ProducerRecord::new(name, Bytes::from("v")))
                .unwrap_err();
            assert!(
                matches!(err, BrokerError::InvalidTopic(_)),
                "{name:?} (auto-create {auto_create}): {err}"
            );
        }
        assert!(c.list_topics().is_empty());
    }
}
