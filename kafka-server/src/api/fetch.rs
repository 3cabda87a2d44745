//! Fetch (key 1) and ListOffsets (key 2).

use super::{Broker, ResponseError, error_code};
use crate::records;
use bytes::BytesMut;
use kafka_protocol::messages::fetch_response::{FetchableTopicResponse, PartitionData};
use kafka_protocol::messages::list_offsets_response::{
    ListOffsetsPartitionResponse, ListOffsetsTopicResponse,
};
use kafka_protocol::messages::{
    BrokerId, FetchRequest, FetchResponse, ListOffsetsRequest, ListOffsetsResponse, RequestHeader,
};
use kcodec_broker::{Cluster, TimestampType, TopicPartition};
use std::time::Duration;
use tokio::time::Instant;

/// Records read from a log per call while filling a fetch.
const READ_CHUNK: usize = 256;

/// One topic as a request names it: its partitions' leaders and timestamp type, if it exists.
struct TopicInfo {
    leaders: Vec<i32>,
    log_append_time: bool,
}

fn topic_info(cluster: &Cluster, name: &str) -> Option<TopicInfo> {
    let d = cluster.describe_topic(name).ok()?;
    Some(TopicInfo {
        leaders: d.partitions.iter().map(|p| p.leader).collect(),
        log_append_time: d.timestamp_type == TimestampType::LogAppendTime,
    })
}

/// The error for a partition this broker cannot serve: unknown, or led by another broker.
fn leadership(broker: &Broker, info: Option<&TopicInfo>, partition: i32) -> Option<ResponseError> {
    let leader = info.and_then(|i| i.leaders.get(usize::try_from(partition).ok()?).copied());
    match leader {
        None => Some(ResponseError::UnknownTopicOrPartition),
        Some(l) if l != broker.node_id => Some(ResponseError::NotLeaderOrFollower),
        Some(_) => None,
    }
}

/// Answers Fetch as Kafka's leader does (`ReplicaManager.fetchMessages`): records from each
/// partition's fetch offset as one uncompressed v2 batch (several on a `LogAppendTime` topic),
/// up to `partition_max_bytes` per partition and `max_bytes` in all, but at least one record
/// when any partition has one (KIP-74), in request order; when fewer than `min_bytes` are
/// ready it waits for appends (woken by them) until `max_wait_ms` has passed. The high
/// watermark and the last stable offset are the log end (every replica is in sync, there are
/// no transactions); the log start offset is 0. Fetch sessions (KIP-227) are not kept: every
/// answer is a full one with session id 0, which clients take as "no session".
pub(crate) async fn handle(
    broker: &Broker,
    header: &RequestHeader,
    req: FetchRequest,
) -> FetchResponse {
    let wait = Duration::from_millis(u64::try_from(req.max_wait_ms).unwrap_or(0));
    let deadline = Instant::now() + wait;
    let min_bytes = usize::try_from(req.min_bytes).unwrap_or(0);
    let max_bytes = if header.request_api_version >= 3 {
        usize::try_from(req.max_bytes).unwrap_or(0)
    } else {
        usize::MAX
    };
    loop {
        let (response, bytes, waiting, errors) = read_all(broker, &req, max_bytes);
        if bytes >= min_bytes.max(1) || errors || waiting.is_empty() || Instant::now() >= deadline {
            return response;
        }
        let wake = broker.cluster().wait_for_records(&waiting);
        if tokio::time::timeout_at(deadline, wake).await.is_err() {
            return read_all(broker, &req, max_bytes).0;
        }
    }
}

