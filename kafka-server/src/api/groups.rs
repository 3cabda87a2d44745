//! The group protocols: FindCoordinator, OffsetCommit/OffsetFetch, the classic protocol
//! (JoinGroup/SyncGroup/Heartbeat/LeaveGroup), KIP-848's ConsumerGroupHeartbeat and the group
//! admin APIs (DescribeGroups/ListGroups/DeleteGroups/ConsumerGroupDescribe).
//!
//! Each handler decodes its request, calls the cluster's coordinator
//! (`kcodec_broker::group::{classic, consumer, protocol}`, which follows Kafka's
//! `GroupMetadataManager`) and answers with Kafka's error codes. Every broker of the front end
//! answers for every group (they share one coordinator); FindCoordinator names the broker
//! Kafka would (the leader of the group's `__consumer_offsets` partition).

use super::{Broker, Client, RequestError, ResponseError, decode, respond};
use bytes::{Bytes, BytesMut};
use kafka_protocol::messages::consumer_group_describe_response as cgd;
use kafka_protocol::messages::consumer_group_heartbeat_response as cgh;
use kafka_protocol::messages::delete_groups_response::DeletableGroupResult;
use kafka_protocol::messages::describe_groups_response::{DescribedGroup, DescribedGroupMember};
use kafka_protocol::messages::find_coordinator_response::Coordinator;
use kafka_protocol::messages::join_group_response::JoinGroupResponseMember;
use kafka_protocol::messages::leave_group_response::MemberResponse;
use kafka_protocol::messages::list_groups_response::ListedGroup;
use kafka_protocol::messages::offset_commit_response::{
    OffsetCommitResponsePartition, OffsetCommitResponseTopic,
};
use kafka_protocol::messages::offset_fetch_response::{
    OffsetFetchResponseGroup, OffsetFetchResponsePartition, OffsetFetchResponsePartitions,
    OffsetFetchResponseTopic, OffsetFetchResponseTopics,
};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kcodec_broker::group::classic::{self, LeavingMember};
use kcodec_broker::group::consumer::ConsumerHeartbeatRequest;
use kcodec_broker::group::protocol::{GroupError, GroupType, MemberRef, OffsetCommit};
use kcodec_broker::{Cluster, OffsetAndMetadata, TopicPartition};
use std::collections::BTreeMap;
use uuid::Uuid;

/// The group APIs answered here, with the versions implemented (`(key, min, max)`; the
/// advertised range is this intersected with what `kafka-protocol` knows).
pub(crate) const VERSIONS: &[(ApiKey, i16, i16)] = &[
    (ApiKey::OffsetCommit, 2, 9),
    (ApiKey::OffsetFetch, 1, 9),
    (ApiKey::FindCoordinator, 0, 6),
    (ApiKey::JoinGroup, 0, 9),
    (ApiKey::Heartbeat, 0, 4),
    (ApiKey::LeaveGroup, 0, 5),
    (ApiKey::SyncGroup, 0, 5),
    (ApiKey::DescribeGroups, 0, 5),
    (ApiKey::ListGroups, 0, 5),
    (ApiKey::DeleteGroups, 0, 2),
    (ApiKey::ConsumerGroupHeartbeat, 0, 1),
    (ApiKey::ConsumerGroupDescribe, 0, 1),
];

/// Whether `key` is a group API answered here.
pub(crate) fn handles(key: ApiKey) -> bool {
    VERSIONS.iter().any(|(k, _, _)| *k == key)
}

