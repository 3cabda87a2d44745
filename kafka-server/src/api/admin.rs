//! The admin APIs: CreateTopics (19), DeleteTopics (20), CreatePartitions (37),
//! DescribeConfigs (32) and DescribeCluster (60).

use super::{Broker, ResponseError, error_code};
use kafka_protocol::messages::create_partitions_response::CreatePartitionsTopicResult;
use kafka_protocol::messages::create_topics_response::{
    CreatableTopicConfigs, CreatableTopicResult,
};
use kafka_protocol::messages::delete_topics_response::DeletableTopicResult;
use kafka_protocol::messages::describe_cluster_response::DescribeClusterBroker;
use kafka_protocol::messages::describe_configs_response::{
    DescribeConfigsResourceResult, DescribeConfigsResult,
};
use kafka_protocol::messages::{
    BrokerId, CreatePartitionsRequest, CreatePartitionsResponse, CreateTopicsRequest,
    CreateTopicsResponse, DeleteTopicsRequest, DeleteTopicsResponse, DescribeClusterRequest,
    DescribeClusterResponse, DescribeConfigsRequest, DescribeConfigsResponse, RequestHeader,
    TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kcodec_broker::{BrokerError, Cluster, NewTopic};
use std::collections::{HashMap, HashSet};
use std::hash::Hash;

fn text(s: impl Into<String>) -> StrBytes {
    StrBytes::from_string(s.into())
}

/// Kafka's topic-level configuration names (`LogConfig`, Kafka 3.x and 4.x): CreateTopics
/// refuses any other with `INVALID_CONFIG` (`Unknown topic config name: NAME`, as
/// `LogConfig.validateNames`).
pub const TOPIC_CONFIG_NAMES: &[&str] = &[
    "cleanup.policy",
    "compression.gzip.level",
    "compression.lz4.level",
    "compression.type",
    "compression.zstd.level",
    "delete.retention.ms",
    "file.delete.delay.ms",
    "flush.messages",
    "flush.ms",
    "follower.replication.throttled.replicas",
    "index.interval.bytes",
    "leader.replication.throttled.replicas",
    "local.retention.bytes",
    "local.retention.ms",
    "max.compaction.lag.ms",
    "max.message.bytes",
    "message.downconversion.enable",
    "message.format.version",
    "message.timestamp.after.max.ms",
    "message.timestamp.before.max.ms",
    "message.timestamp.difference.max.ms",
    "message.timestamp.type",
    "min.cleanable.dirty.ratio",
    "min.compaction.lag.ms",
    "min.insync.replicas",
    "preallocate",
    "remote.log.copy.disable",
    "remote.log.delete.on.disable",
    "remote.storage.enable",
    "retention.bytes",
    "retention.ms",
    "segment.bytes",
    "segment.index.bytes",
    "segment.jitter.ms",
    "segment.ms",
    "unclean.leader.election.enable",
];

/// Kafka's `Topic.CLUSTER_METADATA_TOPIC_NAME`, which CreateTopics never creates.
const CLUSTER_METADATA_TOPIC: &str = "__cluster_metadata";

/// Kafka's internal topics (`Topic.INTERNAL_TOPICS`): the coordinators' logs. This broker's
/// coordinators keep their state without a topic and are ready from the start, so, as on a
/// Kafka cluster whose coordinators have loaded, these names are taken: CreateTopics answers
/// `TOPIC_ALREADY_EXISTS` instead of creating an ordinary topic under them.
const INTERNAL_TOPICS: &[&str] = &[
    "__consumer_offsets",
    "__transaction_state",
    "__share_group_state",
];

/// The names (or ids) given more than once in a request (each once, in request order): Kafka's
/// controller answers each of them once with `INVALID_REQUEST` and acts on none of them.
fn duplicated<T: Eq + Hash + Clone>(items: impl Iterator<Item = T>) -> Vec<T> {
    let mut seen = HashSet::new();
    let mut duplicates = Vec::new();
    for item in items {
        if !seen.insert(item.clone()) && !duplicates.contains(&item) {
            duplicates.push(item);
        }
    }
    duplicates
}

/// `items` without the later occurrences of a name given more than once, and those names.
fn first_of_each<T>(items: Vec<T>, name: impl Fn(&T) -> &str) -> (Vec<T>, HashSet<String>) {
    let duplicates: HashSet<String> = duplicated(items.iter().map(&name))
        .into_iter()
        .map(str::to_owned)
        .collect();
    let mut answered = HashSet::new();
    let items = items
        .into_iter()
        .filter(|t| !duplicates.contains(name(t)) || answered.insert(name(t).to_owned()))
        .collect();
    (items, duplicates)
}

/// Answers CreateTopics as Kafka's controller does: `-1` partitions or replication factor take
/// the broker's defaults; manual replica assignments are not supported
/// (`INVALID_REPLICA_ASSIGNMENT`); with `validate_only` nothing is created. A name given more
/// than once gets one result, `INVALID_REQUEST` with `Duplicate topic name.`, and is not
/// created, while the other topics are (`ControllerApis.createTopics`); `__cluster_metadata` is
/// refused (`INVALID_REQUEST`, `Creation of internal topic __cluster_metadata is prohibited.`);
/// Kafka's internal topics already exist (see [`INTERNAL_TOPICS`]). Errors:
/// `TOPIC_ALREADY_EXISTS`, `INVALID_TOPIC_EXCEPTION`, `INVALID_PARTITIONS`,
/// `INVALID_REPLICATION_FACTOR`, `INVALID_CONFIG` (a name not in [`TOPIC_CONFIG_NAMES`] or a bad
/// value), each with Kafka's message.
pub(crate) fn create_topics(
    broker: &Broker,
    _header: &RequestHeader,
    req: CreateTopicsRequest,
) -> CreateTopicsResponse {
    let cluster = broker.cluster();
    let (default_partitions, default_replication) = cluster.topic_defaults();
    let (topics, duplicates) = first_of_each(req.topics, |t| t.name.0.as_str());
    let topics = topics
        .into_iter()
        .map(|t| {
            let name = t.name.0.to_string();
            let result = CreatableTopicResult::default()
                .with_name(t.name.clone())
                .with_num_partitions(-1)
                .with_replication_factor(-1);
            let fail = |code: ResponseError, message: String| {
                result
                    .clone()
                    .with_error_code(code.code())
                    .with_error_message(Some(text(message)))
            };
            if duplicates.contains(&name) {
                return fail(
                    ResponseError::InvalidRequest,
                    "Duplicate topic name.".into(),
                );
            }
            if name == CLUSTER_METADATA_TOPIC {
                return fail(
                    ResponseError::InvalidRequest,
                    format!("Creation of internal topic {CLUSTER_METADATA_TOPIC} is prohibited."),
                );
            }
            if INTERNAL_TOPICS.contains(&name.as_str()) {
                let e = BrokerError::TopicExists(name);
                return fail(ResponseError::TopicAlreadyExists, e.to_string());
            }
            if let Some(unknown) = t
                .configs
                .iter()
                .find(|c| !TOPIC_CONFIG_NAMES.contains(&c.name.as_str()))
            {
                return fail(
                    ResponseError::InvalidConfig,
                    format!("Unknown topic config name: {}", unknown.name.as_str()),
                );
            }
            if !t.assignments.is_empty() {
                return fail(
                    ResponseError::InvalidReplicaAssignment,
                    "Manual replica assignments are not supported by this broker.".into(),
                );
            }
            let partitions = if t.num_partitions == -1 {
                default_partitions
            } else {
                t.num_partitions
            };
            let replication = if t.replication_factor == -1 {
                default_replication
            } else {
                t.replication_factor
            };
            let mut topic = NewTopic::new(name.clone(), partitions, replication);
            for c in &t.configs {
                if let Some(v) = &c.value {
                    topic = topic.config(c.name.as_str(), v.as_str());
                }
            }
            let outcome = if req.validate_only {
                validate(cluster, &topic)
            } else {
                cluster.create_topic(topic)
            };
            match outcome {
                Err(e) => result
                    .with_error_code(error_code(&e))
                    .with_error_message(Some(text(e.to_string()))),
                Ok(()) => {
                    let id = cluster
                        .describe_topic(&name)
                        .map(|d| super::metadata::topic_id(&d))
                        .unwrap_or_default();
                    let configs = topic_configs(cluster, &name)
                        .into_iter()
                        .map(|c| {
                            CreatableTopicConfigs::default()
                                .with_name(text(c.name))
                                .with_value(Some(text(c.value)))
                                .with_config_source(c.source)
                        })
                        .collect();
                    result
                        .with_topic_id(id)
                        .with_num_partitions(partitions)
                        .with_replication_factor(replication)
                        .with_configs(Some(configs))
                }
            }
        })
        .collect();
    CreateTopicsResponse::default().with_topics(topics)
}

/// What `Cluster::create_topic` would refuse, without creating anything.
fn validate(cluster: &Cluster, t: &NewTopic) -> kcodec_broker::Result<()> {
    kcodec_broker::validate_topic_name(&t.name)?;
    if cluster.describe_topic(&t.name).is_ok() {
        return Err(BrokerError::TopicExists(t.name.clone()));
    }
    if t.num_partitions <= 0 {
        return Err(BrokerError::InvalidPartitions(
            "Number of partitions must be larger than 0.".into(),
        ));
    }
    if t.replication_factor <= 0 {
        return Err(BrokerError::InvalidReplicationFactor);
    }
    if i32::from(t.replication_factor) > cluster.brokers() {
        return Err(BrokerError::ReplicationFactorTooLarge {
            replication_factor: t.replication_factor,
            brokers: cluster.brokers(),
        });
    }
    Ok(())
}

/// What one entry of a DeleteTopics request names.
enum Named {
    Name(String),
    Id(uuid::Uuid),
}

/// What DeleteTopics does for one entry.
enum Step {
    /// Answered without deleting.
    Answer(DeletableTopicResult),
    /// Delete this topic, named by the request (`None`) or found by this id.
    Delete(String, Option<uuid::Uuid>),
}

/// Answers DeleteTopics as Kafka's controller does (`ControllerApis.deleteTopics`): topics by
/// name (every version) or by id (v6). A name or an id given more than once gets one result,
/// `INVALID_REQUEST` with `Duplicate topic name.` or `Duplicate topic id.`, and is not deleted;
/// an entry with neither a name nor an id, or with both, is refused (`INVALID_REQUEST`), and so
/// is a name whose topic the request also names by id (that topic is not deleted). Errors:
/// `UNKNOWN_TOPIC_OR_PARTITION`, `UNKNOWN_TOPIC_ID`.
pub(crate) fn delete_topics(
    broker: &Broker,
    header: &RequestHeader,
    req: DeleteTopicsRequest,
) -> DeleteTopicsResponse {
    let cluster = broker.cluster();
    let result = |name: Option<&str>, id: uuid::Uuid| {
        DeletableTopicResult::default()
            .with_name(name.map(|n| TopicName(text(n))))
            .with_topic_id(id)
    };
    let refuse = |name: Option<&str>, id: uuid::Uuid, code: ResponseError, message: String| {
        result(name, id)
            .with_error_code(code.code())
            .with_error_message(Some(text(message)))
    };
    let invalid = |name: Option<&str>, id: uuid::Uuid, message: &str| {
        refuse(name, id, ResponseError::InvalidRequest, message.to_owned())
    };
    // every entry in request order: what it names, or its answer when it names nothing usable
    let entries: Vec<Result<Named, DeletableTopicResult>> = req
        .topic_names
        .iter()
        .map(|n| Ok(Named::Name(n.0.to_string())))
        .chain(
            req.topics
                .iter()
                .map(|t| match (&t.name, t.topic_id.is_nil()) {
                    (None, true) => Err(invalid(
                        None,
                        t.topic_id,
                        "Neither topic name nor id were specified.",
                    )),
                    (None, false) => Ok(Named::Id(t.topic_id)),
                    (Some(n), true) => Ok(Named::Name(n.0.to_string())),
                    (Some(n), false) => Err(invalid(
                        Some(n.0.as_str()),
                        t.topic_id,
                        "You may not specify both topic name and topic id.",
                    )),
                }),
        )
        .collect();
    let names = entries.iter().filter_map(|e| match e {
        Ok(Named::Name(n)) => Some(n.as_str()),
        _ => None,
    });
    let duplicate_names: HashSet<&str> = duplicated(names).into_iter().collect();
    let ids = entries.iter().filter_map(|e| match e {
        Ok(Named::Id(id)) => Some(*id),
        _ => None,
    });
    let provided_ids: HashSet<uuid::Uuid> = ids.clone().collect();
    let duplicate_ids: HashSet<uuid::Uuid> = duplicated(ids).into_iter().collect();
    let by_id: HashMap<uuid::Uuid, String> = if provided_ids.is_empty() {
        HashMap::new()
    } else {
        cluster
            .list_topics()
            .into_iter()
            .filter_map(|n| {
                Some((
                    super::metadata::topic_id(&cluster.describe_topic(&n).ok()?),
                    n,
                ))
            })
            .collect()
    };
    let topic_id = |name: &str| {
        cluster
            .describe_topic(name)
            .ok()
            .map(|d| super::metadata::topic_id(&d))
    };
    let mut answered_names = HashSet::new();
    let mut answered_ids = HashSet::new();
    // ids whose topic the request also names by name: neither entry deletes it
    let mut cancelled = HashSet::new();
    let mut steps = Vec::with_capacity(entries.len());
    for entry in &entries {
        match entry {
            Err(answer) => steps.push(Step::Answer(answer.clone())),
            Ok(Named::Name(n)) if duplicate_names.contains(n.as_str()) => {
                if answered_names.insert(n.as_str()) {
                    steps.push(Step::Answer(invalid(
                        Some(n),
                        uuid::Uuid::nil(),
                        "Duplicate topic name.",
                    )));
                }
            }
            Ok(Named::Name(n)) => match topic_id(n) {
                Some(id) if provided_ids.contains(&id) => {
                    cancelled.insert(id);
                    steps.push(Step::Answer(invalid(
                        Some(n),
                        id,
                        "The provided topic name maps to an ID that was already supplied.",
                    )));
                }
                _ => steps.push(Step::Delete(n.clone(), None)),
            },
            Ok(Named::Id(id)) if duplicate_ids.contains(id) => {
                if answered_ids.insert(*id) {
                    steps.push(Step::Answer(invalid(None, *id, "Duplicate topic id.")));
                }
            }
            Ok(Named::Id(id)) => match by_id.get(id) {
                None => steps.push(Step::Answer(refuse(
                    None,
                    *id,
                    ResponseError::UnknownTopicId,
                    format!("Topic id {id} does not exist."),
                ))),
                Some(n) => steps.push(Step::Delete(n.clone(), Some(*id))),
            },
        }
    }
    let responses = steps
        .into_iter()
        .filter_map(|step| match step {
            Step::Answer(r) => Some(r),
            Step::Delete(_, Some(id)) if cancelled.contains(&id) => None,
            Step::Delete(n, id) => {
                let id = id.or_else(|| topic_id(&n)).unwrap_or_default();
                Some(match cluster.delete_topic(&n) {
                    Ok(()) => {
                        broker.shared.producers.topic_deleted(&n);
                        let id = if header.request_api_version >= 6 {
                            id
                        } else {
                            uuid::Uuid::nil()
                        };
                        result(Some(&n), id)
                    }
                    Err(e) => result(Some(&n), uuid::Uuid::nil())
                        .with_error_code(error_code(&e))
                        .with_error_message(Some(text(e.to_string()))),
                })
            }
        })
        .collect();
    DeleteTopicsResponse::default().with_responses(responses)
}

/// Answers CreatePartitions: raises each topic's partition count to `count` (with
/// `validate_only`, only checks it). A name given more than once gets one result,
/// `INVALID_REQUEST` with `Duplicate topic name.`, and is left as it is
/// (`ControllerApis.createPartitions`). Errors: `INVALID_PARTITIONS` (a count not above the
/// current one), `UNKNOWN_TOPIC_OR_PARTITION`, `INVALID_REPLICA_ASSIGNMENT` for manual
/// assignments (not supported).
pub(crate) fn create_partitions(
    broker: &Broker,
    _header: &RequestHeader,
    req: CreatePartitionsRequest,
) -> CreatePartitionsResponse {
    let cluster = broker.cluster();
    let (topics, duplicates) = first_of_each(req.topics, |t| t.name.0.as_str());
    let results = topics
        .into_iter()
        .map(|t| {
            let name = t.name.0.to_string();
            let outcome = if duplicates.contains(&name) {
                Err((
                    ResponseError::InvalidRequest.code(),
                    "Duplicate topic name.".to_owned(),
                ))
            } else if t.assignments.as_ref().is_some_and(|a| !a.is_empty()) {
                Err((
                    ResponseError::InvalidReplicaAssignment.code(),
                    "Manual replica assignments are not supported by this broker.".to_owned(),
                ))
            } else if req.validate_only {
                match cluster.partition_count(&name) {
                    Err(e) => Err((error_code(&e), e.to_string())),
                    Ok(cur) if t.count < cur => Err((
                        ResponseError::InvalidPartitions.code(),
                        format!("Topic currently has {cur} partitions, which is higher than the requested {}.", t.count),
                    )),
                    Ok(cur) if t.count == cur => Err((
                        ResponseError::InvalidPartitions.code(),
                        format!("Topic already has {cur} partitions."),
                    )),
                    Ok(_) => Ok(()),
                }
            } else {
                cluster
                    .create_partitions(&name, t.count)
                    .map_err(|e| (error_code(&e), e.to_string()))
            };
            let r = CreatePartitionsTopicResult::default().with_name(t.name);
            match outcome {
                Ok(()) => r,
                Err((code, message)) => r.with_error_code(code).with_error_message(Some(text(message))),
            }
        })
        .collect();
    CreatePartitionsResponse::default().with_results(results)
}

/// `ConfigResource.Type`.
const TOPIC: i8 = 2;
const BROKER: i8 = 4;
/// `DescribeConfigsResponse.ConfigSource`.
const DYNAMIC_TOPIC_CONFIG: i8 = 1;
const STATIC_BROKER_CONFIG: i8 = 4;
const DEFAULT_CONFIG: i8 = 5;
/// `ConfigDef.Type` as DescribeConfigs v3 numbers it.
const BOOLEAN: i8 = 1;
const STRING: i8 = 2;
const INT: i8 = 3;
const LONG: i8 = 5;
const LIST: i8 = 7;

/// One configuration as DescribeConfigs reports it.
struct Config {
    name: String,
    value: String,
    source: i8,
    kind: i8,
    read_only: bool,
}

/// A topic's configurations: Kafka's defaults for the common ones, overridden (and extended)
/// by what the topic was created with.
fn topic_configs(cluster: &Cluster, topic: &str) -> Vec<Config> {
    let set = cluster.describe_topic_configs(topic).unwrap_or_default();
    let defaults: [(&str, &str, i8); 9] = [
        ("cleanup.policy", "delete", LIST),
        ("compression.type", "producer", STRING),
        ("max.message.bytes", "1048588", INT),
        ("message.timestamp.type", "CreateTime", STRING),
        ("min.insync.replicas", "1", INT),
        ("retention.bytes", "-1", LONG),
        ("retention.ms", "604800000", LONG),
        ("segment.bytes", "1073741824", INT),
        ("unclean.leader.election.enable", "false", BOOLEAN),
    ];
    let mut out: Vec<Config> = defaults
        .iter()
        .map(|(name, value, kind)| match set.get(*name) {
            Some(v) => Config {
                name: (*name).to_owned(),
                value: v.clone(),
                source: DYNAMIC_TOPIC_CONFIG,
                kind: *kind,
                read_only: false,
            },
            None => Config {
                name: (*name).to_owned(),
                value: (*value).to_owned(),
                source: DEFAULT_CONFIG,
                kind: *kind,
                read_only: false,
            },
        })
        .collect();
    for (name, value) in &set {
        if !defaults.iter().any(|(n, _, _)| n == name) {
            out.push(Config {
                name: name.clone(),
                value: value.clone(),
                source: DYNAMIC_TOPIC_CONFIG,
                kind: STRING,
                read_only: false,
            });
        }
    }
    out.sort_by(|a, b| a.name.cmp(&b.name));
    out
}

fn broker_configs(broker: &Broker) -> Vec<Config> {
    let cluster = broker.cluster();
    let (partitions, replication) = cluster.topic_defaults();
    let c = |name: &str, value: String, source: i8, kind: i8, read_only: bool| Config {
        name: name.to_owned(),
        value,
        source,
        kind,
        read_only,
    };
    vec![
        c(
            "auto.create.topics.enable",
            cluster.auto_creates_topics().to_string(),
            STATIC_BROKER_CONFIG,
            BOOLEAN,
            true,
        ),
        c(
            "broker.id",
            broker.node_id.to_string(),
            STATIC_BROKER_CONFIG,
            INT,
            true,
        ),
        c(
            "default.replication.factor",
            replication.to_string(),
            STATIC_BROKER_CONFIG,
            INT,
            true,
        ),
        c(
            "message.max.bytes",
            super::produce::MESSAGE_MAX_BYTES.to_string(),
            DEFAULT_CONFIG,
            INT,
            true,
        ),
        c(
            "num.partitions",
            partitions.to_string(),
            STATIC_BROKER_CONFIG,
            INT,
            true,
        ),
        c(
            "socket.request.max.bytes",
            crate::MAX_REQUEST_SIZE.to_string(),
            DEFAULT_CONFIG,
            INT,
            true,
        ),
    ]
}

/// Answers DescribeConfigs for topics (Kafka's defaults for the common topic configurations
/// and what the topic was created with) and brokers (the settings this broker has); other
/// resource types get `INVALID_REQUEST`, an unknown topic `UNKNOWN_TOPIC_OR_PARTITION`.
pub(crate) fn describe_configs(
    broker: &Broker,
    _header: &RequestHeader,
    req: DescribeConfigsRequest,
) -> DescribeConfigsResponse {
    let cluster = broker.cluster();
    let results = req
        .resources
        .into_iter()
        .map(|res| {
            let name = res.resource_name.to_string();
            let result = DescribeConfigsResult::default()
                .with_resource_type(res.resource_type)
                .with_resource_name(res.resource_name.clone());
            let configs = match res.resource_type {
                TOPIC => match cluster.describe_topic(&name) {
                    Ok(_) => topic_configs(cluster, &name),
                    Err(e) => {
                        return result
                            .with_error_code(error_code(&e))
                            .with_error_message(Some(text(e.to_string())));
                    }
                },
                BROKER if name.is_empty() || name == broker.node_id.to_string() => broker_configs(broker),
                BROKER => {
                    return result
                        .with_error_code(ResponseError::InvalidRequest.code())
                        .with_error_message(Some(text(format!(
                            "Unexpected broker id, expected {} or empty string, but received {name}",
                            broker.node_id
                        ))));
                }
                other => {
                    return result
                        .with_error_code(ResponseError::InvalidRequest.code())
                        .with_error_message(Some(text(format!(
                            "Unsupported resource type {other}"
                        ))));
                }
            };
            // null or empty: every configuration
            let keys = res.configuration_keys.as_ref().filter(|k| !k.is_empty());
            let configs = configs
                .into_iter()
                .filter(|c| keys.is_none_or(|k| k.iter().any(|k| k.as_str() == c.name)))
                .map(|c| {
                    DescribeConfigsResourceResult::default()
                        .with_name(text(c.name))
                        .with_value(Some(text(c.value)))
                        .with_read_only(c.read_only)
                        .with_config_source(c.source)
                        .with_config_type(c.kind)
                })
                .collect();
            result.with_configs(configs)
        })
        .collect();
    DescribeConfigsResponse::default().with_results(results)
}

/// Answers DescribeCluster: the cluster id, broker 0 as the controller, every broker.
pub(crate) fn describe_cluster(
    broker: &Broker,
    _header: &RequestHeader,
    _req: DescribeClusterRequest,
) -> DescribeClusterResponse {
    let brokers = broker
        .shared
        .endpoints()
        .map(|(id, host, port)| {
            DescribeClusterBroker::default()
                .with_broker_id(id)
                .with_host(host)
                .with_port(port)
        })
        .collect();
    DescribeClusterResponse::default()
        .with_cluster_id(text(broker.shared.cluster_id.clone()))
        .with_controller_id(BrokerId(0))
        .with_brokers(brokers)
}
