//! The batch API the Kafka-protocol front end stores through: `append_batch`, `read` and
//! `wait_for_records`.

use bytes::Bytes;
use kcodec_broker::{
    BrokerError, Cluster, ManualClock, NewTopic, ProducerRecord, TimestampType, TopicPartition,
};
use std::time::Duration;

/// A batch lands at consecutive offsets, all or none (Kafka's `UnifiedLog.appendAsLeader` of
/// one record batch): an injected error or a negative timestamp appends nothing; on a
/// `LogAppendTime` topic every record of the batch gets the clock's time.
#[test]
fn a_batch_is_appended_whole_at_consecutive_offsets_or_not_at_all() {
    let clock = ManualClock::new(5_000);
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    cluster
        .create_topic(NewTopic::new("lat", 1, 1).timestamp_type(TimestampType::LogAppendTime))
        .unwrap();
    let tp = TopicPartition::new("t", 0);
    let batch = |n: i64| {
        (0..n)
            .map(|i| ProducerRecord::new("ignored", Bytes::from(format!("v{i}"))).timestamp(i))
            .collect::<Vec<_>>()
    };
    assert_eq!(cluster.append_batch(&tp, batch(3)).unwrap().offset, 0);
    assert_eq!(cluster.append_batch(&tp, batch(2)).unwrap().offset, 3);

    cluster.inject_produce_errors(1, BrokerError::NotEnoughReplicas);
    assert_eq!(
        cluster.append_batch(&tp, batch(4)),
        Err(BrokerError::NotEnoughReplicas)
    );
    let mut bad = batch(2);
    bad[1].timestamp = Some(-5);
    assert_eq!(
        cluster.append_batch(&tp, bad),
        Err(BrokerError::InvalidTimestamp(-5))
    );
    assert_eq!(cluster.end_offset(&tp).unwrap(), 5);

    let read = cluster.read(&tp, 3, 10).unwrap();
    let got: Vec<(i64, i64)> = read
        .iter()
        .map(|r| (r.offset, r.timestamp.unwrap()))
        .collect();
    assert_eq!(got, vec![(3, 0), (4, 1)]);
    assert!(cluster.read(&tp, 5, 10).unwrap().is_empty());
    assert!(matches!(
        cluster.read(&tp, 6, 10),
        Err(BrokerError::OffsetOutOfRange(_))
    ));

    let lat = TopicPartition::new("lat", 0);
    let md = cluster.append_batch(&lat, batch(2)).unwrap();
    assert_eq!(md.timestamp, Some(5_000));
    assert!(
        cluster
            .records(&lat)
            .unwrap()
            .iter()
            .all(|r| r.timestamp == Some(5_000))
    );
    assert!(matches!(
        cluster.append_batch(&TopicPartition::new("t", 1), batch(1)),
        Err(BrokerError::UnknownTopicOrPartition(_))
    ));
}

/// `wait_for_records` returns at once when a partition already has a record at the position
/// or is unknown, and otherwise when an append (to any of the partitions) or a deletion wakes
/// it; nothing else ends the wait (the timeout here only bounds a failure).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn waiting_for_records_is_woken_by_an_append_or_a_deletion() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("a", 2, 1)).unwrap();
    let a0 = TopicPartition::new("a", 0);
    let a1 = TopicPartition::new("a", 1);
    let deadline = Duration::from_secs(60);
    cluster
        .append_batch(&a0, vec![ProducerRecord::new("a", Bytes::from("x"))])
        .unwrap();
    tokio::time::timeout(deadline, cluster.wait_for_records(&[(a0.clone(), 0)]))
        .await
        .expect("a record is already there");
    tokio::time::timeout(
        deadline,
        cluster.wait_for_records(&[(TopicPartition::new("b", 0), 0)]),
    )
    .await
    .expect("an unknown partition does not wait");

    let waiter = tokio::spawn({
        let cluster = cluster.clone();
        let positions = vec![(a0.clone(), 1), (a1.clone(), 0)];
        async move { cluster.wait_for_records(&positions).await }
    });
    tokio::task::yield_now().await;
    cluster
        .append_batch(&a1, vec![ProducerRecord::new("a", Bytes::from("y"))])
        .unwrap();
    tokio::time::timeout(deadline, waiter)
        .await
        .unwrap()
        .unwrap();

    let waiter = tokio::spawn({
        let cluster = cluster.clone();
        let positions = vec![(a0.clone(), 1)];
        async move { cluster.wait_for_records(&positions).await }
    });
    tokio::task::yield_now().await;
    cluster.delete_topic("a").unwrap();
    tokio::time::timeout(deadline, waiter)
        .await
        .unwrap()
        .unwrap();
}
