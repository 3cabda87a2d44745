//! Protobuf against Confluent's official Python `ProtobufSerializer` (confluent-kafka 2.16.1):
//! the fixtures in `tests/fixtures/oracle/protobuf/` (made by `tools/oracle/generate.py` from
//! `tools/oracle/proto/`) must come out of kcodec's serializer byte for byte, with the same
//! registered schema, references, ids and GUIDs, and decode back to the same values, both with
//! the generated type and dynamically from the writer schema alone.
#![cfg(feature = "protobuf")]

use bytes::BytesMut;
use kcodec_codecs::protobuf::{
    ProtobufDeserializer, ProtobufDynamicDeserializer, ProtobufSerializer, ProtobufSerializerConfig,
};
use kcodec_codecs::subject::SchemaIdFormat;
use kcodec_codecs::{
    DeserializeContext, Deserializer, Headers, SerializeContext, Serialized, Target, resolve,
};
use kcodec_registry::memory::Change;
use kcodec_registry::strategy::{RecordNameStrategy, TopicRecordNameStrategy};
use kcodec_registry::{InMemoryRegistry, SchemaReference, SchemaRegistry, SchemaType};
use kcodec_test_proto::oracle::{Order, Scalars, Second, order, scalars, second};
use prost_reflect::{DynamicMessage, ReflectMessage};
use serde_json::Value;
use std::sync::Arc;

struct Fixture {
    json: Value,
}

impl Fixture {
    fn s(&self, key: &str) -> &str {
        self.json[key].as_str().unwrap_or_else(|| panic!("{key}"))
    }
    fn case(&self) -> &str {
        self.s("case")
    }
    fn target(&self) -> Target {
        if self.json["is_key"].as_bool().unwrap() {
            Target::Key
        } else {
            Target::Value
        }
    }
    fn config(&self, key: &str) -> Option<&Value> {
        self.json["config"].get(key)
    }
}

fn fixtures() -> Vec<Fixture> {
    let dir = concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/../tests/fixtures/oracle/protobuf"
    );
    let mut out: Vec<Fixture> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| Fixture {
            json: serde_json::from_slice(&std::fs::read(e.unwrap().path()).unwrap()).unwrap(),
        })
        .collect();
    out.sort_by(|a, b| a.case().cmp(b.case()));
    out
}

fn register_change(entry: &Value, subject: &str, version: i64, id: i64, guid: &str) -> Change {
    let references = entry["references"]
        .as_array()
        .map(|refs| {
            refs.iter()
                .map(|r| SchemaReference {
                    name: r["name"].as_str().unwrap().to_owned(),
                    subject: r["subject"].as_str().unwrap().to_owned(),
                    version: r["version"].as_i64().unwrap() as i32,
                })
                .collect()
        })
        .unwrap_or_default();
    Change::Register {
        subject: subject.to_owned(),
        version: version as i32,
        id: id as u32,
        guid: guid.parse().unwrap(),
        schema_type: SchemaType::Protobuf,
        schema: entry["schema"].as_str().unwrap().to_owned(),
        references,
    }
}

/// A registry holding what the Python client's registry held: references first, then the schema,
/// with the same ids and GUIDs — unless `auto_register` cases should register it themselves.
fn registry(f: &Fixture, preload_root: bool) -> Arc<InMemoryRegistry> {
    let mut changes = Vec::new();
    for r in f.json["references"].as_array().unwrap() {
        changes.push(register_change(
            r,
            r["subject"].as_str().unwrap(),
            r["version"].as_i64().unwrap(),
            r["schema_id"].as_i64().unwrap(),
            r["guid"].as_str().unwrap(),
        ));
    }
    if preload_root {
        changes.push(register_change(
            &f.json,
            f.s("subject"),
            f.json["version"].as_i64().unwrap(),
            f.json["schema_id"].as_i64().unwrap(),
            f.s("guid"),
        ));
    }
    Arc::new(InMemoryRegistry::replay(changes).unwrap())
}

fn config(f: &Fixture, format: SchemaIdFormat) -> ProtobufSerializerConfig {
    let mut config = ProtobufSerializerConfig::new().schema_id_format(format);
    match f
        .config("subject.name.strategy.type")
        .and_then(Value::as_str)
    {
        Some("RECORD") => config = config.subject_name_strategy(RecordNameStrategy),
        Some("TOPIC_RECORD") => config = config.subject_name_strategy(TopicRecordNameStrategy),
        _ => {}
    }
    if let Some(on) = f.config("auto.register.schemas").and_then(Value::as_bool) {
        config = config.auto_register_schemas(on);
    }
    if let Some(on) = f.config("use.latest.version").and_then(Value::as_bool) {
        config = config.use_latest_version(on);
    }
    config
}

