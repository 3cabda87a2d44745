//! The group APIs on the wire, with requests encoded by `kafka-protocol`: Kafka's error codes
//! and response shapes at the versions current clients send (`GroupCoordinatorService`,
//! `GroupMetadataManager`, `KafkaApis.handleFindCoordinatorRequest`).

use bytes::Bytes;
use kafka_protocol::messages::consumer_group_heartbeat_request::ConsumerGroupHeartbeatRequest;
use kafka_protocol::messages::join_group_request::JoinGroupRequestProtocol;
use kafka_protocol::messages::leave_group_request::MemberIdentity;
use kafka_protocol::messages::offset_commit_request::{
    OffsetCommitRequestPartition, OffsetCommitRequestTopic,
};
use kafka_protocol::messages::offset_fetch_request::{
    OffsetFetchRequestGroup, OffsetFetchRequestTopics,
};
use kafka_protocol::messages::sync_group_request::SyncGroupRequestAssignment;
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kcodec_broker::group::classic::{decode_assignment, encode_assignment};
use kcodec_broker::{Cluster, NewTopic, TopicPartition};
use tokio::net::TcpStream;

mod support;
use support::{call, name};

fn s(v: &str) -> StrBytes {
    StrBytes::from_string(v.to_owned())
}

fn group(v: &str) -> GroupId {
    GroupId(s(v))
}

async fn setup() -> (Cluster, kcodec_kafka_server::Server, TcpStream) {
    let cluster = Cluster::builder().brokers(3).build();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let stream = TcpStream::connect(server.local_addr()).await.unwrap();
    (cluster, server, stream)
}

fn join(member_id: &str) -> JoinGroupRequest {
    JoinGroupRequest::default()
        .with_group_id(group("g"))
        .with_session_timeout_ms(10_000)
        .with_rebalance_timeout_ms(10_000)
        .with_member_id(s(member_id))
        .with_protocol_type(s("consumer"))
        .with_protocols(vec![
            JoinGroupRequestProtocol::default()
                .with_name(s("range"))
                .with_metadata(Bytes::from_static(b"sub")),
        ])
}

/// A KIP-848 heartbeat of member `m1` of group `g` at `epoch`: at 0 a full join subscribed to
/// `t`, else a plain heartbeat (-1 leaves).
fn kip848(g: &str, epoch: i32) -> ConsumerGroupHeartbeatRequest {
    ConsumerGroupHeartbeatRequest::default()
        .with_group_id(group(g))
        .with_member_id(s("m1"))
        .with_member_epoch(epoch)
        .with_rebalance_timeout_ms(if epoch == 0 { 30_000 } else { -1 })
        .with_subscribed_topic_names((epoch == 0).then(|| vec![name("t")]))
        .with_topic_partitions((epoch == 0).then(Vec::new))
}

