//! Every kcodec codec through `confluent_kafka`'s `MockProducer` and `MockConsumer`: the bytes
//! and headers the wrapper writes are the ones the same codec writes when called directly (and
//! so through kcodec's other transports), and they read back through each deserializer entry
//! point. Prefix and header schema ids, null keys and values, schema registration on first use.

mod support;

use apache_avro::types::Value as AvroValue;
use bytes::Bytes;
use confluent_kafka::common::header::RecordHeaders;
use confluent_kafka::common::serialization::{Deserializer as _, Serializer as _};
use kcodec_codecs::avro::{
    AvroDeserializer, AvroSerializer, AvroSerializerConfig, GenericAvroDeserializer,
    GenericAvroSerializer, ParsedSchema,
};
use kcodec_codecs::builtin::{BytesSerde, I64Serde, StringSerde, UuidSerde};
use kcodec_codecs::json::JsonSerde;
use kcodec_codecs::json_schema::{
    JsonSchema, JsonSchemaDeserializer, JsonSchemaSerializer, JsonSchemaSerializerConfig,
};
use kcodec_codecs::protobuf::{ProtobufDeserializer, ProtobufSerializer, ProtobufSerializerConfig};
use kcodec_codecs::subject::SchemaIdFormat;
use kcodec_codecs::{Deserializer, Serializer, Target};
use kcodec_confluent::Serde;
use kcodec_registry::{InMemoryRegistry, SchemaRegistry};
use kcodec_test_proto::oracle::{Order as ProtoOrder, common::Address};
use serde::{Deserialize, Serialize};
use std::fmt::Debug;
use std::sync::Arc;
use support::{Sent, TOPIC, consume, decode, decode_without_headers, direct, produce, record};

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, kcodec_derive::Record)]
#[record(crate = "kcodec_codecs")]
struct Order {
    id: String,
    amount_cents: i64,
    tags: Vec<String>,
    note: Option<String>,
}

fn orders() -> Vec<Option<Order>> {
    vec![
        Some(Order {
            id: "order-1".into(),
            amount_cents: 1250,
            tags: vec!["a".into(), "b".into()],
            note: None,
        }),
        None,
        Some(Order {
            id: "order-2".into(),
            amount_cents: -7,
            tags: vec![],
            note: Some("gift ✓".into()),
        }),
    ]
}

/// The record headers every test record starts with (a producer's own tracing header).
fn trace() -> RecordHeaders {
    support::record_headers(&[("trace", b"t-1")])
}

/// Sends `values` (keys `k0`, `k1`, … as Java's `StringSerializer`) through the wrapper around
/// `wrapped`; checks each record's bytes and headers against `reference` (the same codec,
/// another instance over the same registry) called directly, reads every record back through
/// `MockConsumer` with `de`, and returns what was sent.
async fn round_trip<T, S, D>(wrapped: S, reference: &S, de: D, values: &[Option<T>]) -> Vec<Sent>
where
    T: Clone + PartialEq + Debug + Send + Sync + 'static,
    S: Serializer<T> + Send + Sync + 'static,
    D: Deserializer<T> + Send + Sync + 'static,
{
    let records = values
        .iter()
        .enumerate()
        .map(|(i, v)| record(Some(format!("k{i}")), v.clone(), trace()))
        .collect();
    let sent = produce(Serde::key(StringSerde), Serde::value(wrapped), records).await;
    let input = support::headers_of(&trace());
    for (s, (i, v)) in sent.iter().zip(values.iter().enumerate()) {
        assert_eq!(s.key.as_deref(), Some(format!("k{i}").as_bytes()));
        let (bytes, headers) = direct(reference, Target::Value, &input, v.as_ref()).await;
        assert_eq!(s.value, bytes, "record {i}: the codec's own bytes");
        assert_eq!(s.headers, headers, "record {i}: the codec's own headers");
    }
    let key_de = Serde::key(StringSerde);
    let value_de = Serde::value(de);
    for (r, (i, v)) in consume(&sent).await.iter().zip(values.iter().enumerate()) {
        assert_eq!(decode::<String, _>(&key_de, r).await, Some(format!("k{i}")));
        assert_eq!(
            &decode::<T, _>(&value_de, r).await,
            v,
            "record {i} reads back"
        );
    }
    sent
}