fn headers_of(frame: &Value) -> Headers {
    let mut headers = Headers::new();
    for (k, v) in frame["headers"].as_object().unwrap() {
        headers.add(k.clone(), hex::decode(v.as_str().unwrap()).unwrap());
    }
    headers
}

fn value_of<T: ReflectMessage + Default>(f: &Fixture) -> T {
    let desc = T::default().descriptor();
    DynamicMessage::deserialize(desc, f.json["value"].clone())
        .unwrap()
        .transcode_to::<T>()
        .unwrap()
}

/// Whether two payloads hold the same fields, up to the order of map entries (protobuf leaves
/// it unspecified: Python writes hash order, prost a HashMap's).
fn same_message<T: prost::Message + Default + PartialEq>(a: &[u8], b: &[u8]) -> bool {
    T::decode(a).ok() == T::decode(b).ok()
}

async fn check<T>(f: &Fixture)
where
    T: prost::Message + ReflectMessage + Default + PartialEq + Clone,
{
    let case = f.case();
    let value: T = value_of(f);
    let topic = f.s("topic");
    let target = f.target();
    let use_latest = f.config("use.latest.version").and_then(Value::as_bool) == Some(true);
    assert_eq!(
        f.s("message"),
        T::default().descriptor().full_name(),
        "{case}"
    );
    for frame in f.json["frames"].as_array().unwrap() {
        let mode = frame["id_mode"].as_str().unwrap();
        let format = if mode == "header" {
            SchemaIdFormat::Header
        } else {
            SchemaIdFormat::Prefix
        };
        let want = hex::decode(frame["hex"].as_str().unwrap()).unwrap();
        let want_headers = headers_of(frame);

        // Encode. In prefix mode kcodec registers the file (and its references) in an empty
        // registry and must get the same ids; in header mode the Python client's schema (with its
        // pinned GUID) is there beforehand and kcodec's registration must find it, not add a
        // version. With use.latest.version the schema is always there beforehand.
        let preload = use_latest || format == SchemaIdFormat::Header;
        let registry = registry(f, preload);
        let ser =
            ProtobufSerializer::<T>::with_config(registry.clone(), config(f, format)).unwrap();
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new(topic, target, &mut headers);
        let written = resolve::serialize(&ser, &value, &mut ctx, &mut out)
            .await
            .unwrap_or_else(|e| panic!("{case}/{mode}: {e}"));
        assert_eq!(written, Serialized::Data);
        if out[..] != want[..] {
            // Only map entry order may differ; the framing must not.
            let payload_at = want.len() - value.encoded_len();
            assert_eq!(out.len(), want.len(), "{case}/{mode}");
            assert_eq!(
                out[..payload_at],
                want[..payload_at],
                "{case}/{mode} framing"
            );
            assert!(
                same_message::<T>(&out[payload_at..], &want[payload_at..]),
                "{case}/{mode}: {} != {}",
                hex::encode(&out),
                hex::encode(&want)
            );
        }
        let got_headers: Vec<_> = headers
            .iter()
            .map(|h| (h.key.clone(), h.value.clone()))
            .collect();
        let want_headers_v: Vec<_> = want_headers
            .iter()
            .map(|h| (h.key.clone(), h.value.clone()))
            .collect();
        assert_eq!(got_headers, want_headers_v, "{case}/{mode} headers");
        // The registry now holds the Python client's schema under the same ids.
        assert_eq!(
            registry.versions(f.s("subject"), false).await.unwrap(),
            vec![1],
            "{case}/{mode}"
        );
        if !use_latest {
            let registered = registry.latest(f.s("subject")).await.unwrap();
            assert_eq!(
                registered.id as i64,
                f.json["schema_id"].as_i64().unwrap(),
                "{case}"
            );
            assert_eq!(registered.schema.schema, f.s("schema"), "{case}");
            let refs: Vec<_> = registered
                .schema
                .references
                .iter()
                .map(|r| (r.name.clone(), r.subject.clone(), r.version as i64))
                .collect();
            let want_refs: Vec<_> = f.json["references"]
                .as_array()
                .unwrap()
                .iter()
                .map(|r| {
                    (
                        r["name"].as_str().unwrap().to_owned(),
                        r["subject"].as_str().unwrap().to_owned(),
                        r["version"].as_i64().unwrap(),
                    )
                })
                .collect();
            assert_eq!(refs, want_refs, "{case}");
        }

        // Decode the Python client's bytes: typed, then dynamically from the writer schema.
        let ctx = DeserializeContext::new(topic, target, &want_headers);
        let typed: T = ProtobufDeserializer::<T>::new()
            .deserialize(Some(&want), &ctx)
            .unwrap();
        assert!(typed == value, "{case}/{mode}: typed decode");
        let registry = registry_with_root(f);
        let dynamic = ProtobufDynamicDeserializer::new(registry);
        let bytes = bytes::Bytes::from(want.clone());
        let json: Value = resolve::deserialize(&dynamic, Some(&bytes), &ctx)
            .await
            .unwrap_or_else(|e| panic!("{case}/{mode}: {e}"));
        assert_eq!(json, f.json["value"], "{case}/{mode}: dynamic JSON");
        let message: DynamicMessage = resolve::deserialize(&dynamic, Some(&bytes), &ctx)
            .await
            .unwrap();
        assert_eq!(message.descriptor().full_name(), f.s("message"));
    }
}

