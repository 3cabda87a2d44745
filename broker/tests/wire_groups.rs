//! The group protocols as Kafka's wire carries them, at the broker's API: the classic protocol
//! (`GroupMetadataManager.classicGroupJoin/Sync/Heartbeat/Leave` over `ClassicGroup`), KIP-848's
//! `consumerGroupHeartbeat` (with `CurrentAssignmentBuilder`'s reconciliation) and committed
//! offsets (`OffsetMetadataManager`, `ClassicGroup.validateOffsetCommit`).

use bytes::Bytes;
use kcodec_broker::group::classic::{
    JoinGroupRequest, LeavingMember, SyncGroupRequest, decode_assignment, encode_assignment,
};
use kcodec_broker::group::consumer::ConsumerHeartbeatRequest;
use kcodec_broker::group::protocol::{
    GroupError, GroupType, MemberRef, OFFSET_COMMIT_VERSION, OffsetCommit,
};
use kcodec_broker::{Cluster, GroupState, ManualClock, NewTopic, TopicPartition};
use std::time::Duration;

fn cluster() -> (Cluster, ManualClock) {
    let clock = ManualClock::default();
    let cluster = Cluster::builder().clock(clock.clone()).build();
    cluster.create_topic(NewTopic::new("t", 4, 1)).unwrap();
    (cluster, clock)
}

fn join(member_id: &str, protocols: &[&str]) -> JoinGroupRequest {
    JoinGroupRequest {
        group_id: "g".into(),
        member_id: member_id.into(),
        group_instance_id: None,
        protocol_type: "consumer".into(),
        protocols: protocols
            .iter()
            .map(|p| (p.to_string(), Bytes::from(format!("meta-{member_id}-{p}"))))
            .collect(),
        session_timeout_ms: 10_000,
        rebalance_timeout_ms: 30_000,
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        require_known_member_id: true,
    }
}

fn sync(member_id: &str, generation: i32, assignments: Vec<(String, Bytes)>) -> SyncGroupRequest {
    SyncGroupRequest {
        group_id: "g".into(),
        member_id: member_id.into(),
        generation_id: generation,
        group_instance_id: None,
        protocol_type: Some("consumer".into()),
        protocol_name: None,
        assignments,
    }
}

fn tps(list: &[i32]) -> Vec<TopicPartition> {
    list.iter().map(|p| TopicPartition::new("t", *p)).collect()
}

/// A member id through KIP-394's MEMBER_ID_REQUIRED (`classicGroupJoinNewDynamicMember`).
async fn member_id(cluster: &Cluster) -> String {
    match cluster.join_group(join("", &["range"])).await {
        Err(GroupError::MemberIdRequired(id)) => id,
        other => panic!("expected MEMBER_ID_REQUIRED, got {other:?}"),
    }
}

