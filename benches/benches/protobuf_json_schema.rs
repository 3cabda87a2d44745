//! Framed Protobuf and JSON Schema against the raw encoders they wrap (prost, serde_json) and
//! against schema_registry_converter's Protobuf encoder. Run with
//! `cargo bench -p kcodec-benches --bench protobuf_json_schema`.

use bytes::BytesMut;
use criterion::{Criterion, criterion_group, criterion_main};
use kcodec_codecs::json_schema::{
    JsonSchema, JsonSchemaDeserializer, JsonSchemaSerializer, JsonSchemaSerializerConfig,
};
use kcodec_codecs::protobuf::{ProtobufDeserializer, ProtobufSerializer, file_to_proto_text};
use kcodec_codecs::{
    DeserializeContext, Deserializer, Headers, SerializeContext, Serializer, Target, resolve,
};
use kcodec_registry::InMemoryRegistry;
use kcodec_registry::server::{DevServer, ServerOptions};
use kcodec_test_proto::oracle::{Order, Scalars, common::Address, order, scalars};
use prost::Message;
use prost_reflect::ReflectMessage;
use serde::{Deserialize, Serialize};
use std::hint::black_box;
use std::sync::Arc;

fn scalars() -> Scalars {
    Scalars {
        f_double: 3.25,
        f_float: -1.5,
        f_int32: -12345,
        f_int64: 9_876_543_210,
        f_uint32: 42,
        f_uint64: 1 << 40,
        f_sint32: -7,
        f_sint64: -(1 << 33),
        f_fixed32: 7,
        f_fixed64: 8,
        f_sfixed32: -9,
        f_sfixed64: -10,
        f_bool: true,
        f_string: "a medium-sized string value".into(),
        f_bytes: vec![1, 2, 3, 4, 5, 6, 7, 8],
        inner: Some(scalars::Inner {
            label: "inner".into(),
            delta: -3,
        }),
        f_optional: Some(5),
    }
}

fn order() -> Order {
    Order {
        id: "order-000123".into(),
        created_at: Some(prost_types::Timestamp {
            seconds: 1_700_000_000,
            nanos: 123_000_000,
        }),
        ship_to: Some(Address {
            street: "1 Main St".into(),
            city: "Springfield".into(),
            zip: 12345,
        }),
        priority: 2,
        status: 1,
        lines: (0..3)
            .map(|i| order::Line {
                sku: format!("SKU-{i}"),
                quantity: i + 1,
                price_cents: 1999,
            })
            .collect(),
        attributes: [("gift".to_owned(), "yes".to_owned())].into(),
        tags: vec!["a".into(), "b".into()],
        payment: Some(order::Payment::CardToken("tok_123".into())),
    }
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(1)
        .enable_all()
        .build()
        .unwrap()
}

fn warm<T: prost::Message + ReflectMessage + Default>(
    ser: &ProtobufSerializer<T>,
    value: &T,
) -> Vec<u8> {
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("bench", Target::Value, &mut headers);
    let _ = rt()
        .block_on(resolve::serialize(ser, value, &mut ctx, &mut out))
        .unwrap();
    out.to_vec()
}

fn protobuf_pair<T>(c: &mut Criterion, name: &str, value: T)
where
    T: prost::Message + ReflectMessage + Default,
{
    let ser = ProtobufSerializer::<T>::new(Arc::new(InMemoryRegistry::new()));
    let frame = warm(&ser, &value);
    let payload = value.encode_to_vec();
    let mut group = c.benchmark_group(format!("protobuf/{name}"));
    let mut buf = BytesMut::with_capacity(1024);
    group.bench_function("encode/prost", |b| {
        b.iter(|| {
            buf.clear();
            black_box(&value).encode(&mut buf).unwrap();
            black_box(&buf);
        })
    });
    let mut headers = Headers::new();
    group.bench_function("encode/kcodec", |b| {
        b.iter(|| {
            buf.clear();
            let mut ctx = SerializeContext::new("bench", Target::Value, &mut headers);
            let _ = ser
                .serialize(black_box(&value), &mut ctx, &mut buf)
                .unwrap();
            black_box(&buf);
        })
    });
    group.bench_function("decode/prost", |b| {
        b.iter(|| black_box(T::decode(black_box(&payload[..])).unwrap()))
    });
    let de = ProtobufDeserializer::<T>::new();
    let headers = Headers::new();
    let ctx = DeserializeContext::new("bench", Target::Value, &headers);
    group.bench_function("decode/kcodec", |b| {
        b.iter(|| {
            let v: T = de.deserialize(Some(black_box(&frame[..])), &ctx).unwrap();
            black_box(v)
        })
    });
    group.finish();
}

