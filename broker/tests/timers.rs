//! The timer-driven coordinator: session, poll and rebalance timeouts fire on the broker's
//! clock and wake the members they affect, and a consumer waits for partitions that do not
//! exist yet. Every wait is on an event; deadlines only bound a failure.

use bytes::Bytes;
use kcodec_broker::{
    Cluster, Consumer, ConsumerConfig, ManualClock, NewTopic, OffsetReset, ProducerConfig,
    ProducerRecord, RebalanceContext, RebalanceListener, TopicPartition,
};
use std::sync::{Arc, Mutex};
use std::time::Duration;

/// Bounds a failure only: what is awaited happens at once when the broker is right.
const WAIT: Duration = Duration::from_secs(60);

#[derive(Debug, Clone, PartialEq, Eq)]
enum Event {
    Revoked(Vec<TopicPartition>),
    Assigned(Vec<TopicPartition>),
    Lost(Vec<TopicPartition>),
}

#[derive(Clone, Default)]
struct Recorder(Arc<Mutex<Vec<Event>>>);

impl Recorder {
    fn take(&self) -> Vec<Event> {
        std::mem::take(&mut *self.0.lock().unwrap())
    }
}

impl RebalanceListener for Recorder {
    fn on_partitions_revoked(&mut self, _: &mut RebalanceContext<'_>, p: &[TopicPartition]) {
        self.0.lock().unwrap().push(Event::Revoked(p.to_vec()));
    }
    fn on_partitions_assigned(&mut self, _: &mut RebalanceContext<'_>, p: &[TopicPartition]) {
        self.0.lock().unwrap().push(Event::Assigned(p.to_vec()));
    }
    fn on_partitions_lost(&mut self, _: &mut RebalanceContext<'_>, p: &[TopicPartition]) {
        self.0.lock().unwrap().push(Event::Lost(p.to_vec()));
    }
}

fn tp(p: i32) -> TopicPartition {
    TopicPartition::new("t", p)
}

fn member(cluster: &Cluster, id: &str, session: Duration) -> Consumer {
    cluster
        .consumer(
            ConsumerConfig::new("g")
                .client_id(id)
                .session_timeout(session)
                .max_poll_interval(Duration::from_secs(300))
                .auto_offset_reset(OffsetReset::Earliest)
                .enable_auto_commit(false),
        )
        .unwrap()
}

/// Two members split `t` (two partitions, records only on partition 1, owned by `b`).
async fn two_members(cluster: &Cluster, session: Duration) -> (Consumer, Consumer, Recorder) {
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let p = cluster.producer(ProducerConfig::default());
    for i in 0..3 {
        p.send(ProducerRecord::new("t", Bytes::from(format!("v{i}"))).partition(1))
            .unwrap();
    }
    let events = Recorder::default();
    let mut a = member(cluster, "a", session);
    a.subscribe_with_listener(["t"], Box::new(events.clone()))
        .unwrap();
    let mut b = member(cluster, "b", session);
    b.subscribe(["t"]).unwrap();
    // Join rounds without waiting: each poll of zero runs the protocol once.
    for _ in 0..4 {
        a.poll(Duration::ZERO).await.unwrap();
        b.poll(Duration::ZERO).await.unwrap();
    }
    assert_eq!(a.assignment(), [tp(0)]);
    assert_eq!(b.assignment(), [tp(1)]);
    events.take();
    (a, b, events)
}

/// Kafka's `GroupCoordinator` expires a crashed member after `session.timeout.ms` and the
/// surviving member's `KafkaConsumer.poll` returns with the partitions it takes over (its
/// heartbeat thread learns of the rebalance). With a `ManualClock`, moving the clock fires the
/// expiry at once (as `MockTime.sleep` fires Kafka's timers): the group has one member when
/// `advance` returns, and a consumer waiting in `poll(Duration::MAX)` is woken. (One thread:
/// the member is surely waiting before the clock moves, and nothing else touches the group.)
#[tokio::test(flavor = "current_thread")]
async fn manual_clock_fires_a_session_timeout_and_wakes_the_waiting_member() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    let session = Duration::from_secs(10);
    let (mut a, b, events) = two_members(&cluster, session).await;
    b.abandon();
    let waiting = tokio::spawn(async move {
        let recs = a.poll(Duration::MAX).await.unwrap();
        (a, recs)
    });
    // The spawned poll runs until it waits.
    tokio::task::yield_now().await;
    clock.advance(session - Duration::from_millis(1));
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished(), "not yet due");
    clock.advance(Duration::from_millis(1));
    let (a, recs) = tokio::time::timeout(WAIT, waiting)
        .await
        .expect("the waiting poll was woken by the rebalance")
        .unwrap();
    assert_eq!(cluster.describe_group("g").members.len(), 1);
    assert_eq!(recs.len(), 3);
    assert!(recs.iter().all(|r| r.partition == 1));
    assert_eq!(a.assignment(), [tp(0), tp(1)]);
    assert_eq!(
        events.take(),
        [
            Event::Revoked(vec![tp(0)]),
            Event::Assigned(vec![tp(0), tp(1)])
        ]
    );
}

