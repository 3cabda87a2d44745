//! Drives kcodec codecs through `confluent_kafka`'s `MockProducer` and `MockConsumer`.
//!
//! `MockProducer` runs the serializers but keeps the typed records (`history()`); the bytes they
//! produced reach only the partitioner (Java's `MockProducer#partition` hands it `keyBytes` and
//! `valueBytes`), so a capturing partitioner records them. `MockConsumer` has no deserializers
//! (Java's neither): it is fed those bytes and headers, and each record it returns is decoded
//! with the wrapper's deserializer entry points.

#![allow(dead_code)]

use bytes::{Bytes, BytesMut};
use confluent_kafka::common::header::{Header as _, Headers as _, RecordHeader, RecordHeaders};
use confluent_kafka::common::serialization::{Deserializer as _, Serializer as CSerializer};
use confluent_kafka::common::{Cluster, Node, PartitionInfo, TopicPartition};
use confluent_kafka::consumer::{
    Consumer as _, ConsumerRecord, ConsumerRecordOptionsBuilder, MockConsumer,
};
use confluent_kafka::producer::{
    MockProducer, MockProducerOptionsBuilder, Partitioner, Producer as _, ProducerRecord,
    ProducerRecordOptionsBuilder,
};
use kcodec_codecs::{Deserializer, Headers, SerializeContext, Serialized, Serializer, Target};
use kcodec_confluent::Serde;
use std::collections::{HashMap, HashSet};
use std::fmt::Debug;
use std::sync::{Arc, Mutex};
use std::time::Duration;

pub const TOPIC: &str = "orders";

/// One record as the producer sent it: the serialized key and value and the record's headers.
#[derive(Debug, Clone)]
pub struct Sent {
    pub key: Option<Vec<u8>>,
    pub value: Option<Vec<u8>>,
    pub headers: Vec<(String, Option<Vec<u8>>)>,
}

type Captured = Arc<Mutex<Vec<(Option<Vec<u8>>, Option<Vec<u8>>)>>>;

/// A partitioner that records the serialized key and value of each record.
struct Capture(Captured);

impl<K, V> Partitioner<K, V> for Capture {
    fn partition(
        &self,
        _topic: &str,
        _key: Option<&K>,
        key_bytes: Option<&[u8]>,
        _value: Option<&V>,
        value_bytes: Option<&[u8]>,
        _cluster: &Cluster,
    ) -> i32 {
        self.0.lock().unwrap().push((
            key_bytes.map(<[u8]>::to_vec),
            value_bytes.map(<[u8]>::to_vec),
        ));
        0
    }
}

fn cluster() -> Cluster {
    let node = Node::new(0, "localhost".into(), 9092);
    let partition = PartitionInfo::new(
        TOPIC.into(),
        0,
        Some(node.clone()),
        vec![node.clone()],
        vec![node.clone()],
    );
    Cluster::new(
        None,
        vec![node],
        vec![partition],
        HashSet::new(),
        HashSet::new(),
    )
}

pub fn headers_of(h: &RecordHeaders) -> Vec<(String, Option<Vec<u8>>)> {
    h.iter()
        .map(|h| (h.key().to_owned(), h.value().map(<[u8]>::to_vec)))
        .collect()
}

pub fn record_headers(h: &[(&str, &[u8])]) -> RecordHeaders {
    RecordHeaders::with_header_iter(
        h.iter()
            .map(|(k, v)| RecordHeader::new((*k).to_owned(), Some(v.to_vec()))),
    )
}

/// A producer record for [`TOPIC`].
pub fn record<K, V>(
    key: Option<K>,
    value: Option<V>,
    headers: RecordHeaders,
) -> ProducerRecord<K, V> {
    ProducerRecord::with_options(
        ProducerRecordOptionsBuilder::new()
            .set_topic(TOPIC.into())
            .set_key(key)
            .set_value(value)
            .set_headers(Some(headers))
            .build()
            .unwrap(),
    )
    .unwrap()
}

/// Sends `records` through a `MockProducer` with these serializers; what each one became.
pub async fn produce<K, V>(
    key: impl CSerializer<K> + 'static,
    value: impl CSerializer<V> + 'static,
    records: Vec<ProducerRecord<K, V>>,
) -> Vec<Sent>
where
    K: Send + Sync + Clone + 'static,
    V: Send + Sync + Clone + 'static,
{
    let captured = Captured::default();
    let options = MockProducerOptionsBuilder::new()
        .set_cluster(cluster())
        .set_auto_complete(true)
        .set_partitioner(Some(Box::new(Capture(captured.clone()))))
        .set_key_serializer(key)
        .set_value_serializer(value)
        .build()
        .unwrap();
    let producer = MockProducer::with_options(options);
    for record in records {
        producer.send(record).await.unwrap();
    }
    let history = producer.history();
    let captured = captured.lock().unwrap().clone();
    assert_eq!(
        history.len(),
        captured.len(),
        "one partition() call per record"
    );
    history
        .iter()
        .zip(captured)
        .map(|(record, (key, value))| Sent {
            key,
            value,
            headers: headers_of(record.headers()),
        })
        .collect()
}