fn registry_with_root(f: &Fixture) -> Arc<dyn SchemaRegistry> {
    registry(f, true)
}

#[tokio::test]
async fn python_protobuf_fixtures_byte_for_byte() {
    let all = fixtures();
    assert!(all.len() >= 10, "fixtures missing: {}", all.len());
    let mut seen = Vec::new();
    for f in &all {
        match f.s("message") {
            "kcodec.oracle.Scalars" => check::<Scalars>(f).await,
            "kcodec.oracle.Scalars.Inner" => check::<scalars::Inner>(f).await,
            "kcodec.oracle.Second" => check::<Second>(f).await,
            "kcodec.oracle.Second.Mid.Deep" => check::<second::mid::Deep>(f).await,
            "kcodec.oracle.Order" => check::<Order>(f).await,
            other => panic!("{}: no generated type for {other}", f.case()),
        }
        seen.push(f.case().to_owned());
    }
    // The required vectors: [0], [1], nested [0,0], an import (reference), Timestamp.
    for required in [
        "pb_scalars_index_0",
        "pb_second_index_1",
        "pb_nested_index_0_0",
        "pb_import_reference",
        "pb_deep_index_1_0_0",
    ] {
        assert!(seen.iter().any(|c| c == required), "missing {required}");
    }
}

#[path = "support/python.rs"]
mod python;

use kcodec_test_proto::oracle::common::{Address, Priority};
use proptest::prelude::*;
use proptest::strategy::ValueTree;
use proptest::test_runner::TestRunner;

fn orders() -> Vec<Order> {
    let base = Order {
        id: "o-ü✓".into(),
        created_at: Some(prost_types::Timestamp {
            seconds: -62_135_596_800 + 1,
            nanos: 5_000,
        }),
        ship_to: Some(Address {
            street: "1 Main".into(),
            city: "Zürich".into(),
            zip: -1,
        }),
        priority: Priority::High as i32,
        status: order::Status::Open as i32,
        lines: vec![
            order::Line {
                sku: "A".into(),
                quantity: u32::MAX,
                price_cents: i64::MIN,
            },
            order::Line::default(),
        ],
        attributes: [("a", "1"), ("b", ""), ("ünï", "ç"), ("z", "26")]
            .into_iter()
            .map(|(k, v)| (k.to_owned(), v.to_owned()))
            .collect(),
        tags: vec!["x".into(), String::new()],
        payment: Some(order::Payment::VoucherId(-7)),
    };
    vec![
        base.clone(),
        Order {
            payment: Some(order::Payment::CardToken(String::new())),
            ..base.clone()
        },
        Order::default(),
    ]
}

fn arb_scalars() -> impl Strategy<Value = Scalars> {
    (
        (
            any::<f64>(),
            any::<f32>(),
            any::<i32>(),
            any::<i64>(),
            any::<u32>(),
            any::<u64>(),
        ),
        (
            any::<i32>(),
            any::<i64>(),
            any::<u32>(),
            any::<u64>(),
            any::<i32>(),
            any::<i64>(),
        ),
        (
            any::<bool>(),
            ".{0,12}",
            proptest::collection::vec(any::<u8>(), 0..12),
        ),
        (
            proptest::option::of((".{0,8}", any::<i32>())),
            proptest::option::of(any::<i32>()),
        ),
    )
        .prop_map(|(a, b, c, d)| Scalars {
            f_double: a.0,
            f_float: a.1,
            f_int32: a.2,
            f_int64: a.3,
            f_uint32: a.4,
            f_uint64: a.5,
            f_sint32: b.0,
            f_sint64: b.1,
            f_fixed32: b.2,
            f_fixed64: b.3,
            f_sfixed32: b.4,
            f_sfixed64: b.5,
            f_bool: c.0,
            f_string: c.1,
            f_bytes: c.2,
            inner: d.0.map(|(label, delta)| scalars::Inner { label, delta }),
            f_optional: d.1,
        })
}

/// Canonical proto3 JSON of a generated message, as kcodec's dynamic decoder writes it.
fn canonical_json<T: ReflectMessage>(value: &T) -> Value {
    serde_json::from_str(&serde_json::to_string(&value.transcode_to_dynamic()).unwrap()).unwrap()
}