/// The classic protocol end to end (`classicGroupJoin` → `classicGroupSync` →
/// `classicGroupHeartbeat` → `classicGroupLeave`) with the admin APIs around it.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn classic_protocol_and_group_admin_answer_kafkas_codes() {
    let (cluster, server, mut c) = setup().await;
    // KIP-394: the first join (v4+) gets MEMBER_ID_REQUIRED and a member id
    let r = call(&mut c, 9, join("")).await;
    assert_eq!((r.error_code, r.generation_id), (79, -1));
    let id = r.member_id.to_string();
    assert!(id.starts_with("kafka-server-test-"), "{id}");
    let r = call(&mut c, 9, join(&id)).await;
    assert_eq!(r.error_code, 0);
    assert_eq!(
        (r.generation_id, r.leader.as_str(), r.members.len()),
        (1, id.as_str(), 1)
    );
    assert_eq!(r.protocol_name.as_deref(), Some("range"));
    assert_eq!(r.members[0].metadata, Bytes::from_static(b"sub"));

    let plan = encode_assignment(&[TopicPartition::new("t", 0), TopicPartition::new("t", 1)]);
    let sync = SyncGroupRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(s(&id))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")))
        .with_assignments(vec![
            SyncGroupRequestAssignment::default()
                .with_member_id(s(&id))
                .with_assignment(plan.clone()),
        ]);
    let r = call(&mut c, 5, sync.clone()).await;
    assert_eq!((r.error_code, r.assignment.clone()), (0, plan.clone()));
    // a protocol name other than the group's: INCONSISTENT_GROUP_PROTOCOL
    let r = call(&mut c, 5, sync.with_protocol_name(Some(s("roundrobin")))).await;
    assert_eq!(r.error_code, 23);

    let hb = |generation: i32, member: &str| {
        HeartbeatRequest::default()
            .with_group_id(group("g"))
            .with_generation_id(generation)
            .with_member_id(s(member))
    };
    assert_eq!(call(&mut c, 4, hb(1, &id)).await.error_code, 0);
    assert_eq!(call(&mut c, 4, hb(2, &id)).await.error_code, 22);
    assert_eq!(call(&mut c, 4, hb(1, "nobody")).await.error_code, 25);

    let d = call(
        &mut c,
        5,
        DescribeGroupsRequest::default().with_groups(vec![group("g"), group("none")]),
    )
    .await;
    let g = &d.groups[0];
    assert_eq!(
        (
            g.error_code,
            g.group_state.as_str(),
            g.protocol_type.as_str(),
            g.protocol_data.as_str()
        ),
        (0, "Stable", "consumer", "range")
    );
    assert_eq!(g.members[0].client_id.as_str(), "kafka-server-test");
    assert_eq!(
        decode_assignment(&g.members[0].member_assignment)
            .unwrap()
            .len(),
        2
    );
    assert_eq!(
        (d.groups[1].error_code, d.groups[1].group_state.as_str()),
        (0, "Dead")
    );

    let listed = |r: ListGroupsResponse| -> Vec<(String, String, String)> {
        r.groups
            .iter()
            .map(|g| {
                (
                    g.group_id.0.to_string(),
                    g.group_state.to_string(),
                    g.group_type.to_string(),
                )
            })
            .collect()
    };
    let all = call(&mut c, 5, ListGroupsRequest::default()).await;
    assert_eq!(
        listed(all),
        [("g".to_string(), "Stable".to_string(), "classic".to_string())]
    );
    let empty_only = call(
        &mut c,
        5,
        ListGroupsRequest::default().with_states_filter(vec![s("Empty")]),
    )
    .await;
    assert!(empty_only.groups.is_empty());
    let consumer_only = call(
        &mut c,
        5,
        ListGroupsRequest::default().with_types_filter(vec![s("consumer")]),
    )
    .await;
    assert!(consumer_only.groups.is_empty());

    let del = || DeleteGroupsRequest::default().with_groups_names(vec![group("g")]);
    assert_eq!(
        call(&mut c, 2, del()).await.results[0].error_code,
        68,
        "NON_EMPTY_GROUP"
    );
    // the member commits (generation 1), so the group outlives its members with its offsets
    let commit = OffsetCommitRequest::default()
        .with_group_id(group("g"))
        .with_generation_id_or_member_epoch(1)
        .with_member_id(s(&id))
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(0)
                        .with_committed_offset(3),
                ]),
        ]);
    let r = call(&mut c, 9, commit).await;
    assert_eq!(r.topics[0].partitions[0].error_code, 0);
    // LeaveGroup v3+: one result per member
    let leave = LeaveGroupRequest::default()
        .with_group_id(group("g"))
        .with_members(vec![
            MemberIdentity::default().with_member_id(s(&id)),
            MemberIdentity::default().with_member_id(s("nobody")),
        ]);
    let r = call(&mut c, 5, leave).await;
    assert_eq!(r.error_code, 0);
    assert_eq!(
        r.members.iter().map(|m| m.error_code).collect::<Vec<_>>(),
        [0, 25]
    );
    assert_eq!(call(&mut c, 2, del()).await.results[0].error_code, 0);
    assert_eq!(
        call(&mut c, 2, del()).await.results[0].error_code,
        69,
        "GROUP_ID_NOT_FOUND"
    );
    assert!(cluster.list_groups().is_empty());
    server.shutdown().await;
}

/// FindCoordinator: v4+ answers each key of the batch; v0–3 the one key. The node is the leader
/// of the group's `__consumer_offsets` partition (`abs(hashCode) % 50`), here broker
/// `partition % 3`.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_coordinator_answers_single_and_batched_keys() {
    let (_cluster, server, mut c) = setup().await;
    let addrs = server.broker_addrs();
    let r = call(
        &mut c,
        4,
        FindCoordinatorRequest::default().with_coordinator_keys(vec![s("a"), s("billing")]),
    )
    .await;
    assert_eq!(r.coordinators.len(), 2);
    for (k, co) in ["a", "billing"].iter().zip(&r.coordinators) {
        let hash = k
            .bytes()
            .fold(0i32, |h, b| h.wrapping_mul(31).wrapping_add(b as i32));
        let node = ((hash & 0x7fff_ffff) % 50 % 3) as usize;
        assert_eq!(
            (co.key.as_str(), co.error_code, co.node_id.0),
            (*k, 0, node as i32)
        );
        assert_eq!(co.port, i32::from(addrs[node].port()));
    }
    let billing = r.coordinators[1].node_id;
    let r = call(
        &mut c,
        3,
        FindCoordinatorRequest::default().with_key(s("billing")),
    )
    .await;
    assert_eq!((r.error_code, r.node_id), (0, billing));
    assert_eq!(r.port, i32::from(addrs[billing.0 as usize].port()));
    server.shutdown().await;
}

