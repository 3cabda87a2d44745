//! JSON Schema against Confluent's official Python `JSONSerializer` (confluent-kafka 2.16.1):
//! the fixtures in `tests/fixtures/oracle/json/` must come out of kcodec's serializer byte for
//! byte (same registered schema, ids, GUIDs, headers) and decode back to the same values.
#![cfg(feature = "json-schema")]

use bytes::BytesMut;
use kcodec_codecs::json_schema::{
    JsonSchema, JsonSchemaDeserializer, JsonSchemaSerializer, JsonSchemaSerializerConfig,
};
use kcodec_codecs::subject::SchemaIdFormat;
use kcodec_codecs::{
    DeserializeContext, Deserializer, Headers, SerializeContext, Serialized, Target, resolve,
};
use kcodec_registry::memory::Change;
use kcodec_registry::strategy::{RecordNameStrategy, TopicRecordNameStrategy};
use kcodec_registry::{InMemoryRegistry, SchemaRegistry, SchemaType};
use serde::de::{Deserialize, MapAccess, SeqAccess, Visitor};
use serde::ser::{Serialize, SerializeMap, SerializeSeq};
use serde_json::Value;
use std::sync::Arc;

/// JSON that keeps its object keys in document order, as Python's dicts do (serde_json's `Value`
/// sorts them unless its `preserve_order` feature is on).
#[derive(Debug, Clone, PartialEq)]
enum Ordered {
    Null,
    Bool(bool),
    Number(serde_json::Number),
    String(String),
    Array(Vec<Ordered>),
    Object(Vec<(String, Ordered)>),
}

impl Serialize for Ordered {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        match self {
            Ordered::Null => s.serialize_unit(),
            Ordered::Bool(b) => s.serialize_bool(*b),
            Ordered::Number(n) => n.serialize(s),
            Ordered::String(v) => s.serialize_str(v),
            Ordered::Array(items) => {
                let mut seq = s.serialize_seq(Some(items.len()))?;
                for item in items {
                    seq.serialize_element(item)?;
                }
                seq.end()
            }
            Ordered::Object(fields) => {
                let mut map = s.serialize_map(Some(fields.len()))?;
                for (k, v) in fields {
                    map.serialize_entry(k, v)?;
                }
                map.end()
            }
        }
    }
}

impl<'de> Deserialize<'de> for Ordered {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        struct V;
        impl<'de> Visitor<'de> for V {
            type Value = Ordered;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("JSON")
            }
            fn visit_unit<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_none<E>(self) -> Result<Ordered, E> {
                Ok(Ordered::Null)
            }
            fn visit_bool<E>(self, v: bool) -> Result<Ordered, E> {
                Ok(Ordered::Bool(v))
            }
            fn visit_i64<E>(self, v: i64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v.into()))
            }
            fn visit_u64<E>(self, v: u64) -> Result<Ordered, E> {
                Ok(Ordered::Number(v.into()))
            }
            fn visit_f64<E: serde::de::Error>(self, v: f64) -> Result<Ordered, E> {
                serde_json::Number::from_f64(v)
                    .map(Ordered::Number)
                    .ok_or_else(|| E::custom("not a finite number"))
            }
            fn visit_str<E>(self, v: &str) -> Result<Ordered, E> {
                Ok(Ordered::String(v.to_owned()))
            }
            fn visit_seq<A: SeqAccess<'de>>(self, mut a: A) -> Result<Ordered, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = a.next_element()? {
                    items.push(item);
                }
                Ok(Ordered::Array(items))
            }
            fn visit_map<A: MapAccess<'de>>(self, mut a: A) -> Result<Ordered, A::Error> {
                let mut fields = Vec::new();
                while let Some(entry) = a.next_entry()? {
                    fields.push(entry);
                }
                Ok(Ordered::Object(fields))
            }
        }
        d.deserialize_any(V)
    }
}

struct Fixture {
    json: Value,
    /// The `value` member, read again in document order.
    value: Ordered,
}

impl Fixture {
    fn s(&self, key: &str) -> &str {
        self.json[key].as_str().unwrap_or_else(|| panic!("{key}"))
    }
    fn config(&self, key: &str) -> Option<&Value> {
        self.json["config"].get(key)
    }
}

fn fixtures() -> Vec<Fixture> {
    let dir = concat!(env!("CARGO_MANIFEST_DIR"), "/../tests/fixtures/oracle/json");
    let mut out: Vec<Fixture> = std::fs::read_dir(dir)
        .unwrap()
        .map(|e| {
            let bytes = std::fs::read(e.unwrap().path()).unwrap();
            let Ordered::Object(fields) = serde_json::from_slice::<Ordered>(&bytes).unwrap() else {
                panic!("fixture is not an object")
            };
            let value = fields.into_iter().find(|(k, _)| k == "value").unwrap().1;
            Fixture {
                json: serde_json::from_slice(&bytes).unwrap(),
                value,
            }
        })
        .collect();
    out.sort_by(|a, b| a.s("case").cmp(b.s("case")));
    out
}

