//! Broker benchmarks: produce/consume throughput against a bare `Vec`, memory per stored
//! record (counting allocator), and rebalance cost with 1000 partitions and 100 members.
//!
//! Run: `cargo bench -p kcodec-broker --bench broker -- --warm-up-time 1 --measurement-time 3`

use bytes::Bytes;
use criterion::{BatchSize, Criterion, Throughput, criterion_group};
use kcodec_broker::assignor::{Assignor, MemberSubscription};
use kcodec_broker::{
    Cluster, Consumer, ConsumerConfig, ConsumerRecord, NewTopic, OffsetReset, ProducerConfig,
    ProducerRecord, TopicPartition,
};
use std::alloc::{GlobalAlloc, Layout, System};
use std::collections::BTreeMap;
use std::hint::black_box;
use std::sync::Arc;
use std::sync::atomic::{AtomicIsize, Ordering};
use std::time::Duration;

/// Counts live heap bytes, to measure memory per stored record.
struct Counting;

static LIVE: AtomicIsize = AtomicIsize::new(0);

unsafe impl GlobalAlloc for Counting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        LIVE.fetch_add(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.alloc(layout) }
    }
    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        LIVE.fetch_sub(layout.size() as isize, Ordering::Relaxed);
        unsafe { System.dealloc(ptr, layout) }
    }
    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        LIVE.fetch_add(
            new_size as isize - layout.size() as isize,
            Ordering::Relaxed,
        );
        unsafe { System.realloc(ptr, layout, new_size) }
    }
}

#[global_allocator]
static ALLOC: Counting = Counting;

const N: usize = 10_000;

/// The same records for every contender: 100-byte values, keys from 1000 distinct ones, one
/// shared topic name (as a producer sending to one topic would build them).
fn records() -> Vec<ProducerRecord> {
    let topic: Arc<str> = Arc::from("bench");
    (0..N)
        .map(|i| {
            let mut v = vec![0u8; 100];
            v[..8].copy_from_slice(&(i as u64).to_be_bytes());
            ProducerRecord::new(topic.clone(), Bytes::from(v))
                .key(Bytes::from(format!("key-{}", i % 1000)))
        })
        .collect()
}

fn cluster(partitions: i32) -> Cluster {
    let c = Cluster::new();
    c.create_topic(NewTopic::new("bench", partitions, 1))
        .unwrap();
    c
}

