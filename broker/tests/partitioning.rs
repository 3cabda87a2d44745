//! Partitioning: Kafka's murmur2 vectors, key placement, sticky partitioners, per-key order.

use bytes::Bytes;
use kcodec_broker::partitioner::{
    KeylessPartitioner, PartitionerKind, estimated_record_size, murmur2, partition_for_key,
    to_positive,
};
use kcodec_broker::{
    BrokerError, Cluster, NewTopic, ProducerConfig, ProducerRecord, TopicPartition,
};
use std::collections::HashMap;

#[test]
fn murmur2_matches_kafka_vectors() {
    // Vectors from Kafka's UtilsTest.testMurmur2.
    assert_eq!(murmur2(b"21"), -973932308);
    assert_eq!(murmur2(b"foobar"), -790332482);
    assert_eq!(murmur2(b"a-little-bit-long-string"), -985981536);
    assert_eq!(murmur2(b"a-little-bit-longer-string"), -1486304829);
    assert_eq!(
        murmur2(b"lkjh234lh9fiuh90y23oiuhsafujhadof229phr9h19h89h8"),
        -58897971
    );
    assert_eq!(murmur2(b"abc"), 479470107);
}

#[test]
fn to_positive_clears_sign_bit() {
    assert_eq!(to_positive(-1), i32::MAX);
    assert_eq!(to_positive(i32::MIN), 0);
    assert_eq!(to_positive(5), 5);
}

#[test]
fn keys_0_to_9_on_3_partitions() {
    let got: Vec<i32> = (0..10)
        .map(|k| partition_for_key(k.to_string().as_bytes(), 3))
        .collect();
    assert_eq!(got, [2, 0, 2, 2, 1, 0, 1, 0, 0, 2]);
}

proptest::proptest! {
    /// The shortcuts (one partition: no hash; a power of two: a mask) pick the partition
    /// Kafka's formula `toPositive(murmur2(key)) % n` picks, for every partition count.
    #[test]
    fn partition_for_key_is_kafkas_formula(
        key in proptest::collection::vec(proptest::num::u8::ANY, 0..40),
    ) {
        for n in (1i32..=130).chain([1000, 1024, 4096, 1 << 30, i32::MAX]) {
            proptest::prop_assert_eq!(
                partition_for_key(&key, n),
                to_positive(murmur2(&key)) % n,
                "{} partitions", n
            );
        }
    }
}

#[test]
fn producer_places_keys_like_kafka_and_explicit_partition_wins() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 3, 1)).unwrap();
    let p = c.producer(ProducerConfig::default());
    for k in 0..10 {
        let md = p
            .send(ProducerRecord::new("t", Bytes::from("v")).key(Bytes::from(k.to_string())))
            .unwrap();
        assert_eq!(md.partition, [2, 0, 2, 2, 1, 0, 1, 0, 0, 2][k]);
    }
    // An empty key is a key: murmur2 of no bytes.
    let md = p
        .send(ProducerRecord::new("t", Bytes::from("v")).key(Bytes::new()))
        .unwrap();
    assert_eq!(md.partition, to_positive(murmur2(b"")) % 3);
    // An explicit partition beats the key.
    let md = p
        .send(
            ProducerRecord::new("t", Bytes::from("v"))
                .key(Bytes::from("0"))
                .partition(1),
        )
        .unwrap();
    assert_eq!(md.partition, 1);
    let err = p
        .send(ProducerRecord::new("t", Bytes::from("v")).partition(3))
        .unwrap_err();
    assert_eq!(
        err,
        BrokerError::InvalidPartition {
            partition: 3,
            partitions: 3
        }
    );
    assert_eq!(
        err.to_string(),
        "Invalid partition given with record: 3 is not in the range [0...3)."
    );
    assert!(
        p.send(ProducerRecord::new("t", Bytes::from("v")).partition(-1))
            .is_err()
    );
}

#[test]
fn record_size_estimate_follows_record_format_v2() {
    // 100-byte value, no key, no headers: attributes, ts delta, offset delta (3) + null key (1)
    // + zig-zag varint(100) = 2 bytes + 100 + header count (1) = 107, plus a 2-byte length prefix.
    assert_eq!(estimated_record_size(None, Some(&[0u8; 100]), &[]), 109);
    assert_eq!(
        estimated_record_size(Some(b"k"), None, &[]),
        1 + 3 + 2 + 1 + 1
    );
}