fn registry(f: &Fixture, preload: bool) -> Arc<InMemoryRegistry> {
    let mut changes = Vec::new();
    if preload {
        changes.push(Change::Register {
            subject: f.s("subject").to_owned(),
            version: f.json["version"].as_i64().unwrap() as i32,
            id: f.json["schema_id"].as_i64().unwrap() as u32,
            guid: f.s("guid").parse().unwrap(),
            schema_type: SchemaType::Json,
            schema: f.s("schema").to_owned(),
            references: Vec::new(),
        });
    }
    Arc::new(InMemoryRegistry::replay(changes).unwrap())
}

fn config(f: &Fixture, format: SchemaIdFormat) -> JsonSchemaSerializerConfig {
    let mut config = JsonSchemaSerializerConfig::new().schema_id_format(format);
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

/// Python writes floats with `repr` (`1e-07`, `1e+21`); serde_json with the shortest
/// round-tripping form (`1e-7`, `1e21`). Both are the same JSON numbers; this case is compared by
/// value after the framing.
const FLOAT_FORMATTING_CASES: &[&str] = &["json_numbers"];

#[tokio::test]
async fn python_json_schema_fixtures_byte_for_byte() {
    let all = fixtures();
    assert!(all.len() >= 9, "fixtures missing: {}", all.len());
    for f in &all {
        let case = f.s("case");
        let topic = f.s("topic");
        let target = if f.json["is_key"].as_bool().unwrap() {
            Target::Key
        } else {
            Target::Value
        };
        let use_latest = f.config("use.latest.version").and_then(Value::as_bool) == Some(true);
        for frame in f.json["frames"].as_array().unwrap() {
            let mode = frame["id_mode"].as_str().unwrap();
            let format = if mode == "header" {
                SchemaIdFormat::Header
            } else {
                SchemaIdFormat::Prefix
            };
            let want = hex::decode(frame["hex"].as_str().unwrap()).unwrap();
            let want_headers = headers_of(frame);
            // Prefix mode registers into an empty registry (ids must agree); header mode finds
            // the Python client's schema (with its pinned GUID) already there.
            let registry = registry(f, use_latest || format == SchemaIdFormat::Header);
            let schema = JsonSchema::parse(f.s("schema")).unwrap();
            let ser = JsonSchemaSerializer::<Ordered>::with_config(
                registry.clone(),
                schema,
                config(f, format),
            )
            .unwrap();
            let mut headers = Headers::new();
            let mut out = BytesMut::new();
            let mut ctx = SerializeContext::new(topic, target, &mut headers);
            let written = resolve::serialize(&ser, &f.value, &mut ctx, &mut out)
                .await
                .unwrap_or_else(|e| panic!("{case}/{mode}: {e}"));
            assert_eq!(written, Serialized::Data);
            if FLOAT_FORMATTING_CASES.contains(&case) {
                let at = if format == SchemaIdFormat::Prefix {
                    5
                } else {
                    0
                };
                assert_eq!(out[..at], want[..at], "{case}/{mode} framing");
                assert_ne!(
                    out[..],
                    want[..],
                    "{case}: expected the float spelling to differ"
                );
                let ours: Value = serde_json::from_slice(&out[at..]).unwrap();
                let theirs: Value = serde_json::from_slice(&want[at..]).unwrap();
                assert_eq!(ours, theirs, "{case}/{mode}");
            } else {
                assert_eq!(
                    hex::encode(&out),
                    hex::encode(&want),
                    "{case}/{mode}: {}",
                    String::from_utf8_lossy(&out)
                );
            }
            let got: Vec<_> = headers.iter().cloned().collect();
            let expected: Vec<_> = want_headers.iter().cloned().collect();
            assert_eq!(got, expected, "{case}/{mode} headers");
            assert_eq!(
                registry.versions(f.s("subject"), false).await.unwrap(),
                vec![1],
                "{case}/{mode}"
            );
            let registered = registry.latest(f.s("subject")).await.unwrap();
            assert_eq!(registered.id as i64, f.json["schema_id"].as_i64().unwrap());
            assert_eq!(registered.schema.schema, f.s("schema"));

            // Decode the Python client's bytes, validating against the writer schema.
            let ctx = DeserializeContext::new(topic, target, &want_headers);
            let de = JsonSchemaDeserializer::<Ordered>::new(registry.clone());
            let bytes = bytes::Bytes::from(want.clone());
            let back: Ordered = resolve::deserialize(&de, Some(&bytes), &ctx)
                .await
                .unwrap_or_else(|e| panic!("{case}/{mode}: {e}"));
            assert_eq!(back, f.value, "{case}/{mode} decode");
            let plain: Value = JsonSchemaDeserializer::<Value>::without_validation()
                .deserialize(Some(&want), &ctx)
                .unwrap();
            assert_eq!(plain, f.json["value"], "{case}/{mode}");
        }
    }
}

#[path = "support/python.rs"]
mod python;

const PERSON: &str = r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"kcodec.live.Person","type":"object","properties":{"name":{"type":"string"},"age":{"type":"integer","minimum":0},"email":{"type":["string","null"]},"tags":{"type":"array","items":{"type":"string"}},"address":{"type":"object","properties":{"city":{"type":"string"}}}},"required":["name","age"]}"#;

