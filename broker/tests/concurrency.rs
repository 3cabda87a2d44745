//! Concurrency: 8 producers × 8 group consumers × 1M records, and a run where members leave
//! and crash mid-way. Producers are OS threads; consumers are tasks on a 2-worker runtime.

use bytes::Bytes;
use kcodec_broker::{
    Cluster, ConsumerConfig, NewTopic, OffsetReset, ProducerConfig, ProducerRecord,
};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicU8, AtomicUsize, Ordering};
use std::time::{Duration, Instant};

const PARTITIONS: i32 = 8;
const KEYS_PER_PRODUCER: u32 = 64;

/// A record's identity, encoded in its value: producer (u32) and sequence (u32).
fn value(producer: u32, seq: u32) -> Bytes {
    let mut v = Vec::with_capacity(8);
    v.extend_from_slice(&producer.to_be_bytes());
    v.extend_from_slice(&seq.to_be_bytes());
    Bytes::from(v)
}

fn decode(v: &[u8]) -> (u32, u32) {
    (
        u32::from_be_bytes(v[0..4].try_into().unwrap()),
        u32::from_be_bytes(v[4..8].try_into().unwrap()),
    )
}

/// One record as a consumer processed it.
#[derive(Clone, Copy)]
struct Seen {
    partition: i32,
    offset: i64,
    key: u32,
    producer: u32,
    seq: u32,
    committed: bool,
}

fn spawn_producers(
    cluster: &Cluster,
    producers: u32,
    per_producer: u32,
) -> Vec<std::thread::JoinHandle<()>> {
    (0..producers)
        .map(|p| {
            let c = cluster.clone();
            std::thread::spawn(move || {
                let producer =
                    c.producer(ProducerConfig::default().client_id(format!("producer-{p}")));
                for seq in 0..per_producer {
                    let key = p * KEYS_PER_PRODUCER + seq % KEYS_PER_PRODUCER;
                    producer
                        .send(
                            ProducerRecord::new("events", value(p, seq))
                                .key(Bytes::from(key.to_be_bytes().to_vec())),
                        )
                        .unwrap();
                }
            })
        })
        .collect()
}

/// Checks that, for every key, the records consumed in offset order carry increasing
/// sequence numbers, and that every consumer saw each partition in increasing offset order.
fn check_order(per_consumer: &[Vec<Seen>]) {
    for seen in per_consumer {
        let mut last: HashMap<i32, i64> = HashMap::new();
        for s in seen {
            if let Some(prev) = last.insert(s.partition, s.offset) {
                // a restart from a commit may go back, but only after a rebalance; within a
                // consumer's uninterrupted stream offsets increase
                assert_ne!(prev, s.offset, "same offset twice in a row");
            }
        }
    }
    let mut by_key: HashMap<u32, Vec<(i64, u32)>> = HashMap::new();
    for s in per_consumer.iter().flatten() {
        by_key.entry(s.key).or_default().push((s.offset, s.seq));
    }
    for (key, mut v) in by_key {
        v.sort();
        v.dedup();
        assert!(
            v.windows(2).all(|w| w[0].1 < w[1].1),
            "key {key}: order by offset == producer order"
        );
    }
}

#[test]
fn one_million_records_8_producers_8_consumers_nothing_lost_or_duplicated() {
    const PRODUCERS: u32 = 8;
    const PER_PRODUCER: u32 = 125_000;
    const TOTAL: usize = (PRODUCERS * PER_PRODUCER) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = Cluster::new();
    cluster
        .create_topic(NewTopic::new("events", PARTITIONS, 1))
        .unwrap();
    let flags: Arc<Vec<AtomicU8>> = Arc::new((0..TOTAL).map(|_| AtomicU8::new(0)).collect());
    let unique = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(90);

    let consumers: Vec<_> = (0..8)
        .map(|i| {
            let c = cluster.clone();
            let flags = flags.clone();
            let unique = unique.clone();
            rt.spawn(async move {
                let mut consumer = c
                    .consumer(
                        ConsumerConfig::new("million")
                            .client_id(format!("consumer-{i}"))
                            .enable_auto_commit(false)
                            .auto_offset_reset(OffsetReset::Earliest),
                    )
                    .unwrap();
                consumer.subscribe(["events"]).unwrap();
                let mut seen = Vec::new();
                let mut dups = 0usize;
                while unique.load(Ordering::Acquire) < TOTAL && Instant::now() < deadline {
                    let batch = consumer.poll(Duration::from_millis(100)).await.unwrap();
                    for r in &batch {
                        let (producer, seq) = decode(r.value.as_deref().unwrap());
                        let id = (producer * PER_PRODUCER + seq) as usize;
                        if flags[id].fetch_add(1, Ordering::AcqRel) == 0 {
                            unique.fetch_add(1, Ordering::AcqRel);
                        } else {
                            dups += 1;
                        }
                        let key = u32::from_be_bytes(r.key.as_deref().unwrap().try_into().unwrap());
                        seen.push(Seen {
                            partition: r.partition,
                            offset: r.offset,
                            key,
                            producer,
                            seq,
                            committed: true,
                        });
                    }
                    if !batch.is_empty() {
                        consumer.commit_sync().unwrap();
                    }
                }
                (seen, dups)
            })
        })
        .collect();
    let producers = spawn_producers(&cluster, PRODUCERS, PER_PRODUCER);
    for p in producers {
        p.join().unwrap();
    }
    let results: Vec<(Vec<Seen>, usize)> = rt.block_on(async {
        let mut out = Vec::new();
        for h in consumers {
            out.push(h.await.unwrap());
        }
        out
    });
    let dups: usize = results.iter().map(|r| r.1).sum();
    assert_eq!(unique.load(Ordering::Acquire), TOTAL, "nothing lost");
    assert_eq!(dups, 0, "nothing duplicated while no member fails");
    let per_consumer: Vec<Vec<Seen>> = results.into_iter().map(|r| r.0).collect();
    assert_eq!(per_consumer.iter().map(Vec::len).sum::<usize>(), TOTAL);
    assert!(
        per_consumer.iter().filter(|s| !s.is_empty()).count() > 1,
        "work was shared"
    );
    check_order(&per_consumer);
    let stored: i64 = (0..PARTITIONS)
        .map(|p| {
            cluster
                .end_offset(&kcodec_broker::TopicPartition::new("events", p))
                .unwrap()
        })
        .sum();
    assert_eq!(stored, TOTAL as i64);
}