#[tokio::test]
async fn classic_join_sync_relays_the_leaders_assignment() {
    let (cluster, _clock) = cluster();
    let a = member_id(&cluster).await;
    assert_eq!(GroupError::MemberIdRequired(a.clone()).code(), 79);
    let ja = cluster
        .join_group(join(&a, &["range", "roundrobin"]))
        .await
        .unwrap();
    assert_eq!((ja.generation_id, ja.leader.as_str()), (1, a.as_str()));
    assert_eq!(ja.protocol_name, "range");
    assert_eq!(ja.members.len(), 1);
    assert_eq!(
        ja.members[0].metadata,
        Bytes::from(format!("meta-{a}-range"))
    );
    assert_eq!(
        cluster.describe_group("g").state,
        GroupState::CompletingRebalance
    );
    let sa = cluster
        .sync_group(sync(
            &a,
            1,
            vec![(a.clone(), encode_assignment(&tps(&[0, 1, 2, 3])))],
        ))
        .await
        .unwrap();
    assert_eq!(
        decode_assignment(&sa.assignment).unwrap(),
        tps(&[0, 1, 2, 3])
    );
    assert_eq!(cluster.describe_group("g").state, GroupState::Stable);
    cluster.heartbeat("g", &a, 1, None).unwrap();

    // a second member: the first learns of the rebalance from its heartbeat and rejoins
    let b = member_id(&cluster).await;
    let jb = tokio::spawn({
        let cluster = cluster.clone();
        let b = b.clone();
        // it prefers roundrobin, but only range is common to both: range wins the vote
        async move { cluster.join_group(join(&b, &["roundrobin", "range"])).await }
    });
    let hb = loop {
        match cluster.heartbeat("g", &a, 1, None) {
            Ok(()) => tokio::task::yield_now().await,
            Err(e) => break e,
        }
    };
    assert_eq!(
        (hb.clone(), hb.code()),
        (GroupError::RebalanceInProgress, 27)
    );
    let ja = cluster
        .join_group(join(&a, &["range", "roundrobin"]))
        .await
        .unwrap();
    let jb = jb.await.unwrap().unwrap();
    assert_eq!((ja.generation_id, jb.generation_id), (2, 2));
    assert_eq!(
        (ja.leader.clone(), jb.leader.clone()),
        (a.clone(), a.clone())
    );
    assert_eq!(ja.members.len(), 2, "the leader sees every member");
    assert!(jb.members.is_empty(), "a follower sees none");
    assert_eq!(ja.protocol_name, "range");

    // the follower's sync waits for the leader's
    let sb = tokio::spawn({
        let cluster = cluster.clone();
        let b = b.clone();
        async move { cluster.sync_group(sync(&b, 2, vec![])).await }
    });
    let plan = vec![
        (a.clone(), encode_assignment(&tps(&[0, 1]))),
        (b.clone(), encode_assignment(&tps(&[2, 3]))),
    ];
    let sa = cluster.sync_group(sync(&a, 2, plan)).await.unwrap();
    let sb = sb.await.unwrap().unwrap();
    assert_eq!(decode_assignment(&sa.assignment).unwrap(), tps(&[0, 1]));
    assert_eq!(decode_assignment(&sb.assignment).unwrap(), tps(&[2, 3]));
    let d = cluster.describe_group("g");
    assert_eq!(
        (d.state, d.generation, d.protocol.as_str()),
        (GroupState::Stable, 2, "range")
    );
    assert_eq!(
        d.members.iter().map(|m| m.assignment.len()).sum::<usize>(),
        4
    );
    assert_eq!(cluster.group_type("g"), Some(GroupType::Classic));
}

#[tokio::test]
async fn classic_heartbeat_errors_and_session_expiry_on_the_broker_clock() {
    let (cluster, clock) = cluster();
    let a = member_id(&cluster).await;
    cluster.join_group(join(&a, &["range"])).await.unwrap();
    cluster.sync_group(sync(&a, 1, vec![])).await.unwrap();
    let e = cluster.heartbeat("g", &a, 7, None).unwrap_err();
    assert_eq!(
        (e.code(), e),
        (
            22,
            GroupError::IllegalGeneration {
                given: 7,
                current: 1
            }
        )
    );
    let e = cluster.heartbeat("g", "nobody", 1, None).unwrap_err();
    assert_eq!(e.code(), 25);
    // an unknown member id on a join (not one MEMBER_ID_REQUIRED handed out)
    let e = cluster
        .join_group(join("made-up", &["range"]))
        .await
        .unwrap_err();
    assert_eq!(e.code(), 25);
    // no common protocol
    let mut other = join("", &["roundrobin"]);
    other.require_known_member_id = false;
    let e = cluster.join_group(other).await.unwrap_err();
    assert_eq!(e.code(), 23);
    // a session shorter than group.min.session.timeout.ms
    let mut short = join("", &["range"]);
    short.session_timeout_ms = 100;
    assert_eq!(cluster.join_group(short).await.unwrap_err().code(), 26);

    clock.advance(Duration::from_millis(9_999));
    cluster.heartbeat("g", &a, 1, None).unwrap();
    clock.advance(Duration::from_millis(10_000));
    // empty with no offsets: the group is gone (Dead), as the in-process coordinator does
    assert_eq!(cluster.describe_group("g").state, GroupState::Dead);
    assert_eq!(cluster.heartbeat("g", &a, 1, None).unwrap_err().code(), 25);
}

#[tokio::test]
async fn classic_rebalance_timeout_removes_a_member_that_does_not_rejoin() {
    let (cluster, clock) = cluster();
    let a = member_id(&cluster).await;
    cluster.join_group(join(&a, &["range"])).await.unwrap();
    cluster.sync_group(sync(&a, 1, vec![])).await.unwrap();
    let b = member_id(&cluster).await;
    let jb = tokio::spawn({
        let cluster = cluster.clone();
        async move { cluster.join_group(join(&b, &["range"])).await }
    });
    // a keeps heartbeating but never rejoins; the join completes at the rebalance timeout
    while cluster.describe_group("g").state != GroupState::PreparingRebalance {
        tokio::task::yield_now().await;
    }
    for _ in 0..3 {
        clock.advance(Duration::from_millis(9_000));
        let _ = cluster.heartbeat("g", &a, 1, None);
    }
    clock.advance(Duration::from_millis(3_000));
    let jb = jb.await.unwrap().unwrap();
    assert_eq!((jb.generation_id, jb.members.len()), (2, 1));
    assert_eq!(cluster.heartbeat("g", &a, 1, None).unwrap_err().code(), 25);
}