/// kcodec's frames read (and validated) by the Python client, and the Python client's frames
/// read (and validated) by kcodec.
#[tokio::test]
async fn live_python_client_reads_kcodec_and_kcodec_reads_python() {
    let Some(python) = python::python("live_python_client_reads_kcodec_and_kcodec_reads_python")
    else {
        return;
    };
    let values: Vec<Ordered> = [
        r#"{"name":"Ann","age":30,"email":null}"#,
        r#"{"name":"Bé ✓ \"q\" \\ \u0001","age":0,"tags":["a","",""],"address":{"city":"Oslo"}}"#,
        r#"{"age":9007199254740993,"name":"big","email":"x@y.z","extra":[1,2.5,-0.0,true,null,{}]}"#,
    ]
    .iter()
    .map(|s| serde_json::from_str(s).unwrap())
    .collect();
    let registry = Arc::new(InMemoryRegistry::new());
    let mut frames = Vec::new();
    for format in [SchemaIdFormat::Prefix, SchemaIdFormat::Header] {
        let ser = JsonSchemaSerializer::<Ordered>::with_config(
            registry.clone(),
            JsonSchema::parse(PERSON).unwrap(),
            JsonSchemaSerializerConfig::new().schema_id_format(format),
        )
        .unwrap();
        for value in &values {
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
    let schemas = serde_json::json!([{
        "subject": "live-value", "schema_type": "JSON", "schema": PERSON, "references": [],
        "id": 1, "guid": registry.guid_of(1).unwrap().to_string(),
    }]);
    let answer = python::oracle(
        &python,
        &serde_json::json!({"op": "decode", "format": "json", "topic": "live", "is_key": false,
                            "schemas": schemas, "frames": frames}),
    );
    let decoded = answer["values"].as_array().unwrap();
    assert_eq!(decoded.len(), values.len() * 2);
    for (i, got) in decoded.iter().enumerate() {
        let want = serde_json::to_value(&values[i % values.len()]).unwrap();
        assert_eq!(got, &want, "frame {i}");
    }

    // The Python client writes the same values; kcodec reads them, validating.
    let plain: Vec<Value> = values
        .iter()
        .map(|v| serde_json::to_value(v).unwrap())
        .collect();
    let answer = python::oracle(
        &python,
        &serde_json::json!({"op": "encode", "format": "json", "topic": "live", "is_key": false,
                            "schemas": [{"subject": "live-value", "schema_type": "JSON",
                                         "schema": PERSON}],
                            "values": plain, "config": {}}),
    );
    let de = JsonSchemaDeserializer::<Value>::new(registry.clone());
    for (frame, want) in answer["frames"].as_array().unwrap().iter().zip(&plain) {
        let bytes = bytes::Bytes::from(hex::decode(frame["hex"].as_str().unwrap()).unwrap());
        let headers = Headers::new();
        let ctx = DeserializeContext::new("live", Target::Value, &headers);
        let got: Value = resolve::deserialize(&de, Some(&bytes), &ctx).await.unwrap();
        assert_eq!(&got, want);
    }
    // A value the schema refuses is refused by both: Python when writing, kcodec when reading.
    let answer = python::oracle(
        &python,
        &serde_json::json!({"op": "encode", "format": "json", "topic": "live", "is_key": false,
                            "schemas": [{"subject": "live-value", "schema_type": "JSON",
                                         "schema": PERSON}],
                            "values": [{"name": "neg", "age": -1}], "config": {}}),
    );
    assert!(answer["frames"][0]["error"].is_string(), "{answer}");
    let mut bad = vec![0, 0, 0, 0, 1];
    bad.extend_from_slice(br#"{"name":"neg","age":-1}"#);
    let headers = Headers::new();
    let ctx = DeserializeContext::new("live", Target::Value, &headers);
    let err = de.deserialize(Some(&bad), &ctx).unwrap_err();
    assert_eq!(
        err.to_string(),
        "JSON at '/age' does not match the schema: 'minimum' failed"
    );
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "-1 is less than the minimum of 0"
    );
}