#[test]
fn uniform_sticky_switches_after_batch_size_bytes() {
    let mut p = KeylessPartitioner::new(PartitionerKind::UniformSticky, 16_384, 7);
    let size = estimated_record_size(None, Some(&[0u8; 100]), &[]); // 109
    let per_batch = 16_384usize.div_ceil(size); // records until >= batch.size: 151
    let first = p.partition(8, size);
    for _ in 1..per_batch {
        assert_eq!(p.partition(8, size), first);
    }
    let second = p.partition(8, size);
    for _ in 1..per_batch {
        assert_eq!(p.partition(8, size), second);
    }
}

/// KIP-794's `BuiltInPartitioner.nextPartition` picks the next sticky partition uniformly among
/// all partitions, the current one included (only KIP-480's `StickyPartitionCache` excludes
/// it): with two partitions and one record per batch, the partition repeats about half the
/// time; the KIP-480 partitioner alternates.
#[test]
fn uniform_sticky_may_pick_the_same_partition_again() {
    let mut p = KeylessPartitioner::new(PartitionerKind::UniformSticky, 10, 5);
    let picks: Vec<i32> = (0..400).map(|_| p.partition(2, 10)).collect();
    let repeats = picks.windows(2).filter(|w| w[0] == w[1]).count();
    assert!((100..300).contains(&repeats), "{repeats} repeats of 399");
    let mut k = KeylessPartitioner::new(PartitionerKind::Sticky, 10, 5);
    let picks: Vec<i32> = (0..400).map(|_| k.partition(2, 10)).collect();
    assert!(
        picks.windows(2).all(|w| w[0] != w[1]),
        "KIP-480 always moves"
    );
}

#[test]
fn kip480_sticky_switches_when_the_record_no_longer_fits() {
    let mut p = KeylessPartitioner::new(PartitionerKind::Sticky, 1000, 3);
    let first = p.partition(4, 300);
    assert_eq!(p.partition(4, 300), first);
    assert_eq!(p.partition(4, 300), first); // 900 bytes in the batch
    let next = p.partition(4, 300); // would be 1200 > 1000: new batch, new partition
    assert_ne!(next, first);
    assert_eq!(p.partition(4, 300), next);
}

#[test]
fn round_robin_cycles_and_single_partition_is_stable() {
    let mut p = KeylessPartitioner::new(PartitionerKind::RoundRobin, 16_384, 0);
    let got: Vec<i32> = (0..7).map(|_| p.partition(3, 10)).collect();
    assert_eq!(got, [0, 1, 2, 0, 1, 2, 0]);
    let mut s = KeylessPartitioner::new(PartitionerKind::UniformSticky, 10, 0);
    for _ in 0..20 {
        assert_eq!(s.partition(1, 100), 0);
    }
}

#[test]
fn compare_three_keyless_strategies_through_the_producer() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 4, 1)).unwrap();
    let mut runs = Vec::new();
    for kind in [
        PartitionerKind::UniformSticky,
        PartitionerKind::Sticky,
        PartitionerKind::RoundRobin,
    ] {
        let p = c.producer(
            ProducerConfig::default()
                .partitioner(kind)
                .batch_size(1090)
                .seed(11),
        );
        let parts: Vec<i32> = (0..40)
            .map(|_| {
                p.send(ProducerRecord::new("t", Bytes::from(vec![0u8; 100])))
                    .unwrap()
                    .partition
            })
            .collect();
        runs.push(parts);
    }
    // Uniform sticky: runs of exactly 10 records (10 × 109 bytes = 1090 = batch.size).
    for chunk in runs[0].chunks(10) {
        assert!(chunk.iter().all(|&x| x == chunk[0]));
    }
    let switches = runs[0].windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(switches, 3);
    // KIP-480 sticky: 10 records fit in 1090 bytes, the 11th opens a new batch elsewhere.
    for chunk in runs[1].chunks(10) {
        assert!(chunk.iter().all(|&x| x == chunk[0]));
    }
    let switches = runs[1].windows(2).filter(|w| w[0] != w[1]).count();
    assert_eq!(switches, 3);
    // Round robin: every record moves.
    assert_eq!(&runs[2][..8], &[0, 1, 2, 3, 0, 1, 2, 3]);
}

