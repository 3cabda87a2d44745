//! Consumer groups: assignors, rebalances, listeners, commits, states, retention, lag.

use bytes::Bytes;
use kcodec_broker::assignor::{Assignor, MemberSubscription};
use kcodec_broker::{
    BrokerError, Cluster, Consumer, ConsumerConfig, GroupState, ManualClock, NewTopic, OffsetReset,
    ProducerConfig, ProducerRecord, RebalanceContext, RebalanceListener, TopicPartition,
    format_lag_table,
};
use std::collections::{BTreeMap, BTreeSet};
use std::sync::{Arc, Mutex};
use std::time::Duration;

fn tp(t: &str, p: i32) -> TopicPartition {
    TopicPartition::new(t, p)
}

fn names(v: &[TopicPartition]) -> Vec<String> {
    v.iter().map(|t| t.to_string()).collect()
}

fn two_topics() -> BTreeMap<String, i32> {
    BTreeMap::from([("t0".to_string(), 3), ("t1".to_string(), 3)])
}

#[test]
fn assignors_give_kafkas_results_for_two_members() {
    let members = [
        MemberSubscription::new("C0", ["t0", "t1"]),
        MemberSubscription::new("C1", ["t0", "t1"]),
    ];
    let range = Assignor::Range.assign(&members, &two_topics());
    assert_eq!(names(&range["C0"]), ["t0-0", "t0-1", "t1-0", "t1-1"]);
    assert_eq!(names(&range["C1"]), ["t0-2", "t1-2"]);
    let rr = Assignor::RoundRobin.assign(&members, &two_topics());
    assert_eq!(names(&rr["C0"]), ["t0-0", "t0-2", "t1-1"]);
    assert_eq!(names(&rr["C1"]), ["t0-1", "t1-0", "t1-2"]);
    for a in [Assignor::Sticky, Assignor::CooperativeSticky] {
        let s = a.assign(&members, &two_topics());
        assert_eq!(names(&s["C0"]), ["t0-0", "t0-2", "t1-1"], "{a}");
        assert_eq!(names(&s["C1"]), ["t0-1", "t1-0", "t1-2"], "{a}");
    }
    // Input order does not matter: members are sorted by member id.
    let rev = [members[1].clone(), members[0].clone()];
    assert_eq!(Assignor::Range.assign(&rev, &two_topics()), range);
    assert_eq!(
        "cooperative-sticky".parse::<Assignor>().unwrap(),
        Assignor::CooperativeSticky
    );
    assert!("nope".parse::<Assignor>().is_err());
}

#[test]
fn range_and_roundrobin_with_unequal_subscriptions() {
    // Kafka's RoundRobinAssignor doc example: C0 on t0; C1 on t0, t1; C2 on t0, t1, t2
    // (t0: 1, t1: 2, t2: 3 partitions) → C0 [t0p0], C1 [t1p0], C2 [t1p1, t2p0, t2p1, t2p2].
    let members = [
        MemberSubscription::new("C0", ["t0"]),
        MemberSubscription::new("C1", ["t0", "t1"]),
        MemberSubscription::new("C2", ["t0", "t1", "t2"]),
    ];
    let topics = BTreeMap::from([
        ("t0".to_string(), 1),
        ("t1".to_string(), 2),
        ("t2".to_string(), 3),
    ]);
    let rr = Assignor::RoundRobin.assign(&members, &topics);
    assert_eq!(names(&rr["C0"]), ["t0-0"]);
    assert_eq!(names(&rr["C1"]), ["t1-0"]);
    assert_eq!(names(&rr["C2"]), ["t1-1", "t2-0", "t2-1", "t2-2"]);
    let range = Assignor::Range.assign(&members, &topics);
    assert_eq!(names(&range["C0"]), ["t0-0"]);
    assert_eq!(names(&range["C1"]), ["t1-0"]);
    assert_eq!(names(&range["C2"]), ["t1-1", "t2-0", "t2-1", "t2-2"]);
    // Sticky balances better: C2 gives t1-1 to C1? It may only take partitions members subscribe to.
    let sticky = Assignor::Sticky.assign(&members, &topics);
    let total: usize = sticky.values().map(Vec::len).sum();
    assert_eq!(total, 6);
    assert_eq!(names(&sticky["C0"]), ["t0-0"]);
    assert_eq!(sticky["C1"].len(), 2);
    assert_eq!(names(&sticky["C2"]), ["t2-0", "t2-1", "t2-2"]);
}