/// Answers a group request whose key is in [`VERSIONS`] (and whose version is in range).
pub(crate) async fn handle(
    broker: &Broker,
    client: &Client,
    key: ApiKey,
    header: &RequestHeader,
    body: &mut Bytes,
) -> Result<BytesMut, RequestError> {
    let v = header.request_api_version;
    let cluster = broker.cluster();
    let client_id = header
        .client_id
        .as_ref()
        .map(|c| c.to_string())
        .unwrap_or_default();
    match key {
        ApiKey::FindCoordinator => respond(
            key,
            header,
            &find_coordinator(broker, decode(key, header, body)?, v),
        ),
        ApiKey::OffsetCommit => respond(
            key,
            header,
            &offset_commit(cluster, decode(key, header, body)?, v),
        ),
        ApiKey::OffsetFetch => respond(
            key,
            header,
            &offset_fetch(cluster, decode(key, header, body)?, v),
        ),
        ApiKey::JoinGroup => {
            let r = join_group(cluster, decode(key, header, body)?, v, client_id, client).await;
            respond(key, header, &r)
        }
        ApiKey::SyncGroup => {
            let r = sync_group(cluster, decode(key, header, body)?).await;
            respond(key, header, &r)
        }
        ApiKey::Heartbeat => {
            let req: HeartbeatRequest = decode(key, header, body)?;
            let r = cluster.heartbeat(
                &req.group_id.0,
                &req.member_id,
                req.generation_id,
                req.group_instance_id.as_deref(),
            );
            respond(
                key,
                header,
                &HeartbeatResponse::default().with_error_code(code(&r)),
            )
        }
        ApiKey::LeaveGroup => respond(
            key,
            header,
            &leave_group(cluster, decode(key, header, body)?, v),
        ),
        ApiKey::DescribeGroups => respond(
            key,
            header,
            &describe_groups(cluster, decode(key, header, body)?),
        ),
        ApiKey::ListGroups => respond(
            key,
            header,
            &list_groups(cluster, decode(key, header, body)?),
        ),
        ApiKey::DeleteGroups => respond(
            key,
            header,
            &delete_groups(cluster, decode(key, header, body)?),
        ),
        ApiKey::ConsumerGroupHeartbeat => {
            let r =
                consumer_group_heartbeat(cluster, decode(key, header, body)?, client_id, client);
            respond(key, header, &r)
        }
        ApiKey::ConsumerGroupDescribe => respond(
            key,
            header,
            &consumer_group_describe(cluster, decode(key, header, body)?),
        ),
        _ => Ok(super::unsupported::response(key, header)),
    }
}

fn s(v: impl Into<String>) -> StrBytes {
    StrBytes::from_string(v.into())
}

fn code<T>(r: &Result<T, GroupError>) -> i16 {
    r.as_ref().err().map_or(0, GroupError::code)
}

/// Java's `String.hashCode` (over UTF-16 units), as `GroupCoordinator.partitionFor` hashes.
fn java_hash(v: &str) -> i32 {
    v.encode_utf16()
        .fold(0i32, |h, c| h.wrapping_mul(31).wrapping_add(i32::from(c)))
}

/// The broker Kafka would name: the leader of partition `abs(hash) % 50` of
/// `__consumer_offsets` (`offsets.topic.num.partitions` = 50), replica placement as the
/// cluster places partitions (partition `p` led by broker `p mod N`).
fn coordinator_for(broker: &Broker, key: &str) -> usize {
    let partition = (java_hash(key) & 0x7fff_ffff) % 50;
    partition as usize % broker.shared.brokers.len().max(1)
}

/// `FindCoordinatorRequest.CoordinatorType`'s ids.
const GROUP_COORDINATOR: i8 = 0;
const TRANSACTION_COORDINATOR: i8 = 1;
const SHARE_COORDINATOR: i8 = 2;

/// Why a FindCoordinator for `key_type` gets no coordinator (`None`: a group, which has one).
///
/// Translation note: this broker has only the group coordinator. For a share group Kafka's
/// own answer when it runs no share coordinator is `INVALID_REQUEST` (`KafkaApis.getCoordinator`),
/// as for a type it does not know (`CoordinatorType.forId`); both are given here. Kafka has no
/// answer for a broker without a transaction coordinator: the retriable
/// `COORDINATOR_NOT_AVAILABLE` (what it sends while `__transaction_state` loads) has a
/// transactional producer retry until its `init_transactions` times out, and librdkafka retries
/// `INVALID_REQUEST` too (`rd_kafka_txn_handle_FindCoordinator`). So a transactional id gets
/// `TRANSACTIONAL_ID_AUTHORIZATION_FAILED`, what Kafka answers when the client may not use the
/// id: fatal at once for the Java client (`TransactionManager.FindCoordinatorHandler`) and for
/// librdkafka, with the message saying why.
fn no_coordinator(key_type: i8) -> Option<(ResponseError, String)> {
    match key_type {
        GROUP_COORDINATOR => None,
        TRANSACTION_COORDINATOR => Some((
            ResponseError::TransactionalIdAuthorizationFailed,
            "Transactions are not supported by this broker (it has no transaction coordinator)."
                .to_owned(),
        )),
        SHARE_COORDINATOR => Some((
            ResponseError::InvalidRequest,
            "Share groups are not supported by this broker (it has no share coordinator)."
                .to_owned(),
        )),
        other => Some((
            ResponseError::InvalidRequest,
            format!("Unknown coordinator type received: {other}"),
        )),
    }
}

