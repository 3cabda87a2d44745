//! Consumer semantics on the in-memory broker that need its manual clock or a codec that waits:
//! cancel safety of `poll`, and a member expelled from its group with records still buffered.

use kcodec_broker::{Cluster, ConsumerConfig, ManualClock, NewTopic, OffsetReset};
use kcodec_clients::memory::{MemoryConsumer, MemoryProducer};
use kcodec_clients::{
    ClientError, Consumer, Producer, ProducerRecord, RebalanceEvent, TopicPartition,
};
use kcodec_codecs::builtin::{I64Serde, StringSerde};
use kcodec_codecs::resolve::{ResolveFuture, Unresolved};
use kcodec_codecs::{DeserializeContext, Deserializer, Error, Target};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicUsize, Ordering};
use std::time::Duration;

/// A value codec that, like a schema codec on its first record, must first resolve something
/// slow (a registry lookup that finishes only once the test opens `gate`: no timing margin).
struct SlowToResolve {
    resolved: AtomicBool,
    resolves_started: AtomicUsize,
    gate: Gate,
}

/// A one-broker cluster whose one-partition `topic` holds the values 0..3 under key "a".
async fn three_records(topic: &str) -> Cluster {
    let cluster = Cluster::builder().brokers(1).build();
    cluster.create_topic(NewTopic::new(topic, 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, I64Serde);
    for n in 0..3i64 {
        producer
            .send(ProducerRecord::new(topic, n).key("a".to_string()))
            .await
            .unwrap();
    }
    cluster
}

/// A gate the test opens; the lookup waits on it.
#[derive(Clone)]
struct Gate(Arc<tokio::sync::watch::Sender<bool>>);

impl Gate {
    fn closed() -> Self {
        Gate(Arc::new(tokio::sync::watch::channel(false).0))
    }
    fn open(&self) {
        self.0.send_replace(true);
    }
    async fn wait(&self) {
        let mut rx = self.0.subscribe();
        let _ = rx.wait_for(|open| *open).await;
    }
}

impl SlowToResolve {
    fn new(gate: &Gate) -> Self {
        SlowToResolve {
            resolved: AtomicBool::new(false),
            resolves_started: AtomicUsize::new(0),
            gate: gate.clone(),
        }
    }
}

impl Deserializer<i64> for SlowToResolve {
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<i64, Error> {
        if !self.resolved.load(Ordering::SeqCst) {
            return Err(Error::Unresolved(Unresolved::WriterSchema {
                topic: ctx.topic().to_string(),
                target: Target::Value,
                subject: None,
            }));
        }
        I64Serde.deserialize(data, ctx)
    }

    fn resolve<'a>(&'a self, _need: &'a Unresolved) -> ResolveFuture<'a> {
        self.resolves_started.fetch_add(1, Ordering::SeqCst);
        Box::pin(async move {
            self.gate.wait().await;
            self.resolved.store(true, Ordering::SeqCst);
            Ok(())
        })
    }
}

/// `poll` raced against a shorter tick in `select!` (the losing future is dropped): no record
/// is lost, and the registry lookup in flight survives the cancellations, so the loop makes
/// progress although every single poll is shorter than the lookup (the lookup ends only after
/// three cancelled polls: no timing margin).
#[tokio::test]
async fn poll_is_cancel_safe_and_keeps_its_lookup() {
    let cluster = three_records("p").await;
    let gate = Gate::closed();
    let codec = Arc::new(SlowToResolve::new(&gate));
    struct Shared(Arc<SlowToResolve>);
    impl Deserializer<i64> for Shared {
        fn deserialize(&self, d: Option<&[u8]>, c: &DeserializeContext<'_>) -> Result<i64, Error> {
            self.0.deserialize(d, c)
        }
        fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
            self.0.resolve(need)
        }
    }
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false);
    let mut c: Consumer<String, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        Shared(codec.clone()),
    );
    c.subscribe(&["p"]).unwrap();
    let mut got = Vec::new();
    let mut cancelled = 0;
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    while std::time::Instant::now() < deadline {
        // The lookup ends only after three polls were cancelled while it was in flight.
        if cancelled == 3 {
            gate.open();
        }
        tokio::select! {
            r = c.poll(Duration::from_secs(1)) => {
                if let Some(r) = r.unwrap() {
                    got.push((r.offset, r.value));
                }
            }
            _ = tokio::time::sleep(Duration::from_millis(50)) => cancelled += 1,
        }
        if got.len() == 3 {
            break;
        }
    }
    assert!(cancelled >= 3, "{cancelled} polls cancelled");
    assert_eq!(got, [(0, 0), (1, 1), (2, 2)]);
    assert_eq!(
        codec.resolves_started.load(Ordering::SeqCst),
        1,
        "one lookup, resumed after each cancellation"
    );
}

