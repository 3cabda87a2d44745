//! Semantics pinned to the Java client and broker: lazy seeks, seeks of every assigned
//! partition, `LogAppendTime` order, negative timestamps, and no commit on a panic.

use bytes::Bytes;
use kcodec_broker::{
    BrokerError, Cluster, ConsumerConfig, NewTopic, OffsetReset, ProducerConfig, ProducerRecord,
    TimestampType, TopicPartition,
};
use std::time::Duration;

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

fn cluster_with(partitions: i32, records_per_partition: usize) -> Cluster {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", partitions, 1)).unwrap();
    let p = c.producer(ProducerConfig::default());
    for part in 0..partitions {
        for i in 0..records_per_partition {
            p.send(ProducerRecord::new("t", Bytes::from(format!("v{i}"))).partition(part))
                .unwrap();
        }
    }
    c
}

/// Java's `KafkaConsumer.seekToEnd` only requests a reset (`SubscriptionState.requestOffsetReset`
/// with `OffsetResetStrategy.LATEST`); the end is looked up at the next `poll` or `position`,
/// so a record produced in between is skipped.
#[tokio::test]
async fn seek_to_end_resolves_at_the_next_poll() {
    let c = cluster_with(1, 3);
    let mut consumer = c.consumer(ConsumerConfig::without_group()).unwrap();
    consumer.assign([tp(0)]).unwrap();
    consumer.seek_to_end(&[tp(0)]).unwrap();
    c.producer(ProducerConfig::default())
        .send(ProducerRecord::new("t", Bytes::from("between")).partition(0))
        .unwrap();
    assert_eq!(
        consumer.position(&tp(0)).unwrap(),
        4,
        "resolved now, after the send"
    );
    assert!(consumer.poll(Duration::ZERO).await.unwrap().is_empty());
    c.producer(ProducerConfig::default())
        .send(ProducerRecord::new("t", Bytes::from("after")).partition(0))
        .unwrap();
    let got = consumer.poll(Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 1);
    assert_eq!(got[0].offset, 4);
}

/// Java's `seekToBeginning(Collections.emptyList())` and `seekToEnd(emptyList())` act on every
/// assigned partition (`KafkaConsumer.seekToBeginning`: "If no partitions are provided, seek
/// to the first offset for all of the currently assigned partitions").
#[tokio::test]
async fn seek_to_beginning_of_nothing_means_every_assigned_partition() {
    let c = cluster_with(2, 2);
    let mut consumer = c
        .consumer(ConsumerConfig::without_group().auto_offset_reset(OffsetReset::Earliest))
        .unwrap();
    consumer.assign([tp(0), tp(1)]).unwrap();
    assert_eq!(consumer.poll(Duration::ZERO).await.unwrap().len(), 4);
    consumer.seek_to_beginning(&[]).unwrap();
    assert_eq!(consumer.position(&tp(0)).unwrap(), 0);
    assert_eq!(consumer.position(&tp(1)).unwrap(), 0);
    assert_eq!(consumer.poll(Duration::ZERO).await.unwrap().len(), 4);
    consumer.seek_to_end(&[]).unwrap();
    assert_eq!(consumer.position(&tp(0)).unwrap(), 2);
    assert_eq!(consumer.position(&tp(1)).unwrap(), 2);
    // A partition not assigned fails the call before anything moves.
    consumer.seek(&tp(0), 1).unwrap();
    assert!(consumer.seek_to_beginning(&[tp(0), tp(7)]).is_err());
    assert_eq!(consumer.position(&tp(0)).unwrap(), 1);
}