/// Answers FindCoordinator as `KafkaApis.handleFindCoordinatorRequest`: a group's coordinator
/// is the broker [`coordinator_for`] names; other key types get no coordinator
/// ([`no_coordinator`]), with node `-1`.
fn find_coordinator(
    broker: &Broker,
    req: FindCoordinatorRequest,
    v: i16,
) -> FindCoordinatorResponse {
    let answer = |key: &str| -> (i16, Option<StrBytes>, i32, String, i32) {
        if let Some((error, message)) = no_coordinator(req.key_type) {
            return (error.code(), Some(s(message)), -1, String::new(), -1);
        }
        let node = coordinator_for(broker, key);
        match broker.shared.brokers.get(node) {
            Some(addr) => (
                0,
                None,
                node as i32,
                addr.ip().to_string(),
                i32::from(addr.port()),
            ),
            None => (
                ResponseError::CoordinatorNotAvailable.code(),
                None,
                -1,
                String::new(),
                -1,
            ),
        }
    };
    if v >= 4 {
        let coordinators = req
            .coordinator_keys
            .iter()
            .map(|k| {
                let (error_code, error_message, node, host, port) = answer(k);
                Coordinator::default()
                    .with_key(k.clone())
                    .with_node_id(BrokerId(node))
                    .with_host(s(host))
                    .with_port(port)
                    .with_error_code(error_code)
                    .with_error_message(error_message)
            })
            .collect();
        FindCoordinatorResponse::default().with_coordinators(coordinators)
    } else {
        let (error_code, error_message, node, host, port) = answer(&req.key);
        FindCoordinatorResponse::default()
            .with_error_code(error_code)
            .with_error_message(error_message)
            .with_node_id(BrokerId(node))
            .with_host(s(host))
            .with_port(port)
    }
}

fn offset_commit(cluster: &Cluster, req: OffsetCommitRequest, v: i16) -> OffsetCommitResponse {
    let member = MemberRef {
        member_id: req.member_id.to_string(),
        generation_or_epoch: req.generation_id_or_member_epoch,
        group_instance_id: req.group_instance_id.as_ref().map(|i| i.to_string()),
    };
    let offsets: Vec<OffsetCommit> = req
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions.iter().map(|p| OffsetCommit {
                partition: TopicPartition::new(t.name.0.to_string(), p.partition_index),
                offset: p.committed_offset,
                metadata: p
                    .committed_metadata
                    .as_ref()
                    .map(|m| m.to_string())
                    .unwrap_or_default(),
            })
        })
        .collect();
    let results = cluster.commit_offsets(&req.group_id.0, &member, &offsets, v);
    let mut codes = offsets.iter().enumerate().map(|(i, _)| match &results {
        Err(e) => e.code(),
        Ok(r) => r.get(i).map_or(0, code),
    });
    let topics = req
        .topics
        .iter()
        .map(|t| {
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    OffsetCommitResponsePartition::default()
                        .with_partition_index(p.partition_index)
                        .with_error_code(codes.next().unwrap_or(0))
                })
                .collect();
            OffsetCommitResponseTopic::default()
                .with_name(t.name.clone())
                .with_topic_id(t.topic_id)
                .with_partitions(partitions)
        })
        .collect();
    OffsetCommitResponse::default().with_topics(topics)
}

/// One group's committed offsets, by topic: the partitions asked for (`None`: all committed).
type Fetched = Result<BTreeMap<String, Vec<(i32, Option<OffsetAndMetadata>)>>, GroupError>;

