//! Consumer groups over the wire with librdkafka (through rdkafka), a client no one here wrote:
//! the classic protocol (JoinGroup/SyncGroup with the leader's client-side assignment relayed,
//! Kafka's `GroupCoordinator`) and KIP-848's consumer protocol (`group.protocol=consumer`,
//! `GroupMetadataManager.consumerGroupHeartbeat` with the server-side assignor). Each test
//! produces keyed records, consumes them in a group of two across a rebalance, commits, and
//! reads the committed offsets and the lag back.
//!
//! Every wait is on an event (an assignment callback, a record) with a generous deadline that
//! only bounds a failure.

use kcodec_broker::group::protocol::GroupSettings;
use kcodec_broker::partitioner::partition_for_key;
use kcodec_broker::{Cluster, GroupState, NewTopic, TopicPartition};
use rdkafka::consumer::{
    BaseConsumer, CommitMode, Consumer, ConsumerContext, Rebalance, StreamConsumer,
};
use rdkafka::producer::{FutureProducer, FutureRecord};
use rdkafka::{ClientConfig, ClientContext, Message, Offset};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::Arc;
use std::time::Duration;
use tokio::sync::mpsc;

/// Bounds a failing wait only.
const DEADLINE: Duration = Duration::from_secs(60);
const TOPIC: &str = "orders";
const PARTITIONS: i32 = 4;

#[derive(Debug)]
enum Event {
    /// A consumer's whole assignment after a rebalance callback.
    Assigned(&'static str, BTreeSet<i32>),
    /// A record: consumer, partition, offset, key.
    Record(&'static str, i32, i64, String),
}

/// Reports each consumer's assignment after every rebalance callback.
struct Ctx {
    name: &'static str,
    events: mpsc::UnboundedSender<Event>,
}

impl ClientContext for Ctx {}

impl ConsumerContext for Ctx {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, _rebalance: &Rebalance<'_>) {
        let parts: BTreeSet<i32> = match consumer.assignment() {
            Ok(tpl) => tpl.elements().iter().map(|e| e.partition()).collect(),
            Err(_) => BTreeSet::new(),
        };
        let _ = self.events.send(Event::Assigned(self.name, parts));
    }
}

type Member = Arc<StreamConsumer<Ctx>>;

/// Closes a member: its reading task stops, then the consumer closes (leaving the group) on a
/// blocking thread.
async fn close(member: Member, reader: tokio::task::JoinHandle<()>) {
    reader.abort();
    let _ = reader.await;
    tokio::task::spawn_blocking(move || drop(member))
        .await
        .unwrap();
}

fn consumer(
    bootstrap: &str,
    name: &'static str,
    protocol: &str,
    events: &mpsc::UnboundedSender<Event>,
) -> (Member, tokio::task::JoinHandle<()>) {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("group.id", "billing")
        .set("client.id", name)
        .set("auto.offset.reset", "earliest")
        .set("enable.auto.commit", "false")
        .set("enable.partition.eof", "false");
    if protocol == "consumer" {
        c.set("group.protocol", "consumer");
    } else {
        c.set("session.timeout.ms", "6000")
            .set("heartbeat.interval.ms", "200")
            .set("partition.assignment.strategy", "range");
    }
    let consumer: StreamConsumer<Ctx> = c
        .create_with_context(Ctx {
            name,
            events: events.clone(),
        })
        .unwrap();
    consumer.subscribe(&[TOPIC]).unwrap();
    let consumer = Arc::new(consumer);
    let (c2, tx) = (consumer.clone(), events.clone());
    let reader = tokio::spawn(async move {
        loop {
            match c2.recv().await {
                Ok(m) => {
                    let key = String::from_utf8_lossy(m.key().unwrap_or_default()).into_owned();
                    let ev = Event::Record(name, m.partition(), m.offset(), key);
                    if tx.send(ev).is_err() {
                        return;
                    }
                }
                Err(_) => tokio::task::yield_now().await,
            }
        }
    });
    (consumer, reader)
}

/// Produces `keys` with librdkafka's `murmur2_random` partitioner (Java's
/// `BuiltInPartitioner.partitionForKey`); returns key → partition as delivered.
async fn produce(bootstrap: &str, keys: &[String]) -> BTreeMap<String, i32> {
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4")
        .set("linger.ms", "0")
        .set("partitioner", "murmur2_random")
        .create()
        .unwrap();
    let mut out = BTreeMap::new();
    for k in keys {
        let partition = producer
            .send(FutureRecord::to(TOPIC).key(k).payload("v"), DEADLINE)
            .await
            .unwrap()
            .partition;
        assert_eq!(
            partition,
            partition_for_key(k.as_bytes(), PARTITIONS),
            "Java's murmur2 for {k}"
        );
        out.insert(k.clone(), partition);
    }
    out
}

struct Run {
    events: mpsc::UnboundedReceiver<Event>,
    assignment: BTreeMap<&'static str, BTreeSet<i32>>,
    /// key → (consumer, partition, offset), the last delivery of each key.
    seen: BTreeMap<String, (&'static str, i32, i64)>,
}

impl Run {
    /// Takes events until `done` holds.
    async fn until(&mut self, what: &str, done: impl Fn(&Run) -> bool) {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while !done(self) {
            let ev = tokio::time::timeout_at(deadline, self.events.recv())
                .await
                .unwrap_or_else(|_| {
                    panic!(
                        "{what}: no event within {DEADLINE:?}; assignment {:?}",
                        self.assignment
                    )
                })
                .expect("event channel open");
            match ev {
                Event::Assigned(name, parts) => {
                    self.assignment.insert(name, parts);
                }
                Event::Record(name, p, o, key) => {
                    self.seen.insert(key, (name, p, o));
                }
            }
        }
    }