/// Kafka's broker stamps `LogAppendTime` while it holds the partition's log lock
/// (`UnifiedLog.append` → `LogValidator` with the append time), so within a partition the
/// stamps never decrease with the offsets, whatever the producers race.
#[test]
fn log_append_time_never_decreases_within_a_partition() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 1, 1).timestamp_type(TimestampType::LogAppendTime))
        .unwrap();
    std::thread::scope(|s| {
        for n in 0..4 {
            let p = c.producer(ProducerConfig::default());
            s.spawn(move || {
                for i in 0..2_000 {
                    if n % 2 == 0 {
                        p.send(ProducerRecord::new("t", Bytes::from("v")).timestamp(1))
                            .unwrap();
                    } else {
                        let r =
                            p.send_all((0..4).map(|_| ProducerRecord::new("t", Bytes::from("v"))));
                        assert!(r.all_ok(), "{i}");
                    }
                }
            });
        }
    });
    let records = c.records(&tp(0)).unwrap();
    assert_eq!(records.len(), 2 * 2_000 + 2 * 2_000 * 4);
    for w in records.windows(2) {
        assert!(
            w[0].timestamp <= w[1].timestamp,
            "offset {} at {:?} after offset {} at {:?}",
            w[1].offset,
            w[1].timestamp,
            w[0].offset,
            w[0].timestamp
        );
    }
}

/// Java's `ProducerRecord` constructor refuses a negative timestamp ("Invalid timestamp: -1.
/// Timestamp should always be non-negative or null."): nothing is stored.
#[test]
fn negative_create_time_is_refused() {
    let c = cluster_with(1, 0);
    let p = c.producer(ProducerConfig::default());
    let e = p
        .send(ProducerRecord::new("t", Bytes::from("v")).timestamp(-1))
        .unwrap_err();
    assert!(matches!(e, BrokerError::InvalidTimestamp(-1)), "{e:?}");
    assert_eq!(
        e.to_string(),
        "Invalid timestamp: -1. Timestamp should always be non-negative or null."
    );
    let r = p.send_all([
        ProducerRecord::new("t", Bytes::from("a")).timestamp(0),
        ProducerRecord::new("t", Bytes::from("b")).timestamp(i64::MIN),
    ]);
    assert!(r.get(0).unwrap().is_ok());
    assert!(matches!(
        r.get(1),
        Some(Err(BrokerError::InvalidTimestamp(i64::MIN)))
    ));
    assert_eq!(c.records(&tp(0)).unwrap().len(), 1);
}

/// A consumer dropped while its thread panics (the application failed processing a record)
/// does not auto-commit past that record (Java's consumer has no unwinding close; committing
/// what failed would lose it, so kcodec commits nothing then).
#[tokio::test]
async fn dropping_a_consumer_during_a_panic_commits_nothing() {
    let c = cluster_with(1, 3);
    let config = ConsumerConfig::new("g").auto_offset_reset(OffsetReset::Earliest);
    let mut consumer = c.consumer(config.clone()).unwrap();
    consumer.subscribe(["t"]).unwrap();
    assert_eq!(consumer.poll(Duration::ZERO).await.unwrap().len(), 3);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _owned = consumer;
        panic!("processing failed");
    }));
    assert!(panicked.is_err());
    assert_eq!(c.describe_group("g").members.len(), 0, "it left the group");
    let probe = c.consumer(config.clone()).unwrap();
    assert_eq!(probe.committed(&tp(0)).unwrap(), None);
    // Without a panic, dropping commits (auto-commit on close).
    let mut consumer = c.consumer(config).unwrap();
    consumer.subscribe(["t"]).unwrap();
    assert_eq!(consumer.poll(Duration::ZERO).await.unwrap().len(), 3);
    drop(consumer);
    assert_eq!(probe.committed(&tp(0)).unwrap().map(|o| o.offset), Some(3));
}