#[test]
fn ignore_keys_with_round_robin_is_kafkas_round_robin_partitioner() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 3, 1)).unwrap();
    let p = c.producer(
        ProducerConfig::default()
            .partitioner(PartitionerKind::RoundRobin)
            .ignore_keys(true),
    );
    let got: Vec<i32> = (0..6)
        .map(|_| {
            p.send(ProducerRecord::new("t", Bytes::from("v")).key(Bytes::from("same")))
                .unwrap()
                .partition
        })
        .collect();
    assert_eq!(got, [0, 1, 2, 0, 1, 2]);
}

#[test]
fn per_key_order_kept_over_10k_records_and_8_partitions() {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("t", 8, 1)).unwrap();
    let p = c.producer(ProducerConfig::default());
    let mut expected_partition: HashMap<String, i32> = HashMap::new();
    for i in 0..10_000u32 {
        let key = format!("key-{}", i % 97);
        let md = p
            .send(
                ProducerRecord::new("t", Bytes::from(i.to_be_bytes().to_vec()))
                    .key(Bytes::from(key.clone())),
            )
            .unwrap();
        let prev = expected_partition.insert(key, md.partition);
        assert!(
            prev.is_none_or(|q| q == md.partition),
            "a key always lands on one partition"
        );
    }
    let mut total = 0;
    let mut used = 0;
    for part in 0..8 {
        let recs = c.records(&TopicPartition::new("t", part)).unwrap();
        if !recs.is_empty() {
            used += 1;
        }
        total += recs.len();
        let mut last: HashMap<Bytes, u32> = HashMap::new();
        for (i, r) in recs.iter().enumerate() {
            assert_eq!(r.offset, i as i64, "offsets are dense from 0");
            let v = u32::from_be_bytes(r.value.as_deref().unwrap().try_into().unwrap());
            let k = r.key.clone().unwrap();
            if let Some(prev) = last.insert(k, v) {
                assert!(prev < v, "per-key order kept");
            }
        }
    }
    assert_eq!(total, 10_000);
    assert_eq!(used, 8, "97 keys spread over all 8 partitions");
}

#[test]
fn send_all_partitions_like_send_and_reports_per_record() {
    let build = || {
        let c = Cluster::new();
        c.create_topic(NewTopic::new("t", 8, 1)).unwrap();
        c
    };
    let records = || -> Vec<ProducerRecord> {
        (0..2000u32)
            .map(|i| {
                let r = ProducerRecord::new("t", Bytes::from(i.to_be_bytes().to_vec()));
                match i % 3 {
                    0 => r.key(Bytes::from(format!("k{}", i % 37))),
                    1 => r,
                    _ => r.partition((i % 8) as i32),
                }
            })
            .collect()
    };
    let one = build();
    let p1 = one.producer(ProducerConfig::default().seed(5));
    let singles: Vec<(i32, i64)> = records()
        .into_iter()
        .map(|r| p1.send(r).map(|m| (m.partition, m.offset)).unwrap())
        .collect();
    let all = build();
    let p2 = all.producer(ProducerConfig::default().seed(5));
    let batch: Vec<(i32, i64)> = p2
        .send_all(records())
        .into_iter()
        .map(|m| m.map(|m| (m.partition, m.offset)).unwrap())
        .collect();
    assert_eq!(
        batch, singles,
        "same partitions and offsets as one-by-one sends"
    );
    for part in 0..8 {
        let tp = TopicPartition::new("t", part);
        let a: Vec<_> = one
            .records(&tp)
            .unwrap()
            .into_iter()
            .map(|r| r.value)
            .collect();
        let b: Vec<_> = all
            .records(&tp)
            .unwrap()
            .into_iter()
            .map(|r| r.value)
            .collect();
        assert_eq!(a, b);
    }
    all.inject_produce_errors(1, BrokerError::RecordTooLarge);
    let res = p2
        .send_all([
            ProducerRecord::new("t", Bytes::from("a")).partition(0),
            ProducerRecord::new("nope", Bytes::from("b")),
            ProducerRecord::new("t", Bytes::from("c")).partition(9),
            ProducerRecord::new("t", Bytes::from("d")).partition(0),
        ])
        .into_vec();
    assert_eq!(res[0], Err(BrokerError::RecordTooLarge));
    assert!(matches!(
        res[1],
        Err(BrokerError::UnknownTopicOrPartition(_))
    ));
    assert!(matches!(res[2], Err(BrokerError::InvalidPartition { .. })));
    let before = one.end_offset(&TopicPartition::new("t", 0)).unwrap();
    assert_eq!(res[3].as_ref().unwrap().offset, before);
}