#[test]
fn sticky_keeps_ownership_when_a_member_leaves_and_joins() {
    let topics = BTreeMap::from([("t".to_string(), 12)]);
    let subs: Vec<MemberSubscription> = ["A", "B", "C"]
        .iter()
        .map(|m| MemberSubscription::new(*m, ["t"]))
        .collect();
    let first = Assignor::Sticky.assign(&subs, &topics);
    assert!(first.values().all(|v| v.len() == 4));
    // B leaves: A and C keep their 4 and split B's.
    let after: Vec<MemberSubscription> = ["A", "C"]
        .iter()
        .map(|m| MemberSubscription::new(*m, ["t"]).owned(first[*m].clone()))
        .collect();
    let second = Assignor::Sticky.assign(&after, &topics);
    for m in ["A", "C"] {
        assert_eq!(second[m].len(), 6);
        assert!(
            first[m].iter().all(|p| second[m].contains(p)),
            "{m} kept its partitions"
        );
    }
    // D joins: everyone gives up as little as possible (6,6 → 4,4,4 moves exactly 4).
    let mut again: Vec<MemberSubscription> = ["A", "C"]
        .iter()
        .map(|m| MemberSubscription::new(*m, ["t"]).owned(second[*m].clone()))
        .collect();
    again.push(MemberSubscription::new("D", ["t"]));
    let third = Assignor::Sticky.assign(&again, &topics);
    assert!(third.values().all(|v| v.len() == 4));
    let moved: usize = ["A", "C"]
        .iter()
        .map(|m| second[*m].iter().filter(|p| !third[*m].contains(p)).count())
        .sum();
    assert_eq!(moved, 4);
    // Range with 3 members on 7 partitions: 3, 2, 2.
    let topics7 = BTreeMap::from([("t".to_string(), 7)]);
    let r = Assignor::Range.assign(&subs, &topics7);
    assert_eq!((r["A"].len(), r["B"].len(), r["C"].len()), (3, 2, 2));
}

/// Polls every consumer until the group is stable and all have its generation.
async fn settle(cluster: &Cluster, group: &str, consumers: &mut [&mut Consumer]) {
    for _ in 0..30 {
        for c in consumers.iter_mut() {
            c.poll(Duration::ZERO).await.unwrap();
        }
        let d = cluster.describe_group(group);
        if d.state == GroupState::Stable && consumers.iter().all(|c| c.generation() == d.generation)
        {
            return;
        }
    }
    panic!(
        "group {group} did not settle: {:?}",
        cluster.describe_group(group)
    );
}

fn setup(clock: &ManualClock) -> Cluster {
    let c = Cluster::builder().clock(clock.clone()).build();
    c.create_topic(NewTopic::new("t0", 3, 1)).unwrap();
    c.create_topic(NewTopic::new("t1", 3, 1)).unwrap();
    c
}

fn cfg(client: &str, a: Assignor) -> ConsumerConfig {
    ConsumerConfig::new("g")
        .client_id(client)
        .assignor(a)
        .session_timeout(Duration::from_secs(10))
        .enable_auto_commit(false)
}