/// A member expelled from its group (its session timed out on the broker clock) while records
/// were buffered: once another member owns the partition, the expelled one returns none of
/// them, sees the partitions lost (commits refused) and has nothing left to commit.
#[tokio::test]
async fn expelled_member_drops_buffered_records() {
    let clock = ManualClock::new(1_000_000);
    let cluster = Cluster::builder().brokers(1).clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, I64Serde);
    for i in 0..3i64 {
        producer
            .send(ProducerRecord::new("t", i).key("k".to_string()))
            .await
            .unwrap();
    }
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false);
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let mut c: Consumer<String, i64, _> = Consumer::builder(
        MemoryConsumer::new(&cluster, config.clone()).unwrap(),
        StringSerde,
        I64Serde,
    )
    .on_rebalance_with(move |ctx| {
        if let RebalanceEvent::Revoked(_) = ctx.event() {
            let lost = ctx.is_lost();
            let commit = ctx.commit_offsets(&[(TopicPartition::new("t", 0), 1)]);
            sink.lock()
                .push((ctx.event().clone(), lost, commit.is_ok()));
        }
    })
    .build();
    c.subscribe(&["t"]).unwrap();
    assert_eq!(c.recv().await.unwrap().offset, 0);

    clock.advance(Duration::from_secs(400));
    cluster.tick();
    let mut other: Consumer<String, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        I64Serde,
    );
    other.subscribe(&["t"]).unwrap();
    let o = other.poll(Duration::from_millis(200)).await.unwrap();
    assert_eq!(
        o.map(|r| r.offset),
        Some(0),
        "the partition moved to the other member"
    );

    assert!(
        matches!(c.commit().await, Err(ClientError::Broker(_))),
        "an expelled member cannot commit"
    );
    let r = c.poll(Duration::from_millis(100)).await.unwrap();
    assert!(
        r.is_none(),
        "a buffered record of a lost partition came back: {r:?}"
    );
    let ev = events.lock().clone();
    assert!(
        ev.contains(&(
            RebalanceEvent::Revoked(vec![TopicPartition::new("t", 0)]),
            true,
            false
        )),
        "{ev:?}"
    );
    assert!(c.consumed_positions().is_empty());
    c.commit().await.unwrap();
}

/// Auto-commit runs every `auto.commit.interval.ms` of the broker clock inside `poll`, and
/// commits the records returned so far, not the records buffered ahead of them.
#[tokio::test]
async fn periodic_auto_commit_commits_returned_records() {
    let clock = ManualClock::new(1_000_000);
    let cluster = Cluster::builder().brokers(1).clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, I64Serde);
    for i in 0..10i64 {
        producer
            .send(ProducerRecord::new("t", i).key("k".to_string()))
            .await
            .unwrap();
    }
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .auto_commit_interval(Duration::from_secs(5));
    let mut c: Consumer<String, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        I64Serde,
    );
    c.subscribe(&["t"]).unwrap();
    let tp = [TopicPartition::new("t", 0)];
    for want in 0..3 {
        assert_eq!(c.recv().await.unwrap().offset, want);
    }
    assert_eq!(c.committed(&tp).await.unwrap()[0].1, None, "not yet due");
    clock.advance(Duration::from_secs(5));
    assert_eq!(c.recv().await.unwrap().offset, 3);
    assert_eq!(
        c.committed(&tp).await.unwrap()[0].1,
        Some(3),
        "the 3 records returned before the auto-commit, none of the 7 buffered"
    );
}