#[tokio::test]
async fn classic_leave_group_batch_and_static_member_replacement() {
    let (cluster, _clock) = cluster();
    let mut s1 = join("", &["range"]);
    s1.group_instance_id = Some("i-1".into());
    // a static member needs no MEMBER_ID_REQUIRED round
    let j1 = cluster.join_group(s1.clone()).await.unwrap();
    cluster
        .sync_group(sync(
            &j1.member_id,
            1,
            vec![(j1.member_id.clone(), encode_assignment(&tps(&[0])))],
        ))
        .await
        .unwrap();
    // the same instance restarts: a new member id, the current generation, no rebalance
    let j2 = cluster.join_group(s1).await.unwrap();
    assert_ne!(j2.member_id, j1.member_id);
    assert_eq!(j2.generation_id, 1);
    assert!(
        j2.skip_assignment,
        "a static leader rejoining a stable group does not assign again"
    );
    let e = cluster
        .heartbeat("g", &j1.member_id, 1, Some("i-1"))
        .unwrap_err();
    assert_eq!(e.code(), 82, "the old member id is fenced");
    cluster
        .heartbeat("g", &j2.member_id, 1, Some("i-1"))
        .unwrap();

    let r = cluster
        .leave_group(
            "g",
            &[
                LeavingMember {
                    member_id: String::new(),
                    group_instance_id: Some("i-1".into()),
                },
                LeavingMember {
                    member_id: "nobody".into(),
                    group_instance_id: None,
                },
            ],
        )
        .unwrap();
    assert!(r[0].is_ok());
    assert_eq!(r[1].as_ref().unwrap_err().code(), 25);
    assert_eq!(cluster.describe_group("g").state, GroupState::Dead);
}

fn hb(member: &str, epoch: i32) -> ConsumerHeartbeatRequest {
    ConsumerHeartbeatRequest {
        group_id: "g".into(),
        member_id: member.into(),
        member_epoch: epoch,
        rebalance_timeout_ms: if epoch == 0 { 30_000 } else { -1 },
        subscribed_topic_names: (epoch == 0).then(|| vec!["t".to_string()]),
        client_id: "c".into(),
        client_host: "/127.0.0.1".into(),
        ..Default::default()
    }
}

#[test]
fn kip848_partitions_move_only_after_the_previous_owner_revokes_them() {
    let (cluster, _clock) = cluster();
    let a = cluster.consumer_group_heartbeat(hb("A", 0)).unwrap();
    assert_eq!(a.member_epoch, 1);
    assert_eq!(a.assignment, Some(tps(&[0, 1, 2, 3])));
    assert_eq!(
        cluster.describe_consumer_group("g").unwrap().state,
        GroupState::Stable
    );

    // B joins: group epoch 2; B gets nothing A still owns
    let b = cluster.consumer_group_heartbeat(hb("B", 0)).unwrap();
    assert_eq!((b.member_epoch, b.assignment.clone()), (2, Some(vec![])));
    let d = cluster.describe_consumer_group("g").unwrap();
    assert_eq!(
        (d.state, d.group_epoch, d.assignor_name.as_str()),
        (GroupState::Reconciling, 2, "uniform")
    );

    // A is told to revoke two partitions, keeping its epoch until it has
    let a = cluster.consumer_group_heartbeat(hb("A", 1)).unwrap();
    assert_eq!(a.member_epoch, 1);
    let kept = a.assignment.clone().unwrap();
    assert_eq!(kept.len(), 2);
    // B asks again: still nothing, A has not released them
    let b = cluster.consumer_group_heartbeat(hb("B", 2)).unwrap();
    assert_eq!(b.assignment, None);
    // A reports that it owns only what it kept: it moves to epoch 2
    let mut ack = hb("A", 1);
    ack.owned = Some(kept.clone());
    let a = cluster.consumer_group_heartbeat(ack).unwrap();
    assert_eq!(a.member_epoch, 2);
    // now B gets the released partitions
    let b = cluster.consumer_group_heartbeat(hb("B", 2)).unwrap();
    let got = b.assignment.unwrap();
    assert_eq!(got.len(), 2);
    assert!(got.iter().all(|tp| !kept.contains(tp)));
    assert_eq!(
        cluster.describe_consumer_group("g").unwrap().state,
        GroupState::Stable
    );
    assert_eq!(cluster.group_type("g"), Some(GroupType::Consumer));
    // the lag table sees the members' assignments
    let rows = cluster.describe_group_offsets("g").unwrap();
    assert_eq!(rows.iter().filter(|r| r.consumer_id.is_some()).count(), 4);
}