#[tokio::test]
async fn join_leave_and_session_timeout_rebalance_with_every_assignor() {
    for a in [
        Assignor::Range,
        Assignor::RoundRobin,
        Assignor::Sticky,
        Assignor::CooperativeSticky,
    ] {
        let clock = ManualClock::default();
        let cluster = setup(&clock);
        let mut c0 = cluster.consumer(cfg("C0", a)).unwrap();
        c0.subscribe(["t0", "t1"]).unwrap();
        settle(&cluster, "g", &mut [&mut c0]).await;
        assert_eq!(c0.assignment().len(), 6, "{a}: alone, it gets everything");
        let g1 = cluster.describe_group("g").generation;

        // Join.
        let mut c1 = cluster.consumer(cfg("C1", a)).unwrap();
        c1.subscribe(["t0", "t1"]).unwrap();
        c1.poll(Duration::ZERO).await.unwrap();
        assert_eq!(
            cluster.describe_group("g").state,
            GroupState::PreparingRebalance,
            "{a}"
        );
        settle(&cluster, "g", &mut [&mut c0, &mut c1]).await;
        let d = cluster.describe_group("g");
        assert!(d.generation > g1);
        assert_eq!(d.protocol, a.name());
        let expected = a.assign(
            &[
                MemberSubscription::new(c0.member_id().unwrap(), ["t0", "t1"]),
                MemberSubscription::new(c1.member_id().unwrap(), ["t0", "t1"]),
            ],
            &two_topics(),
        );
        match a {
            Assignor::Range | Assignor::RoundRobin => {
                assert_eq!(c0.assignment(), expected[c0.member_id().unwrap()], "{a}");
                assert_eq!(c1.assignment(), expected[c1.member_id().unwrap()], "{a}");
            }
            _ => {
                assert_eq!(
                    (c0.assignment().len(), c1.assignment().len()),
                    (3, 3),
                    "{a}"
                );
            }
        }
        let union: BTreeSet<TopicPartition> =
            c0.assignment().into_iter().chain(c1.assignment()).collect();
        assert_eq!(union.len(), 6, "{a}: every partition owned once");
        // Members are listed by member id, C0 before C1.
        assert!(
            d.members[0].member_id.starts_with("C0-") && d.members[1].member_id.starts_with("C1-")
        );

        // Leave.
        c1.close();
        settle(&cluster, "g", &mut [&mut c0]).await;
        assert_eq!(c0.assignment().len(), 6, "{a}: after the leave");

        // Crash + session timeout on the broker clock.
        let mut c2 = cluster.consumer(cfg("C2", a)).unwrap();
        c2.subscribe(["t0", "t1"]).unwrap();
        settle(&cluster, "g", &mut [&mut c0, &mut c2]).await;
        assert_eq!(c0.assignment().len() + c2.assignment().len(), 6);
        let gen_before = cluster.describe_group("g").generation;
        c2.abandon();
        clock.advance(Duration::from_secs(9));
        c0.poll(Duration::ZERO).await.unwrap();
        assert_eq!(
            cluster.describe_group("g").members.len(),
            2,
            "{a}: not yet timed out"
        );
        clock.advance(Duration::from_secs(1));
        settle(&cluster, "g", &mut [&mut c0]).await;
        let d = cluster.describe_group("g");
        assert_eq!(d.members.len(), 1, "{a}: expired");
        assert!(d.generation > gen_before);
        assert_eq!(c0.assignment().len(), 6, "{a}: after the timeout");
    }
}

#[derive(Default, Clone)]
struct Log(Arc<Mutex<Vec<String>>>);

struct CommittingListener {
    log: Log,
}

impl RebalanceListener for CommittingListener {
    fn on_partitions_revoked(
        &mut self,
        ctx: &mut RebalanceContext<'_>,
        partitions: &[TopicPartition],
    ) {
        ctx.commit_sync().unwrap();
        self.log
            .0
            .lock()
            .unwrap()
            .push(format!("revoked {}", names(partitions).join(",")));
    }
    fn on_partitions_assigned(
        &mut self,
        ctx: &mut RebalanceContext<'_>,
        partitions: &[TopicPartition],
    ) {
        assert_eq!(ctx.assignment().len(), ctx.assignment().len());
        self.log
            .0
            .lock()
            .unwrap()
            .push(format!("assigned {}", names(partitions).join(",")));
    }
}

#[tokio::test]
async fn listener_commits_before_losing_partitions_so_the_new_owner_resumes_there() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let p = cluster.producer(ProducerConfig::default());
    for i in 0..20 {
        p.send(ProducerRecord::new("t", Bytes::from(format!("{i}"))).partition(i % 2))
            .unwrap();
    }
    let log = Log::default();
    let mut a = cluster
        .consumer(
            cfg("A", Assignor::Range)
                .auto_offset_reset(OffsetReset::Earliest)
                .max_poll_records(3),
        )
        .unwrap();
    a.subscribe_with_listener(["t"], Box::new(CommittingListener { log: log.clone() }))
        .unwrap();
    let got = a.poll(Duration::ZERO).await.unwrap();
    assert_eq!(got.len(), 3);
    assert_eq!(log.0.lock().unwrap().as_slice(), ["assigned t-0,t-1"]);
    let pos: BTreeMap<i32, i64> = [0, 1]
        .iter()
        .map(|&p| (p, a.position(&tp("t", p)).unwrap()))
        .collect();

    let mut b = cluster
        .consumer(cfg("B", Assignor::Range).auto_offset_reset(OffsetReset::Earliest))
        .unwrap();
    b.subscribe(["t"]).unwrap();
    b.poll(Duration::ZERO).await.unwrap(); // joins; the group waits for A
    assert!(b.assignment().is_empty());
    a.poll(Duration::ZERO).await.unwrap(); // A revokes (committing in the listener) and rejoins
    assert_eq!(log.0.lock().unwrap()[1], "revoked t-0,t-1");
    for (&p, &o) in &pos {
        assert_eq!(a.committed(&tp("t", p)).unwrap().unwrap().offset, o);
    }
    let recs = b.poll(Duration::ZERO).await.unwrap();
    assert_eq!(b.assignment(), [tp("t", 1)]);
    assert_eq!(
        recs.first().map(|r| r.offset),
        Some(pos[&1]),
        "B starts at A's commit"
    );
    assert_eq!(a.assignment(), [tp("t", 0)]);
    assert_eq!(log.0.lock().unwrap()[2], "assigned t-0");
}