/// FindCoordinator for what this broker has no coordinator for, at every version with a key
/// type: a transactional id gets TRANSACTIONAL_ID_AUTHORIZATION_FAILED (53), which clients
/// treat as fatal at once (`TransactionManager.FindCoordinatorHandler`), not the retriable
/// COORDINATOR_NOT_AVAILABLE (15) they retry until their timeout; a share group gets
/// INVALID_REQUEST (42) as from Kafka without a share coordinator, and so does a key type Kafka
/// does not know (`KafkaApis.getCoordinator`, `CoordinatorType.forId`). No node is named.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn find_coordinator_refuses_transactions_share_groups_and_unknown_key_types() {
    let (_cluster, server, mut c) = setup().await;
    for (key_type, code) in [(1, 53), (2, 42), (7, 42)] {
        for v in 1..=3 {
            let r = call(
                &mut c,
                v,
                FindCoordinatorRequest::default()
                    .with_key_type(key_type)
                    .with_key(s("tx")),
            )
            .await;
            assert_eq!(
                (r.error_code, r.node_id.0, r.port),
                (code, -1, -1),
                "key type {key_type} v{v}"
            );
            assert!(r.error_message.is_some_and(|m| !m.is_empty()));
        }
        for v in 4..=6 {
            let r = call(
                &mut c,
                v,
                FindCoordinatorRequest::default()
                    .with_key_type(key_type)
                    .with_coordinator_keys(vec![s("tx"), s("other")]),
            )
            .await;
            let answers: Vec<(&str, i16, i32)> = r
                .coordinators
                .iter()
                .map(|co| (co.key.as_str(), co.error_code, co.node_id.0))
                .collect();
            assert_eq!(
                answers,
                vec![("tx", code, -1), ("other", code, -1)],
                "key type {key_type} v{v}"
            );
        }
    }
    server.shutdown().await;
}

/// OffsetCommit from outside a group (generation -1) into an empty group, per-partition
/// errors, and OffsetFetch v8's batched groups (`OffsetMetadataManager.fetchOffsets`,
/// `fetchAllOffsets`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_commit_and_batched_offset_fetch() {
    let (_cluster, server, mut c) = setup().await;
    let commit = OffsetCommitRequest::default()
        .with_group_id(group("g"))
        .with_generation_id_or_member_epoch(-1)
        .with_topics(vec![
            OffsetCommitRequestTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(1)
                        .with_committed_offset(42)
                        .with_committed_metadata(Some(s("m"))),
                    OffsetCommitRequestPartition::default()
                        .with_partition_index(5)
                        .with_committed_offset(1),
                ]),
        ]);
    let r = call(&mut c, 8, commit).await;
    let codes: Vec<i16> = r.topics[0]
        .partitions
        .iter()
        .map(|p| p.error_code)
        .collect();
    assert_eq!(
        codes,
        [0, 3],
        "UNKNOWN_TOPIC_OR_PARTITION for a partition the topic lacks"
    );

    let fetch = OffsetFetchRequest::default().with_groups(vec![
        OffsetFetchRequestGroup::default()
            .with_group_id(group("g"))
            .with_member_epoch(-1)
            .with_topics(None),
        OffsetFetchRequestGroup::default()
            .with_group_id(group("g"))
            .with_member_epoch(-1)
            .with_topics(Some(vec![
                OffsetFetchRequestTopics::default()
                    .with_name(name("t"))
                    .with_partition_indexes(vec![0, 1]),
            ])),
        OffsetFetchRequestGroup::default()
            .with_group_id(group("other"))
            .with_member_epoch(-1)
            .with_topics(None),
    ]);
    let r = call(&mut c, 8, fetch).await;
    let offsets = |i: usize| -> Vec<(i32, i64, String)> {
        r.groups[i]
            .topics
            .iter()
            .flat_map(|t| {
                t.partitions.iter().map(|p| {
                    (
                        p.partition_index,
                        p.committed_offset,
                        p.metadata.as_deref().unwrap_or("").to_string(),
                    )
                })
            })
            .collect()
    };
    assert_eq!(
        offsets(0),
        [(1, 42, "m".to_string())],
        "all committed partitions"
    );
    assert_eq!(
        offsets(1),
        [(0, -1, String::new()), (1, 42, "m".to_string())]
    );
    assert!(offsets(2).is_empty());
    assert!(r.groups.iter().all(|g| g.error_code == 0));
    // v7: one group, top-level topics
    let r = call(
        &mut c,
        7,
        OffsetFetchRequest::default()
            .with_group_id(group("g"))
            .with_topics(None),
    )
    .await;
    assert_eq!(
        (r.error_code, r.topics[0].partitions[0].committed_offset),
        (0, 42)
    );
    server.shutdown().await;
}