/// A prefix-framed value: magic byte 0, then the registered id.
fn assert_prefix(sent: &[Sent], id: u32) {
    for s in sent.iter().filter(|s| s.value.is_some()) {
        let value = s.value.as_deref().unwrap();
        assert_eq!(value[0], 0, "magic byte");
        assert_eq!(value[1..5], id.to_be_bytes(), "schema id");
        assert!(!s.headers.iter().any(|(k, _)| k == "__value_schema_id"));
    }
}

/// A header-framed value: `__value_schema_id` = 0x01 + the schema's GUID (then, for Protobuf,
/// the message indexes), appended after the record's own header; the payload has no prefix.
fn assert_header(sent: &[Sent], guid: uuid::Uuid) {
    for s in sent {
        let names: Vec<&str> = s.headers.iter().map(|(k, _)| k.as_str()).collect();
        if s.value.is_none() {
            assert_eq!(names, ["trace"], "no schema id for a null value");
            continue;
        }
        assert_eq!(names, ["trace", "__value_schema_id"]);
        let id = s.headers[1].1.as_deref().unwrap();
        assert_eq!(id[0], 1, "GUID format");
        assert_eq!(&id[1..17], guid.as_bytes());
    }
}

/// The first record's value framed as `format` asks, with `prefixed` after the 5-byte prefix or
/// `bare` as the whole value with the id in a header.
fn assert_framed(
    sent: &[Sent],
    format: SchemaIdFormat,
    registered: &kcodec_registry::RegisteredSchema,
    prefixed: &[u8],
    bare: &[u8],
) {
    let value = sent[0].value.as_deref().unwrap();
    match format {
        SchemaIdFormat::Prefix => {
            assert_prefix(sent, registered.id);
            assert_eq!(&value[5..], prefixed);
        }
        _ => {
            assert_header(sent, registered.guid.unwrap());
            assert_eq!(value, bare);
        }
    }
}

async fn latest(registry: &InMemoryRegistry, subject: &str) -> kcodec_registry::RegisteredSchema {
    registry.latest(subject).await.unwrap()
}

fn with_header_ids() -> AvroSerializerConfig {
    AvroSerializerConfig::new().schema_id_format(SchemaIdFormat::Header)
}

/// Java's `StringSerializer`/`LongSerializer`/`UUIDSerializer`/`ByteArraySerializer`, byte for
/// byte, with null keys and values passed through as null.
#[tokio::test]
async fn built_ins_are_javas_bytes_and_nulls_stay_null() {
    let uuid = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
    let records = vec![
        record(Some(uuid), Some(1250_i64), trace()),
        record(None, Some(-1_i64), trace()),
        record(Some(uuid), None, trace()),
    ];
    let sent = produce(Serde::key(UuidSerde), Serde::value(I64Serde), records).await;
    let text = b"01234567-89ab-cdef-0123-456789abcdef".to_vec();
    assert_eq!(sent[0].key, Some(text.clone()));
    assert_eq!(sent[0].value, Some(vec![0, 0, 0, 0, 0, 0, 0x04, 0xe2]));
    assert_eq!(sent[1].key, None, "a null key stays null");
    assert_eq!(sent[1].value, Some(vec![0xff; 8]));
    assert_eq!(sent[2].value, None, "a tombstone stays null");
    for s in &sent {
        assert_eq!(
            s.headers,
            support::headers_of(&trace()),
            "headers untouched"
        );
    }
    let (key, value) = (Serde::key(UuidSerde), Serde::value(I64Serde));
    let back = consume(&sent).await;
    assert_eq!(decode::<uuid::Uuid, _>(&key, &back[0]).await, Some(uuid));
    assert_eq!(decode::<i64, _>(&value, &back[0]).await, Some(1250));
    assert_eq!(decode::<uuid::Uuid, _>(&key, &back[1]).await, None);
    assert_eq!(decode::<i64, _>(&value, &back[1]).await, Some(-1));
    assert_eq!(decode::<i64, _>(&value, &back[2]).await, None);
    assert_eq!(
        decode_without_headers::<i64, _>(&value, &8_i64.to_be_bytes())
            .await
            .unwrap(),
        8
    );

    let bytes = Bytes::from_static(b"\x00raw\xff");
    let sent = produce(
        Serde::key(StringSerde),
        Serde::value(BytesSerde),
        vec![record(Some("k".to_owned()), Some(bytes.clone()), trace())],
    )
    .await;
    assert_eq!(sent[0].value.as_deref(), Some(&bytes[..]));
    let back = consume(&sent).await;
    let value = Serde::value(BytesSerde);
    assert_eq!(decode::<Bytes, _>(&value, &back[0]).await, Some(bytes));
}