fn produce(c: &mut Criterion) {
    let mut g = c.benchmark_group("produce_100B");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("system_clock_read_x10000", |b| {
        let c = Cluster::new();
        b.iter(|| {
            for _ in 0..N {
                black_box(c.clock().now_ms());
            }
        })
    });
    g.bench_function("vec_baseline", |b| {
        b.iter_batched(
            records,
            |recs| {
                let mut v = Vec::new();
                for r in recs {
                    v.push(black_box(r));
                }
                v
            },
            BatchSize::LargeInput,
        )
    });
    for partitions in [1, 8] {
        g.bench_function(format!("broker_{partitions}_partitions"), |b| {
            b.iter_batched(
                || {
                    let c = cluster(partitions);
                    let p = c.producer(ProducerConfig::default());
                    (c, p, records())
                },
                |(c, p, recs)| {
                    for r in recs {
                        black_box(p.send(r).unwrap());
                    }
                    (c, p)
                },
                BatchSize::LargeInput,
            )
        });
    }
    for partitions in [1, 8] {
        g.bench_function(format!("broker_{partitions}_partitions_send_all"), |b| {
            b.iter_batched(
                || {
                    let c = cluster(partitions);
                    let p = c.producer(ProducerConfig::default());
                    (c, p, records())
                },
                // the results are returned (dropped outside the timing, as the baseline's
                // records are)
                |(c, p, recs)| (p.send_all(recs), c, p),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn drain(rt: &tokio::runtime::Runtime, consumer: &mut Consumer) -> Vec<Vec<ConsumerRecord>> {
    rt.block_on(async {
        let mut batches = Vec::new();
        let mut n = 0;
        while n < N {
            let b = consumer.poll(Duration::ZERO).await.unwrap();
            n += b.len();
            batches.push(b);
        }
        batches
    })
}

fn consume(c: &mut Criterion) {
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let mut g = c.benchmark_group("consume_100B");
    g.throughput(Throughput::Elements(N as u64));
    g.bench_function("vec_baseline", |b| {
        let stored = records();
        let topic: Arc<str> = "bench".into();
        b.iter_batched(
            || (),
            |()| {
                // the same work without a broker: hand out shared copies of every stored record
                let mut out = Vec::with_capacity(500);
                let mut batches = Vec::new();
                for (i, r) in stored.iter().enumerate() {
                    out.push(ConsumerRecord {
                        topic: topic.clone(),
                        partition: 0,
                        offset: i as i64,
                        timestamp: Some(0),
                        timestamp_type: Some(Default::default()),
                        key: r.key.clone(),
                        value: r.value.clone(),
                        headers: Default::default(),
                    });
                    if out.len() == 500 {
                        batches.push(std::mem::replace(&mut out, Vec::with_capacity(500)));
                    }
                }
                batches
            },
            BatchSize::LargeInput,
        )
    });
    for partitions in [1, 8] {
        let cl = cluster(partitions);
        let p = cl.producer(ProducerConfig::default());
        for r in records() {
            p.send(r).unwrap();
        }
        let tps: Vec<TopicPartition> = (0..partitions)
            .map(|i| TopicPartition::new("bench", i))
            .collect();
        g.bench_function(format!("broker_{partitions}_partitions"), |b| {
            b.iter_batched(
                || {
                    let mut consumer = cl
                        .consumer(
                            ConsumerConfig::without_group()
                                .auto_offset_reset(OffsetReset::Earliest),
                        )
                        .unwrap();
                    consumer.assign(tps.clone()).unwrap();
                    consumer
                },
                |mut consumer| (drain(&rt, &mut consumer), consumer),
                BatchSize::LargeInput,
            )
        });
    }
    g.finish();
}

fn rebalance(c: &mut Criterion) {
    let mut g = c.benchmark_group("rebalance_1000p_100m");
    let topics: BTreeMap<String, i32> = (0..10).map(|t| (format!("topic-{t:02}"), 100)).collect();
    let names: Vec<String> = topics.keys().cloned().collect();
    let members: Vec<MemberSubscription> = (0..100)
        .map(|m| MemberSubscription::new(format!("consumer-{m:03}-x"), names.clone()))
        .collect();
    for a in [
        Assignor::Range,
        Assignor::RoundRobin,
        Assignor::Sticky,
        Assignor::CooperativeSticky,
    ] {
        g.bench_function(format!("assign_{}", a.name()), |b| {
            b.iter(|| black_box(a.assign(&members, &topics)))
        });
    }
    // Sticky with previous ownership (one member left: 99 members keep theirs).
    let first = Assignor::Sticky.assign(&members, &topics);
    let after: Vec<MemberSubscription> = members[1..]
        .iter()
        .map(|m| m.clone().owned(first[&m.member_id].clone()))
        .collect();
    g.bench_function("assign_sticky_member_left", |b| {
        b.iter(|| black_box(Assignor::Sticky.assign(&after, &topics)))
    });

    // A whole group round through the coordinator: force a rebalance, every member rejoins
    // (eager revoke) and picks up its new assignment.
    let rt = tokio::runtime::Builder::new_current_thread()
        .enable_all()
        .build()
        .unwrap();
    let cl = Cluster::new();
    for t in &names {
        cl.create_topic(NewTopic::new(t, 100, 1)).unwrap();
    }
    let mut consumers: Vec<Consumer> = (0..100)
        .map(|i| {
            let mut c = cl
                .consumer(
                    ConsumerConfig::new("bench")
                        .client_id(format!("c{i:03}"))
                        .enable_auto_commit(false),
                )
                .unwrap();
            c.subscribe(names.clone()).unwrap();
            c
        })
        .collect();
    let round = |consumers: &mut Vec<Consumer>| {
        rt.block_on(async {
            for _ in 0..3 {
                for c in consumers.iter_mut() {
                    c.poll(Duration::ZERO).await.unwrap();
                }
            }
        })
    };
    round(&mut consumers);
    assert_eq!(
        consumers
            .iter()
            .map(|c| c.assignment().len())
            .sum::<usize>(),
        1000
    );
    g.bench_function("group_round_range", |b| {
        b.iter(|| {
            cl.force_rebalance("bench").unwrap();
            rt.block_on(async {
                for c in consumers.iter_mut() {
                    c.poll(Duration::ZERO).await.unwrap(); // revoke + rejoin
                }
                for c in consumers.iter_mut() {
                    c.poll(Duration::ZERO).await.unwrap(); // pick up the assignment
                }
            });
        })
    });
    assert_eq!(
        consumers
            .iter()
            .map(|c| c.assignment().len())
            .sum::<usize>(),
        1000
    );
    g.finish();
}

/// Live heap bytes per stored record after producing 100k 100-byte records (keys `key-<n>`).
fn memory_per_record() {
    const M: usize = 100_000;
    let cl = cluster(8);
    let p = cl.producer(ProducerConfig::default());
    // warm the topic so per-topic/per-producer setup is not counted
    p.send(ProducerRecord::new("bench", Bytes::from(vec![0u8; 100])).key(Bytes::from("warm")))
        .unwrap();
    let baseline = LIVE.load(Ordering::Relaxed);
    let recs: Vec<ProducerRecord> = (0..M)
        .map(|i| {
            ProducerRecord::new("bench", Bytes::from(vec![0u8; 100]))
                .key(Bytes::from(format!("key-{:05}", i % 1000)))
        })
        .collect();
    // key + value bytes of the records
    let payload: usize = recs
        .iter()
        .map(|r| r.value.as_ref().map_or(0, |v| v.len()) + r.key.as_ref().map_or(0, |k| k.len()))
        .sum();
    for r in recs {
        p.send(r).unwrap();
    }
    // Everything still live since `baseline` is held by the broker: payload buffers (with any
    // allocator-visible slack), stored-record slots, segments. The records' Vec and topic
    // strings were freed by the loop.
    let stored = LIVE.load(Ordering::Relaxed) - baseline;
    let per = stored as f64 / M as f64;
    let overhead = (stored - payload as isize) as f64 / M as f64;
    eprintln!(
        "memory per stored record (100-byte value, 9-byte key, 8 partitions, {M} records): {per:.1} bytes live per record, {overhead:.1} bytes beyond the 109 key/value bytes"
    );
    black_box(&cl);
}

criterion_group!(benches, produce, consume, rebalance);

fn main() {
    memory_per_record();
    benches();
    criterion::Criterion::default()
        .configure_from_args()
        .final_summary();
}