    fn split_between_two(&self) -> bool {
        let a = self.assignment.get("a").cloned().unwrap_or_default();
        let b = self.assignment.get("b").cloned().unwrap_or_default();
        a.len() == 2 && b.len() == 2 && a.union(&b).count() == PARTITIONS as usize
    }
}

fn keys(range: std::ops::Range<i32>) -> Vec<String> {
    range.map(|i| format!("customer-{i}")).collect()
}

/// The committed offsets a consumer reads back (`committed`), by partition.
fn committed(c: &Member) -> BTreeMap<i32, i64> {
    let tpl = c.committed(DEADLINE).unwrap();
    let out = tpl
        .elements()
        .iter()
        .filter_map(|e| match e.offset() {
            Offset::Offset(o) => Some((e.partition(), o)),
            _ => None,
        })
        .collect();
    drop(tpl);
    out
}

/// A cluster with `topics` (name, partitions) behind the front end, its KIP-848 heartbeat
/// interval short so that members learn of changes soon.
async fn serve(topics: &[(&str, i32)]) -> (Cluster, kcodec_kafka_server::Server) {
    let cluster = Cluster::builder().build();
    for (t, n) in topics {
        cluster.create_topic(NewTopic::new(*t, *n, 1)).unwrap();
    }
    cluster.set_group_settings(GroupSettings {
        consumer_heartbeat_interval: Duration::from_millis(100),
        ..GroupSettings::default()
    });
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    (cluster, server)
}

async fn group_of_two_across_a_rebalance(protocol: &'static str) {
    let (cluster, server) = serve(&[(TOPIC, PARTITIONS)]).await;
    let bootstrap = server.bootstrap();
    let (tx, rx) = mpsc::unbounded_channel();
    let mut run = Run {
        events: rx,
        assignment: BTreeMap::new(),
        seen: BTreeMap::new(),
    };

    // one member gets every partition and reads the first records
    let (a, a_reader) = consumer(&bootstrap, "a", protocol, &tx);
    run.until("a owns every partition", |r| {
        r.assignment
            .get("a")
            .is_some_and(|p| p.len() == PARTITIONS as usize)
    })
    .await;
    let first = keys(0..20);
    let placed = produce(&bootstrap, &first).await;
    run.until("a reads the first records", |r| {
        first.iter().all(|k| r.seen.contains_key(k))
    })
    .await;
    assert!(
        first
            .iter()
            .all(|k| run.seen[k].0 == "a" && run.seen[k].1 == placed[k])
    );
    let a2 = a.clone();
    tokio::task::spawn_blocking(move || a2.commit_consumer_state(CommitMode::Sync))
        .await
        .unwrap()
        .unwrap();

    // a second member joins: the partitions are split, each read by its new owner from the
    // committed offsets on
    let (b, b_reader) = consumer(&bootstrap, "b", protocol, &tx);
    run.until(
        "the partitions are split between a and b",
        Run::split_between_two,
    )
    .await;
    let second = keys(20..60);
    let placed = produce(&bootstrap, &second).await;
    run.until("the second records are read", |r| {
        second.iter().all(|k| r.seen.contains_key(k))
    })
    .await;
    for k in &second {
        let (who, p, _) = run.seen[k];
        assert_eq!(p, placed[k]);
        assert!(
            run.assignment[who].contains(&p),
            "{k} on partition {p} read by its owner {who}"
        );
    }
    // no record of the first batch was read again: b started from a's commits
    assert!(first.iter().all(|k| run.seen[k].0 == "a"));

    for c in [&a, &b] {
        let c = c.clone();
        tokio::task::spawn_blocking(move || c.commit_consumer_state(CommitMode::Sync))
            .await
            .unwrap()
            .unwrap();
    }
    // committed offsets read back by each member: the log end of each partition it owns
    let ends: BTreeMap<i32, i64> = (0..PARTITIONS)
        .map(|p| {
            (
                p,
                cluster.end_offset(&TopicPartition::new(TOPIC, p)).unwrap(),
            )
        })
        .collect();
    for (name, c) in [("a", &a), ("b", &b)] {
        let c = c.clone();
        let got = tokio::task::spawn_blocking(move || committed(&c))
            .await
            .unwrap();
        for p in &run.assignment[name] {
            if ends[p] > 0 {
                assert_eq!(
                    got.get(p),
                    Some(&ends[p]),
                    "{name} reads back its commit of partition {p}"
                );
            }
        }
    }
    // the lag: zero on every partition, each row naming its member
    let rows = cluster.describe_group_offsets("billing").unwrap();
    let with_records: Vec<_> = rows
        .iter()
        .filter(|r| r.log_end_offset.is_some_and(|e| e > 0))
        .collect();
    assert!(!with_records.is_empty());
    for r in &with_records {
        assert_eq!(r.lag, Some(0), "{r:?}");
        assert!(r.consumer_id.is_some(), "{r:?}");
    }
    let d = cluster.describe_group("billing");
    assert_eq!(d.members.len(), 2);
    assert_eq!(d.state, GroupState::Stable);
    // lag as a client computes it: high watermark minus committed
    let a2 = a.clone();
    let wm = tokio::task::spawn_blocking(move || {
        (0..PARTITIONS)
            .map(|p| a2.fetch_watermarks(TOPIC, p, DEADLINE).unwrap().1)
            .collect::<Vec<_>>()
    })
    .await
    .unwrap();
    assert_eq!(wm, ends.values().copied().collect::<Vec<_>>());

    // b leaves: a gets every partition back
    close(b, b_reader).await;
    run.until("a owns every partition again", |r| {
        r.assignment
            .get("a")
            .is_some_and(|p| p.len() == PARTITIONS as usize)
    })
    .await;
    close(a, a_reader).await;
    assert_eq!(cluster.describe_group("billing").state, GroupState::Empty);
    server.shutdown().await;
}

/// The classic protocol: librdkafka's leader computes the `range` assignment and the broker
/// relays it (`GroupCoordinator` JoinGroup/SyncGroup); the first member learns of the second
/// from its heartbeat's `REBALANCE_IN_PROGRESS`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_classic_group_of_two_consumes_across_a_rebalance_and_commits() {
    group_of_two_across_a_rebalance("classic").await;
}

/// KIP-848 (`group.protocol=consumer`): the broker's `uniform` assignor computes the
/// assignment; a partition moves to the second member only after the first has revoked it
/// (`CurrentAssignmentBuilder`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_consumer_protocol_group_of_two_consumes_across_a_rebalance_and_commits() {
    group_of_two_across_a_rebalance("consumer").await;
}