/// Reads every partition of the request: the response, its record bytes, the positions to
/// wait on, and whether any partition answered an error.
fn read_all(
    broker: &Broker,
    req: &FetchRequest,
    max_bytes: usize,
) -> (FetchResponse, usize, Vec<(TopicPartition, i64)>, bool) {
    let cluster = broker.cluster();
    let mut budget = max_bytes;
    let mut total = 0;
    let mut waiting = Vec::new();
    let mut errors = false;
    let responses = req
        .topics
        .iter()
        .map(|t| {
            let name = t.topic.0.as_str();
            let info = topic_info(cluster, name);
            let partitions = t
                .partitions
                .iter()
                .map(|p| {
                    let tp = TopicPartition::new(name, p.partition);
                    let mut data = PartitionData::default()
                        .with_partition_index(p.partition)
                        .with_preferred_read_replica(BrokerId(-1));
                    if let Some(e) = leadership(broker, info.as_ref(), p.partition) {
                        errors = true;
                        return data
                            .with_error_code(e.code())
                            .with_high_watermark(-1)
                            .with_last_stable_offset(-1)
                            .with_log_start_offset(-1);
                    }
                    let Ok(hw) = cluster.end_offset(&tp) else {
                        errors = true;
                        return data.with_error_code(ResponseError::UnknownTopicOrPartition.code());
                    };
                    data = data
                        .with_high_watermark(hw)
                        .with_last_stable_offset(hw)
                        .with_log_start_offset(0);
                    if p.fetch_offset < 0 || p.fetch_offset > hw {
                        errors = true;
                        return data.with_error_code(ResponseError::OffsetOutOfRange.code());
                    }
                    let limit = usize::try_from(p.partition_max_bytes)
                        .unwrap_or(0)
                        .min(budget);
                    let records = match read(cluster, &tp, p.fetch_offset, hw, limit, total == 0) {
                        Ok(r) => r,
                        Err(e) => {
                            errors = true;
                            return data.with_error_code(error_code(&e));
                        }
                    };
                    if records.is_empty() {
                        waiting.push((tp, p.fetch_offset));
                    }
                    let mut buf = BytesMut::new();
                    let log_append_time = info.as_ref().is_some_and(|i| i.log_append_time);
                    records::encode(&mut buf, &records, log_append_time);
                    total += buf.len();
                    budget = budget.saturating_sub(buf.len());
                    data.with_records(Some(buf.freeze()))
                })
                .collect();
            FetchableTopicResponse::default()
                .with_topic(t.topic.clone())
                .with_topic_id(t.topic_id)
                .with_partitions(partitions)
        })
        .collect();
    (
        FetchResponse::default().with_responses(responses),
        total,
        waiting,
        errors,
    )
}

/// Records from `offset` up to `limit` bytes (estimated), at least one when `first` and there
/// is one.
fn read(
    cluster: &Cluster,
    tp: &TopicPartition,
    offset: i64,
    end: i64,
    limit: usize,
    first: bool,
) -> kcodec_broker::Result<Vec<kcodec_broker::ConsumerRecord>> {
    let mut out = Vec::new();
    let mut size = 0usize;
    let mut at = offset;
    'read: while at < end {
        let chunk = cluster.read(tp, at, READ_CHUNK)?;
        if chunk.is_empty() {
            break;
        }
        for r in chunk {
            let s = records::estimated_size(&r);
            if size + s > limit && !(out.is_empty() && first) {
                break 'read;
            }
            size += s;
            at = r.offset + 1;
            out.push(r);
        }
    }
    Ok(out)
}

/// `ListOffsetsRequest.EARLIEST_TIMESTAMP`.
const EARLIEST: i64 = -2;
/// `ListOffsetsRequest.LATEST_TIMESTAMP`.
const LATEST: i64 = -1;
/// `ListOffsetsRequest.MAX_TIMESTAMP` (KIP-734).
const MAX_TIMESTAMP: i64 = -3;
/// `ListOffsetsRequest.EARLIEST_LOCAL_TIMESTAMP` (KIP-405): the log start here.
const EARLIEST_LOCAL: i64 = -4;