/// Equal as proto3 JSON, except that numbers compare as f64 (Python spells floats its own way).
fn same_json(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Number(x), Value::Number(y)) => x.as_f64() == y.as_f64(),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| same_json(a, b))
        }
        (Value::Object(x), Value::Object(y)) => {
            x.len() == y.len()
                && x.iter()
                    .all(|(k, v)| y.get(k).is_some_and(|w| same_json(v, w)))
        }
        _ => a == b,
    }
}

/// kcodec's frames (prefix and header) read by the Python client, and the Python client's frames
/// read by kcodec, for hand-picked orders (multi-entry maps, both oneof branches, a Timestamp,
/// an import) and 48 generated `Scalars`.
async fn live<T>(python: &std::path::PathBuf, values: &[T])
where
    T: prost::Message + ReflectMessage + Default + PartialEq + Clone,
{
    let message = T::default().descriptor().full_name().to_owned();
    let proto_dir = python::root().join("tools/oracle/proto");
    let registry = Arc::new(InMemoryRegistry::new());
    let mut frames = Vec::new();
    for format in [SchemaIdFormat::Prefix, SchemaIdFormat::Header] {
        let ser = ProtobufSerializer::<T>::with_config(
            registry.clone(),
            ProtobufSerializerConfig::new().schema_id_format(format),
        )
        .unwrap();
        for value in values {
            let mut headers = Headers::new();
            let mut out = BytesMut::new();
            let mut ctx = SerializeContext::new("live", Target::Value, &mut headers);
            let _ = resolve::serialize(&ser, value, &mut ctx, &mut out)
                .await
                .unwrap();
            let hdrs: serde_json::Map<String, Value> = headers
                .iter()
                .map(|h| {
                    (
                        h.key.clone(),
                        Value::String(hex::encode(h.value.as_ref().unwrap())),
                    )
                })
                .collect();
            frames.push(serde_json::json!({"hex": hex::encode(&out), "headers": hdrs}));
        }
    }
    // What kcodec registered, in id order, for the Python registry to hold too.
    let mut schemas = Vec::new();
    for id in 1..=registry.max_id() {
        let schema = registry.schema_by_id(id).await.unwrap();
        let subject = registry.subjects_for_id(id, false).await.unwrap().remove(0);
        let refs: Vec<Value> = schema
            .references
            .iter()
            .map(
                |r| serde_json::json!({"name": r.name, "subject": r.subject, "version": r.version}),
            )
            .collect();
        schemas.push(serde_json::json!({
            "subject": subject, "schema_type": "PROTOBUF", "schema": schema.schema,
            "references": refs, "id": id, "guid": registry.guid_of(id).unwrap().to_string(),
        }));
    }
    let answer = python::oracle(
        python,
        &serde_json::json!({
            "op": "decode", "format": "protobuf", "topic": "live", "is_key": false,
            "schemas": schemas, "frames": frames, "message": message,
            "proto_dir": proto_dir,
        }),
    );
    let decoded = answer["values"].as_array().unwrap();
    assert_eq!(decoded.len(), values.len() * 2);
    for (i, got) in decoded.iter().enumerate() {
        let want = canonical_json(&values[i % values.len()]);
        assert!(
            same_json(got, &want),
            "frame {i}: python read {got}, kcodec wrote {want}"
        );
    }

    // The other way: the Python client encodes kcodec's JSON of each value.
    let json_values: Vec<Value> = values.iter().map(canonical_json).collect();
    let answer = python::oracle(
        python,
        &serde_json::json!({
            "op": "encode", "format": "protobuf", "topic": "live", "is_key": false,
            "values": json_values, "config": {}, "message": message, "proto_dir": proto_dir,
        }),
    );
    let de = ProtobufDeserializer::<T>::new();
    for (frame, value) in answer["frames"].as_array().unwrap().iter().zip(values) {
        let bytes =
            hex::decode(frame["hex"].as_str().unwrap_or_else(|| panic!("{frame}"))).unwrap();
        let headers = Headers::new();
        let ctx = DeserializeContext::new("live", Target::Value, &headers);
        let got: T = de.deserialize(Some(&bytes), &ctx).unwrap();
        assert!(
            got == *value,
            "python frame {} decodes to another value",
            frame["hex"]
        );
    }
}

#[tokio::test]
async fn live_python_client_reads_kcodec_and_kcodec_reads_python() {
    let Some(python) = python::python("live_python_client_reads_kcodec_and_kcodec_reads_python")
    else {
        return;
    };
    live(&python, &orders()).await;
    let mut runner = TestRunner::deterministic();
    let strategy = arb_scalars();
    let scalars: Vec<Scalars> = (0..48)
        .map(|_| strategy.new_tree(&mut runner).unwrap().current())
        .collect();
    live(&python, &scalars).await;
}