/// A consumer that stays at a record failing to deserialize keeps its place in the group while
/// it keeps polling (as a Kafka consumer that keeps calling `poll` does), although no record
/// comes back for far longer than its `max.poll.interval.ms`.
#[tokio::test]
async fn staying_at_a_failed_record_keeps_the_membership() {
    let clock = ManualClock::new(1_000_000);
    let cluster = Cluster::builder().brokers(1).clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    producer
        .send(ProducerRecord::new("t", "not eight bytes".to_string()).key("k".to_string()))
        .await
        .unwrap();
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .session_timeout(Duration::from_secs(30))
        .max_poll_interval(Duration::from_secs(60));
    let mut c: Consumer<String, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        I64Serde,
    );
    c.subscribe(&["t"]).unwrap();
    for _ in 0..12 {
        let err = c.poll(Duration::from_millis(100)).await.unwrap_err();
        assert!(
            matches!(&err, ClientError::Deserialization(e) if e.offset == 0),
            "{err:?}"
        );
        clock.advance(Duration::from_secs(10));
        cluster.tick();
    }
    assert_eq!(
        cluster.describe_group("g").members.len(),
        1,
        "still a member after 120 s"
    );
    assert_eq!(c.assignment().unwrap(), [TopicPartition::new("t", 0)]);
}

/// Three records 0..3 on `p` (one partition) and a consumer whose value codec first waits for
/// a lookup that ends when the returned gate opens.
async fn slow_setup(
    group: &str,
    auto_commit: bool,
) -> (Cluster, Consumer<String, i64, MemoryConsumer>, Gate) {
    let cluster = three_records("p").await;
    let gate = Gate::closed();
    let config = ConsumerConfig::new(group)
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(auto_commit);
    let c = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        SlowToResolve::new(&gate),
    );
    (cluster, c, gate)
}

/// Polls once, cancelled after 20 ms while the lookup waits on the closed gate: the first
/// record is fetched but still decoding. Then opens the gate.
async fn cancelled_poll(c: &mut Consumer<String, i64, MemoryConsumer>, gate: &Gate) {
    let r = tokio::time::timeout(Duration::from_millis(20), c.poll(Duration::from_secs(1))).await;
    assert!(r.is_err(), "the poll was cancelled while decoding");
    gate.open();
}

/// The offsets of the next `n` records (fewer only if they do not come within a generous
/// deadline, which bounds a failure).
async fn offsets(c: &mut Consumer<String, i64, MemoryConsumer>, n: usize) -> Vec<i64> {
    let deadline = std::time::Instant::now() + Duration::from_secs(30);
    let mut got = Vec::new();
    while got.len() < n && std::time::Instant::now() < deadline {
        if let Some(r) = c.poll(Duration::from_millis(100)).await.unwrap() {
            got.push(r.offset);
        }
    }
    got
}