/// schema_registry_converter's `ProtoRawEncoder` frames prost bytes; its schema lookup is warmed
/// against kcodec's dev registry server on loopback, then served from its cache.
fn converter(c: &mut Criterion) {
    use schema_registry_converter::async_impl::proto_raw::ProtoRawEncoder;
    use schema_registry_converter::async_impl::schema_registry::SrSettings;
    use schema_registry_converter::schema_registry_common::{
        SchemaType, SubjectNameStrategy, SuppliedSchema,
    };
    let rt = rt();
    let server = rt
        .block_on(DevServer::start(
            "127.0.0.1:0".parse().unwrap(),
            Arc::new(InMemoryRegistry::new()),
            ServerOptions::default(),
        ))
        .unwrap();
    let value = scalars();
    let text = file_to_proto_text(value.descriptor().parent_file().file_descriptor_proto());
    let encoder = ProtoRawEncoder::new(SrSettings::new(server.url()));
    let strategy = SubjectNameStrategy::TopicNameStrategyWithSchema(
        "bench".into(),
        false,
        SuppliedSchema::new(
            Some("kcodec.oracle.Scalars".into()),
            SchemaType::Protobuf,
            text,
        ),
    );
    let payload = value.encode_to_vec();
    rt.block_on(encoder.encode(&payload, "kcodec.oracle.Scalars", strategy.clone()))
        .unwrap();
    let ser = ProtobufSerializer::<Scalars>::new(Arc::new(InMemoryRegistry::new()));
    warm(&ser, &value);
    let local = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    let mut group = c.benchmark_group("protobuf/vs_converter");
    group.bench_function("schema_registry_converter", |b| {
        b.iter(|| {
            let bytes = black_box(&value).encode_to_vec();
            let framed = local
                .block_on(encoder.encode(&bytes, "kcodec.oracle.Scalars", strategy.clone()))
                .unwrap();
            black_box(framed)
        })
    });
    // The same work for kcodec: encode into a fresh Vec-backed buffer each time.
    group.bench_function("kcodec", |b| {
        let mut headers = Headers::new();
        b.iter(|| {
            let mut buf = BytesMut::new();
            let mut ctx = SerializeContext::new("bench", Target::Value, &mut headers);
            let _ = ser
                .serialize(black_box(&value), &mut ctx, &mut buf)
                .unwrap();
            black_box(buf)
        })
    });
    group.finish();
    rt.block_on(server.shutdown());
}

#[derive(Serialize, Deserialize)]
struct Person {
    name: String,
    age: u32,
    email: Option<String>,
    tags: Vec<String>,
    address: Address2,
}

#[derive(Serialize, Deserialize)]
struct Address2 {
    street: String,
    city: String,
    zip: String,
}

const PERSON_SCHEMA: &str = r#"{"title":"bench.Person","type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0},"email":{"type":["string","null"]},"tags":{"type":"array","items":{"type":"string"}},"address":{"type":"object","properties":{"street":{"type":"string"},"city":{"type":"string"},"zip":{"type":"string"}},"required":["city"]}},"required":["name","age"]}"#;

fn json(c: &mut Criterion) {
    let person = Person {
        name: "Ann Example".into(),
        age: 42,
        email: Some("ann@example.com".into()),
        tags: vec!["a".into(), "bb".into(), "ccc".into()],
        address: Address2 {
            street: "1 Main St".into(),
            city: "Springfield".into(),
            zip: "12345".into(),
        },
    };
    let registry = Arc::new(InMemoryRegistry::new());
    let schema = JsonSchema::parse(PERSON_SCHEMA).unwrap();
    let make = |validate: bool| {
        let ser = JsonSchemaSerializer::<Person>::with_config(
            registry.clone(),
            schema.clone(),
            JsonSchemaSerializerConfig::new().validate(validate),
        )
        .unwrap();
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("bench", Target::Value, &mut headers);
        let _ = rt()
            .block_on(resolve::serialize(&ser, &person, &mut ctx, &mut out))
            .unwrap();
        (ser, out.to_vec())
    };
    let (lax, frame) = make(false);
    let (strict, _) = make(true);
    let payload = serde_json::to_vec(&person).unwrap();
    let mut group = c.benchmark_group("json_schema");
    let mut buf = BytesMut::with_capacity(1024);
    group.bench_function("encode/serde_json", |b| {
        b.iter(|| {
            buf.clear();
            serde_json::to_writer(bytes::BufMut::writer(&mut buf), black_box(&person)).unwrap();
            black_box(&buf);
        })
    });
    let mut headers = Headers::new();
    for (name, ser) in [
        ("encode/kcodec", &lax),
        ("encode/kcodec_validating", &strict),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                buf.clear();
                let mut ctx = SerializeContext::new("bench", Target::Value, &mut headers);
                let _ = ser
                    .serialize(black_box(&person), &mut ctx, &mut buf)
                    .unwrap();
                black_box(&buf);
            })
        });
    }
    group.bench_function("decode/serde_json", |b| {
        b.iter(|| black_box(serde_json::from_slice::<Person>(black_box(&payload)).unwrap()))
    });
    let headers = Headers::new();
    let ctx = DeserializeContext::new("bench", Target::Value, &headers);
    let plain = JsonSchemaDeserializer::<Person>::without_validation();
    let validating = JsonSchemaDeserializer::<Person>::with_schema(schema.clone());
    for (name, de) in [
        ("decode/kcodec", &plain),
        ("decode/kcodec_validating", &validating),
    ] {
        group.bench_function(name, |b| {
            b.iter(|| {
                let p: Person = de.deserialize(Some(black_box(&frame[..])), &ctx).unwrap();
                black_box(p)
            })
        });
    }
    group.finish();
}

fn protobuf(c: &mut Criterion) {
    protobuf_pair(c, "scalars", scalars());
    protobuf_pair(c, "order", order());
}

criterion_group!(benches, protobuf, converter, json);
criterion_main!(benches);
