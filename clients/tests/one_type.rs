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

/// One place keeps what the application consumed: the transport's stored offsets (here the
/// broker consumer's, `enable.auto.offset.store=false`, librdkafka's `rd_kafka_offsets_store`).
/// The typed consumer's `consumed_positions`, `commit` and its rebalance context read them there;
/// Java's `commitSync()` commits the position after the records `poll` returned and after a
/// `seek` (`KafkaConsumer.commitSync`, `SubscriptionState.allConsumed`).
#[tokio::test]
async fn consumed_positions_are_the_transports_stored_offsets() {
    let cluster = Cluster::builder().build();
    cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    for v in ["a", "b", "c"] {
        let record = ProducerRecord::new("t", v.to_string()).key("k".to_string());
        producer.send(record).await.unwrap();
    }
    let tp = TopicPartition::new("t", 0);
    let config = ConsumerConfig::new("g")
        .auto_offset_reset(OffsetReset::Earliest)
        .enable_auto_commit(false);
    let mut consumer: Consumer<String, String, _> = Consumer::new(
        MemoryConsumer::new(&cluster, config).unwrap(),
        StringSerde,
        StringSerde,
    );
    consumer.assign(std::slice::from_ref(&tp)).unwrap();
    assert_eq!(consumer.recv().await.unwrap().value, "a");
    assert_eq!(consumer.recv().await.unwrap().value, "b");
    // The broker consumer fetched all three; two were returned.
    let stored = consumer.transport().inner().stored_offset(&tp);
    assert_eq!(stored, Some(2));
    assert_eq!(consumer.consumed_positions(), [(tp.clone(), 2)]);

    consumer.seek(&tp, 1).unwrap();
    assert_eq!(consumer.transport().inner().stored_offset(&tp), Some(1));
    consumer.commit().await.unwrap();
    let committed = consumer.committed(std::slice::from_ref(&tp)).await.unwrap();
    assert_eq!(
        committed,
        [(tp.clone(), Some(1))],
        "commitSync commits the sought position"
    );
    assert_eq!(consumer.recv().await.unwrap().value, "b");
    assert_eq!(consumer.consumed_positions(), [(tp, 2)]);
}