/// The consumer's entry point hands the codec the fetched `Bytes` itself: `BytesSerde` returns
/// a view of it, no copy.
#[tokio::test]
async fn the_bytes_entry_point_copies_nothing() {
    let fetched = Bytes::from_static(b"....payload");
    let data = fetched.slice(4..);
    let value: Bytes = Serde::value(BytesSerde)
        .deserialize_with_headers_bytes(TOPIC, &mut RecordHeaders::new(), &data)
        .await
        .unwrap();
    assert_eq!(value.as_ptr(), data.as_ptr());
}

#[tokio::test]
async fn json() {
    let sent = round_trip(JsonSerde, &JsonSerde, JsonSerde, &orders()).await;
    assert_eq!(
        sent[0].value.as_deref(),
        Some(&br#"{"id":"order-1","amount_cents":1250,"tags":["a","b"],"note":null}"#[..])
    );
}

#[tokio::test]
async fn avro_typed_prefix_registers_on_first_use() {
    let registry = Arc::new(InMemoryRegistry::new());
    let ser = || AvroSerializer::<Order>::for_record(registry.clone()).unwrap();
    let (wrapped, reference) = (ser(), ser());
    assert!(registry.subjects(false).await.unwrap().is_empty());
    let de = AvroDeserializer::<Order>::for_record(registry.clone()).unwrap();
    let sent = round_trip(wrapped, &reference, de, &orders()).await;
    let registered = latest(&registry, "orders-value").await;
    assert_eq!(registered.version, 1, "registered once, on first use");
    assert_prefix(&sent, registered.id);
    // Confluent's Avro bytes after the prefix: id "order-1", 1250 as a zigzag long, ["a","b"],
    // null (union branch 0).
    assert_eq!(
        &sent[0].value.as_deref().unwrap()[5..],
        b"\x0eorder-1\xc4\x13\x04\x02a\x02b\x00\x00"
    );
}

#[tokio::test]
async fn avro_typed_header_ids() {
    let registry = Arc::new(InMemoryRegistry::new());
    let ser =
        || AvroSerializer::<Order>::for_record_with_config(registry.clone(), with_header_ids());
    let (wrapped, reference) = (ser().unwrap(), ser().unwrap());
    let de = AvroDeserializer::<Order>::for_record(registry.clone()).unwrap();
    let sent = round_trip(wrapped, &reference, de, &orders()).await;
    let registered = latest(&registry, "orders-value").await;
    assert_header(&sent, registered.guid.unwrap());
    assert_eq!(
        &sent[0].value.as_deref().unwrap()[..8],
        b"\x0eorder-1",
        "no prefix"
    );
}

const USER: &str = r#"{"type":"record","name":"User","namespace":"kcodec.test","fields":[
    {"name":"name","type":"string"},{"name":"id","type":"long"},
    {"name":"tags","type":{"type":"array","items":"string"}},
    {"name":"email","type":["null","string"],"default":null}]}"#;

fn users() -> Vec<Option<AvroValue>> {
    let user = |name: &str, id: i64, email: Option<&str>| {
        AvroValue::Record(vec![
            ("name".into(), AvroValue::String(name.into())),
            ("id".into(), AvroValue::Long(id)),
            (
                "tags".into(),
                AvroValue::Array(vec![
                    AvroValue::String("a".into()),
                    AvroValue::String("b".into()),
                ]),
            ),
            (
                "email".into(),
                match email {
                    None => AvroValue::Union(0, Box::new(AvroValue::Null)),
                    Some(e) => AvroValue::Union(1, Box::new(AvroValue::String(e.into()))),
                },
            ),
        ])
    };
    vec![
        Some(user("alice", 42, None)),
        None,
        Some(user("bob", 7, Some("b@x.y"))),
    ]
}