/// KIP-848 over the wire: topics by id (the ids Metadata gives), FENCED_MEMBER_EPOCH,
/// ConsumerGroupDescribe, leave with epoch -1.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn consumer_group_heartbeat_and_describe() {
    let (_cluster, server, mut c) = setup().await;
    let md = call(&mut c, 12, MetadataRequest::default().with_topics(None)).await;
    let topic_id = md.topics[0].topic_id;
    let hb = |epoch: i32| kip848("cg", epoch);
    let r = call(&mut c, 1, hb(0)).await;
    assert_eq!(
        (r.error_code, r.member_id.as_deref(), r.member_epoch),
        (0, Some("m1"), 1)
    );
    assert!(r.heartbeat_interval_ms > 0);
    let a = r.assignment.unwrap();
    assert_eq!(a.topic_partitions.len(), 1);
    assert_eq!(
        (
            a.topic_partitions[0].topic_id,
            a.topic_partitions[0].partitions.clone()
        ),
        (topic_id, vec![0, 1])
    );
    let r = call(&mut c, 1, hb(9)).await;
    assert_eq!(r.error_code, 110, "FENCED_MEMBER_EPOCH");

    let d = call(
        &mut c,
        1,
        ConsumerGroupDescribeRequest::default().with_group_ids(vec![group("cg"), group("none")]),
    )
    .await;
    let g = &d.groups[0];
    assert_eq!(
        (
            g.error_code,
            g.group_state.as_str(),
            g.group_epoch,
            g.assignor_name.as_str()
        ),
        (0, "Stable", 1, "uniform")
    );
    assert_eq!(
        g.members[0].assignment.topic_partitions[0]
            .topic_name
            .0
            .as_str(),
        "t"
    );
    assert_eq!(d.groups[1].error_code, 69);

    let r = call(&mut c, 1, hb(-1)).await;
    assert_eq!((r.error_code, r.member_epoch), (0, -1));
    server.shutdown().await;
}