/// Kafka's `Sender` retries a batch that failed with a retriable error (`NotEnoughReplicas`,
/// `NotLeaderOrFollower`, request timeouts) up to `retries` times within `delivery.timeout.ms`
/// (`Sender.canRetry`); a non-retriable error fails the send at once.
#[test]
fn retriable_injected_errors_are_retried() {
    let c = cluster_with(1, 0);
    let p = c.producer(ProducerConfig::default());
    c.inject_produce_errors(3, BrokerError::NotEnoughReplicas);
    c.inject_produce_errors(1, BrokerError::NotLeaderOrFollower);
    let md = p.send(ProducerRecord::new("t", Bytes::from("a"))).unwrap();
    assert_eq!(md.offset, 0, "delivered after four retries");
    c.inject_produce_errors(1, BrokerError::NotEnoughReplicas);
    c.inject_produce_errors(1, BrokerError::RecordTooLarge);
    assert_eq!(
        p.send(ProducerRecord::new("t", Bytes::from("b")))
            .unwrap_err(),
        BrokerError::RecordTooLarge,
        "retried, then a non-retriable error"
    );
    // With `retries=1`: one retry, then the error.
    let once = c.producer(ProducerConfig::default().retries(1));
    c.inject_produce_errors(3, BrokerError::RequestTimedOut);
    assert_eq!(
        once.send(ProducerRecord::new("t", Bytes::from("c")))
            .unwrap_err(),
        BrokerError::RequestTimedOut
    );
    assert_eq!(
        once.send(ProducerRecord::new("t", Bytes::from("d")))
            .unwrap()
            .offset,
        1
    );
    // send_all retries per record too.
    c.inject_produce_errors(2, BrokerError::NotEnoughReplicas);
    assert!(
        p.send_all([ProducerRecord::new("t", Bytes::from("e"))])
            .all_ok()
    );
    assert_eq!(c.records(&tp(0)).unwrap().len(), 3);
}

/// With `enable_auto_offset_store(false)` (librdkafka's `enable.auto.offset.store=false` and
/// `rd_kafka_offsets_store`) what is committed is what was stored, not the fetch position:
/// auto-commit when due (Java's `ConsumerCoordinator.maybeAutoCommitOffsetsAsync`, run by
/// `poll`), `close` and `commit_sync` commit the stored offsets, each once; an offset for a
/// partition not assigned is refused. With the default (`true`) positions are committed, as
/// Java's `SubscriptionState.allConsumed`.
#[tokio::test]
async fn stored_offsets_are_what_the_consumer_commits() {
    use kcodec_broker::ManualClock;
    let clock = ManualClock::new(1_000_000);
    let c = Cluster::builder().clock(clock.clone()).build();
    c.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let p = c.producer(ProducerConfig::default());
    for i in 0..10 {
        p.send(ProducerRecord::new("t", Bytes::from(format!("v{i}"))))
            .unwrap();
    }
    let config = |group: &str| {
        ConsumerConfig::new(group)
            .auto_offset_reset(OffsetReset::Earliest)
            .auto_commit_interval(Duration::from_secs(1))
            .max_poll_records(5)
    };
    let committed = |group: &str| {
        let probe = c.consumer(ConsumerConfig::new(group)).unwrap();
        probe.committed(&tp(0)).unwrap().map(|o| o.offset)
    };

    let mut stored = c
        .consumer(config("stored").enable_auto_offset_store(false))
        .unwrap();
    stored.assign([tp(0)]).unwrap();
    assert_eq!(stored.poll(Duration::ZERO).await.unwrap().len(), 5);
    stored.store_offset("t", 0, 2).unwrap();
    assert!(matches!(
        stored.store_offset("t", 1, 2),
        Err(BrokerError::IllegalState(_))
    ));
    clock.advance(Duration::from_secs(1));
    // the auto-commit is due: it commits the stored offset, not the position (5)
    assert_eq!(stored.poll(Duration::ZERO).await.unwrap().len(), 5);
    assert_eq!(committed("stored"), Some(2));
    stored.store_offset("t", 0, 7).unwrap();
    stored.commit_sync().unwrap();
    assert_eq!(committed("stored"), Some(7));
    stored.close();
    assert_eq!(
        committed("stored"),
        Some(7),
        "nothing new stored: nothing committed"
    );

    let mut positions = c.consumer(config("positions")).unwrap();
    positions.assign([tp(0)]).unwrap();
    assert_eq!(positions.poll(Duration::ZERO).await.unwrap().len(), 5);
    clock.advance(Duration::from_secs(1));
    assert_eq!(positions.poll(Duration::ZERO).await.unwrap().len(), 5);
    assert_eq!(
        committed("positions"),
        Some(5),
        "the position when the commit was due"
    );
    positions.close();
    assert_eq!(committed("positions"), Some(10));
}