/// Answers ListOffsets: the earliest offset (always 0: the broker deletes no records), the
/// latest (the log end), the record with the largest timestamp, or the first record whose
/// timestamp is at least the one asked for (offset and timestamp -1 when there is none), as
/// Kafka's `UnifiedLog.fetchOffsetByTimestamp`.
pub(crate) fn list_offsets(
    broker: &Broker,
    header: &RequestHeader,
    req: ListOffsetsRequest,
) -> ListOffsetsResponse {
    let cluster = broker.cluster();
    // the leader epoch is a field from v4 (encoding a value below that fails)
    let epoch = if header.request_api_version >= 4 {
        0
    } else {
        -1
    };
    // A partition named twice gets one INVALID_REQUEST and no offset, and a topic named twice
    // one response: Kafka's `ListOffsetsRequest.duplicatePartitions` and
    // `ReplicaManager.fetchOffset` (its answers are a map by partition).
    let mut seen = std::collections::HashSet::new();
    let duplicates: std::collections::HashSet<(String, i32)> = req
        .topics
        .iter()
        .flat_map(|t| {
            t.partitions
                .iter()
                .map(move |p| (t.name.0.as_str(), p.partition_index))
        })
        .filter(|&tp| !seen.insert(tp))
        .map(|(name, partition)| (name.to_owned(), partition))
        .collect();
    // Without duplicates (the usual request) nothing is looked up or copied per partition.
    let duplicated = |name: &str, partition: i32| {
        !duplicates.is_empty() && duplicates.contains(&(name.to_owned(), partition))
    };
    let mut answered = std::collections::HashSet::new();
    let mut topics: Vec<ListOffsetsTopicResponse> = Vec::new();
    let mut topic_at: std::collections::HashMap<String, usize> = std::collections::HashMap::new();
    for t in req.topics {
        let name = t.name.0.to_string();
        let info = topic_info(cluster, &name);
        let partitions = t
            .partitions
            .into_iter()
            .filter(|p| duplicates.is_empty() || answered.insert((name.clone(), p.partition_index)))
            .map(|p| {
                let r = ListOffsetsPartitionResponse::default()
                    .with_partition_index(p.partition_index)
                    .with_timestamp(-1)
                    .with_offset(-1);
                if duplicated(&name, p.partition_index) {
                    return r.with_error_code(ResponseError::InvalidRequest.code());
                }
                if let Some(e) = leadership(broker, info.as_ref(), p.partition_index) {
                    return r.with_error_code(e.code());
                }
                let tp = TopicPartition::new(name.clone(), p.partition_index);
                match offset_for(cluster, &tp, p.timestamp) {
                    Ok(Some((offset, timestamp))) => r
                        .with_offset(offset)
                        .with_timestamp(timestamp)
                        .with_leader_epoch(epoch),
                    Ok(None) => r.with_leader_epoch(epoch),
                    Err(e) => r.with_error_code(error_code(&e)),
                }
            });
        match topic_at.get(&name) {
            Some(&at) => topics[at].partitions.extend(partitions),
            None => {
                let partitions = partitions.collect();
                topic_at.insert(name, topics.len());
                topics.push(
                    ListOffsetsTopicResponse::default()
                        .with_name(t.name)
                        .with_partitions(partitions),
                )
            }
        }
    }
    ListOffsetsResponse::default().with_topics(topics)
}

fn offset_for(
    cluster: &Cluster,
    tp: &TopicPartition,
    timestamp: i64,
) -> kcodec_broker::Result<Option<(i64, i64)>> {
    let end = cluster.end_offset(tp)?;
    Ok(match timestamp {
        EARLIEST | EARLIEST_LOCAL => Some((0, -1)),
        LATEST => Some((end, -1)),
        MAX_TIMESTAMP => cluster
            .records(tp)?
            .iter()
            .fold(None, |best: Option<(i64, i64)>, r| match best {
                Some((_, ts)) if ts >= r.timestamp.unwrap_or(-1) => best,
                _ => Some((r.offset, r.timestamp.unwrap_or(-1))),
            }),
        ts if ts >= 0 => match cluster.offset_for_time(tp, ts)? {
            Some(offset) => {
                let found = cluster.read(tp, offset, 1)?;
                found.first().map(|r| (r.offset, r.timestamp.unwrap_or(-1)))
            }
            None => None,
        },
        _ => None,
    })
}
