//! Every implemented API answers at every version ApiVersions advertises (a response that
//! cannot be encoded at the request's version would close the connection instead).

use bytes::{BufMut, BytesMut};
use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::describe_configs_request::DescribeConfigsResource;
use kafka_protocol::messages::fetch_request::{FetchPartition, FetchTopic};
use kafka_protocol::messages::list_offsets_request::{ListOffsetsPartition, ListOffsetsTopic};
use kafka_protocol::messages::metadata_request::MetadataRequestTopic;
use kafka_protocol::messages::produce_request::{PartitionProduceData, TopicProduceData};
use kafka_protocol::messages::*;
use kafka_protocol::protocol::StrBytes;
use kcodec_broker::{Cluster, NewTopic};
use support::{call, name};
use tokio::net::TcpStream;

mod support;

/// The versions ApiVersions v3 advertises for `key`.
async fn advertised(s: &mut TcpStream, key: ApiKey) -> std::ops::RangeInclusive<i16> {
    let r = call(s, 3, ApiVersionsRequest::default()).await;
    let v = r
        .api_keys
        .iter()
        .find(|k| k.api_key == key as i16)
        .unwrap_or_else(|| panic!("{key:?} advertised"));
    v.min_version..=v.max_version
}

#[tokio::test]
async fn every_advertised_version_of_every_implemented_api_is_answered() {
    let cluster = Cluster::builder().brokers(2).build();
    cluster.create_topic(NewTopic::new("t", 2, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let mut empty_batch = BytesMut::new();
    empty_batch.put_slice(&[0; 8]);

    for v in advertised(&mut s, ApiKey::Metadata).await {
        let topics =
            (v >= 1).then(|| vec![MetadataRequestTopic::default().with_name(Some(name("t")))]);
        let r = call(&mut s, v, MetadataRequest::default().with_topics(topics)).await;
        assert_eq!(r.brokers.len(), 2, "Metadata v{v}");
    }
    for v in advertised(&mut s, ApiKey::Produce).await {
        let req = ProduceRequest::default().with_acks(1).with_topic_data(vec![
            TopicProduceData::default()
                .with_name(name("t"))
                .with_partition_data(vec![
                    PartitionProduceData::default()
                        .with_index(0)
                        .with_records(Some(empty_batch.clone().freeze())),
                ]),
        ]);
        let r = call(&mut s, v, req).await;
        // not a batch: INVALID_RECORD (87)
        assert_eq!(
            r.responses[0].partition_responses[0].error_code, 87,
            "Produce v{v}"
        );
    }
    for v in advertised(&mut s, ApiKey::Fetch).await {
        let req = FetchRequest::default().with_topics(vec![
            FetchTopic::default()
                .with_topic(name("t"))
                .with_partitions(vec![
                    FetchPartition::default().with_partition(0),
                    FetchPartition::default().with_partition(1),
                ]),
        ]);
        let r = call(&mut s, v, req).await;
        let codes: Vec<i16> = r.responses[0]
            .partitions
            .iter()
            .map(|p| p.error_code)
            .collect();
        assert_eq!(
            codes,
            vec![0, 6],
            "Fetch v{v}: partition 1 is led by broker 1"
        );
    }
    for v in advertised(&mut s, ApiKey::ListOffsets).await {
        let req = ListOffsetsRequest::default().with_topics(vec![
            ListOffsetsTopic::default()
                .with_name(name("t"))
                .with_partitions(vec![ListOffsetsPartition::default().with_timestamp(-1)]),
        ]);
        let r = call(&mut s, v, req).await;
        assert_eq!(r.topics[0].partitions[0].offset, 0, "ListOffsets v{v}");
    }
    for v in advertised(&mut s, ApiKey::InitProducerId).await {
        let r = call(
            &mut s,
            v,
            InitProducerIdRequest::default().with_transactional_id(None),
        )
        .await;
        assert_eq!(r.error_code, 0, "InitProducerId v{v}");
    }
    for v in advertised(&mut s, ApiKey::CreateTopics).await {
        let req = CreateTopicsRequest::default().with_topics(vec![
            CreatableTopic::default()
                .with_name(name(&format!("c{v}")))
                .with_num_partitions(1)
                .with_replication_factor(1),
        ]);
        let r = call(&mut s, v, req).await;
        assert_eq!(r.topics[0].error_code, 0, "CreateTopics v{v}");
    }
    for v in advertised(&mut s, ApiKey::CreatePartitions).await {
        let req = CreatePartitionsRequest::default().with_topics(vec![
            CreatePartitionsTopic::default()
                .with_name(name(&format!("c{}", 2 + v)))
                .with_count(2),
        ]);
        let r = call(&mut s, v, req).await;
        assert_eq!(r.results[0].error_code, 0, "CreatePartitions v{v}");
    }
    for v in advertised(&mut s, ApiKey::DeleteTopics).await {
        let topic = format!("c{}", v + 1);
        let req = if v >= 6 {
            DeleteTopicsRequest::default().with_topics(vec![
                DeleteTopicState::default().with_name(Some(name(&topic))),
            ])
        } else {
            DeleteTopicsRequest::default().with_topic_names(vec![name(&topic)])
        };
        let r = call(&mut s, v, req).await;
        assert_eq!(r.responses[0].error_code, 0, "DeleteTopics v{v} of {topic}");
    }
    for v in advertised(&mut s, ApiKey::DescribeConfigs).await {
        let req = DescribeConfigsRequest::default().with_resources(vec![
            DescribeConfigsResource::default()
                .with_resource_type(2)
                .with_resource_name(StrBytes::from_static_str("t")),
            DescribeConfigsResource::default()
                .with_resource_type(4)
                .with_resource_name(StrBytes::from_static_str("0")),
        ]);
        let r = call(&mut s, v, req).await;
        assert!(
            r.results
                .iter()
                .all(|x| x.error_code == 0 && !x.configs.is_empty()),
            "DescribeConfigs v{v}"
        );
    }
    for v in advertised(&mut s, ApiKey::DescribeCluster).await {
        let r = call(&mut s, v, DescribeClusterRequest::default()).await;
        assert_eq!(r.brokers.len(), 2, "DescribeCluster v{v}");
    }
    for v in advertised(&mut s, ApiKey::ApiVersions).await {
        let r = call(&mut s, v, ApiVersionsRequest::default()).await;
        assert_eq!(r.error_code, 0, "ApiVersions v{v}");
    }
}
