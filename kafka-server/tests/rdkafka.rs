//! Interop with librdkafka (through rdkafka): a client no one here wrote.

use kcodec_broker::{Cluster, NewTopic};
use rdkafka::ClientConfig;
use rdkafka::consumer::{BaseConsumer, Consumer};
use std::time::Duration;

/// Bounds a failing wait only: every wait ends as soon as the awaited event happens.
const DEADLINE: Duration = Duration::from_secs(60);

/// A partition's id, leader and replicas.
type Placement = (i32, i32, Vec<i32>);

fn config(bootstrap: &str) -> ClientConfig {
    let mut c = ClientConfig::new();
    c.set("bootstrap.servers", bootstrap)
        .set("broker.address.family", "v4");
    c
}

/// Metadata as librdkafka reads it (`rd_kafka_metadata`): the three brokers on their own
/// listeners, and each partition's leader and replicas as the cluster placed them (replica `j`
/// of partition `p` on broker `(p + j) % 3`).
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn rdkafka_fetches_metadata_with_every_broker_and_the_clusters_leaders() {
    let cluster = Cluster::builder().brokers(3).build();
    cluster.create_topic(NewTopic::new("orders", 4, 2)).unwrap();
    let server = kcodec_kafka_server::serve(&cluster, "127.0.0.1:0")
        .await
        .unwrap();
    let bootstrap = server.local_addr().to_string();
    let (brokers, topics) = tokio::task::spawn_blocking(move || {
        let consumer: BaseConsumer = config(&bootstrap).create().unwrap();
        let md = consumer.fetch_metadata(None, DEADLINE).unwrap();
        let mut brokers: Vec<(i32, String, i32)> = md
            .brokers()
            .iter()
            .map(|b| (b.id(), b.host().to_owned(), b.port()))
            .collect();
        brokers.sort();
        let topics: Vec<(String, Vec<Placement>)> = md
            .topics()
            .iter()
            .map(|t| {
                assert!(t.error().is_none(), "{:?}", t.error());
                let parts = t
                    .partitions()
                    .iter()
                    .map(|p| (p.id(), p.leader(), p.replicas().to_vec()))
                    .collect();
                (t.name().to_owned(), parts)
            })
            .collect();
        (brokers, topics)
    })
    .await
    .unwrap();
    let expected: Vec<(i32, String, i32)> = server
        .broker_addrs()
        .iter()
        .enumerate()
        .map(|(i, a)| (i as i32, a.ip().to_string(), i32::from(a.port())))
        .collect();
    assert_eq!(brokers, expected);
    assert_eq!(
        topics,
        vec![(
            "orders".to_owned(),
            vec![
                (0, 0, vec![0, 1]),
                (1, 1, vec![1, 2]),
                (2, 2, vec![2, 0]),
                (3, 0, vec![0, 1]),
            ]
        )]
    );
    server.shutdown().await;
}