#[tokio::test]
async fn cooperative_rebalance_revokes_only_moving_partitions() {
    let clock = ManualClock::default();
    let cluster = setup(&clock);
    let log = Log::default();
    let mut c0 = cluster
        .consumer(cfg("C0", Assignor::CooperativeSticky))
        .unwrap();
    c0.subscribe_with_listener(
        ["t0", "t1"],
        Box::new(CommittingListener { log: log.clone() }),
    )
    .unwrap();
    settle(&cluster, "g", &mut [&mut c0]).await;
    let before = c0.assignment();
    let mut c1 = cluster
        .consumer(cfg("C1", Assignor::CooperativeSticky))
        .unwrap();
    c1.subscribe(["t0", "t1"]).unwrap();
    settle(&cluster, "g", &mut [&mut c0, &mut c1]).await;
    // Two rounds: first C0 gives up 3 partitions, then C1 receives them.
    let mut c1_gets = c1.assignment();
    if c1_gets.is_empty() {
        settle(&cluster, "g", &mut [&mut c1, &mut c0]).await;
        c1_gets = c1.assignment();
    }
    assert_eq!((c0.assignment().len(), c1_gets.len()), (3, 3));
    assert!(c0.assignment().iter().all(|p| before.contains(p)));
    let entries = log.0.lock().unwrap().clone();
    let revoked: Vec<&String> = entries
        .iter()
        .filter(|e| e.starts_with("revoked"))
        .collect();
    assert_eq!(revoked.len(), 1, "{entries:?}");
    let moved = names(&c1_gets).join(",");
    assert_eq!(
        revoked[0],
        &format!("revoked {moved}"),
        "only the moving partitions are revoked"
    );
}

#[tokio::test]
async fn commits_survive_a_restart_and_the_consumer_resumes_after_the_last_commit() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let p = cluster.producer(ProducerConfig::default());
    for i in 0..10 {
        p.send(ProducerRecord::new("t", Bytes::from(format!("{i}"))))
            .unwrap();
    }
    let conf = || {
        ConsumerConfig::new("app")
            .enable_auto_commit(false)
            .auto_offset_reset(OffsetReset::Earliest)
            .max_poll_records(4)
    };
    let mut c = cluster.consumer(conf()).unwrap();
    c.subscribe(["t"]).unwrap();
    let recs = c.poll(Duration::from_secs(1)).await.unwrap();
    assert_eq!(recs.len(), 4);
    // Process 3 of the 4, commit last processed + 1.
    c.commit_offsets(&[(tp("t", 0), recs[2].offset + 1)])
        .unwrap();
    drop(c); // auto-commit is off: nothing else committed
    let d = cluster.describe_group("app");
    assert_eq!(d.state, GroupState::Empty);
    let mut c = cluster.consumer(conf()).unwrap();
    c.subscribe(["t"]).unwrap();
    let recs = c.poll(Duration::from_secs(1)).await.unwrap();
    assert_eq!(recs[0].offset, 3, "resumes exactly after the last commit");
    assert_eq!(c.committed(&tp("t", 0)).unwrap().unwrap().offset, 3);
    c.commit_sync().unwrap();
    assert_eq!(cluster.group_offsets("app").unwrap()[&tp("t", 0)].offset, 7);
}