/// OffsetCommit into a KIP-848 group, at each version and with each kind of committer, as
/// Java's `ConsumerGroup.validateOffsetCommit` (and `OffsetMetadataManager.validateOffsetCommit`
/// for a group that does not exist) answer: the error applies to every partition of the
/// request. OffsetFetch v9 names its member as `ConsumerGroup.validateOffsetFetch` checks.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn offset_commit_versions_and_committers_follow_consumer_group_validate_offset_commit() {
    let (_cluster, server, mut c) = setup().await;
    let r = call(&mut c, 1, kip848("cg", 0)).await;
    assert_eq!((r.error_code, r.member_epoch), (0, 1));

    let commit = |g: &str, member: &str, epoch: i32| {
        OffsetCommitRequest::default()
            .with_group_id(group(g))
            .with_generation_id_or_member_epoch(epoch)
            .with_member_id(s(member))
            .with_topics(vec![
                OffsetCommitRequestTopic::default()
                    .with_name(name("t"))
                    .with_partitions(
                        (0..2)
                            .map(|p| {
                                OffsetCommitRequestPartition::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(7)
                            })
                            .collect(),
                    ),
            ])
    };
    async fn codes(c: &mut TcpStream, v: i16, req: OffsetCommitRequest) -> Vec<i16> {
        call(c, v, req).await.topics[0]
            .partitions
            .iter()
            .map(|p| p.error_code)
            .collect()
    }
    // a consumer-protocol member below v9: UNSUPPORTED_VERSION, on every partition
    for v in [2, 7, 8] {
        assert_eq!(
            codes(&mut c, v, commit("cg", "m1", 1)).await,
            [35, 35],
            "v{v}"
        );
    }
    // the member is looked up before the version is checked: UNKNOWN_MEMBER_ID
    assert_eq!(codes(&mut c, 8, commit("cg", "nobody", 1)).await, [25, 25]);
    assert_eq!(codes(&mut c, 9, commit("cg", "nobody", 1)).await, [25, 25]);
    // v9: the member's epoch commits; any other is STALE_MEMBER_EPOCH
    assert_eq!(codes(&mut c, 9, commit("cg", "m1", 1)).await, [0, 0]);
    assert_eq!(codes(&mut c, 9, commit("cg", "m1", 0)).await, [113, 113]);
    assert_eq!(codes(&mut c, 9, commit("cg", "m1", 2)).await, [113, 113]);
    // no member (an admin, manual assignment) while the group has members: UNKNOWN_MEMBER_ID
    assert_eq!(codes(&mut c, 8, commit("cg", "", -1)).await, [25, 25]);
    assert_eq!(codes(&mut c, 9, commit("cg", "", -1)).await, [25, 25]);

    // OffsetFetch v9 with the member's identity (`validateOffsetFetch`)
    let fetch = |member: &str, epoch: i32| {
        OffsetFetchRequest::default().with_groups(vec![
            OffsetFetchRequestGroup::default()
                .with_group_id(group("cg"))
                .with_member_id(Some(s(member)))
                .with_member_epoch(epoch)
                .with_topics(None),
        ])
    };
    let r = call(&mut c, 9, fetch("m1", 1)).await;
    assert_eq!(r.groups[0].error_code, 0);
    assert_eq!(r.groups[0].topics[0].partitions[0].committed_offset, 7);
    assert_eq!(
        call(&mut c, 9, fetch("m1", 3)).await.groups[0].error_code,
        113
    );
    assert_eq!(
        call(&mut c, 9, fetch("nobody", 1)).await.groups[0].error_code,
        25
    );

    // once the member left, the empty group takes commits without a member at any version
    let r = call(&mut c, 1, kip848("cg", -1)).await;
    assert_eq!(r.error_code, 0);
    assert_eq!(codes(&mut c, 8, commit("cg", "", -1)).await, [0, 0]);

    // a group that does not exist (`OffsetMetadataManager.validateOffsetCommit`): a generation
    // is ILLEGAL_GENERATION below v9, GROUP_ID_NOT_FOUND from v9; generation -1 creates a
    // simple group (a member id alone does not matter), which then knows no member
    assert_eq!(codes(&mut c, 8, commit("ghost", "m", 3)).await, [22, 22]);
    assert_eq!(codes(&mut c, 9, commit("ghost", "m", 3)).await, [69, 69]);
    assert_eq!(codes(&mut c, 8, commit("ghost", "m", -1)).await, [0, 0]);
    assert_eq!(codes(&mut c, 8, commit("ghost", "m", 3)).await, [25, 25]);
    server.shutdown().await;
}

/// The client host the coordinator records is the connection's peer as Java's
/// `InetAddress.toString()` prints it (`GroupMetadataManager` stores
/// `context.clientAddress.toString()`), in DescribeGroups (classic) and ConsumerGroupDescribe
/// (KIP-848): a client bound to 127.0.0.2 is `/127.0.0.2`, one over IPv6 loopback
/// `/0:0:0:0:0:0:0:1` (`Inet6Address.getHostAddress`, uncompressed).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn client_host_is_the_peer_address_as_javas_inet_address_prints_it() {
    let (_cluster, server, _) = setup().await;
    let socket = tokio::net::TcpSocket::new_v4().unwrap();
    socket.bind("127.0.0.2:0".parse().unwrap()).unwrap();
    let mut c = socket.connect(server.local_addr()).await.unwrap();
    // classic: join, sync, describe
    let id = call(&mut c, 9, join("")).await.member_id.to_string();
    assert_eq!(call(&mut c, 9, join(&id)).await.error_code, 0);
    let sync = SyncGroupRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(s(&id))
        .with_protocol_type(Some(s("consumer")))
        .with_protocol_name(Some(s("range")));
    assert_eq!(call(&mut c, 5, sync).await.error_code, 0);
    let d = call(
        &mut c,
        5,
        DescribeGroupsRequest::default().with_groups(vec![group("g")]),
    )
    .await;
    assert_eq!(d.groups[0].members[0].client_host.as_str(), "/127.0.0.2");

    // KIP-848: heartbeat, describe
    async fn consumer_member_host(c: &mut TcpStream) -> String {
        let r = call(c, 1, kip848("cg", 0)).await;
        assert_eq!(r.error_code, 0);
        let d = call(
            c,
            1,
            ConsumerGroupDescribeRequest::default().with_group_ids(vec![group("cg")]),
        )
        .await;
        d.groups[0].members[0].client_host.to_string()
    }
    assert_eq!(consumer_member_host(&mut c).await, "/127.0.0.2");
    server.shutdown().await;

    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "[::1]:0")
        .await
        .unwrap();
    let mut c = TcpStream::connect(server.local_addr()).await.unwrap();
    assert_eq!(consumer_member_host(&mut c).await, "/0:0:0:0:0:0:0:1");
    server.shutdown().await;
}