/// The generic codec over apache-avro's `Value`; the first record's bytes are the ones
/// Confluent's Python serializer writes for it (../shared/kafka-env-notes.md, checked there).
#[tokio::test]
async fn avro_generic_prefix_and_header() {
    let schema = ParsedSchema::parse(USER).unwrap();
    for format in [SchemaIdFormat::Prefix, SchemaIdFormat::Header] {
        let registry = Arc::new(InMemoryRegistry::new());
        let config = AvroSerializerConfig::new().schema_id_format(format);
        let ser =
            || GenericAvroSerializer::with_config(registry.clone(), schema.clone(), config.clone());
        let (wrapped, reference) = (ser().unwrap(), ser().unwrap());
        let de = GenericAvroDeserializer::new(registry.clone());
        let sent = round_trip(wrapped, &reference, de, &users()).await;
        let registered = latest(&registry, "orders-value").await;
        let payload = b"\x0aalice\x54\x04\x02a\x02b\x00\x00";
        assert_framed(&sent, format, &registered, payload, payload);
    }
}

fn proto_orders() -> Vec<Option<ProtoOrder>> {
    vec![
        Some(ProtoOrder {
            id: "order-1".into(),
            ship_to: Some(Address {
                city: "Oslo".into(),
                ..Default::default()
            }),
            tags: vec!["a".into()],
            ..Default::default()
        }),
        None,
        Some(ProtoOrder {
            id: "order-2".into(),
            ..Default::default()
        }),
    ]
}

#[tokio::test]
async fn protobuf_prefix_and_header() {
    use prost::Message as _;
    for format in [SchemaIdFormat::Prefix, SchemaIdFormat::Header] {
        let registry = Arc::new(InMemoryRegistry::new());
        let config = ProtobufSerializerConfig::new().schema_id_format(format);
        let ser =
            || ProtobufSerializer::<ProtoOrder>::with_config(registry.clone(), config.clone());
        let (wrapped, reference) = (ser().unwrap(), ser().unwrap());
        let sent = round_trip(
            wrapped,
            &reference,
            ProtobufDeserializer::new(),
            &proto_orders(),
        )
        .await;
        let registered = latest(&registry, "orders-value").await;
        let message = proto_orders()[0].as_ref().unwrap().encode_to_vec();
        // The first message of its file: message indexes [0], written as one 0 byte after the
        // prefix (in header mode, the header carries them).
        let prefixed = [&[0][..], &message].concat();
        assert_framed(&sent, format, &registered, &prefixed, &message);
        assert!(
            registry
                .subjects(false)
                .await
                .unwrap()
                .contains(&"kcodec/oracle/common.proto".to_owned()),
            "the import registered as a reference"
        );
    }
}

const ORDER_SCHEMA: &str = r#"{"title":"Order","type":"object","properties":{
    "id":{"type":"string"},"amount_cents":{"type":"integer"},
    "tags":{"type":"array","items":{"type":"string"}},"note":{"type":["string","null"]}},
    "required":["id","amount_cents"]}"#;

#[tokio::test]
async fn json_schema_prefix_and_header() {
    let schema = JsonSchema::parse(ORDER_SCHEMA).unwrap();
    for format in [SchemaIdFormat::Prefix, SchemaIdFormat::Header] {
        let registry = Arc::new(InMemoryRegistry::new());
        let config = JsonSchemaSerializerConfig::new().schema_id_format(format);
        let ser = || {
            JsonSchemaSerializer::<Order>::with_config(
                registry.clone(),
                schema.clone(),
                config.clone(),
            )
        };
        let (wrapped, reference) = (ser().unwrap(), ser().unwrap());
        let de = JsonSchemaDeserializer::<Order>::new(registry.clone());
        let sent = round_trip(wrapped, &reference, de, &orders()).await;
        let registered = latest(&registry, "orders-value").await;
        let json = br#"{"id":"order-1","amount_cents":1250,"tags":["a","b"],"note":null}"#;
        assert_framed(&sent, format, &registered, json, json);
    }
}