#[tokio::test]
async fn auto_commit_on_interval_and_close() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let p = cluster.producer(ProducerConfig::default());
    for i in 0..5 {
        p.send(ProducerRecord::new("t", Bytes::from(format!("{i}"))))
            .unwrap();
    }
    let mut c = cluster
        .consumer(
            ConsumerConfig::new("auto")
                .auto_offset_reset(OffsetReset::Earliest)
                .max_poll_records(2),
        )
        .unwrap();
    c.subscribe(["t"]).unwrap();
    c.poll(Duration::ZERO).await.unwrap();
    c.poll(Duration::ZERO).await.unwrap();
    assert_eq!(
        c.committed(&tp("t", 0)).unwrap(),
        None,
        "interval not reached"
    );
    clock.advance(Duration::from_secs(5));
    c.poll(Duration::ZERO).await.unwrap();
    assert_eq!(
        c.committed(&tp("t", 0)).unwrap().unwrap().offset,
        4,
        "records of earlier polls"
    );
    c.close();
    assert_eq!(
        cluster.group_offsets("auto").unwrap()[&tp("t", 0)].offset,
        5,
        "on close"
    );
}

#[tokio::test]
async fn no_reset_policy_names_the_partitions() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let mut c = cluster
        .consumer(ConsumerConfig::new("strict").auto_offset_reset(OffsetReset::None))
        .unwrap();
    c.subscribe(["t"]).unwrap();
    let err = c.poll(Duration::ZERO).await.unwrap_err();
    assert_eq!(
        err,
        BrokerError::NoOffsetForPartition(vec![tp("t", 0), tp("t", 1)])
    );
    assert_eq!(
        err.to_string(),
        "Undefined offset with no reset policy for partitions: [t-0, t-1]"
    );
}

#[tokio::test]
async fn group_states_list_describe_delete_and_offset_retention() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    assert_eq!(cluster.describe_group("g").state, GroupState::Dead);
    let mut c = cluster.consumer(cfg("C", Assignor::Range)).unwrap();
    c.subscribe(["t"]).unwrap();
    c.poll(Duration::ZERO).await.unwrap();
    let d = cluster.describe_group("g");
    assert_eq!(
        (d.state, d.protocol_type.as_str(), d.protocol.as_str()),
        (GroupState::Stable, "consumer", "range")
    );
    assert_eq!(d.leader.as_deref(), c.member_id());
    assert_eq!(d.members[0].assignment, [tp("t", 0)]);
    assert_eq!(d.members[0].client_id, "C");
    assert_eq!(d.members[0].host, "/127.0.0.1");
    assert_eq!(
        cluster.delete_group("g").unwrap_err(),
        BrokerError::NonEmptyGroup("g".into())
    );
    c.commit_offsets(&[(tp("t", 0), 0)]).unwrap();
    cluster.force_rebalance("g").unwrap();
    assert_eq!(
        cluster.describe_group("g").state,
        GroupState::PreparingRebalance
    );
    c.poll(Duration::ZERO).await.unwrap();
    assert_eq!(cluster.describe_group("g").state, GroupState::Stable);
    assert!(matches!(
        cluster.force_rebalance("nope"),
        Err(BrokerError::GroupIdNotFound(_))
    ));
    c.close();
    let listing = cluster.list_groups();
    assert_eq!(listing.len(), 1);
    assert_eq!(
        (listing[0].group_id.as_str(), listing[0].state),
        ("g", GroupState::Empty)
    );

    // Offsets expire offsets.retention.minutes (7 days) after the group became Empty.
    clock.advance(Duration::from_secs(7 * 24 * 3600 - 1));
    assert_eq!(cluster.describe_group("g").state, GroupState::Empty);
    assert_eq!(cluster.group_offsets("g").unwrap().len(), 1);
    clock.advance(Duration::from_secs(1));
    cluster.tick();
    assert_eq!(cluster.describe_group("g").state, GroupState::Dead);
    assert!(cluster.list_groups().is_empty());
    assert!(matches!(
        cluster.group_offsets("g"),
        Err(BrokerError::GroupIdNotFound(_))
    ));

    // Delete an Empty group explicitly.
    let mut c = cluster.consumer(cfg("C", Assignor::Range)).unwrap();
    c.subscribe(["t"]).unwrap();
    c.poll(Duration::ZERO).await.unwrap();
    c.commit_sync().unwrap();
    drop(c);
    cluster.delete_group("g").unwrap();
    assert_eq!(
        cluster.delete_group("g").unwrap_err(),
        BrokerError::GroupIdNotFound("g".into())
    );
}