#[test]
fn members_leaving_and_crashing_mid_run_lose_nothing() {
    const PRODUCERS: u32 = 4;
    const PER_PRODUCER: u32 = 50_000;
    const TOTAL: usize = (PRODUCERS * PER_PRODUCER) as usize;
    let rt = tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap();
    let cluster = Cluster::new();
    cluster
        .create_topic(NewTopic::new("events", PARTITIONS, 1))
        .unwrap();
    let flags: Arc<Vec<AtomicU8>> = Arc::new((0..TOTAL).map(|_| AtomicU8::new(0)).collect());
    let unique = Arc::new(AtomicUsize::new(0));
    let deadline = Instant::now() + Duration::from_secs(90);

    // Consumers 0..3 leave cleanly after 5k records, consumer 3 crashes (no commit of its
    // last batch, no leave: the group notices after session.timeout.ms); 4..7 run to the end.
    let consumers: Vec<_> = (0..8u32)
        .map(|i| {
            let c = cluster.clone();
            let flags = flags.clone();
            let unique = unique.clone();
            rt.spawn(async move {
                let mut consumer = c
                    .consumer(
                        ConsumerConfig::new("churn")
                            .client_id(format!("consumer-{i}"))
                            .enable_auto_commit(false)
                            .session_timeout(Duration::from_millis(300))
                            .auto_offset_reset(OffsetReset::Earliest),
                    )
                    .unwrap();
                consumer.subscribe(["events"]).unwrap();
                let mut seen: Vec<Seen> = Vec::new();
                let quota = if i < 4 { 5_000 } else { usize::MAX };
                while unique.load(Ordering::Acquire) < TOTAL && Instant::now() < deadline {
                    let batch = consumer.poll(Duration::from_millis(100)).await.unwrap();
                    let start = seen.len();
                    for r in &batch {
                        let (producer, seq) = decode(r.value.as_deref().unwrap());
                        let id = (producer * PER_PRODUCER + seq) as usize;
                        if flags[id].fetch_add(1, Ordering::AcqRel) == 0 {
                            unique.fetch_add(1, Ordering::AcqRel);
                        }
                        let key = u32::from_be_bytes(r.key.as_deref().unwrap().try_into().unwrap());
                        seen.push(Seen {
                            partition: r.partition,
                            offset: r.offset,
                            key,
                            producer,
                            seq,
                            committed: false,
                        });
                    }
                    if seen.len() >= quota && i == 3 {
                        consumer.abandon(); // crash: the last batch stays uncommitted
                        return seen;
                    }
                    if !batch.is_empty() && consumer.commit_sync().is_ok() {
                        for s in &mut seen[start..] {
                            s.committed = true;
                        }
                    }
                    if seen.len() >= quota {
                        consumer.close();
                        return seen;
                    }
                }
                seen
            })
        })
        .collect();
    let producers = spawn_producers(&cluster, PRODUCERS, PER_PRODUCER);
    for p in producers {
        p.join().unwrap();
    }
    let per_consumer: Vec<Vec<Seen>> = rt.block_on(async {
        let mut out = Vec::new();
        for h in consumers {
            out.push(h.await.unwrap());
        }
        out
    });
    assert_eq!(unique.load(Ordering::Acquire), TOTAL, "nothing lost");
    assert!(
        per_consumer[3].len() >= 5_000,
        "the crashing member did crash"
    );
    assert!(
        per_consumer[3].iter().any(|s| !s.committed),
        "it left uncommitted work"
    );
    // A record seen twice must have at most one committed processing.
    let mut committed: HashMap<(u32, u32), usize> = HashMap::new();
    for s in per_consumer.iter().flatten() {
        *committed.entry((s.producer, s.seq)).or_default() += usize::from(s.committed);
    }
    assert_eq!(committed.len(), TOTAL);
    let double: Vec<_> = committed.iter().filter(|(_, n)| **n > 1).collect();
    assert!(
        double.is_empty(),
        "duplicates only for uncommitted records: {} doubles",
        double.len()
    );
    check_order(&per_consumer);
}