/// Schema ids in headers for the key and the value of one record: each its own header,
/// `__key_schema_id` then `__value_schema_id`, after the record's own.
#[tokio::test]
async fn key_and_value_header_ids_together() {
    let registry = Arc::new(InMemoryRegistry::new());
    let key = AvroSerializer::<Order>::for_record_with_config(registry.clone(), with_header_ids())
        .unwrap();
    let value =
        AvroSerializer::<Order>::for_record_with_config(registry.clone(), with_header_ids())
            .unwrap();
    let order = orders()[0].clone().unwrap();
    let sent = produce(
        Serde::key(key),
        Serde::value(value),
        vec![record(Some(order.clone()), Some(order.clone()), trace())],
    )
    .await;
    let names: Vec<&str> = sent[0].headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["trace", "__key_schema_id", "__value_schema_id"]);
    let key_guid = latest(&registry, "orders-key").await.guid.unwrap();
    assert_eq!(
        &sent[0].headers[1].1.as_deref().unwrap()[1..],
        key_guid.as_bytes()
    );
    let back = consume(&sent).await;
    let de = || AvroDeserializer::<Order>::for_record(registry.clone()).unwrap();
    assert_eq!(
        decode::<Order, _>(&Serde::key(de()), &back[0]).await,
        Some(order.clone())
    );
    assert_eq!(
        decode::<Order, _>(&Serde::value(de()), &back[0]).await,
        Some(order)
    );
}

/// A record that already carries a (stale) `__value_schema_id`: the codec replaces it
/// (`Headers::set`), and the wrapper writes the codec's headers back in the codec's order, as
/// the direct call leaves them.
#[tokio::test]
async fn a_stale_schema_id_header_is_replaced() {
    let registry = Arc::new(InMemoryRegistry::new());
    let ser =
        || AvroSerializer::<Order>::for_record_with_config(registry.clone(), with_header_ids());
    let (wrapped, reference) = (ser().unwrap(), ser().unwrap());
    let order = orders()[0].clone();
    let stale = support::record_headers(&[("__value_schema_id", b"\x01stale"), ("trace", b"t-1")]);
    let input = support::headers_of(&stale);
    let sent = produce(
        Serde::key(StringSerde),
        Serde::value(wrapped),
        vec![record(Some("k".to_owned()), order.clone(), stale)],
    )
    .await;
    let (bytes, headers) = direct(&reference, Target::Value, &input, order.as_ref()).await;
    assert_eq!(sent[0].value, bytes);
    assert_eq!(sent[0].headers, headers);
    let names: Vec<&str> = headers.iter().map(|(k, _)| k.as_str()).collect();
    assert_eq!(names, ["trace", "__value_schema_id"], "one id, the new one");
}

/// Headers are written back only when the codec changed them: read-only headers are fine for a
/// codec that writes none, and refused (with confluent's own error as the source) for one that
/// writes a schema id.
#[tokio::test]
async fn headers_are_written_only_when_changed() {
    let registry = Arc::new(InMemoryRegistry::new());
    let order = orders()[0].clone().unwrap();
    let mut headers = trace();
    headers.set_read_only();
    let prefix = Serde::value(AvroSerializer::<Order>::for_record(registry.clone()).unwrap());
    let bytes = prefix
        .serialize_with_headers(TOPIC, &mut headers, Some(&order))
        .await
        .unwrap();
    assert!(bytes.is_some());

    let header = Serde::value(
        AvroSerializer::<Order>::for_record_with_config(registry.clone(), with_header_ids())
            .unwrap(),
    );
    let err = header
        .serialize_with_headers(TOPIC, &mut headers, Some(&order))
        .await
        .unwrap_err();
    assert!(err.is_serialization_error(), "{err:?}");
    assert_eq!(
        err.message(),
        "cannot write the value serializer's headers to the record"
    );
    assert!(
        err.source().unwrap().is_local_illegal_state_error(),
        "{err:?}"
    );
    assert_eq!(support::headers_of(&headers), support::headers_of(&trace()));
}