#[tokio::test]
async fn standalone_commits_expire_per_offset_and_conflict_with_members() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder()
        .clock(clock.clone())
        .offsets_retention(Duration::from_secs(60))
        .build();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let mut c = cluster.consumer(ConsumerConfig::new("solo")).unwrap();
    c.assign([tp("t", 0), tp("t", 1)]).unwrap();
    c.commit_offsets(&[(tp("t", 0), 0)]).unwrap();
    clock.advance(Duration::from_secs(30));
    c.commit_offsets(&[(tp("t", 1), 0)]).unwrap();
    let d = cluster.describe_group("solo");
    assert_eq!((d.state, d.protocol_type.as_str()), (GroupState::Empty, ""));
    clock.advance(Duration::from_secs(30));
    assert_eq!(
        cluster
            .group_offsets("solo")
            .unwrap()
            .keys()
            .cloned()
            .collect::<Vec<_>>(),
        [tp("t", 1)]
    );
    // A group with live members refuses commits from outside the generation.
    let mut m = cluster
        .consumer(ConsumerConfig::new("solo").enable_auto_commit(false))
        .unwrap();
    m.subscribe(["t"]).unwrap();
    m.poll(Duration::ZERO).await.unwrap();
    assert_eq!(
        c.commit_offsets(&[(tp("t", 0), 1)]).unwrap_err(),
        BrokerError::CommitFailed("solo".into())
    );
    clock.advance(Duration::from_secs(30));
    drop(m);
    drop(c);
}

#[test]
fn commits_of_negative_offsets_or_unknown_partitions_are_refused_whole() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let mut c = cluster
        .consumer(ConsumerConfig::new("g").enable_auto_commit(false))
        .unwrap();
    c.assign([tp("t", 0), tp("t", 1)]).unwrap();
    let err = c
        .commit_offsets(&[(tp("t", 0), 3), (tp("t", 1), -7)])
        .unwrap_err();
    assert_eq!(err, BrokerError::NegativeOffset(-7, "t-1".into()));
    assert_eq!(err.to_string(), "Invalid negative offset -7 for t-1");
    for bad in [tp("ghost", 0), tp("t", 2), tp("t", -1)] {
        let err = c
            .commit_offsets(&[(tp("t", 0), 3), (bad.clone(), 1)])
            .unwrap_err();
        assert_eq!(err, BrokerError::UnknownTopicOrPartition(bad.to_string()));
    }
    // nothing of a refused commit was stored, so no lag row names a topic that does not exist
    assert!(cluster.group_offsets("g").unwrap_or_default().is_empty());
    c.commit_offsets(&[(tp("t", 0), 3)]).unwrap();
    // Kafka does not check a committed offset against the log end: lag can be negative
    let rows = cluster.describe_group_offsets("g").unwrap();
    let row = rows.iter().find(|r| r.partition == Some(0)).unwrap();
    assert_eq!((row.current_offset, row.lag), (Some(3), Some(-3)));
}

#[test]
fn deleting_a_topic_drops_its_committed_offsets() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("a", 1, 1)).unwrap();
    cluster.create_topic(NewTopic::new("b", 1, 1)).unwrap();
    let mut both = cluster
        .consumer(ConsumerConfig::new("both").enable_auto_commit(false))
        .unwrap();
    both.assign([tp("a", 0), tp("b", 0)]).unwrap();
    both.commit_offsets(&[(tp("a", 0), 0), (tp("b", 0), 0)])
        .unwrap();
    let mut only_a = cluster
        .consumer(ConsumerConfig::new("only-a").enable_auto_commit(false))
        .unwrap();
    only_a.assign([tp("a", 0)]).unwrap();
    only_a.commit_offsets(&[(tp("a", 0), 0)]).unwrap();

    cluster.delete_topic("a").unwrap();
    let left: Vec<TopicPartition> = cluster.group_offsets("both").unwrap().into_keys().collect();
    assert_eq!(left, [tp("b", 0)]);
    // a group whose only offsets were the deleted topic's is gone (Dead), as in Kafka
    assert_eq!(
        cluster.group_offsets("only-a").unwrap_err(),
        BrokerError::GroupIdNotFound("only-a".into())
    );
    // a topic created again under the name starts without the old group's offsets
    cluster.create_topic(NewTopic::new("a", 1, 1)).unwrap();
    assert!(
        !cluster
            .group_offsets("both")
            .unwrap()
            .contains_key(&tp("a", 0))
    );
}

