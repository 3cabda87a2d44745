//! One type per concept across codecs, the broker and the typed clients: the header a codec's
//! serializer writes is the header the broker stores and the typed consumer returns, with no
//! conversion on the way (`kcodec-record`'s `Headers`, shared, not copied), and the broker's
//! records are the typed clients' records with their default `Bytes` types.
#![cfg(feature = "memory")]

use kcodec_clients::memory::broker::{self, Cluster, ConsumerConfig, NewTopic, OffsetReset};
use kcodec_clients::memory::{MemoryConsumer, MemoryProducer};
use kcodec_clients::{Consumer, ConsumerRecord, Producer, ProducerRecord, TopicPartition};
use kcodec_codecs::builtin::StringSerde;
use kcodec_codecs::{
    Bytes, BytesMut, DeserializeContext, Deserializer, Error, Headers, SerializeContext,
    Serialized, Serializer,
};

/// A value serializer that writes a header once, as Confluent's `HeaderSchemaIdSerializer`
/// writes `__value_schema_id` (through `Headers.remove` + `add`, Kafka's `RecordHeaders`).
struct Traced;

impl Serializer<String> for Traced {
    fn serialize(
        &self,
        value: &String,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        ctx.headers_mut()
            .set("trace", Bytes::from(format!("len={}", value.len())));
        out.extend_from_slice(value.as_bytes());
        Ok(Serialized::Data)
    }
}

/// A value deserializer that reads the header back from its context.
struct Untraced;

impl Deserializer<String> for Untraced {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<String, Error> {
        let trace = ctx
            .headers()
            .last("trace")
            .expect("the serializer's header");
        let value = String::from_utf8(data.unwrap_or_default().to_vec()).unwrap();
        assert_eq!(trace, &Bytes::from(format!("len={}", value.len())));
        Ok(value)
    }
}

#[tokio::test]
async fn a_serializers_header_reaches_the_broker_and_the_typed_consumer_unconverted() {
    let cluster = Cluster::builder().build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, Traced);
    let mut record = ProducerRecord::new("t", "hello".to_string()).key("k".to_string());
    record.headers.add("app", "1");
    producer.send(record).await.unwrap();

    // What the broker stores: its records are the clients' records over bytes, their headers
    // the codecs' `Headers` (these bindings compile only because the types are the same).
    let stored: Vec<broker::ConsumerRecord> =
        cluster.records(&TopicPartition::new("t", 0)).unwrap();
    let stored: &ConsumerRecord<Option<Bytes>, Option<Bytes>> = &stored[0];
    let stored_headers: &Headers = &stored.headers;
    let keys: Vec<_> = stored_headers.iter().map(|h| h.key.as_str()).collect();
    assert_eq!(
        keys,
        ["app", "trace"],
        "the application's header, then the codec's"
    );
    assert_eq!(stored_headers.last("trace"), Some(&Bytes::from("len=5")));
    let sent: Vec<ProducerRecord> = producer.transport().history();
    let _: &broker::ProducerRecord = &sent[0];
    assert!(
        std::ptr::eq(sent[0].headers.as_ptr(), stored_headers.as_ptr()),
        "the broker stored the headers the serializer wrote, not a copy"
    );

    let config = ConsumerConfig::new("g").auto_offset_reset(OffsetReset::Earliest);
    let mut consumer: Consumer<String, String, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        Untraced,
    );
    consumer.subscribe(&["t"]).unwrap();
    let got: broker::ConsumerRecord<String, String> = consumer.recv().await.unwrap();
    assert_eq!((got.key.as_str(), got.value.as_str()), ("k", "hello"));
    assert_eq!(got.headers, *stored_headers);
    assert!(
        std::ptr::eq(got.headers.as_ptr(), stored_headers.as_ptr()),
        "the typed consumer returns the stored headers, not a copy"
    );
    assert_eq!(got.timestamp, stored.timestamp);
    assert_eq!(got.timestamp_type, Some(broker::TimestampType::CreateTime));
}