fn fetch_group(
    cluster: &Cluster,
    group: &str,
    member: &MemberRef,
    asked: Option<Vec<TopicPartition>>,
) -> Fetched {
    let rows = cluster.fetch_offsets(group, member, asked.as_deref())?;
    let mut out: BTreeMap<String, Vec<(i32, Option<OffsetAndMetadata>)>> = BTreeMap::new();
    for (tp, o) in rows {
        out.entry(tp.topic).or_default().push((tp.partition, o));
    }
    Ok(out)
}

/// `committed_offset`, `metadata` as `OffsetFetch` carries them (-1 and "" when none).
fn committed(o: &Option<OffsetAndMetadata>) -> (i64, StrBytes) {
    match o {
        Some(o) => (o.offset, s(o.metadata.clone())),
        None => (-1, s("")),
    }
}

/// One group's fetched offsets in a version's response types: `topic` builds a topic from its
/// name and partitions, `partition` a partition from its index, committed offset and metadata
/// (the v8+ batched and the v1–7 single-group responses carry the same fields in distinct
/// types).
fn fetched_topics<T, P>(
    by_topic: BTreeMap<String, Vec<(i32, Option<OffsetAndMetadata>)>>,
    topic: impl Fn(TopicName, Vec<P>) -> T,
    partition: impl Fn(i32, i64, StrBytes) -> P,
) -> Vec<T> {
    by_topic
        .into_iter()
        .map(|(name, parts)| {
            let parts = parts
                .iter()
                .map(|(p, o)| {
                    let (offset, metadata) = committed(o);
                    partition(*p, offset, metadata)
                })
                .collect();
            topic(TopicName(s(name)), parts)
        })
        .collect()
}

/// The partitions asked for, `None` for every committed one.
fn asked<'a, I: IntoIterator<Item = (&'a TopicName, &'a [i32])>>(
    topics: Option<I>,
) -> Option<Vec<TopicPartition>> {
    topics.map(|ts| {
        ts.into_iter()
            .flat_map(|(name, parts)| {
                parts
                    .iter()
                    .map(|p| TopicPartition::new(name.0.to_string(), *p))
            })
            .collect()
    })
}

fn offset_fetch(cluster: &Cluster, req: OffsetFetchRequest, v: i16) -> OffsetFetchResponse {
    if v >= 8 {
        let groups =
            req.groups
                .iter()
                .map(|g| {
                    let member = match &g.member_id {
                        Some(m) if !m.is_empty() || g.member_epoch >= 0 => {
                            MemberRef::member(m.to_string(), g.member_epoch)
                        }
                        _ => MemberRef::none(),
                    };
                    let asked =
                        asked(g.topics.as_ref().map(|ts| {
                            ts.iter().map(|t| (&t.name, t.partition_indexes.as_slice()))
                        }));
                    let response =
                        OffsetFetchResponseGroup::default().with_group_id(g.group_id.clone());
                    match fetch_group(cluster, &g.group_id.0, &member, asked) {
                        Err(e) => response.with_error_code(e.code()),
                        Ok(by_topic) => response.with_topics(fetched_topics(
                            by_topic,
                            |name, parts| {
                                OffsetFetchResponseTopics::default()
                                    .with_name(name)
                                    .with_partitions(parts)
                            },
                            |p, offset, metadata| {
                                OffsetFetchResponsePartitions::default()
                                    .with_partition_index(p)
                                    .with_committed_offset(offset)
                                    .with_committed_leader_epoch(-1)
                                    .with_metadata(Some(metadata))
                            },
                        )),
                    }
                })
                .collect();
        return OffsetFetchResponse::default().with_groups(groups);
    }
    let asked = asked(
        req.topics
            .as_ref()
            .map(|ts| ts.iter().map(|t| (&t.name, t.partition_indexes.as_slice()))),
    );
    match fetch_group(cluster, &req.group_id.0, &MemberRef::none(), asked) {
        Err(e) => OffsetFetchResponse::default().with_error_code(e.code()),
        Ok(by_topic) => OffsetFetchResponse::default().with_topics(fetched_topics(
            by_topic,
            |name, parts| {
                OffsetFetchResponseTopic::default()
                    .with_name(name)
                    .with_partitions(parts)
            },
            |p, offset, metadata| {
                OffsetFetchResponsePartition::default()
                    .with_partition_index(p)
                    .with_committed_offset(offset)
                    .with_committed_leader_epoch(-1)
                    .with_metadata(Some(metadata))
            },
        )),
    }
}

