//! The produce path: `send_all` runs (long, multi-topic, concurrent), cached topic metadata,
//! shared topic names and wake-ups of waiting consumers.

use bytes::Bytes;
use kcodec_broker::{
    BrokerError, Cluster, ConsumerConfig, ManualClock, NewTopic, OffsetReset, ProducerConfig,
    ProducerRecord, TimestampType, TopicPartition,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::Duration;

fn cluster(topics: &[(&str, i32)]) -> Cluster {
    let c = Cluster::new();
    for &(t, n) in topics {
        c.create_topic(NewTopic::new(t, n, 1)).unwrap();
    }
    c
}

/// 9000 records: a block of 5000 to topic `a` (longer than one `send_all` run), then `a` and
/// `b` interleaved; keyed, keyless and explicit-partition records mixed.
fn mixed_records() -> Vec<ProducerRecord> {
    let a: Arc<str> = Arc::from("a");
    let b: Arc<str> = Arc::from("b");
    (0..9000u32)
        .map(|i| {
            let topic = if i < 5000 || i % 2 == 0 {
                a.clone()
            } else {
                b.clone()
            };
            let r = ProducerRecord::new(topic, Bytes::from(i.to_be_bytes().to_vec()));
            match i % 3 {
                0 => r.key(Bytes::from(format!("k{}", i % 101))),
                1 => r,
                _ => r.partition((i % 3) as i32),
            }
        })
        .collect()
}

fn values(c: &Cluster, topic: &str, partitions: i32) -> Vec<Vec<Option<Bytes>>> {
    (0..partitions)
        .map(|p| {
            c.records(&TopicPartition::new(topic, p))
                .unwrap()
                .into_iter()
                .map(|r| r.value)
                .collect()
        })
        .collect()
}

#[test]
fn long_multi_topic_send_all_matches_one_by_one_sends() {
    let topics = [("a", 8), ("b", 3)];
    let one = cluster(&topics);
    let p1 = one.producer(ProducerConfig::default().seed(9));
    let singles: Vec<(String, i32, i64)> = mixed_records()
        .into_iter()
        .map(|r| {
            let m = p1.send(r).unwrap();
            (m.topic.to_string(), m.partition, m.offset)
        })
        .collect();

    let all = cluster(&topics);
    let p2 = all.producer(ProducerConfig::default().seed(9));
    let batch: Vec<(String, i32, i64)> = p2
        .send_all(mixed_records())
        .into_iter()
        .map(|m| {
            let m = m.unwrap();
            (m.topic.to_string(), m.partition, m.offset)
        })
        .collect();
    assert_eq!(batch.len(), 9000);
    assert_eq!(batch, singles, "same topics, partitions and offsets");
    for (t, n) in topics {
        assert_eq!(values(&all, t, n), values(&one, t, n), "same logs for {t}");
    }
    // offsets are dense: each partition's offsets are 0, 1, 2, … in input order
    let mut next: HashMap<(String, i32), i64> = HashMap::new();
    for (t, p, o) in batch {
        let n = next.entry((t, p)).or_default();
        assert_eq!(o, *n);
        *n += 1;
    }
}

#[test]
fn send_all_reports_errors_per_record_mid_run() {
    let c = cluster(&[("a", 2)]);
    let p = c.producer(ProducerConfig::default());
    let res = p
        .send_all([
            ProducerRecord::new("a", Bytes::from("0")).partition(0),
            ProducerRecord::new("a", Bytes::from("1")).partition(7),
            ProducerRecord::new("missing", Bytes::from("2")),
            ProducerRecord::new("a", Bytes::from("3")).partition(0),
            ProducerRecord::new("a", Bytes::from("4")).partition(1),
        ])
        .into_vec();
    let got: Vec<_> = res
        .iter()
        .map(|r| r.as_ref().map(|m| (m.partition, m.offset)))
        .collect();
    assert_eq!(got[0], Ok((0, 0)));
    assert!(matches!(
        got[1],
        Err(BrokerError::InvalidPartition {
            partition: 7,
            partitions: 2
        })
    ));
    assert!(matches!(
        got[2],
        Err(BrokerError::UnknownTopicOrPartition(_))
    ));
    assert_eq!(got[3], Ok((0, 1)));
    assert_eq!(got[4], Ok((1, 0)));

    c.inject_produce_errors(2, BrokerError::RecordTooLarge);
    let res = p
        .send_all((0..4).map(|i| ProducerRecord::new("a", Bytes::from("x")).partition(i % 2)))
        .into_vec();
    assert_eq!(res[0], Err(BrokerError::RecordTooLarge));
    assert_eq!(res[1], Err(BrokerError::RecordTooLarge));
    assert_eq!(res[2].as_ref().map(|m| (m.partition, m.offset)), Ok((0, 2)));
    assert_eq!(res[3].as_ref().map(|m| (m.partition, m.offset)), Ok((1, 1)));
}

#[test]
fn concurrent_send_all_on_shared_partitions_neither_deadlocks_nor_reorders() {
    const PER: u32 = 20_000;
    let c = cluster(&[("t", 4)]);
    let threads: Vec<_> = (0..3u32)
        .map(|w| {
            let c = c.clone();
            std::thread::spawn(move || {
                let p = c.producer(ProducerConfig::default());
                let topic: Arc<str> = Arc::from("t");
                for chunk in 0..4 {
                    let recs = (0..PER / 4).map(|i| {
                        let seq = chunk * (PER / 4) + i;
                        let mut v = w.to_be_bytes().to_vec();
                        v.extend_from_slice(&seq.to_be_bytes());
                        // the partition cycles, so the runs of all threads contend for all logs
                        ProducerRecord::new(topic.clone(), Bytes::from(v))
                            .partition((seq % 4) as i32)
                    });
                    assert!(p.send_all(recs).all_ok());
                }
            })
        })
        .collect();
    for t in threads {
        t.join().unwrap();
    }
    let mut total = 0;
    for part in 0..4 {
        let mut last: HashMap<u32, u32> = HashMap::new();
        for r in c.records(&TopicPartition::new("t", part)).unwrap() {
            let v = r.value.unwrap();
            let w = u32::from_be_bytes(v[..4].try_into().unwrap());
            let seq = u32::from_be_bytes(v[4..].try_into().unwrap());
            assert_eq!(seq % 4, part as u32);
            if let Some(prev) = last.insert(w, seq) {
                assert!(
                    seq > prev,
                    "producer {w}'s records stay in order in partition {part}"
                );
            }
            total += 1;
        }
    }
    assert_eq!(total, 3 * PER);
}

#[test]
fn producer_sees_added_partitions_and_returns_the_records_topic_name() {
    let c = cluster(&[("t", 2)]);
    let p = c.producer(ProducerConfig::default());
    let topic: Arc<str> = Arc::from("t");
    let key = b"some-key";
    let md = p
        .send(ProducerRecord::new(topic.clone(), Bytes::from("v")).key(Bytes::from(&key[..])))
        .unwrap();
    assert!(
        Arc::ptr_eq(&md.topic, &topic),
        "the record's name comes back"
    );
    assert_eq!(
        md.partition,
        kcodec_broker::partitioner::partition_for_key(key, 2)
    );
    assert!(matches!(
        p.send(ProducerRecord::new(topic.clone(), Bytes::from("v")).partition(5)),
        Err(BrokerError::InvalidPartition { partitions: 2, .. })
    ));

    c.create_partitions("t", 6).unwrap();
    let md = p
        .send(ProducerRecord::new(topic.clone(), Bytes::from("v")).key(Bytes::from(&key[..])))
        .unwrap();
    assert_eq!(
        md.partition,
        kcodec_broker::partitioner::partition_for_key(key, 6),
        "keys hash over the new partition count"
    );
    let res = p
        .send_all([ProducerRecord::new(topic.clone(), Bytes::from("w")).partition(5)])
        .into_vec();
    assert_eq!(res[0].as_ref().map(|m| (m.partition, m.offset)), Ok((5, 0)));
}

#[test]
fn send_all_stamps_one_clock_reading_and_log_append_time() {
    let clock = ManualClock::new(1_000);
    let c = Cluster::builder().clock(clock.clone()).build();
    c.create_topic(NewTopic::new("create", 2, 1)).unwrap();
    c.create_topic(NewTopic::new("append", 2, 1).timestamp_type(TimestampType::LogAppendTime))
        .unwrap();
    let p = c.producer(ProducerConfig::default());
    clock.set_ms(5_000);
    let res = p
        .send_all([
            ProducerRecord::new("create", Bytes::from("a")),
            ProducerRecord::new("create", Bytes::from("b")).timestamp(42),
            ProducerRecord::new("append", Bytes::from("c")).timestamp(42),
            ProducerRecord::new("append", Bytes::from("d")),
        ])
        .into_vec();
    let ts: Vec<i64> = res
        .iter()
        .map(|r| r.as_ref().unwrap().timestamp.unwrap())
        .collect();
    assert_eq!(ts, [5_000, 42, 5_000, 5_000]);
    clock.set_ms(6_000);
    assert_eq!(
        p.send(ProducerRecord::new("append", Bytes::from("e")).timestamp(1))
            .unwrap()
            .timestamp,
        Some(6_000)
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn send_all_wakes_a_waiting_consumer() {
    let c = cluster(&[("t", 2)]);
    let mut consumer = c
        .consumer(ConsumerConfig::without_group().auto_offset_reset(OffsetReset::Earliest))
        .unwrap();
    consumer
        .assign([TopicPartition::new("t", 0), TopicPartition::new("t", 1)])
        .unwrap();
    let producer = c.producer(ProducerConfig::default());
    let sender = tokio::spawn(async move {
        tokio::time::sleep(Duration::from_millis(100)).await;
        producer
            .send_all((0..10).map(|i| ProducerRecord::new("t", Bytes::from("v")).partition(i % 2)))
    });
    // A poll without a deadline returns only when woken; the outer deadline bounds a failure.
    let got = tokio::time::timeout(Duration::from_secs(60), consumer.poll(Duration::MAX))
        .await
        .expect("woken by send_all")
        .unwrap();
    assert!(!got.is_empty(), "woken with records");
    assert!(sender.await.unwrap().all_ok());
}

#[test]
fn send_all_auto_creates_topics_between_runs() {
    let c = Cluster::builder()
        .auto_create_topics(true)
        .default_partitions(3)
        .build();
    c.create_topic(NewTopic::new("a", 2, 1)).unwrap();
    let p = c.producer(ProducerConfig::default());
    let res = p
        .send_all((0..6).map(|i| {
            let topic = if i % 2 == 0 { "a" } else { "fresh" };
            ProducerRecord::new(topic, Bytes::from("v")).partition(i % 2)
        }))
        .into_vec();
    let got: Vec<(String, i32, i64)> = res
        .into_iter()
        .map(|r| {
            r.map(|m| (m.topic.to_string(), m.partition, m.offset))
                .unwrap()
        })
        .collect();
    assert_eq!(
        got,
        [
            ("a".into(), 0, 0),
            ("fresh".into(), 1, 0),
            ("a".into(), 0, 1),
            ("fresh".into(), 1, 1),
            ("a".into(), 0, 2),
            ("fresh".into(), 1, 2),
        ]
    );
    assert_eq!(c.partition_count("fresh").unwrap(), 3);
}