/// `assign` of the partitions already assigned, while a record is fetched but not returned
/// (a cancelled poll): the record is still returned, nothing skipped.
#[tokio::test]
async fn assign_keeps_a_record_fetched_but_not_returned() {
    let (_cluster, mut c, gate) = slow_setup("g", false).await;
    let tp = TopicPartition::new("p", 0);
    c.assign(std::slice::from_ref(&tp)).unwrap();
    cancelled_poll(&mut c, &gate).await;
    c.assign(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(offsets(&mut c, 3).await, [0, 1, 2]);
}

/// `assign` while subscribed fails (IllegalState) and changes nothing: the record fetched but
/// not returned still comes back, and what was consumed is still committed (explicitly and on
/// close with auto-commit).
#[tokio::test]
async fn failed_assign_changes_nothing() {
    let (cluster, mut c, gate) = slow_setup("g", true).await;
    c.subscribe(&["p"]).unwrap();
    cancelled_poll(&mut c, &gate).await;
    let other = [TopicPartition::new("p", 0), TopicPartition::new("q", 0)];
    assert!(c.assign(&other).is_err(), "assign while subscribed");
    assert_eq!(offsets(&mut c, 3).await, [0, 1, 2]);
    assert!(c.assign(&[]).is_err(), "assign while subscribed");
    let tp = TopicPartition::new("p", 0);
    assert_eq!(c.consumed_positions(), [(tp.clone(), 3)]);
    c.close().await.unwrap();
    let mut probe = Consumer::<String, i64, _>::new(
        MemoryConsumer::new(&cluster, ConsumerConfig::new("g")).unwrap(),
        StringSerde,
        I64Serde,
    );
    assert_eq!(
        probe.committed(std::slice::from_ref(&tp)).await.unwrap()[0].1,
        Some(3),
        "the offsets stored before the failed assign were committed on close"
    );
}

/// `seek_to_beginning`, `seek_to_end` and `pause` with one partition not assigned fail before
/// changing anything: the assigned partition keeps its position and its records.
#[tokio::test]
async fn multi_partition_calls_fail_before_any_change() {
    let (cluster, mut c, gate) = slow_setup("g", false).await;
    gate.open();
    let tp = TopicPartition::new("p", 0);
    c.assign(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(offsets(&mut c, 1).await, [0]);
    let both = [tp.clone(), TopicPartition::new("p", 7)];
    assert!(c.seek_to_beginning(&both).is_err());
    assert!(c.seek_to_end(&both).is_err());
    assert!(c.pause(&both).is_err());
    assert_eq!(c.position(&tp).unwrap(), Some(1));
    assert_eq!(c.consumed_positions(), [(tp.clone(), 1)]);
    assert_eq!(
        offsets(&mut c, 2).await,
        [1, 2],
        "not moved, not paused, nothing lost"
    );
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, I64Serde);
    producer
        .send(ProducerRecord::new("p", 3i64).key("a".to_string()))
        .await
        .unwrap();
    assert_eq!(
        offsets(&mut c, 1).await,
        [3],
        "after the buffered records: the next one, neither sought back nor paused"
    );
    assert!(c.poll(Duration::from_millis(100)).await.unwrap().is_none());
}

/// A poll with `Duration::MAX` (no deadline) returns the record instead of panicking.
#[tokio::test]
async fn poll_with_duration_max_waits_without_deadline() {
    let (_cluster, mut c, gate) = slow_setup("g", false).await;
    gate.open();
    c.assign(&[TopicPartition::new("p", 0)]).unwrap();
    let r = tokio::time::timeout(Duration::from_secs(30), c.poll(Duration::MAX))
        .await
        .expect("a record came")
        .unwrap()
        .unwrap();
    assert_eq!(r.offset, 0);
}

/// An empty group id is no group (as for the broker): no auto-commit, nothing committed.
#[tokio::test]
async fn empty_group_id_is_no_group() {
    let (cluster, _c, _gate) = slow_setup("g", false).await;
    let c = MemoryConsumer::new(&cluster, ConsumerConfig::new("")).unwrap();
    let mut c: Consumer<String, i64, _> = Consumer::new(c, StringSerde, I64Serde);
    c.assign(&[TopicPartition::new("p", 0)]).unwrap();
    c.seek(&TopicPartition::new("p", 0), 0).unwrap();
    assert!(c.poll(Duration::from_secs(1)).await.unwrap().is_some());
    // Closing reports the auto-commit's error: none must be attempted without a group.
    c.close().await.unwrap();
}

/// On librdkafka's mock cluster: a consumer failing on a bad record keeps polling for longer
/// than its `max.poll.interval.ms` (15 s against 6 s: librdkafka checks the interval lazily);
/// it stays in its group (no revocation: the failed record is
/// fetched again through librdkafka's queue, which serves the group protocol), every poll
/// fails on the record again, and skipping it goes on to the next record.
#[cfg(feature = "rdkafka")]
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_failed_record_keeps_the_membership() {
    use kcodec_clients::kafka::{KafkaConsumer, KafkaProducer, consumer_config, producer_config};
    use rdkafka::mocking::MockCluster;
    use std::time::Instant;

    let mock = MockCluster::new(1).unwrap();
    mock.create_topic("t", 1, 1).unwrap();
    let producer = Producer::new(
        KafkaProducer::new(&producer_config(&mock.bootstrap_servers())).unwrap(),
        StringSerde,
        StringSerde,
    );
    for v in ["not eight bytes", "12345678"] {
        producer
            .send(ProducerRecord::new("t", v.to_string()).key("k".to_string()))
            .await
            .unwrap();
    }
    let mut cfg = consumer_config(&mock.bootstrap_servers(), "g");
    cfg.set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("session.timeout.ms", "6000")
        .set("heartbeat.interval.ms", "500")
        .set("max.poll.interval.ms", "6000");
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let mut c: Consumer<String, i64, _> =
        Consumer::builder(KafkaConsumer::new(&cfg).unwrap(), StringSerde, I64Serde)
            .on_rebalance(move |e| sink.lock().push(e.clone()))
            .build();
    c.subscribe(&["t"]).unwrap();
    let start = Instant::now();
    let mut failures = 0;
    // Longer than max.poll.interval.ms, and until the record failed five times (the
    // deadline only bounds a failure).
    while start.elapsed() < Duration::from_secs(15) || failures < 5 {
        assert!(
            start.elapsed() < Duration::from_secs(75),
            "failed {failures} times"
        );
        match c.poll(Duration::from_millis(500)).await {
            Ok(None) => {}
            Ok(Some(r)) => panic!("the bad record or one after it came back: {r:?}"),
            Err(ClientError::Deserialization(e)) => {
                assert_eq!(e.offset, 0);
                failures += 1;
            }
            Err(e) => panic!("{e:?}"),
        }
    }
    let tp = TopicPartition::new("t", 0);
    assert_eq!(c.skip_failed_record(), Some((tp.clone(), 0)));
    let skipped = Instant::now();
    let next = loop {
        if let Some(r) = c.poll(Duration::from_secs(1)).await.unwrap() {
            break r;
        }
        assert!(
            skipped.elapsed() < Duration::from_secs(30),
            "no record after the skip"
        );
    };
    assert_eq!((next.offset, next.value), (1, 0x3132333435363738));
    // Serve the queue a little longer: a member expelled meanwhile would now see its
    // partitions revoked (lost) and assigned again.
    let settle = Instant::now();
    while settle.elapsed() < Duration::from_secs(3) {
        assert!(c.poll(Duration::from_millis(500)).await.unwrap().is_none());
    }
    assert_eq!(
        *events.lock(),
        [RebalanceEvent::Assigned(vec![tp.clone()])],
        "assigned once, never revoked"
    );
    assert_eq!(c.assignment().unwrap(), [tp]);
}

/// An offset stored for a partition not assigned is ignored: auto-commit on close commits
/// only the assigned partition's.
#[tokio::test]
async fn offsets_stored_for_unassigned_partitions_are_ignored() {
    use kcodec_clients::ConsumerTransport;
    let (cluster, mut c, gate) = slow_setup("g", true).await;
    gate.open();
    cluster.create_topic(NewTopic::new("q", 1, 1)).unwrap();
    let p0 = TopicPartition::new("p", 0);
    let q0 = TopicPartition::new("q", 0);
    c.assign(std::slice::from_ref(&p0)).unwrap();
    assert_eq!(offsets(&mut c, 1).await, [0]);
    c.transport_mut().store_offset(&Arc::from("q"), 0, 7);
    c.close().await.unwrap();
    let probe = MemoryConsumer::new(&cluster, ConsumerConfig::new("g")).unwrap();
    let mut probe: Consumer<String, i64, _> = Consumer::new(probe, StringSerde, I64Serde);
    assert_eq!(
        probe.committed(&[p0, q0]).await.unwrap(),
        [
            (TopicPartition::new("p", 0), Some(1)),
            (TopicPartition::new("q", 0), None)
        ]
    );
}

/// Kafka's `KafkaConsumer.poll` runs `ConsumerCoordinator.poll` on every call, and its fetcher
/// drops buffered records of partitions no longer assigned (`SubscriptionState.isFetchable`):
/// with a manual clock that never moves, a member holding buffered records learns at its next
/// poll that a second member joined, revokes, and hands out no record of a partition it lost.
#[tokio::test]
async fn group_protocol_runs_while_records_are_buffered() {
    let clock = ManualClock::new(1_000_000);
    let cluster = Cluster::builder().brokers(1).clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, I64Serde);
    for i in 0..20i64 {
        producer
            .send(ProducerRecord::<String, _>::new("t", i).partition((i % 2) as i32))
            .await
            .unwrap();
    }
    let config = |id: &str| {
        ConsumerConfig::new("g")
            .client_id(id)
            .auto_offset_reset(OffsetReset::Earliest)
            .enable_auto_commit(false)
    };
    let events = Arc::new(Mutex::new(Vec::new()));
    let sink = events.clone();
    let mut a: Consumer<Option<String>, i64, _> = Consumer::builder(
        MemoryConsumer::new(&cluster, config("a")).unwrap(),
        StringSerde,
        I64Serde,
    )
    .on_rebalance(move |e| sink.lock().push(e.clone()))
    .build();
    a.subscribe(&["t"]).unwrap();
    let first = a.recv().await.unwrap();
    assert_eq!(a.assignment().unwrap().len(), 2);
    let mut b: Consumer<Option<String>, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config("b")).unwrap(),
        StringSerde,
        I64Serde,
    );
    b.subscribe(&["t"]).unwrap();
    assert!(
        b.poll(Duration::ZERO).await.unwrap().is_none(),
        "joined, waiting"
    );
    // The clock has not moved since `a` buffered its fetch.
    let mut seen = vec![first];
    for _ in 0..5 {
        if let Some(r) = a.poll(Duration::ZERO).await.unwrap() {
            let owned = a.assignment().unwrap();
            assert!(
                owned.contains(&r.topic_partition()),
                "{r:?} not in {owned:?}"
            );
            seen.push(r);
        }
        b.poll(Duration::ZERO).await.unwrap();
    }
    let ev = events.lock().clone();
    assert!(
        ev.iter()
            .any(|e| matches!(e, RebalanceEvent::Revoked(p) if p.len() == 2)),
        "revoked at the next poll although records were buffered: {ev:?}"
    );
    assert_eq!(a.assignment().unwrap().len(), 1);
    assert_eq!(b.assignment().unwrap().len(), 1);
}