/// The same codec called directly through kcodec's async resolve: the bytes and headers it
/// writes for `value` given the record's `headers`.
pub async fn direct<T: ?Sized, S: Serializer<T>>(
    codec: &S,
    target: Target,
    headers: &[(String, Option<Vec<u8>>)],
    value: Option<&T>,
) -> (Option<Vec<u8>>, Vec<(String, Option<Vec<u8>>)>) {
    let mut ours: Headers = headers
        .iter()
        .map(|(k, v)| kcodec_codecs::Header {
            key: k.clone(),
            value: v.clone().map(Bytes::from),
        })
        .collect::<Vec<_>>()
        .into();
    let Some(value) = value else {
        return (None, headers.to_vec());
    };
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new(TOPIC, target, &mut ours);
    let written = kcodec_codecs::resolve::serialize(codec, value, &mut ctx, &mut out)
        .await
        .unwrap();
    let bytes = (written == Serialized::Data).then(|| out.to_vec());
    let headers = ours
        .iter()
        .map(|h| (h.key.clone(), h.value.as_ref().map(|v| v.to_vec())))
        .collect();
    (bytes, headers)
}

/// Feeds `sent` to a `MockConsumer` over one assigned partition and polls it back.
pub async fn consume(sent: &[Sent]) -> Vec<ConsumerRecord<Bytes, Bytes>> {
    let tp = TopicPartition::new(TOPIC.to_owned(), 0);
    let mut consumer = MockConsumer::<Bytes, Bytes>::new("earliest").unwrap();
    consumer.assign(vec![tp.clone()]).await.unwrap();
    consumer.update_beginning_offsets(HashMap::from([(tp, 0)]));
    for (offset, s) in sent.iter().enumerate() {
        let headers = RecordHeaders::with_header_iter(
            s.headers
                .iter()
                .map(|(k, v)| RecordHeader::new(k.clone(), v.clone())),
        );
        let options = ConsumerRecordOptionsBuilder::new()
            .set_topic(TOPIC)
            .set_partition(0)
            .set_offset(offset as i64)
            .set_key(s.key.clone().map(Bytes::from))
            .set_value(s.value.clone().map(Bytes::from))
            .set_headers(headers)
            .build()
            .unwrap();
        consumer
            .add_record(ConsumerRecord::with_options(options))
            .unwrap();
    }
    let records: Vec<_> = consumer
        .poll(Duration::ZERO)
        .await
        .unwrap()
        .into_iter()
        .collect();
    assert_eq!(records.len(), sent.len(), "the mock returns every record");
    records
}

/// Decodes a record's key or value with the wrapper, as `KafkaConsumer` does: `None` without
/// calling the codec for a null, else the `Bytes` entry point. The slice entry point with
/// headers must agree with it.
pub async fn decode<T, D>(serde: &Serde<D>, record: &ConsumerRecord<Bytes, Bytes>) -> Option<T>
where
    T: PartialEq + Debug + Send + 'static,
    D: Deserializer<T> + Send + Sync + 'static,
{
    let data = match serde.target() {
        Target::Key => record.key(),
        Target::Value => record.value(),
    }?;
    let mut headers = RecordHeaders::with_record_headers(record.headers());
    let from_bytes = serde
        .deserialize_with_headers_bytes(TOPIC, &mut headers, data)
        .await
        .unwrap();
    let from_slice = serde
        .deserialize_with_headers(TOPIC, &mut headers, &data[..])
        .await
        .unwrap();
    assert_eq!(
        from_bytes, from_slice,
        "both header-aware entry points agree"
    );
    assert_eq!(
        headers_of(&headers),
        headers_of(record.headers()),
        "deserializing leaves the headers alone"
    );
    Some(from_bytes)
}

/// The wrapper's `deserialize` (no headers) on a record's key or value.
pub async fn decode_without_headers<T, D>(
    serde: &Serde<D>,
    data: &[u8],
) -> Result<T, confluent_kafka::common::Error>
where
    T: Send + 'static,
    D: Deserializer<T> + Send + Sync + 'static,
{
    serde.deserialize(TOPIC, data).await
}