/// Java's `HeaderSchemaIdSerializer.serialize` throws `SerializationException("Missing
/// headers")` when it has no headers to write the id to; so does `serialize` here. With ids in
/// the payload, `serialize` works, and `deserialize` (no headers) reads the prefix id.
#[tokio::test]
async fn serialize_without_headers() {
    let registry = Arc::new(InMemoryRegistry::new());
    let order = orders()[0].clone().unwrap();
    let header = Serde::value(
        AvroSerializer::<Order>::for_record_with_config(registry.clone(), with_header_ids())
            .unwrap(),
    );
    let err = header.serialize(TOPIC, Some(&order)).await.unwrap_err();
    assert!(err.is_serialization_error(), "{err:?}");
    assert!(
        err.message().starts_with("Missing headers"),
        "{}",
        err.message()
    );

    let prefix = Serde::value(AvroSerializer::<Order>::for_record(registry.clone()).unwrap());
    let bytes = prefix
        .serialize(TOPIC, Some(&order))
        .await
        .unwrap()
        .unwrap();
    let de = Serde::value(AvroDeserializer::<Order>::for_record(registry.clone()).unwrap());
    assert_eq!(
        decode_without_headers::<Order, _>(&de, &bytes)
            .await
            .unwrap(),
        order
    );
    assert_eq!(
        prefix.serialize(TOPIC, None).await.unwrap(),
        None,
        "null in, null out"
    );
}

/// A failure keeps kcodec's whole message chain: the serialization error carries kcodec's
/// message, and each of its causes is one source link with that cause's text.
#[tokio::test]
async fn errors_keep_kcodecs_message_chain() {
    // Schema id 99 is not in the (empty) registry.
    let registry = Arc::new(InMemoryRegistry::new());
    let de = AvroDeserializer::<Order>::for_record(registry.clone()).unwrap();
    let data = b"\x00\x00\x00\x00\x63\x02";
    let ctx_headers = kcodec_codecs::Headers::new();
    let ctx = kcodec_codecs::DeserializeContext::new(TOPIC, Target::Value, &ctx_headers);
    let kcodec_err =
        kcodec_codecs::resolve::deserialize::<Order, _>(&de, Some(&Bytes::from_static(data)), &ctx)
            .await
            .unwrap_err();
    let mut want = vec![kcodec_err.to_string()];
    let mut cause = std::error::Error::source(&kcodec_err);
    while let Some(e) = cause {
        want.push(e.to_string());
        cause = e.source();
    }
    assert!(want.len() >= 2, "a chain to compare: {want:?}");

    let err = Serde::value(de)
        .deserialize_with_headers_bytes(TOPIC, &mut RecordHeaders::new(), &Bytes::from_static(data))
        .await
        .unwrap_err();
    assert!(err.is_serialization_error(), "{err:?}");
    let mut got = vec![err.message().to_owned()];
    let mut link = err.source();
    while let Some(e) = link {
        got.push(e.message().to_owned());
        link = e.source();
    }
    assert_eq!(got, want);
}

/// `configure(configs, isKey)` — how Java's serdes learn key or value — is refused for the
/// other one than the wrapper was built for.
#[tokio::test]
async fn configure_for_the_other_target_is_refused() {
    use confluent_kafka::common::serialization::Serializer as S;
    let configs = std::collections::HashMap::new();
    let mut serde = Serde::value(StringSerde);
    S::<String>::configure(&mut serde, &configs, false)
        .await
        .unwrap();
    let err = S::<String>::configure(&mut serde, &configs, true)
        .await
        .unwrap_err();
    assert_eq!(
        err.message(),
        "this serde was built for the record value, not the key"
    );
    let mut serde = Serde::key(StringSerde);
    let err = confluent_kafka::common::serialization::Deserializer::<String>::configure(
        &mut serde, &configs, false,
    )
    .await
    .unwrap_err();
    assert_eq!(
        err.message(),
        "this serde was built for the record key, not the value"
    );
}