/// A typed consumer dropped while its thread panics (the application failed on the record it
/// was given) commits nothing: with auto-commit, closing would commit past that record. The
/// same consumer dropped normally commits what was returned (Java's `KafkaConsumer.close`).
#[tokio::test]
async fn dropping_a_consumer_during_a_panic_commits_nothing() {
    let cluster = three_records("t").await;
    let consumer = || {
        let config = ConsumerConfig::new("g").auto_offset_reset(OffsetReset::Earliest);
        let mut c: Consumer<String, i64, _> = Consumer::new(
            MemoryConsumer::new(&cluster, config).unwrap(),
            StringSerde,
            I64Serde,
        );
        c.subscribe(&["t"]).unwrap();
        c
    };
    let tp = [TopicPartition::new("t", 0)];
    let mut c = consumer();
    assert_eq!(c.recv().await.unwrap().offset, 0);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(move || {
        let _owned = c;
        panic!("processing record 0 failed");
    }));
    assert!(panicked.is_err());
    let mut c = consumer();
    assert_eq!(
        c.committed(&tp).await.unwrap()[0].1,
        None,
        "nothing committed"
    );
    assert_eq!(c.recv().await.unwrap().offset, 0, "record 0 is read again");
    drop(c);
    assert_eq!(consumer().committed(&tp).await.unwrap()[0].1, Some(1));
}