/// KIP-848 regex subscription (`group.protocol=consumer`, `subscribe(["^orders-.*"])`):
/// librdkafka sends the expression as `SubscribedTopicRegex` and the broker resolves it
/// (`GroupMetadataManager.maybeUpdateRegularExpressions` / `refreshRegularExpressions`:
/// whole-name matches against the cluster's topics). The member is assigned the matching
/// topics only; a topic created later that matches joins the assignment (and one that does
/// not, does not), and a record produced to it is consumed. (Deletion is covered in
/// kcodec-broker's `wire_groups` tests: a librdkafka 2.12 consumer whose assigned topic was
/// deleted sometimes hangs in `rd_kafka_destroy` under load.)
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_consumer_protocol_regex_subscription_follows_topic_creation() {
    let (cluster, server) = serve(&[
        ("orders-eu", 2),
        ("orders-us", 1),
        ("audit", 1),
        ("old-orders-x", 1),
    ])
    .await;
    let bootstrap = server.bootstrap();
    let (tx, mut rx) = mpsc::unbounded_channel();
    let consumer: StreamConsumer<TopicCtx> = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("broker.address.family", "v4")
        .set("group.id", "regex")
        .set("group.protocol", "consumer")
        .set("auto.offset.reset", "earliest")
        .set("enable.partition.eof", "false")
        .set("topic.metadata.refresh.interval.ms", "200")
        .create_with_context(TopicCtx { events: tx })
        .unwrap();
    consumer.subscribe(&["^orders-.*"]).unwrap();
    let consumer = Arc::new(consumer);
    let (c2, records) = (
        consumer.clone(),
        mpsc::unbounded_channel::<(String, String)>(),
    );
    let (records_tx, mut records_rx) = records;
    let reader = tokio::spawn(async move {
        loop {
            if let Ok(m) = c2.recv().await {
                let value = String::from_utf8_lossy(m.payload().unwrap_or_default()).into_owned();
                if records_tx.send((m.topic().to_owned(), value)).is_err() {
                    return;
                }
            }
        }
    });
    let mut assignment = BTreeSet::new();
    let mut until = async |what: &str, want: &BTreeSet<(String, i32)>| {
        let deadline = tokio::time::Instant::now() + DEADLINE;
        while &assignment != want {
            assignment = tokio::time::timeout_at(deadline, rx.recv())
                .await
                .unwrap_or_else(|_| panic!("{what}: assignment {assignment:?}"))
                .unwrap();
        }
    };
    let set = |v: &[(&str, i32)]| -> BTreeSet<(String, i32)> {
        v.iter().map(|(t, p)| (t.to_string(), *p)).collect()
    };
    until(
        "the matching topics",
        &set(&[("orders-eu", 0), ("orders-eu", 1), ("orders-us", 0)]),
    )
    .await;
    let d = cluster.describe_consumer_group("regex").unwrap();
    assert_eq!(
        d.members[0].subscribed_topic_regex.as_deref(),
        Some("(^orders-.*)"),
        "librdkafka sends its regex subscriptions, each in parentheses, joined by |"
    );

    cluster
        .create_topic(NewTopic::new("orders-asia", 1, 1))
        .unwrap();
    cluster
        .create_topic(NewTopic::new("payments", 1, 1))
        .unwrap();
    until(
        "a created topic that matches",
        &set(&[
            ("orders-asia", 0),
            ("orders-eu", 0),
            ("orders-eu", 1),
            ("orders-us", 0),
        ]),
    )
    .await;
    let producer: FutureProducer = ClientConfig::new()
        .set("bootstrap.servers", &bootstrap)
        .set("broker.address.family", "v4")
        .set("message.timeout.ms", DEADLINE.as_millis().to_string())
        .create()
        .unwrap();
    producer
        .send(
            FutureRecord::to("orders-asia").key("k").payload("tokyo"),
            DEADLINE,
        )
        .await
        .unwrap();
    let got = tokio::time::timeout(DEADLINE, records_rx.recv())
        .await
        .expect("the record of the new topic")
        .unwrap();
    assert_eq!(got, ("orders-asia".to_string(), "tokyo".to_string()));

    reader.abort();
    let _ = reader.await;
    tokio::task::spawn_blocking(move || drop(consumer))
        .await
        .unwrap();
    server.shutdown().await;
}

/// Reports the whole assignment (topic, partition) after every rebalance callback.
struct TopicCtx {
    events: mpsc::UnboundedSender<BTreeSet<(String, i32)>>,
}

impl ClientContext for TopicCtx {}

impl ConsumerContext for TopicCtx {
    fn post_rebalance(&self, consumer: &BaseConsumer<Self>, _rebalance: &Rebalance<'_>) {
        let parts = match consumer.assignment() {
            Ok(tpl) => tpl
                .elements()
                .iter()
                .map(|e| (e.topic().to_owned(), e.partition()))
                .collect(),
            Err(_) => BTreeSet::new(),
        };
        let _ = self.events.send(parts);
    }
}