/// The same on the system clock: the surviving member waits in `poll(Duration::MAX)` and
/// wakes when the peer's session expires (a timer on the broker's clock, not a poll of anyone).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn system_clock_session_timeout_wakes_the_waiting_member() {
    let cluster = Cluster::new();
    let (mut a, b, _events) = two_members(&cluster, Duration::from_millis(300)).await;
    b.abandon();
    let recs = tokio::time::timeout(WAIT, a.poll(Duration::MAX))
        .await
        .expect("woken when the peer's session expired")
        .unwrap();
    assert_eq!(recs.len(), 3);
    assert_eq!(a.assignment(), [tp(0), tp(1)]);
}

/// Kafka's `ConsumerCoordinator` calls `onPartitionsLost` (not `onPartitionsRevoked`) when the
/// member finds it was expelled: a member that stops polling beyond `max.poll.interval.ms`
/// is removed when the clock moves, and its next poll reports the loss.
#[tokio::test]
async fn a_member_expired_between_polls_gets_on_partitions_lost() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    let (mut a, mut b, events) = two_members(&cluster, Duration::from_secs(10)).await;
    // `b` keeps polling; `a` does not, for longer than its max.poll.interval.ms.
    for _ in 0..6 {
        clock.advance(Duration::from_secs(60));
        b.poll(Duration::ZERO).await.unwrap();
    }
    assert_eq!(cluster.describe_group("g").members.len(), 1);
    a.poll(Duration::ZERO).await.unwrap();
    let ev = events.take();
    assert_eq!(ev.first(), Some(&Event::Lost(vec![tp(0)])), "{ev:?}");
    assert!(!ev.iter().any(|e| matches!(e, Event::Revoked(_))), "{ev:?}");
}

/// Kafka's `KafkaConsumer.assign` accepts a partition of a topic that does not exist yet; the
/// consumer's poll returns the first record once the topic is created and written to. (One
/// thread: the poll is surely waiting before the topic is created.)
#[tokio::test(flavor = "current_thread")]
async fn assigned_partition_of_a_missing_topic_wakes_poll_when_created() {
    let cluster = Cluster::new();
    let mut c = cluster
        .consumer(ConsumerConfig::without_group().auto_offset_reset(OffsetReset::Earliest))
        .unwrap();
    c.assign([TopicPartition::new("later", 1)]).unwrap();
    let waiting = tokio::spawn(async move { c.poll(Duration::MAX).await.unwrap() });
    tokio::task::yield_now().await;
    assert!(!waiting.is_finished());
    cluster.create_topic(NewTopic::new("later", 2, 1)).unwrap();
    cluster
        .producer(ProducerConfig::default())
        .send(ProducerRecord::new("later", Bytes::from("hello")).partition(1))
        .unwrap();
    let recs = tokio::time::timeout(WAIT, waiting)
        .await
        .expect("woken by the topic's creation and the record")
        .unwrap();
    assert_eq!(recs.len(), 1);
    assert_eq!(recs[0].value.as_deref(), Some(&b"hello"[..]));
}

/// A member whose coordinator cannot be reached (an injected retriable
/// `CoordinatorNotAvailableException`, which Java's `AbstractCoordinator` retries while its
/// heartbeats fail) sends no heartbeat: after `session.timeout.ms` the coordinator expels it
/// and the other member takes its partitions. The same polls without the fault keep it in.
#[tokio::test]
async fn unreachable_coordinator_means_no_heartbeat_and_expiry() {
    use kcodec_broker::BrokerError;
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    let (mut a, mut b, _events) = two_members(&cluster, Duration::from_secs(10)).await;
    rounds(&clock, &mut a, &mut b).await;
    assert_eq!(
        cluster.describe_group("g").members.len(),
        2,
        "a heartbeats on each poll: 12 s pass, no session expires"
    );
    a.inject_coordinator_errors(100, BrokerError::CoordinatorNotAvailable);
    // Heartbeats stop at the first failed round (t = 16 s); the session ends 10 s later.
    rounds(&clock, &mut a, &mut b).await;
    assert_eq!(
        cluster.describe_group("g").members.len(),
        2,
        "t = 24 s: not yet"
    );
    clock.advance(Duration::from_secs(2));
    assert_eq!(
        cluster.describe_group("g").members.len(),
        1,
        "a polled without reaching its coordinator: its session expired"
    );
    for _ in 0..4 {
        b.poll(Duration::ZERO).await.unwrap();
    }
    assert_eq!(b.assignment(), [tp(0), tp(1)]);
}

/// Three rounds of: 4 s pass, `a` polls, `b` polls.
async fn rounds(clock: &ManualClock, a: &mut Consumer, b: &mut Consumer) {
    for _ in 0..3 {
        clock.advance(Duration::from_secs(4));
        a.poll(Duration::ZERO).await.unwrap();
        b.poll(Duration::ZERO).await.unwrap();
    }
}
