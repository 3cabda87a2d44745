//! kcodec's codecs in Confluent's `KafkaProducer` and `KafkaConsumer` against a Kafka-protocol
//! broker at `KAFKA_BOOTSTRAP` (CI starts tansu there): the real send path (the serializer with
//! the record's headers, the schema registered on the first send) and the real fetch path (the
//! consumer's `Bytes` entry point with the fetched headers, nulls skipped).
//!
//! Without `KAFKA_BOOTSTRAP` the test prints why it skips, and fails if `KCODEC_REQUIRE_KAFKA=1`.
//! tansu drops an `ApiVersions` v5 request carrying a cluster id (KIP-1242), so the clients run
//! with `metadata.cluster.check.enable=false`; it has no KIP-848, the only group protocol of
//! `confluent_kafka`, so partitions are assigned by hand.

use confluent_kafka::admin::{AdminClient, AdminClientConfig, NewTopic};
use confluent_kafka::common::TopicPartition;
use confluent_kafka::common::header::{Header as _, Headers as _, RecordHeader, RecordHeaders};
use confluent_kafka::consumer::{Consumer as _, ConsumerConfig, KafkaConsumer};
use confluent_kafka::producer::{
    KafkaProducer, Producer as _, ProducerConfig, ProducerRecord, ProducerRecordOptionsBuilder,
};
use kcodec_codecs::avro::{AvroDeserializer, AvroSerializer, AvroSerializerConfig};
use kcodec_codecs::builtin::StringSerde;
use kcodec_codecs::subject::SchemaIdFormat;
use kcodec_confluent::Serde;
use kcodec_registry::{InMemoryRegistry, SchemaRegistry};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;
use std::sync::Arc;
use std::time::{Duration, Instant};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, kcodec_derive::Record)]
#[record(crate = "kcodec_codecs")]
struct Order {
    id: String,
    amount_cents: i64,
}

/// Bounds a failure only: the records normally arrive in milliseconds.
const DEADLINE: Duration = Duration::from_secs(60);

fn bootstrap() -> Option<String> {
    match std::env::var("KAFKA_BOOTSTRAP") {
        Ok(servers) if !servers.is_empty() => Some(servers),
        _ => {
            assert!(
                std::env::var("KCODEC_REQUIRE_KAFKA").as_deref() != Ok("1"),
                "KCODEC_REQUIRE_KAFKA=1 but KAFKA_BOOTSTRAP is not set"
            );
            eprintln!("skipped: set KAFKA_BOOTSTRAP to a Kafka-protocol broker (CI runs tansu)");
            None
        }
    }
}

fn props(bootstrap: &str, extra: &[(&str, &str)]) -> HashMap<String, String> {
    [
        ("bootstrap.servers", bootstrap),
        ("metadata.cluster.check.enable", "false"),
    ]
    .iter()
    .chain(extra)
    .map(|(k, v)| ((*k).to_owned(), (*v).to_owned()))
    .collect()
}

fn record(topic: &str, key: &str, value: Option<Order>) -> ProducerRecord<String, Order> {
    let headers = RecordHeaders::with_header_iter([RecordHeader::new(
        "trace".into(),
        Some(key.as_bytes().to_vec()),
    )]);
    ProducerRecord::with_options(
        ProducerRecordOptionsBuilder::new()
            .set_topic(topic.to_owned())
            .set_partition(Some(0))
            .set_key(Some(key.to_owned()))
            .set_value(value)
            .set_headers(Some(headers))
            .build()
            .unwrap(),
    )
    .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn avro_with_header_ids_through_a_broker() {
    let Some(servers) = bootstrap() else { return };
    let nanos = std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .unwrap()
        .as_nanos();
    let topic = format!("kcodec-confluent-{nanos}");

    let admin =
        AdminClient::create(AdminClientConfig::new(&props(&servers, &[])).unwrap()).unwrap();
    let new_topic = NewTopic::with_num_partitions_replication_factor(&topic, Some(1), Some(1));
    admin.create_topics(&[new_topic]).all().get().await.unwrap();
    admin.close().await;

    let registry = Arc::new(InMemoryRegistry::new());
    let config = AvroSerializerConfig::new().schema_id_format(SchemaIdFormat::Header);
    let value = AvroSerializer::<Order>::for_record_with_config(registry.clone(), config).unwrap();
    let producer = KafkaProducer::new(
        ProducerConfig::new(&props(&servers, &[])).unwrap(),
        Serde::key(StringSerde),
        Serde::value(value),
    )
    .unwrap();
    let orders = [
        Some(Order {
            id: "order-1".into(),
            amount_cents: 1250,
        }),
        None,
        Some(Order {
            id: "order-2".into(),
            amount_cents: -7,
        }),
    ];
    for (i, order) in orders.iter().enumerate() {
        let sent = producer.send(record(&topic, &format!("k{i}"), order.clone()));
        sent.await.unwrap().get().await.unwrap();
    }
    producer.close().await.unwrap();
    let guid = registry
        .latest(&format!("{topic}-value"))
        .await
        .unwrap()
        .guid
        .unwrap();

    let de = AvroDeserializer::<Order>::for_record(registry.clone()).unwrap();
    let mut consumer = KafkaConsumer::<String, Order>::new(
        ConsumerConfig::new(&props(
            &servers,
            &[
                ("auto.offset.reset", "earliest"),
                ("group.protocol", "consumer"),
            ],
        ))
        .unwrap(),
        Serde::key(StringSerde),
        Serde::value(de),
    )
    .unwrap();
    consumer
        .assign(vec![TopicPartition::new(topic.clone(), 0)])
        .await
        .unwrap();
    let start = Instant::now();
    let mut got = Vec::new();
    while got.len() < orders.len() && start.elapsed() < DEADLINE {
        for r in consumer.poll(Duration::from_millis(500)).await.unwrap() {
            let header = |name: &str| {
                r.headers()
                    .last_header(name)
                    .and_then(|h| h.value().map(<[u8]>::to_vec))
            };
            got.push((
                r.key().cloned(),
                r.value().cloned(),
                header("trace"),
                header("__value_schema_id"),
            ));
        }
    }
    consumer.close().await.unwrap();

    assert_eq!(
        got.len(),
        orders.len(),
        "every record within {DEADLINE:?}: {got:?}"
    );
    for (i, ((key, value, trace, id), order)) in got.into_iter().zip(&orders).enumerate() {
        let k = format!("k{i}");
        assert_eq!(key.as_deref(), Some(k.as_str()));
        assert_eq!(&value, order, "record {i}");
        assert_eq!(
            trace.as_deref(),
            Some(k.as_bytes()),
            "the record's own header kept"
        );
        match order {
            Some(_) => assert_eq!(id.as_deref().map(|v| &v[1..17]), Some(&guid.as_bytes()[..])),
            None => assert_eq!(id, None, "no schema id for a tombstone"),
        }
    }
}
