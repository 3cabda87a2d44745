//! The broker is deterministic under its clock and seed: a keyed workload consumed by a group
//! whose members join, leave and are expelled at scripted points of a `ManualClock` gives the
//! same assignment history and the same deliveries on every run.

use bytes::Bytes;
use kcodec_broker::{
    Assignor, Cluster, Consumer, ConsumerConfig, ManualClock, NewTopic, OffsetReset,
    ProducerConfig, ProducerRecord,
};
use std::collections::BTreeSet;
use std::time::Duration;

const RECORDS: usize = 1_000;
const STEPS: usize = 100;
const STEP: Duration = Duration::from_millis(100);

/// What a run observed.
#[derive(Debug, PartialEq, Eq)]
struct Run {
    /// (step, member, generation, assignment) whenever a member's assignment changed.
    assignments: Vec<(usize, String, i32, Vec<String>)>,
    /// (step, member, partition, offset, key) of every record returned by `poll`.
    deliveries: Vec<(usize, String, i32, i64, String)>,
}

/// xorshift64*: the workload's keys, from the seed.
struct Keys(u64);

impl Keys {
    fn next(&mut self) -> String {
        self.0 ^= self.0 >> 12;
        self.0 ^= self.0 << 25;
        self.0 ^= self.0 >> 27;
        format!("key-{}", self.0.wrapping_mul(0x2545_f491_4f6c_dd1d) % 97)
    }
}

fn member(cluster: &Cluster, id: &str) -> Consumer {
    let mut c = cluster
        .consumer(
            ConsumerConfig::new("workload")
                .client_id(id)
                .assignor(Assignor::CooperativeSticky)
                .session_timeout(Duration::from_secs(1))
                .max_poll_interval(Duration::from_secs(3))
                .max_poll_records(7)
                .auto_offset_reset(OffsetReset::Earliest)
                .enable_auto_commit(false),
        )
        .unwrap();
    c.subscribe(["workload"]).unwrap();
    c
}

async fn run(seed: u64) -> Run {
    let clock = ManualClock::new(1_700_000_000_000);
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster
        .create_topic(NewTopic::new("workload", 6, 1))
        .unwrap();
    let producer = cluster.producer(ProducerConfig::default().seed(seed));
    let mut keys = Keys(seed | 1);
    let mut members: Vec<(String, Consumer)> = Vec::new();
    let mut last: Vec<(String, Vec<String>)> = Vec::new();
    let mut out = Run {
        assignments: Vec::new(),
        deliveries: Vec::new(),
    };
    // Scripted membership (by step): joins, a clean leave, a crash expelled after its
    // session timeout, a member that stops polling and is expelled by max.poll.interval.ms.
    for step in 0..STEPS + 40 {
        match step {
            0 => members.push(("m0".into(), member(&cluster, "m0"))),
            10 => members.push(("m1".into(), member(&cluster, "m1"))),
            20 => members.push(("m2".into(), member(&cluster, "m2"))),
            35 => {
                let i = members.iter().position(|(id, _)| id == "m1").unwrap();
                members.remove(i).1.close();
            }
            45 => members.push(("m3".into(), member(&cluster, "m3"))),
            60 => {
                // crash: no leave; the group expels it session.timeout.ms later
                let i = members.iter().position(|(id, _)| id == "m2").unwrap();
                members.remove(i).1.abandon();
            }
            75 => members.push(("m4".into(), member(&cluster, "m4"))),
            _ => {}
        }
        if step < STEPS {
            for _ in 0..RECORDS / STEPS {
                producer
                    .send(
                        ProducerRecord::new("workload", Bytes::from("v"))
                            .key(Bytes::from(keys.next())),
                    )
                    .unwrap();
            }
        }
        for (id, c) in members.iter_mut() {
            // m3 stops polling from step 80 to 120: expelled by max.poll.interval.ms, then back.
            if id == "m3" && (80..120).contains(&step) {
                continue;
            }
            let records = c.poll(Duration::ZERO).await.unwrap();
            for r in &records {
                let key = String::from_utf8(r.key.as_deref().unwrap().to_vec()).unwrap();
                out.deliveries
                    .push((step, id.clone(), r.partition, r.offset, key));
            }
            if !records.is_empty() {
                let _ = c.commit_sync();
            }
            let now: Vec<String> = c.assignment().iter().map(|t| t.to_string()).collect();
            match last.iter_mut().find(|(m, _)| m == id) {
                Some((_, prev)) if *prev == now => {}
                Some((_, prev)) => {
                    *prev = now.clone();
                    out.assignments
                        .push((step, id.clone(), c.generation(), now));
                }
                None => {
                    last.push((id.clone(), now.clone()));
                    out.assignments
                        .push((step, id.clone(), c.generation(), now));
                }
            }
        }
        clock.advance(STEP);
    }
    out
}

/// Two runs with one seed: identical assignment histories and deliveries; and the workload
/// was delivered (every record at least once) through joins, a leave and two expulsions.
#[tokio::test(flavor = "current_thread")]
async fn same_seed_same_history_and_deliveries() {
    let a = run(42).await;
    let b = run(42).await;
    assert_eq!(a.assignments, b.assignments);
    assert_eq!(a.deliveries, b.deliveries);
    let delivered: BTreeSet<(i32, i64)> = a.deliveries.iter().map(|d| (d.2, d.3)).collect();
    assert_eq!(
        delivered.len(),
        RECORDS,
        "every record delivered at least once"
    );
    let members: BTreeSet<&str> = a.assignments.iter().map(|x| x.1.as_str()).collect();
    assert_eq!(members, BTreeSet::from(["m0", "m1", "m2", "m3", "m4"]));
    assert!(
        a.assignments.len() >= 10,
        "the membership changes moved partitions: {:?}",
        a.assignments
    );
    // The crash at step 60 was expelled after session.timeout.ms (10 steps): its partitions
    // moved at step 70; m3, silent from step 80, was expelled by max.poll.interval.ms (30
    // steps) and came back at step 120 in a new generation.
    assert!(
        a.assignments.iter().any(|x| x.0 == 70),
        "{:?}",
        a.assignments
    );
    assert!(
        a.assignments.iter().any(|x| x.0 == 110 && x.1 == "m0"),
        "{:?}",
        a.assignments
    );
    assert!(a.assignments.iter().any(|x| x.0 == 120 && x.1 == "m3"));
    // Another seed, another workload (the run depends on the seed, not on chance).
    let c = run(7).await;
    assert_ne!(a.deliveries, c.deliveries);
}