async fn join_group(
    cluster: &Cluster,
    req: JoinGroupRequest,
    v: i16,
    client_id: String,
    client: &Client,
) -> JoinGroupResponse {
    let r = cluster
        .join_group(classic::JoinGroupRequest {
            group_id: req.group_id.0.to_string(),
            member_id: req.member_id.to_string(),
            group_instance_id: req.group_instance_id.as_ref().map(|i| i.to_string()),
            protocol_type: req.protocol_type.to_string(),
            protocols: req
                .protocols
                .iter()
                .map(|p| (p.name.to_string(), p.metadata.clone()))
                .collect(),
            session_timeout_ms: req.session_timeout_ms,
            rebalance_timeout_ms: if v >= 1 { req.rebalance_timeout_ms } else { -1 },
            client_id,
            client_host: client.host.clone(),
            require_known_member_id: v >= 4,
        })
        .await;
    let empty_name = if v >= 7 { None } else { Some(s("")) };
    match r {
        Ok(j) => JoinGroupResponse::default()
            .with_generation_id(j.generation_id)
            .with_protocol_type(Some(s(j.protocol_type)))
            .with_protocol_name(Some(s(j.protocol_name)))
            .with_leader(s(j.leader))
            .with_skip_assignment(j.skip_assignment)
            .with_member_id(s(j.member_id))
            .with_members(
                j.members
                    .into_iter()
                    .map(|m| {
                        JoinGroupResponseMember::default()
                            .with_member_id(s(m.member_id))
                            .with_group_instance_id(m.group_instance_id.map(s))
                            .with_metadata(m.metadata)
                    })
                    .collect(),
            ),
        Err(e) => {
            let member_id = match &e {
                GroupError::MemberIdRequired(id) => id.clone(),
                _ => req.member_id.to_string(),
            };
            JoinGroupResponse::default()
                .with_error_code(e.code())
                .with_generation_id(-1)
                .with_protocol_type(None)
                .with_protocol_name(empty_name)
                .with_member_id(s(member_id))
        }
    }
}

async fn sync_group(cluster: &Cluster, req: SyncGroupRequest) -> SyncGroupResponse {
    let r = cluster
        .sync_group(classic::SyncGroupRequest {
            group_id: req.group_id.0.to_string(),
            member_id: req.member_id.to_string(),
            generation_id: req.generation_id,
            group_instance_id: req.group_instance_id.as_ref().map(|i| i.to_string()),
            protocol_type: req.protocol_type.as_ref().map(|t| t.to_string()),
            protocol_name: req.protocol_name.as_ref().map(|t| t.to_string()),
            assignments: req
                .assignments
                .iter()
                .map(|a| (a.member_id.to_string(), a.assignment.clone()))
                .collect(),
        })
        .await;
    match r {
        Ok(r) => SyncGroupResponse::default()
            .with_protocol_type(Some(s(r.protocol_type)))
            .with_protocol_name(Some(s(r.protocol_name)))
            .with_assignment(r.assignment),
        Err(e) => SyncGroupResponse::default().with_error_code(e.code()),
    }
}

fn leave_group(cluster: &Cluster, req: LeaveGroupRequest, v: i16) -> LeaveGroupResponse {
    let members: Vec<LeavingMember> = if v >= 3 {
        req.members
            .iter()
            .map(|m| LeavingMember {
                member_id: m.member_id.to_string(),
                group_instance_id: m.group_instance_id.as_ref().map(|i| i.to_string()),
            })
            .collect()
    } else {
        vec![LeavingMember {
            member_id: req.member_id.to_string(),
            group_instance_id: None,
        }]
    };
    match cluster.leave_group(&req.group_id.0, &members) {
        Err(e) => LeaveGroupResponse::default().with_error_code(e.code()),
        Ok(results) if v < 3 => {
            LeaveGroupResponse::default().with_error_code(results.first().map_or(0, code))
        }
        Ok(results) => LeaveGroupResponse::default().with_members(
            members
                .iter()
                .zip(&results)
                .map(|(m, r)| {
                    MemberResponse::default()
                        .with_member_id(s(m.member_id.clone()))
                        .with_group_instance_id(m.group_instance_id.clone().map(s))
                        .with_error_code(code(r))
                })
                .collect(),
        ),
    }
}