#[test]
fn kip848_fenced_epochs_unknown_members_and_leave() {
    let (cluster, _clock) = cluster();
    cluster.consumer_group_heartbeat(hb("A", 0)).unwrap();
    let e = cluster.consumer_group_heartbeat(hb("A", 5)).unwrap_err();
    assert_eq!(
        (e.code(), e),
        (
            110,
            GroupError::FencedMemberEpoch {
                given: 5,
                current: 1
            }
        )
    );
    assert_eq!(
        cluster
            .consumer_group_heartbeat(hb("Z", 3))
            .unwrap_err()
            .code(),
        25
    );
    let mut bad = hb("B", 0);
    bad.server_assignor = Some("sticky".into());
    assert_eq!(
        cluster.consumer_group_heartbeat(bad).unwrap_err().code(),
        112
    );
    // a classic heartbeat to a consumer group: it has no classic member
    // (`classicGroupHeartbeatToConsumerGroup`)
    assert_eq!(cluster.heartbeat("g", "A", 1, None).unwrap_err().code(), 25);
    let left = cluster.consumer_group_heartbeat(hb("A", -1)).unwrap();
    assert_eq!(left.member_epoch, -1);
    assert_eq!(cluster.describe_consumer_group("g").unwrap_err().code(), 69);
}

#[test]
fn kip848_session_timeout_on_the_broker_clock() {
    let (cluster, clock) = cluster();
    cluster.consumer_group_heartbeat(hb("A", 0)).unwrap();
    cluster.consumer_group_heartbeat(hb("B", 0)).unwrap();
    clock.advance(Duration::from_secs(44));
    cluster.consumer_group_heartbeat(hb("B", 2)).unwrap();
    clock.advance(Duration::from_secs(1));
    let d = cluster.describe_consumer_group("g").unwrap();
    assert_eq!(
        d.members
            .iter()
            .map(|m| m.member_id.as_str())
            .collect::<Vec<_>>(),
        ["B"]
    );
    let b = cluster.consumer_group_heartbeat(hb("B", 2)).unwrap();
    assert_eq!(
        b.assignment.map(|a| a.len()),
        Some(4),
        "B gets A's partitions"
    );
}

#[tokio::test]
async fn offsets_commit_fetch_with_generation_checks_and_group_admin() {
    let (cluster, _clock) = cluster();
    let a = member_id(&cluster).await;
    cluster.join_group(join(&a, &["range"])).await.unwrap();
    // committing while CompletingRebalance: REBALANCE_IN_PROGRESS
    let c = |off| OffsetCommit {
        partition: TopicPartition::new("t", 1),
        offset: off,
        metadata: "m".into(),
    };
    let e = cluster
        .commit_offsets(
            "g",
            &MemberRef::member(a.clone(), 1),
            &[c(5)],
            OFFSET_COMMIT_VERSION,
        )
        .unwrap_err();
    assert_eq!(e.code(), 27);
    cluster.sync_group(sync(&a, 1, vec![])).await.unwrap();
    let e = cluster
        .commit_offsets(
            "g",
            &MemberRef::member(a.clone(), 0),
            &[c(5)],
            OFFSET_COMMIT_VERSION,
        )
        .unwrap_err();
    assert_eq!(e.code(), 22);
    assert_eq!(
        cluster
            .commit_offsets("g", &MemberRef::none(), &[c(5)], OFFSET_COMMIT_VERSION)
            .unwrap_err()
            .code(),
        25
    );
    let bad = OffsetCommit {
        partition: TopicPartition::new("t", 9),
        offset: 1,
        metadata: String::new(),
    };
    let r = cluster
        .commit_offsets(
            "g",
            &MemberRef::member(a.clone(), 1),
            &[c(5), bad],
            OFFSET_COMMIT_VERSION,
        )
        .unwrap();
    assert!(r[0].is_ok());
    assert_eq!(r[1].as_ref().unwrap_err().code(), 3);

    let all = cluster
        .fetch_offsets("g", &MemberRef::none(), None)
        .unwrap();
    assert_eq!(all.len(), 1);
    assert_eq!(
        (
            all[0].1.as_ref().unwrap().offset,
            all[0].1.as_ref().unwrap().metadata.as_str()
        ),
        (5, "m")
    );
    let some = cluster
        .fetch_offsets("g", &MemberRef::none(), Some(&tps(&[0, 1])))
        .unwrap();
    assert_eq!(some[0].1, None);
    assert_eq!(some[1].1.as_ref().map(|o| o.offset), Some(5));

    assert_eq!(
        cluster
            .list_groups()
            .iter()
            .map(|l| (l.group_id.as_str(), l.state))
            .collect::<Vec<_>>(),
        [("g", GroupState::Stable)]
    );
    assert_eq!(
        cluster.delete_group("g").unwrap_err().to_string(),
        "The group is not empty: g"
    );
    cluster
        .leave_group(
            "g",
            &[LeavingMember {
                member_id: a.clone(),
                group_instance_id: None,
            }],
        )
        .unwrap();
    // an empty group keeps its offsets and takes commits without a member
    cluster
        .commit_offsets("g", &MemberRef::none(), &[c(6)], OFFSET_COMMIT_VERSION)
        .unwrap();
    assert_eq!(
        cluster.group_offsets("g").unwrap()[&TopicPartition::new("t", 1)].offset,
        6
    );
    cluster.delete_group("g").unwrap();
    assert_eq!(cluster.describe_group("g").state, GroupState::Dead);
    assert!(
        cluster
            .fetch_offsets("g", &MemberRef::none(), None)
            .unwrap()
            .is_empty()
    );
}

