//! The README's "With Confluent's Rust client" example, compiled (it needs a Kafka broker and a
//! schema registry to run), and the same serializers run through `MockProducer`.

use readme::*;

/// The README's code, line for line (the first test checks that it stays so; rustfmt would
/// indent it).
#[rustfmt::skip]
#[allow(dead_code)]
mod readme {
use kcodec::confluent::{Serde, confluent_kafka::producer::*};
use kcodec::{Record, avro::AvroSerializer, builtin::StringSerde, registry::http::HttpRegistry};
#[derive(Record, serde::Serialize)]
pub struct Order { id: String, amount_cents: i64 }

async fn readme() -> Result<(), Box<dyn std::error::Error>> {
let registry = std::sync::Arc::new(HttpRegistry::new("http://localhost:8081")?);
let value = Serde::value(AvroSerializer::<Order>::for_record(registry)?);
let props = [("bootstrap.servers".to_owned(), "localhost:9092".to_owned())].into();
let producer = KafkaProducer::new(ProducerConfig::new(&props)?, Serde::key(StringSerde), value)?;
let order = Order { id: "order-1".into(), amount_cents: 1250 };
let record = ProducerRecord::with_key("orders".into(), Some(order.id.clone()), Some(order));
Producer::send(&producer, record).await?.get().await?;
Ok(())
}

pub fn order() -> Order { Order { id: "order-1".into(), amount_cents: 1250 } }
}

#[test]
fn the_readme_shows_this_code() {
    let readme = include_str!("../README.md");
    let section = readme
        .split("## With Confluent's Rust client")
        .nth(1)
        .expect("the README section");
    let block = section
        .split("```rust,ignore\n")
        .nth(1)
        .and_then(|b| b.split("\n```").next())
        .expect("its code block");
    let this = include_str!("confluent_readme.rs");
    for line in block.lines().filter(|l| !l.is_empty()) {
        // `Order` is `pub` here, for the test below.
        let compiled = |l: &str| l == line || l.strip_prefix("pub ") == Some(line);
        assert!(
            this.lines().any(compiled),
            "README line not compiled here: {line}"
        );
    }
}

/// The README's value serializer, over the in-memory registry, through `MockProducer`: the
/// schema registers on the first send.
#[tokio::test]
async fn the_readme_serializers_send_confluent_avro() {
    use kcodec::avro::AvroSerializer;
    use kcodec::builtin::StringSerde;
    use kcodec::confluent::{Serde, confluent_kafka::producer::*};
    use kcodec::registry::{InMemoryRegistry, SchemaRegistry};
    let registry = std::sync::Arc::new(InMemoryRegistry::new());
    let value = Serde::value(AvroSerializer::<Order>::for_record(registry.clone()).unwrap());
    let options = MockProducerOptionsBuilder::new()
        .set_auto_complete(true)
        .set_key_serializer(Serde::key(StringSerde))
        .set_value_serializer(value)
        .build()
        .unwrap();
    let producer = MockProducer::with_options(options);
    assert!(registry.subjects(false).await.unwrap().is_empty());
    let record =
        ProducerRecord::with_key("orders".into(), Some("order-1".to_owned()), Some(order()));
    Producer::send(&producer, record).await.unwrap();
    let registered = registry.latest("orders-value").await.unwrap();
    assert_eq!(registered.version, 1, "registered on the first send");
}
