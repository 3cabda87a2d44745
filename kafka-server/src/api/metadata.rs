//! Metadata (key 3): brokers, topics, partitions with their leaders and replicas.

use super::{Broker, ResponseError};
use kafka_protocol::messages::metadata_response::{
    MetadataResponseBroker, MetadataResponsePartition, MetadataResponseTopic,
};
use kafka_protocol::messages::{
    BrokerId, MetadataRequest, MetadataResponse, RequestHeader, TopicName,
};
use kafka_protocol::protocol::StrBytes;
use kcodec_broker::TopicDescription;
use uuid::Uuid;

/// Answers Metadata as Kafka's `KafkaApis.handleTopicMetadataRequest` does: every broker; the
/// topics asked for (all of them for a null list, or an empty one at v0), each with an error
/// code of its own. A topic that does not exist is created when the request allows it
/// (`allow_auto_topic_creation`, always at v0–3) and the cluster auto-creates topics; it is
/// then described at once (the in-memory cluster creates it synchronously, where Kafka first
/// answers `LEADER_NOT_AVAILABLE`).
pub(crate) fn handle(
    broker: &Broker,
    header: &RequestHeader,
    req: MetadataRequest,
) -> MetadataResponse {
    let version = header.request_api_version;
    let cluster = broker.cluster();
    let brokers = broker
        .shared
        .endpoints()
        .map(|(id, host, port)| {
            MetadataResponseBroker::default()
                .with_node_id(id)
                .with_host(host)
                .with_port(port)
        })
        .collect();
    let all = match &req.topics {
        None => true,
        Some(t) => t.is_empty() && version == 0,
    };
    let topics = if all {
        cluster
            .list_topics()
            .iter()
            .filter_map(|name| cluster.describe_topic(name).ok())
            .map(|d| describe(&d))
            .collect()
    } else {
        let auto_create = req.allow_auto_topic_creation || version < 4;
        req.topics
            .unwrap_or_default()
            .into_iter()
            .map(|t| match t.name {
                Some(name) => by_name(broker, name.0.as_str(), auto_create),
                None => by_id(broker, t.topic_id),
            })
            .collect()
    };
    let mut response = MetadataResponse::default()
        .with_brokers(brokers)
        .with_controller_id(BrokerId(0))
        .with_topics(topics);
    if version >= 2 {
        response.cluster_id = Some(StrBytes::from_string(broker.shared.cluster_id.clone()));
    }
    response
}

fn by_name(broker: &Broker, name: &str, auto_create: bool) -> MetadataResponseTopic {
    let cluster = broker.cluster();
    let described = cluster.describe_topic(name).or_else(|e| {
        if auto_create {
            cluster.auto_create_topic(name)?;
            cluster.describe_topic(name)
        } else if let Err(invalid) = kcodec_broker::validate_topic_name(name) {
            Err(invalid)
        } else {
            Err(e)
        }
    });
    match described {
        Ok(d) => describe(&d),
        Err(e) => MetadataResponseTopic::default()
            .with_name(Some(TopicName(StrBytes::from_string(name.to_owned()))))
            .with_error_code(super::error_code(&e)),
    }
}

fn by_id(broker: &Broker, id: Uuid) -> MetadataResponseTopic {
    let cluster = broker.cluster();
    cluster
        .list_topics()
        .iter()
        .filter_map(|name| cluster.describe_topic(name).ok())
        .find(|d| topic_id(d) == id)
        .map(|d| describe(&d))
        .unwrap_or_else(|| {
            MetadataResponseTopic::default()
                .with_topic_id(id)
                .with_error_code(ResponseError::UnknownTopicId.code())
        })
}

/// The topic id as a UUID.
pub(crate) fn topic_id(d: &TopicDescription) -> Uuid {
    Uuid::parse_str(&d.topic_id).unwrap_or_default()
}

fn describe(d: &TopicDescription) -> MetadataResponseTopic {
    let partitions = d
        .partitions
        .iter()
        .map(|p| {
            MetadataResponsePartition::default()
                .with_partition_index(p.partition)
                .with_leader_id(BrokerId(p.leader))
                .with_leader_epoch(0)
                .with_replica_nodes(p.replicas.iter().copied().map(BrokerId).collect())
                .with_isr_nodes(p.isr.iter().copied().map(BrokerId).collect())
        })
        .collect();
    MetadataResponseTopic::default()
        .with_name(Some(TopicName(StrBytes::from_string(d.name.clone()))))
        .with_topic_id(topic_id(d))
        .with_is_internal(d.internal)
        .with_partitions(partitions)
}
