//! The admin APIs' per-topic lists as Kafka's controller reads them (`ControllerApis`): a name
//! (or id) given twice is answered once and acted on never, the rest of the request proceeds;
//! Kafka's internal topic names are not created as ordinary topics.

use kafka_protocol::messages::create_partitions_request::CreatePartitionsTopic;
use kafka_protocol::messages::create_topics_request::CreatableTopic;
use kafka_protocol::messages::delete_topics_request::DeleteTopicState;
use kafka_protocol::messages::*;
use kcodec_broker::{Cluster, NewTopic};
use support::{call, name};
use tokio::net::TcpStream;

mod support;

fn topic(n: &str, partitions: i32) -> CreatableTopic {
    CreatableTopic::default()
        .with_name(name(n))
        .with_num_partitions(partitions)
        .with_replication_factor(1)
}

/// Each result as `(name, error code, error message)`.
fn create_results(r: &CreateTopicsResponse) -> Vec<(String, i16, Option<String>)> {
    r.topics
        .iter()
        .map(|t| {
            (
                t.name.0.to_string(),
                t.error_code,
                t.error_message
                    .as_ref()
                    .filter(|m| !m.is_empty())
                    .map(|m| m.to_string()),
            )
        })
        .collect()
}

fn duplicate(n: &str) -> (String, i16, Option<String>) {
    (n.into(), 42, Some("Duplicate topic name.".into()))
}

fn created(n: &str) -> (String, i16, Option<String>) {
    (n.into(), 0, None)
}

/// `ControllerApis.createTopics`: a name given more than once gets ONE result,
/// INVALID_REQUEST (42) with `Duplicate topic name.`, and is not created, while the other
/// topics of the request are; the same with `validate_only`, and at the oldest version served
/// (v2, which has error messages, as every version from v1). librdkafka fails the whole call on
/// a topic answered twice (`Broker returned topic X multiple times`).
#[tokio::test]
async fn create_topics_answers_a_duplicated_name_once_and_creates_the_others() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    for v in [2, 7] {
        let (a, b, dup) = (format!("a{v}"), format!("b{v}"), format!("dup{v}"));
        let r = call(
            &mut s,
            v,
            CreateTopicsRequest::default()
                .with_timeout_ms(1000)
                .with_topics(vec![
                    topic(&a, 1),
                    topic(&dup, 1),
                    topic(&b, 2),
                    topic(&dup, 2),
                    topic(&dup, 3),
                ]),
        )
        .await;
        assert_eq!(
            create_results(&r),
            vec![created(&a), duplicate(&dup), created(&b)],
            "v{v}"
        );
        assert_eq!(cluster.partition_count(&a).unwrap(), 1);
        assert_eq!(cluster.partition_count(&b).unwrap(), 2);
        assert!(cluster.describe_topic(&dup).is_err(), "v{v}: {dup} created");
    }

    let r = call(
        &mut s,
        7,
        CreateTopicsRequest::default()
            .with_validate_only(true)
            .with_topics(vec![topic("x", 1), topic("x", 1), topic("y", 1)]),
    )
    .await;
    assert_eq!(create_results(&r), vec![duplicate("x"), created("y")]);
    assert!(cluster.describe_topic("x").is_err());
    assert!(cluster.describe_topic("y").is_err(), "validate_only");
    server.shutdown().await;
}

/// Kafka's internal topics: `__cluster_metadata` is refused with INVALID_REQUEST (42) and
/// Kafka's message (`ControllerApis.createTopics`); `__consumer_offsets`,
/// `__transaction_state` and `__share_group_state` (`Topic.INTERNAL_TOPICS`) answer
/// TOPIC_ALREADY_EXISTS (36), as on a Kafka cluster whose coordinators are up
/// (`ReplicationControlManager.createTopics`), also with `validate_only`. None becomes an
/// ordinary topic; a topic beside them in the request is created.
#[tokio::test]
async fn create_topics_does_not_create_kafkas_internal_topics() {
    let cluster = Cluster::new();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let internal = [
        "__consumer_offsets",
        "__transaction_state",
        "__share_group_state",
    ];
    let exists = |n: &str| {
        (
            n.to_owned(),
            36,
            Some(format!("Topic '{n}' already exists.")),
        )
    };
    for validate_only in [true, false] {
        let mut topics: Vec<CreatableTopic> = internal.iter().map(|n| topic(n, 1)).collect();
        topics.push(topic("__cluster_metadata", 1));
        topics.push(topic("ordinary", 1));
        let r = call(
            &mut s,
            7,
            CreateTopicsRequest::default()
                .with_validate_only(validate_only)
                .with_topics(topics),
        )
        .await;
        let mut expected: Vec<_> = internal.iter().map(|n| exists(n)).collect();
        expected.push((
            "__cluster_metadata".into(),
            42,
            Some("Creation of internal topic __cluster_metadata is prohibited.".into()),
        ));
        expected.push(created("ordinary"));
        assert_eq!(
            create_results(&r),
            expected,
            "validate_only {validate_only}"
        );
    }
    assert_eq!(cluster.list_topics(), vec!["ordinary".to_owned()]);
    server.shutdown().await;
}

/// Each result as `(name, topic id, error code, error message)`.
type Deleted = (Option<String>, uuid::Uuid, i16, Option<String>);