/// One protocol per group, answered as Kafka's `GroupMetadataManager` answers when the group
/// does not migrate (`group.consumer.migration.policy=disabled`): a classic JoinGroup to a
/// non-empty KIP-848 group is INCONSISTENT_GROUP_PROTOCOL (`classicGroupJoinToConsumerGroup`,
/// `throwIfClassicProtocolIsNotSupported`), its Heartbeat, SyncGroup and LeaveGroup there
/// UNKNOWN_MEMBER_ID (`classicGroupHeartbeatToConsumerGroup`, `classicGroupSync`,
/// `classicGroupLeaveToConsumerGroup`); a ConsumerGroupHeartbeat to a non-empty classic group
/// GROUP_ID_NOT_FOUND, "Group g is not a consumer group" (`getOrMaybeCreateConsumerGroup`). An
/// empty group of either protocol goes to the protocol that joins it
/// (`maybeDeleteEmptyClassicGroup`, `maybeDeleteEmptyConsumerGroup`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_group_of_one_protocol_refuses_the_other_as_a_non_migrating_kafka_does() {
    let (_cluster, server, mut c) = setup().await;
    let kip848 = |epoch: i32| kip848("g", epoch);
    assert_eq!(call(&mut c, 1, kip848(0)).await.error_code, 0);

    // classic requests to the KIP-848 group
    let connect = join("").with_protocol_type(s("connect"));
    let r = call(&mut c, 9, connect).await;
    assert_eq!(r.error_code, 23);
    let r = call(&mut c, 9, join("")).await;
    assert_eq!(r.error_code, 23, "no classic member in a consumer group");
    let hb = HeartbeatRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(s("m1"));
    assert_eq!(call(&mut c, 4, hb).await.error_code, 25);
    let sync = SyncGroupRequest::default()
        .with_group_id(group("g"))
        .with_generation_id(1)
        .with_member_id(s("m1"));
    assert_eq!(call(&mut c, 5, sync).await.error_code, 25);
    let leave = LeaveGroupRequest::default()
        .with_group_id(group("g"))
        .with_members(vec![MemberIdentity::default().with_member_id(s("m1"))]);
    let r = call(&mut c, 5, leave).await;
    assert_eq!((r.error_code, r.members[0].error_code), (0, 25));
    let leave = LeaveGroupRequest::default()
        .with_group_id(group("g"))
        .with_member_id(s("m1"));
    assert_eq!(call(&mut c, 2, leave).await.error_code, 25);

    // once empty, the group goes classic for a classic join
    let r = call(&mut c, 1, kip848(-1)).await;
    assert_eq!(r.error_code, 0);
    let id = call(&mut c, 9, join("")).await.member_id.to_string();
    let r = call(&mut c, 9, join(&id)).await;
    assert_eq!((r.error_code, r.generation_id), (0, 1));

    // KIP-848 requests to the non-empty classic group
    for epoch in [0, 3] {
        let r = call(&mut c, 1, kip848(epoch)).await;
        assert_eq!(r.error_code, 69, "epoch {epoch}");
        let message = r.error_message.unwrap().to_string();
        assert!(
            message.starts_with("Group g is not a consumer group"),
            "{message}"
        );
    }
    // once empty, it goes to the consumer protocol
    let leave = LeaveGroupRequest::default()
        .with_group_id(group("g"))
        .with_members(vec![MemberIdentity::default().with_member_id(s(&id))]);
    assert_eq!(call(&mut c, 5, leave).await.members[0].error_code, 0);
    let r = call(&mut c, 1, kip848(0)).await;
    assert_eq!((r.error_code, r.member_epoch), (0, 1));
    server.shutdown().await;
}