fn describe_groups(cluster: &Cluster, req: DescribeGroupsRequest) -> DescribeGroupsResponse {
    let groups = req
        .groups
        .iter()
        .map(|id| match cluster.describe_classic_group(&id.0) {
            Err(e) => DescribedGroup::default()
                .with_group_id(id.clone())
                .with_error_code(e.code())
                .with_error_message(Some(s(e.to_string())))
                .with_group_state(s("Dead")),
            Ok(d) => DescribedGroup::default()
                .with_group_id(id.clone())
                .with_group_state(s(d.state.to_string()))
                .with_protocol_type(s(d.protocol_type))
                .with_protocol_data(s(d.protocol))
                .with_members(
                    d.members
                        .into_iter()
                        .map(|m| {
                            DescribedGroupMember::default()
                                .with_member_id(s(m.member_id))
                                .with_group_instance_id(m.group_instance_id.map(s))
                                .with_client_id(s(m.client_id))
                                .with_client_host(s(m.client_host))
                                .with_member_metadata(m.metadata)
                                .with_member_assignment(m.assignment)
                        })
                        .collect(),
                ),
        })
        .collect();
    DescribeGroupsResponse::default().with_groups(groups)
}

fn list_groups(cluster: &Cluster, req: ListGroupsRequest) -> ListGroupsResponse {
    let wanted = |filter: &[StrBytes], value: &str| {
        filter.is_empty() || filter.iter().any(|f| f.eq_ignore_ascii_case(value))
    };
    let groups = cluster
        .list_groups()
        .into_iter()
        .filter_map(|g| {
            let kind = cluster
                .group_type(&g.group_id)
                .unwrap_or(GroupType::Classic);
            let state = g.state.to_string();
            (wanted(&req.states_filter, &state) && wanted(&req.types_filter, kind.name())).then(
                || {
                    ListedGroup::default()
                        .with_group_id(GroupId(s(g.group_id)))
                        .with_protocol_type(s(g.protocol_type))
                        .with_group_state(s(state))
                        .with_group_type(s(kind.name()))
                },
            )
        })
        .collect();
    ListGroupsResponse::default().with_groups(groups)
}

fn delete_groups(cluster: &Cluster, req: DeleteGroupsRequest) -> DeleteGroupsResponse {
    let results = req
        .groups_names
        .iter()
        .map(|id| {
            let code = match cluster.delete_group(&id.0) {
                Ok(()) => 0,
                Err(e) => super::error_code(&e),
            };
            DeletableGroupResult::default()
                .with_group_id(id.clone())
                .with_error_code(code)
        })
        .collect();
    DeleteGroupsResponse::default().with_results(results)
}

/// Topic ids both ways, for the KIP-848 APIs (which name topics by id).
struct TopicIds {
    by_name: BTreeMap<String, Uuid>,
    by_id: BTreeMap<Uuid, String>,
}

impl TopicIds {
    fn of(cluster: &Cluster) -> Self {
        let by_name: BTreeMap<String, Uuid> = cluster
            .list_topics()
            .into_iter()
            .filter_map(|t| {
                let d = cluster.describe_topic(&t).ok()?;
                Some((t, super::metadata::topic_id(&d)))
            })
            .collect();
        let by_id = by_name.iter().map(|(n, id)| (*id, n.clone())).collect();
        TopicIds { by_name, by_id }
    }

    fn id(&self, name: &str) -> Uuid {
        self.by_name.get(name).copied().unwrap_or_default()
    }

    /// Partitions grouped by topic, in topic order.
    fn group(parts: &[TopicPartition]) -> BTreeMap<&str, Vec<i32>> {
        let mut out: BTreeMap<&str, Vec<i32>> = BTreeMap::new();
        for tp in parts {
            out.entry(tp.topic.as_str()).or_default().push(tp.partition);
        }
        out
    }
}