/// Consumer-side faults on the in-memory transport. Poll faults follow Kafka's
/// `MockConsumer.setPollException` (the next poll throws, for `n` polls here) and lose nothing;
/// commit faults fail `commitSync` with nothing committed, and a failed auto-commit is not an
/// error of `poll` (as `ConsumerCoordinator.maybeAutoCommitOffsetsAsync` logs it).
#[tokio::test]
async fn injected_poll_and_commit_errors() {
    use kcodec_broker::BrokerError;
    let cluster = three_records("t").await;
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false);
    let mut c: Consumer<String, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        I64Serde,
    );
    c.subscribe(&["t"]).unwrap();
    let boom = || BrokerError::Injected("poll".into());
    c.transport_mut().inject_poll_errors(2, boom());
    for _ in 0..2 {
        let e = c.poll(Duration::from_secs(5)).await.unwrap_err();
        assert!(
            matches!(e, ClientError::Broker(BrokerError::Injected(_))),
            "{e:?}"
        );
    }
    assert_eq!(c.recv().await.unwrap().offset, 0, "nothing lost");
    // Served from the records fetched ahead: fails all the same, then goes on.
    c.transport_mut().inject_poll_errors(1, boom());
    assert!(c.poll(Duration::from_secs(5)).await.is_err());
    assert_eq!(c.recv().await.unwrap().offset, 1);

    let tp = [TopicPartition::new("t", 0)];
    c.transport_mut()
        .inject_commit_errors(1, BrokerError::RequestTimedOut);
    let e = c.commit().await.unwrap_err();
    assert_eq!(e.kind(), kcodec_clients::ErrorKind::Retriable);
    assert_eq!(
        c.committed(&tp).await.unwrap()[0].1,
        None,
        "nothing committed"
    );
    c.commit().await.unwrap();
    assert_eq!(c.committed(&tp).await.unwrap()[0].1, Some(2));
}