/// In-process consumers and wire clients share one group namespace: `DescribeGroups` shows an
/// in-process group in the consumer protocol's encoding (`ConsumerProtocol` v0), and an
/// in-process consumer cannot join a group wire clients are in (Kafka's
/// `INCONSISTENT_GROUP_PROTOCOL`).
#[tokio::test]
async fn in_process_and_wire_groups_share_the_coordinator() {
    use kcodec_broker::{BrokerError, ConsumerConfig};
    let (cluster, _clock) = cluster();
    let mut local = cluster.consumer(ConsumerConfig::new("local")).unwrap();
    local.subscribe(["t"]).unwrap();
    local.poll_group().unwrap();
    let d = cluster.describe_classic_group("local").unwrap();
    assert_eq!(
        (d.state, d.protocol_type.as_str(), d.protocol.as_str()),
        (GroupState::Stable, "consumer", "range")
    );
    assert_eq!(
        decode_assignment(&d.members[0].assignment).unwrap(),
        tps(&[0, 1, 2, 3])
    );

    let a = member_id(&cluster).await;
    cluster.join_group(join(&a, &["range"])).await.unwrap();
    let mut intruder = cluster.consumer(ConsumerConfig::new("g")).unwrap();
    intruder.subscribe(["t"]).unwrap();
    assert!(matches!(
        intruder.poll_group(),
        Err(BrokerError::InconsistentGroupProtocol(_))
    ));
    // and a wire member cannot join the in-process group
    let mut j = join("", &["range"]);
    j.group_id = "local".into();
    assert_eq!(cluster.join_group(j).await.unwrap_err().code(), 23);
}

/// `offsets.retention.minutes` counts from when a wire group became empty, not from the commit
/// (`OffsetMetadataManager.cleanupExpiredOffsets` with `ClassicGroup.isSubscribedToTopic`):
/// a member heartbeating past the retention keeps its group's offsets.
#[tokio::test]
async fn offsets_of_a_group_with_members_outlive_the_retention() {
    let clock = ManualClock::default();
    let cluster = Cluster::builder()
        .clock(clock.clone())
        .offsets_retention(Duration::from_secs(60))
        .build();
    cluster.create_topic(NewTopic::new("t", 4, 1)).unwrap();
    let a = member_id(&cluster).await;
    cluster.join_group(join(&a, &["range"])).await.unwrap();
    cluster.sync_group(sync(&a, 1, vec![])).await.unwrap();
    let c = OffsetCommit {
        partition: TopicPartition::new("t", 0),
        offset: 9,
        metadata: String::new(),
    };
    cluster
        .commit_offsets(
            "g",
            &MemberRef::member(a.clone(), 1),
            &[c],
            OFFSET_COMMIT_VERSION,
        )
        .unwrap();
    for _ in 0..20 {
        clock.advance(Duration::from_secs(9));
        cluster.heartbeat("g", &a, 1, None).unwrap();
    }
    assert_eq!(
        cluster.group_offsets("g").unwrap()[&TopicPartition::new("t", 0)].offset,
        9
    );
    cluster
        .leave_group(
            "g",
            &[LeavingMember {
                member_id: a,
                group_instance_id: None,
            }],
        )
        .unwrap();
    clock.advance(Duration::from_secs(59));
    assert_eq!(cluster.describe_group("g").state, GroupState::Empty);
    clock.advance(Duration::from_secs(1));
    assert_eq!(cluster.describe_group("g").state, GroupState::Dead);
}