fn delete_results(r: &DeleteTopicsResponse) -> Vec<Deleted> {
    r.responses
        .iter()
        .map(|t| {
            (
                t.name.as_ref().map(|n| n.0.to_string()),
                t.topic_id,
                t.error_code,
                t.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect()
}

fn id_of(cluster: &Cluster, topic: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(&cluster.describe_topic(topic).unwrap().topic_id).unwrap()
}

/// `ControllerApis.deleteTopics`: a name given more than once gets ONE result,
/// INVALID_REQUEST (42) with `Duplicate topic name.`, and is not deleted, while the other
/// topics are; v1–4 answer the code without a message (ErrorMessage is v5+). v6, by id: an id
/// given twice gets one `Duplicate topic id.`; a name whose topic the request also names by id
/// is refused (`The provided topic name maps to an ID that was already supplied.`) and that
/// topic is not deleted; an entry with neither or both is refused.
#[tokio::test]
async fn delete_topics_answers_a_duplicated_name_or_id_once_and_deletes_the_others() {
    let cluster = Cluster::new();
    for t in ["keep1", "gone1", "keep5", "gone5", "twice", "pair", "gone6"] {
        cluster.create_topic(NewTopic::new(t, 1, 1)).unwrap();
    }
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let nil = uuid::Uuid::nil();
    let by_names = |names: &[&str]| {
        DeleteTopicsRequest::default()
            .with_timeout_ms(1000)
            .with_topic_names(names.iter().map(|n| name(n)).collect())
    };

    let r = call(&mut s, 1, by_names(&["keep1", "keep1", "gone1"])).await;
    assert_eq!(
        delete_results(&r),
        vec![
            (Some("keep1".into()), nil, 42, None),
            (Some("gone1".into()), nil, 0, None),
        ]
    );
    let r = call(&mut s, 5, by_names(&["keep5", "gone5", "keep5"])).await;
    assert_eq!(
        delete_results(&r),
        vec![
            (
                Some("keep5".into()),
                nil,
                42,
                Some("Duplicate topic name.".into())
            ),
            (Some("gone5".into()), nil, 0, None),
        ]
    );
    assert_eq!(
        cluster.list_topics(),
        ["gone6", "keep1", "keep5", "pair", "twice"].map(String::from)
    );

    let (twice, pair, gone6) = (
        id_of(&cluster, "twice"),
        id_of(&cluster, "pair"),
        id_of(&cluster, "gone6"),
    );
    let by_id = |id: uuid::Uuid| DeleteTopicState::default().with_topic_id(id);
    let by_name = |n: &str| DeleteTopicState::default().with_name(Some(name(n)));
    let r = call(
        &mut s,
        6,
        DeleteTopicsRequest::default().with_topics(vec![
            by_id(twice),
            by_name("pair"),
            by_id(gone6),
            by_id(twice),
            by_id(pair),
            DeleteTopicState::default(),
            by_name("keep1").with_topic_id(id_of(&cluster, "keep1")),
        ]),
    )
    .await;
    let invalid = |n: Option<&str>, id, m: &str| (n.map(String::from), id, 42, Some(m.into()));
    assert_eq!(
        delete_results(&r),
        vec![
            invalid(None, twice, "Duplicate topic id."),
            invalid(
                Some("pair"),
                pair,
                "The provided topic name maps to an ID that was already supplied."
            ),
            (Some("gone6".into()), gone6, 0, None),
            invalid(None, nil, "Neither topic name nor id were specified."),
            invalid(
                Some("keep1"),
                id_of(&cluster, "keep1"),
                "You may not specify both topic name and topic id."
            ),
        ]
    );
    assert_eq!(
        cluster.list_topics(),
        ["keep1", "keep5", "pair", "twice"].map(String::from)
    );
    server.shutdown().await;
}

/// `ControllerApis.createPartitions`: a name given more than once gets ONE result,
/// INVALID_REQUEST (42) with `Duplicate topic name.`, and keeps its partitions; the other
/// topics grow.
#[tokio::test]
async fn create_partitions_answers_a_duplicated_name_once_and_grows_the_others() {
    let cluster = Cluster::new();
    cluster.create_topic(NewTopic::new("p", 1, 1)).unwrap();
    cluster.create_topic(NewTopic::new("q", 1, 1)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let mut s = TcpStream::connect(server.local_addr()).await.unwrap();
    let grow = |n: &str, count: i32| {
        CreatePartitionsTopic::default()
            .with_name(name(n))
            .with_count(count)
    };
    let r = call(
        &mut s,
        3,
        CreatePartitionsRequest::default()
            .with_timeout_ms(1000)
            .with_topics(vec![grow("p", 3), grow("q", 2), grow("p", 4)]),
    )
    .await;
    let results: Vec<(String, i16, Option<String>)> = r
        .results
        .iter()
        .map(|t| {
            (
                t.name.0.to_string(),
                t.error_code,
                t.error_message.as_ref().map(|m| m.to_string()),
            )
        })
        .collect();
    assert_eq!(
        results,
        vec![
            ("p".into(), 42, Some("Duplicate topic name.".into())),
            ("q".into(), 0, None),
        ]
    );
    assert_eq!(cluster.partition_count("p").unwrap(), 1);
    assert_eq!(cluster.partition_count("q").unwrap(), 2);
    server.shutdown().await;
}