#[tokio::test]
async fn stale_generation_commit_fails_and_max_poll_interval_expels() {
    let clock = ManualClock::default();
    let cluster = setup(&clock);
    let conf = |c: &str| cfg(c, Assignor::Range).max_poll_interval(Duration::from_secs(60));
    let mut a = cluster.consumer(conf("A")).unwrap();
    a.subscribe(["t0"]).unwrap();
    settle(&cluster, "g", &mut [&mut a]).await;
    let mut b = cluster.consumer(conf("B")).unwrap();
    b.subscribe(["t0"]).unwrap();
    b.poll(Duration::ZERO).await.unwrap();
    // A has not rejoined yet: its generation is still current, commits are accepted.
    a.commit_sync().unwrap();
    // A does not poll within max.poll.interval.ms: the rebalance completes without it.
    clock.advance(Duration::from_secs(60));
    settle(&cluster, "g", &mut [&mut b]).await;
    assert_eq!(b.assignment().len(), 3);
    assert_eq!(
        a.commit_sync().unwrap_err(),
        BrokerError::CommitFailed("g".into())
    );
    // A's next poll finds itself expelled, loses its partitions and rejoins as a new member.
    let old_id = a.member_id().unwrap().to_string();
    settle(&cluster, "g", &mut [&mut a, &mut b]).await;
    assert_ne!(a.member_id().unwrap(), old_id);
    assert_eq!(a.assignment().len() + b.assignment().len(), 3);
}

#[tokio::test]
async fn inconsistent_protocols_are_refused() {
    let cluster = setup(&ManualClock::default());
    let mut a = cluster.consumer(cfg("A", Assignor::Range)).unwrap();
    a.subscribe(["t0"]).unwrap();
    a.poll(Duration::ZERO).await.unwrap();
    let mut b = cluster
        .consumer(cfg("B", Assignor::CooperativeSticky))
        .unwrap();
    b.subscribe(["t0"]).unwrap();
    let err = b.poll(Duration::ZERO).await.unwrap_err();
    assert!(
        matches!(err, BrokerError::InconsistentGroupProtocol { .. }),
        "{err}"
    );
}

#[tokio::test]
async fn adding_partitions_rebalances_subscribers() {
    let clock = ManualClock::default();
    let cluster = setup(&clock);
    let mut a = cluster.consumer(cfg("A", Assignor::Range)).unwrap();
    a.subscribe(["t0", "later"]).unwrap();
    settle(&cluster, "g", &mut [&mut a]).await;
    assert_eq!(a.assignment().len(), 3);
    cluster.create_partitions("t0", 5).unwrap();
    assert_eq!(
        cluster.describe_group("g").state,
        GroupState::PreparingRebalance
    );
    settle(&cluster, "g", &mut [&mut a]).await;
    assert_eq!(a.assignment().len(), 5);
    cluster.create_topic(NewTopic::new("later", 2, 1)).unwrap();
    settle(&cluster, "g", &mut [&mut a]).await;
    assert_eq!(
        a.assignment().len(),
        7,
        "a subscribed topic created later is picked up"
    );
    cluster.delete_topic("later").unwrap();
    settle(&cluster, "g", &mut [&mut a]).await;
    assert_eq!(a.assignment().len(), 5);
}