/// KIP-848 regex subscriptions (`GroupMetadataManager.maybeUpdateRegularExpressions`,
/// `refreshRegularExpressions`): an invalid expression new to the group is
/// INVALID_REGULAR_EXPRESSION and changes nothing; a valid one resolves to the whole names it
/// matches, which the member is assigned; a topic created or deleted is resolved again at the
/// next heartbeat, bumping the group epoch and moving the member to the new target (a deleted
/// topic's partitions revoked first, `CurrentAssignmentBuilder`).
#[test]
fn kip848_regex_subscription_resolves_against_topics_as_they_come_and_go() {
    let (cluster, _clock) = cluster();
    cluster
        .create_topic(NewTopic::new("orders-eu", 2, 1))
        .unwrap();
    let tp = |t: &str, p: i32| TopicPartition::new(t, p);
    let regex_hb = |regex: &str| ConsumerHeartbeatRequest {
        subscribed_topic_names: Some(vec![]),
        subscribed_topic_regex: Some(regex.into()),
        owned: Some(vec![]),
        ..hb("A", 0)
    };

    let e = cluster
        .consumer_group_heartbeat(regex_hb("orders-("))
        .unwrap_err();
    assert_eq!(e.code(), 128, "{e}");
    assert!(
        cluster.describe_consumer_group("g").is_err(),
        "no group made"
    );

    let a = cluster
        .consumer_group_heartbeat(regex_hb("orders-.*"))
        .unwrap();
    assert_eq!(a.member_epoch, 1);
    assert_eq!(
        a.assignment,
        Some(vec![tp("orders-eu", 0), tp("orders-eu", 1)])
    );
    let d = cluster.describe_consumer_group("g").unwrap();
    assert_eq!(
        d.members[0].subscribed_topic_regex.as_deref(),
        Some("orders-.*")
    );
    assert!(d.members[0].subscribed_topic_names.is_empty());

    // a matching topic appears (and one that does not): epoch 2, the member gets it
    cluster
        .create_topic(NewTopic::new("orders-us", 1, 1))
        .unwrap();
    cluster.create_topic(NewTopic::new("audit", 1, 1)).unwrap();
    let mut next = hb("A", 1);
    next.owned = Some(vec![tp("orders-eu", 0), tp("orders-eu", 1)]);
    let a = cluster.consumer_group_heartbeat(next).unwrap();
    assert_eq!(a.member_epoch, 2);
    assert_eq!(
        a.assignment,
        Some(vec![
            tp("orders-eu", 0),
            tp("orders-eu", 1),
            tp("orders-us", 0)
        ])
    );

    // a matching topic goes: epoch 3, only orders-us left
    cluster.delete_topic("orders-eu").unwrap();
    let mut next = hb("A", 2);
    next.owned = Some(vec![
        tp("orders-eu", 0),
        tp("orders-eu", 1),
        tp("orders-us", 0),
    ]);
    let a = cluster.consumer_group_heartbeat(next).unwrap();
    assert_eq!(a.assignment, Some(vec![tp("orders-us", 0)]));
    let mut next = hb("A", a.member_epoch);
    next.owned = Some(vec![tp("orders-us", 0)]);
    let a = cluster.consumer_group_heartbeat(next).unwrap();
    assert_eq!(a.member_epoch, 3);
    assert_eq!(cluster.describe_consumer_group("g").unwrap().group_epoch, 3);

    // dropping the expression (empty) unsubscribes: nothing assigned
    let mut next = hb("A", 3);
    next.subscribed_topic_regex = Some(String::new());
    next.owned = Some(vec![tp("orders-us", 0)]);
    let a = cluster.consumer_group_heartbeat(next).unwrap();
    assert_eq!(a.assignment, Some(vec![]));
    assert_eq!(
        cluster.describe_consumer_group("g").unwrap().members[0].subscribed_topic_regex,
        None
    );
}