/// A failed auto-commit is swallowed (Java's consumer logs it) and the next one commits.
#[tokio::test]
async fn injected_auto_commit_error_is_not_an_error_of_poll() {
    use kcodec_broker::BrokerError;
    let clock = ManualClock::new(1_000_000);
    let cluster = Cluster::builder().brokers(1).clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, I64Serde);
    for i in 0..4i64 {
        producer
            .send(ProducerRecord::new("t", i).key("k".to_string()))
            .await
            .unwrap();
    }
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .auto_commit_interval(Duration::from_secs(5))
        .max_poll_records(1);
    let mut c: Consumer<String, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        I64Serde,
    );
    c.subscribe(&["t"]).unwrap();
    let tp = [TopicPartition::new("t", 0)];
    assert_eq!(c.recv().await.unwrap().offset, 0);
    c.transport_mut()
        .inject_commit_errors(1, BrokerError::RequestTimedOut);
    clock.advance(Duration::from_secs(5));
    assert_eq!(c.recv().await.unwrap().offset, 1, "poll goes on");
    assert_eq!(
        c.committed(&tp).await.unwrap()[0].1,
        None,
        "that auto-commit failed"
    );
    clock.advance(Duration::from_secs(5));
    assert_eq!(c.recv().await.unwrap().offset, 2);
    assert_eq!(
        c.committed(&tp).await.unwrap()[0].1,
        Some(2),
        "the next one commits"
    );
}

/// Coordinator faults: a retriable one (`CoordinatorNotAvailableException`, retried inside
/// Java's `ConsumerCoordinator`) only skips a round of the group protocol, and records of the
/// current assignment keep coming; a fatal one is thrown by `poll` (as Java's `poll` throws a
/// `GroupAuthorizationException`), once, and the consumer goes on.
#[tokio::test]
async fn injected_coordinator_errors() {
    use kcodec_broker::BrokerError;
    let cluster = three_records("t").await;
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .max_poll_records(1);
    let mut c: Consumer<String, i64, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        I64Serde,
    );
    c.subscribe(&["t"]).unwrap();
    assert_eq!(c.recv().await.unwrap().offset, 0);
    c.transport_mut()
        .inject_coordinator_errors(1, BrokerError::CoordinatorNotAvailable);
    // One round per poll that finds a record at once.
    assert_eq!(
        c.recv().await.unwrap().offset,
        1,
        "a retriable error is retried"
    );
    c.transport_mut()
        .inject_coordinator_errors(1, BrokerError::Injected("not authorized".into()));
    let e = c.poll(Duration::from_secs(5)).await;
    assert!(
        matches!(e, Err(ClientError::Broker(BrokerError::Injected(_)))),
        "{e:?}"
    );
    assert_eq!(c.recv().await.unwrap().offset, 2, "then it goes on");
    assert_eq!(c.assignment().unwrap(), [TopicPartition::new("t", 0)]);
}