#[tokio::test]
async fn lag_rows_and_the_kafka_consumer_groups_table() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("orders", 3, 1)).unwrap();
    let p = cluster.producer(ProducerConfig::default());
    for i in 0..12 {
        p.send(ProducerRecord::new("orders", Bytes::from(format!("{i}"))).partition(i % 3))
            .unwrap();
    }
    let mut c = cluster
        .consumer(cfg("billing-1", Assignor::Range).auto_offset_reset(OffsetReset::Earliest))
        .unwrap();
    c.subscribe(["orders"]).unwrap();
    c.poll(Duration::ZERO).await.unwrap();
    c.commit_offsets(&[(tp("orders", 0), 4), (tp("orders", 1), 1)])
        .unwrap();
    let rows = cluster.describe_group_offsets("g").unwrap();
    assert_eq!(rows.len(), 3);
    let r0 = &rows[0];
    assert_eq!(
        (r0.topic.as_deref(), r0.partition),
        (Some("orders"), Some(0))
    );
    assert_eq!(
        (r0.current_offset, r0.log_end_offset, r0.lag),
        (Some(4), Some(4), Some(0))
    );
    assert_eq!(r0.consumer_id.as_deref(), c.member_id());
    assert_eq!(r0.client_id.as_deref(), Some("billing-1"));
    assert_eq!((rows[1].current_offset, rows[1].lag), (Some(1), Some(3)));
    assert_eq!(
        (rows[2].current_offset, rows[2].log_end_offset, rows[2].lag),
        (None, Some(4), None)
    );

    let table = format_lag_table(&rows);
    let lines: Vec<&str> = table.lines().collect();
    assert_eq!(lines.len(), 4);
    let header: Vec<&str> = lines[0].split_whitespace().collect();
    assert_eq!(
        header,
        [
            "GROUP",
            "TOPIC",
            "PARTITION",
            "CURRENT-OFFSET",
            "LOG-END-OFFSET",
            "LAG",
            "CONSUMER-ID",
            "HOST",
            "CLIENT-ID"
        ]
    );
    let member = c.member_id().unwrap().to_string();
    let cols: Vec<&str> = lines[3].split_whitespace().collect();
    assert_eq!(
        cols,
        [
            "g",
            "orders",
            "2",
            "-",
            "4",
            "-",
            member.as_str(),
            "/127.0.0.1",
            "billing-1"
        ]
    );
    // Columns are aligned: every field starts where its header starts.
    let at = |l: &str, i: usize| {
        let mut starts = Vec::new();
        let b = l.as_bytes();
        for j in 0..b.len() {
            if b[j] != b' ' && (j == 0 || b[j - 1] == b' ') {
                starts.push(j);
            }
        }
        starts[i]
    };
    for l in &lines[1..] {
        for i in 0..9 {
            assert_eq!(at(l, i), at(lines[0], i), "column {i} of {l:?}");
        }
    }
    // After the member leaves, rows keep the committed offsets with '-' for the consumer.
    drop(c);
    let rows = cluster.describe_group_offsets("g").unwrap();
    assert_eq!(rows.len(), 2);
    assert!(rows.iter().all(|r| r.consumer_id.is_none()));
    assert!(matches!(
        cluster.describe_group_offsets("nope"),
        Err(BrokerError::GroupIdNotFound(_))
    ));
}

/// `alterConsumerGroupOffsets` (kafka-consumer-groups `--reset-offsets --execute`): accepted
/// while the group has no members, refused with `UnknownMemberIdException` while it has, and
/// refused whole for a negative offset or a missing partition.
#[tokio::test]
async fn group_offsets_are_altered_only_while_the_group_is_empty() {
    let clock = ManualClock::default();
    let cluster = setup(&clock);
    let p = cluster.producer(ProducerConfig::default());
    for _ in 0..6 {
        p.send(ProducerRecord::new("t0", Bytes::from("v")).partition(0))
            .unwrap();
    }
    // A group that does not exist yet is created with just these offsets.
    cluster
        .alter_group_offsets("g", &[(tp("t0", 0), 5), (tp("t0", 2), 0)])
        .unwrap();
    let committed: Vec<(TopicPartition, i64)> = cluster
        .group_offsets("g")
        .unwrap()
        .into_iter()
        .map(|(tp, o)| (tp, o.offset))
        .collect();
    assert_eq!(committed, [(tp("t0", 0), 5), (tp("t0", 2), 0)]);
    assert_eq!(cluster.describe_group("g").state, GroupState::Empty);

    let mut c = cluster.consumer(cfg("C", Assignor::Range)).unwrap();
    c.subscribe(["t0"]).unwrap();
    let records = c.poll(Duration::ZERO).await.unwrap();
    assert_eq!(cluster.describe_group("g").state, GroupState::Stable);
    // The member starts from the altered offset: of t0-0's 6 records it reads the last.
    let read: Vec<(i32, i64)> = records.iter().map(|r| (r.partition, r.offset)).collect();
    assert_eq!(read, [(0, 5)]);
    assert_eq!(
        cluster.alter_group_offsets("g", &[(tp("t0", 0), 1)]),
        Err(BrokerError::UnknownMemberId("g".into()))
    );
    c.close();
    cluster
        .alter_group_offsets("g", &[(tp("t0", 0), 1)])
        .unwrap();
    assert_eq!(cluster.group_offsets("g").unwrap()[&tp("t0", 0)].offset, 1);

    for bad in [(tp("t0", 1), -1), (tp("t0", 3), 0), (tp("nope", 0), 0)] {
        assert!(
            cluster
                .alter_group_offsets("g", &[(tp("t0", 1), 7), bad.clone()])
                .is_err(),
            "{bad:?}"
        );
    }
    assert!(
        !cluster
            .group_offsets("g")
            .unwrap()
            .contains_key(&tp("t0", 1))
    );
}