fn consumer_group_heartbeat(
    cluster: &Cluster,
    req: ConsumerGroupHeartbeatRequest,
    client_id: String,
    client: &Client,
) -> ConsumerGroupHeartbeatResponse {
    let error = |e: GroupError| {
        ConsumerGroupHeartbeatResponse::default()
            .with_error_code(e.code())
            .with_error_message(Some(s(e.to_string())))
    };
    let ids = TopicIds::of(cluster);
    let owned = req.topic_partitions.as_ref().map(|tps| {
        tps.iter()
            .filter_map(|t| ids.by_id.get(&t.topic_id).map(|name| (name, &t.partitions)))
            .flat_map(|(name, ps)| ps.iter().map(|p| TopicPartition::new(name.clone(), *p)))
            .collect()
    });
    let r = cluster.consumer_group_heartbeat(ConsumerHeartbeatRequest {
        group_id: req.group_id.0.to_string(),
        member_id: req.member_id.to_string(),
        member_epoch: req.member_epoch,
        instance_id: req.instance_id.as_ref().map(|i| i.to_string()),
        rack_id: req.rack_id.as_ref().map(|i| i.to_string()),
        rebalance_timeout_ms: req.rebalance_timeout_ms,
        subscribed_topic_names: req
            .subscribed_topic_names
            .as_ref()
            .map(|ts| ts.iter().map(|t| t.0.to_string()).collect()),
        subscribed_topic_regex: req.subscribed_topic_regex.as_ref().map(|r| r.to_string()),
        server_assignor: req.server_assignor.as_ref().map(|a| a.to_string()),
        owned,
        client_id,
        client_host: client.host.clone(),
    });
    match r {
        Err(e) => error(e),
        Ok(r) => ConsumerGroupHeartbeatResponse::default()
            .with_member_id(Some(s(r.member_id)))
            .with_member_epoch(r.member_epoch)
            .with_heartbeat_interval_ms(r.heartbeat_interval_ms)
            .with_assignment(r.assignment.map(|parts| {
                cgh::Assignment::default().with_topic_partitions(
                    TopicIds::group(&parts)
                        .into_iter()
                        .map(|(t, ps)| {
                            cgh::TopicPartitions::default()
                                .with_topic_id(ids.id(t))
                                .with_partitions(ps)
                        })
                        .collect(),
                )
            })),
    }
}

fn consumer_group_describe(
    cluster: &Cluster,
    req: ConsumerGroupDescribeRequest,
) -> ConsumerGroupDescribeResponse {
    let ids = TopicIds::of(cluster);
    let assignment = |parts: &[TopicPartition]| {
        cgd::Assignment::default().with_topic_partitions(
            TopicIds::group(parts)
                .into_iter()
                .map(|(t, ps)| {
                    cgd::TopicPartitions::default()
                        .with_topic_id(ids.id(t))
                        .with_topic_name(TopicName(s(t)))
                        .with_partitions(ps)
                })
                .collect(),
        )
    };
    let groups = req
        .group_ids
        .iter()
        .map(|id| match cluster.describe_consumer_group(&id.0) {
            Err(e) => cgd::DescribedGroup::default()
                .with_group_id(id.clone())
                .with_error_code(e.code())
                .with_error_message(Some(s(e.to_string())))
                .with_group_state(s("Dead")),
            Ok(d) => cgd::DescribedGroup::default()
                .with_group_id(id.clone())
                .with_group_state(s(d.state.to_string()))
                .with_group_epoch(d.group_epoch)
                .with_assignment_epoch(d.assignment_epoch)
                .with_assignor_name(s(d.assignor_name))
                .with_members(
                    d.members
                        .into_iter()
                        .map(|m| {
                            cgd::Member::default()
                                .with_member_id(s(m.member_id))
                                .with_instance_id(m.instance_id.map(s))
                                .with_rack_id(m.rack_id.map(s))
                                .with_member_epoch(m.member_epoch)
                                .with_client_id(s(m.client_id))
                                .with_client_host(s(m.client_host))
                                .with_subscribed_topic_names(
                                    m.subscribed_topic_names
                                        .into_iter()
                                        .map(|t| TopicName(s(t)))
                                        .collect(),
                                )
                                .with_subscribed_topic_regex(m.subscribed_topic_regex.map(s))
                                .with_assignment(assignment(&m.assignment))
                                .with_target_assignment(assignment(&m.target_assignment))
                                .with_member_type(1)
                        })
                        .collect(),
                ),
        })
        .collect();
    ConsumerGroupDescribeResponse::default().with_groups(groups)
}
