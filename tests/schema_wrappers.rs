//! The resolve protocol through the wrappers kcodec ships: a `ListSerde` of Avro records through
//! the typed producer and consumer registers the element schema once and round-trips.
#![cfg(all(feature = "avro", feature = "clients"))]

use kcodec::avro::{AvroDeserializer, AvroSerializer, ParsedSchema};
use kcodec::broker::{Cluster, ConsumerConfig, NewTopic};
use kcodec::clients::TopicPartition;
use kcodec::prelude::*;
use kcodec::registry::{InMemoryRegistry, SchemaRegistry};
use serde::{Deserialize, Serialize};
use std::sync::Arc;
use std::time::{Duration, Instant};

const USER: &str = r#"{"type":"record","name":"User","namespace":"shop","fields":[{"name":"name","type":"string"}]}"#;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct User {
    name: String,
}

fn users(names: &[&str]) -> Vec<User> {
    names
        .iter()
        .map(|n| User {
            name: (*n).to_owned(),
        })
        .collect()
}

#[tokio::test]
async fn a_list_of_avro_records_registers_once_and_round_trips() {
    let registry = Arc::new(InMemoryRegistry::new());
    let cluster = Cluster::builder().brokers(1).build();
    cluster.create_topic(NewTopic::new("teams", 1, 1)).unwrap();
    let schema = ParsedSchema::parse(USER).unwrap();
    // Java's ListSerializer around a schema serializer: each entry is a framed Avro record.
    let values = ListSerde::variable(AvroSerializer::<User>::new(registry.clone(), schema));
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, values.clone());
    let sent = [users(&["ada", "bob"]), users(&["cy"])];
    for team in &sent {
        producer
            .send(ProducerRecord::new("teams", team.clone()).key("t".to_owned()))
            .await
            .unwrap();
    }
    // Registered once, under the element's subject: the entries' `Unresolved` reached the
    // producer, which resolved it through the list's `resolve`.
    assert_eq!(registry.subjects(false).await.unwrap(), ["teams-value"]);
    assert_eq!(registry.versions("teams-value", false).await.unwrap(), [1]);
    // Resolved for good: the synchronous path now frames without the registry.
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("teams", Target::Value, &mut headers);
    let written = Serializer::<Vec<User>>::serialize(&values, &sent[0], &mut ctx, &mut out);
    assert_eq!(written.unwrap(), Serialized::Data);

    let values = ListSerde::variable(AvroDeserializer::<User>::new(registry.clone()));
    let mut consumer: Consumer<String, Vec<User>, _> = Consumer::new(
        MemoryConsumer::new(&cluster, ConsumerConfig::without_group()).unwrap(),
        StringSerde,
        values,
    );
    let tp = TopicPartition::new("teams", 0);
    consumer.assign(std::slice::from_ref(&tp)).unwrap();
    consumer.seek(&tp, 0).unwrap();
    let mut received = Vec::new();
    // The deadline only bounds a failure; the records are there already.
    let deadline = Instant::now() + Duration::from_secs(30);
    while received.len() < sent.len() && Instant::now() < deadline {
        if let Some(record) = consumer.poll(Duration::from_millis(100)).await.unwrap() {
            received.push(record.value);
        }
    }
    assert_eq!(received, sent);
}
