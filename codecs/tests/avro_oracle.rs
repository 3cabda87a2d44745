//! Byte-level agreement with Confluent's official Python `AvroSerializer`/`AvroDeserializer`
//! (confluent-kafka 2.16.1): the fixtures in `tests/fixtures/oracle/avro/` were written by it
//! (see `tools/oracle/README.md`). kcodec must encode each fixture's value to the identical frame
//! and decode the fixture's frames to equal values; and (live, when the Python venv exists)
//! Python must decode frames kcodec makes.
#![cfg(feature = "avro")]

use bytes::{Bytes, BytesMut};
use kcodec_codecs::avro::{
    AvroSerializer, AvroSerializerConfig, GenericAvroDeserializer, GenericAvroSerializer,
    ParsedSchema, Value,
};
use kcodec_codecs::subject::SchemaIdFormat;
use kcodec_codecs::{DeserializeContext, Headers, SerializeContext, Serialized, Target, resolve};
use kcodec_registry::memory::Change;
use kcodec_registry::strategy::{RecordNameStrategy, TopicRecordNameStrategy};
use kcodec_registry::{InMemoryRegistry, SchemaReference, SchemaType};
use serde::Serialize;
use serde_json::{Value as Json, json};
use std::path::{Path, PathBuf};
use std::sync::Arc;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("..")
}

struct Fixture {
    name: String,
    json: Json,
}

fn fixtures() -> Vec<Fixture> {
    let dir = root().join("tests/fixtures/oracle/avro");
    let mut out: Vec<Fixture> = std::fs::read_dir(&dir)
        .unwrap_or_else(|e| panic!("reading {}: {e}", dir.display()))
        .map(|entry| {
            let path = entry.unwrap().path();
            let text = std::fs::read_to_string(&path).unwrap();
            Fixture {
                name: path.file_stem().unwrap().to_string_lossy().into_owned(),
                json: serde_json::from_str(&text).unwrap(),
            }
        })
        .collect();
    out.sort_by(|a, b| a.name.cmp(&b.name));
    assert!(
        out.len() >= 30,
        "expected the Avro oracle fixtures, found {}",
        out.len()
    );
    out
}

/// What the registry stores for an Avro schema: the text with whitespace outside strings removed.
fn minify(text: &str) -> String {
    let mut out = String::with_capacity(text.len());
    let (mut in_string, mut escaped) = (false, false);
    for c in text.chars() {
        if in_string {
            out.push(c);
            match c {
                _ if escaped => escaped = false,
                '\\' => escaped = true,
                '"' => in_string = false,
                _ => {}
            }
        } else if c == '"' {
            in_string = true;
            out.push(c);
        } else if !c.is_whitespace() {
            out.push(c);
        }
    }
    out
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}

fn unhex(s: &str) -> Vec<u8> {
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn guid(s: &str) -> uuid::Uuid {
    uuid::Uuid::parse_str(s).unwrap()
}

/// A registry holding exactly what the Python mock held: references, pre-registered versions
/// and the fixture's schema, with their ids and GUIDs.
fn registry_for(f: &Json) -> Arc<InMemoryRegistry> {
    let mut changes = Vec::new();
    let references = f["references"].as_array().unwrap();
    for r in references {
        changes.push(Change::Register {
            subject: r["subject"].as_str().unwrap().into(),
            version: r["version"].as_i64().unwrap() as i32,
            id: r["schema_id"].as_u64().unwrap() as u32,
            guid: guid(r["guid"].as_str().unwrap()),
            schema_type: SchemaType::Avro,
            schema: minify(r["schema"].as_str().unwrap()),
            references: Vec::new(),
        });
    }
    let main_id = f["schema_id"].as_u64().unwrap() as u32;
    let main = Change::Register {
        subject: f["subject"].as_str().unwrap().into(),
        version: f["version"].as_i64().unwrap() as i32,
        id: main_id,
        guid: guid(f["guid"].as_str().unwrap()),
        schema_type: SchemaType::Avro,
        schema: minify(f["schema"].as_str().unwrap()),
        references: refs(f),
    };
    match f.get("preregistered").and_then(Json::as_array) {
        Some(pre) => {
            for p in pre {
                let id = p["schema_id"].as_u64().unwrap() as u32;
                if id == main_id {
                    changes.push(main.clone());
                } else {
                    // An earlier version whose text the fixture doesn't need.
                    changes.push(Change::Register {
                        subject: p["subject"].as_str().unwrap().into(),
                        version: p["version"].as_i64().unwrap() as i32,
                        id,
                        guid: uuid::Uuid::from_u128(0x1000 + u128::from(id)),
                        schema_type: SchemaType::Avro,
                        schema: format!(r#"{{"type":"record","name":"Earlier{id}","fields":[]}}"#),
                        references: Vec::new(),
                    });
                }
            }
        }
        None => changes.push(main),
    }
    Arc::new(InMemoryRegistry::replay(changes).unwrap())
}

fn refs(f: &Json) -> Vec<SchemaReference> {
    f["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| SchemaReference {
            name: r["name"].as_str().unwrap().into(),
            subject: r["subject"].as_str().unwrap().into(),
            version: r["version"].as_i64().unwrap() as i32,
        })
        .collect()
}

fn schema_for(f: &Json) -> ParsedSchema {
    let deps: Vec<&str> = f["references"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["schema"].as_str().unwrap())
        .collect();
    ParsedSchema::parse_with_references(f["schema"].as_str().unwrap(), refs(f), &deps).unwrap()
}

fn config_for(f: &Json, header: bool) -> AvroSerializerConfig {
    let c = &f["config"];
    let mut config = AvroSerializerConfig::new();
    if let Some(on) = c.get("auto.register.schemas").and_then(Json::as_bool) {
        config = config.auto_register_schemas(on);
    }
    if let Some(on) = c.get("use.latest.version").and_then(Json::as_bool) {
        config = config.use_latest_version(on);
    }
    match c.get("subject.name.strategy.type").and_then(Json::as_str) {
        Some("RECORD") => config = config.subject_name_strategy(RecordNameStrategy),
        Some("TOPIC_RECORD") => config = config.subject_name_strategy(TopicRecordNameStrategy),
        Some("TOPIC") | None => {}
        Some(other) => panic!("unknown strategy {other}"),
    }
    if header {
        config = config.schema_id_format(SchemaIdFormat::Header);
    }
    config
}

fn target(f: &Json) -> Target {
    if f["is_key"].as_bool().unwrap() {
        Target::Key
    } else {
        Target::Value
    }
}

fn headers_json(headers: &Headers) -> Json {
    let mut map = serde_json::Map::new();
    for h in headers {
        map.insert(
            h.key.clone(),
            Json::String(hex(h.value.as_deref().unwrap_or(&[]))),
        );
    }
    Json::Object(map)
}

fn headers_from(j: &Json) -> Headers {
    j.as_object()
        .unwrap()
        .iter()
        .map(|(k, v)| (k.clone(), unhex(v.as_str().unwrap())))
        .collect()
}

#[tokio::test]
async fn kcodec_encodes_the_python_frames_and_decodes_them_back() {
    let mut failures = Vec::new();
    let mut checked = 0;
    for Fixture { name, json: f } in fixtures() {
        let schema = schema_for(&f);
        let value = match schema.value_from_json(&f["value"]) {
            Ok(v) => v,
            Err(e) => {
                failures.push(format!("{name}: value_from_json: {e}"));
                continue;
            }
        };
        // value_to_json is the inverse.
        match schema.value_to_json(&value) {
            Ok(back) if back == f["value"] => {}
            other => failures.push(format!("{name}: value_to_json gave {other:?}")),
        }
        let topic = f["topic"].as_str().unwrap();
        for frame in f["frames"].as_array().unwrap() {
            let mode = frame["id_mode"].as_str().unwrap();
            let reg = registry_for(&f);
            let ser = GenericAvroSerializer::with_config(
                reg.clone(),
                schema.clone(),
                config_for(&f, mode == "header"),
            )
            .unwrap();
            let mut headers = Headers::new();
            let mut out = BytesMut::new();
            let mut ctx = SerializeContext::new(topic, target(&f), &mut headers);
            match resolve::serialize(&ser, &value, &mut ctx, &mut out).await {
                Ok(Serialized::Data) => {
                    if hex(&out) != frame["hex"].as_str().unwrap() {
                        failures.push(format!(
                            "{name} ({mode}): kcodec wrote {} but Python wrote {}",
                            hex(&out),
                            frame["hex"]
                        ));
                    }
                    if headers_json(&headers) != frame["headers"] {
                        failures.push(format!(
                            "{name} ({mode}): headers {} vs Python's {}",
                            headers_json(&headers),
                            frame["headers"]
                        ));
                    }
                }
                other => failures.push(format!("{name} ({mode}): encode gave {other:?}")),
            }
            // Decode Python's frame (with a fresh deserializer and registry).
            let reg = registry_for(&f);
            let de = GenericAvroDeserializer::new(reg);
            let data = Bytes::from(unhex(frame["hex"].as_str().unwrap()));
            let headers = headers_from(&frame["headers"]);
            let ctx = DeserializeContext::new(topic, target(&f), &headers);
            match resolve::deserialize::<Value, _>(&de, Some(&data), &ctx).await {
                Ok(decoded) if decoded == value => {}
                other => failures.push(format!(
                    "{name} ({mode}): decoding Python's frame gave {other:?}, expected {value:?}"
                )),
            }
            checked += 1;
        }
    }
    assert!(
        failures.is_empty(),
        "{} failures:\n{}",
        failures.len(),
        failures.join("\n")
    );
    assert!(checked >= 60, "checked {checked} frames");
}

// -------------------------------------------------------------------- live: Python decodes ours

fn python() -> Option<PathBuf> {
    if let Ok(p) = std::env::var("KCODEC_PYTHON") {
        return Some(PathBuf::from(p));
    }
    let venv = root().join(".venv/bin/python");
    if venv.exists() {
        return Some(venv);
    }
    if std::env::var("KCODEC_REQUIRE_PYTHON").as_deref() == Ok("1") {
        panic!("KCODEC_REQUIRE_PYTHON=1 but no python venv (run tools/python-env.sh)");
    }
    println!("skipped: no python venv (run tools/python-env.sh)");
    None
}

fn run_oracle(python: &Path, request: &Json) -> Json {
    use std::io::Write;
    let mut child = std::process::Command::new(python)
        .arg(root().join("tools/oracle/oracle.py"))
        .stdin(std::process::Stdio::piped())
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .spawn()
        .expect("starting the Python oracle");
    child
        .stdin
        .take()
        .unwrap()
        .write_all(request.to_string().as_bytes())
        .unwrap();
    let output = child.wait_with_output().unwrap();
    assert!(
        output.status.success(),
        "oracle failed: {}",
        String::from_utf8_lossy(&output.stderr)
    );
    serde_json::from_slice(&output.stdout).unwrap()
}

#[derive(Serialize)]
struct Order {
    id: String,
    customer_id: i64,
    amount_cents: i64,
    lines: Vec<Line>,
    note: Option<String>,
    created_ms: i64,
}

#[derive(Serialize)]
struct Line {
    sku: String,
    qty: i32,
    price: f64,
}

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"kcodec.live","fields":[
    {"name":"id","type":"string"},
    {"name":"customer_id","type":"long"},
    {"name":"amount_cents","type":"long"},
    {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","fields":[
        {"name":"sku","type":"string"},{"name":"qty","type":"int"},{"name":"price","type":"double"}]}}},
    {"name":"note","type":["null","string"],"default":null},
    {"name":"created_ms","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#;

#[tokio::test]
async fn python_decodes_frames_kcodec_makes() {
    let Some(python) = python() else { return };
    let mut requests = Vec::new();
    let mut expected = Vec::new();
    // Every fixture value, encoded by kcodec in both framings, against its own registry ids.
    for Fixture { name, json: f } in fixtures() {
        let schema = schema_for(&f);
        let value = schema.value_from_json(&f["value"]).unwrap();
        let mut frames = Vec::new();
        for (header, frame) in [false, true]
            .into_iter()
            .zip(f["frames"].as_array().unwrap())
        {
            if frame.get("python_decode_error").is_some() {
                continue; // Python can't read these (short payloads), whoever wrote them.
            }
            let reg = registry_for(&f);
            let ser =
                GenericAvroSerializer::with_config(reg, schema.clone(), config_for(&f, header))
                    .unwrap();
            let mut headers = Headers::new();
            let mut out = BytesMut::new();
            let mut ctx =
                SerializeContext::new(f["topic"].as_str().unwrap(), target(&f), &mut headers);
            let _ = resolve::serialize(&ser, &value, &mut ctx, &mut out)
                .await
                .unwrap();
            frames.push(json!({"hex": hex(&out), "headers": headers_json(&headers)}));
        }
        if frames.is_empty() || f.get("preregistered").is_some() {
            continue;
        }
        let mut schemas: Vec<Json> = f["references"]
            .as_array()
            .unwrap()
            .iter()
            .map(|r| json!({"subject": r["subject"], "schema_type": "AVRO", "schema": r["schema"], "id": r["schema_id"], "guid": r["guid"]}))
            .collect();
        schemas.push(json!({"subject": f["subject"], "schema_type": "AVRO", "schema": f["schema"],
            "references": f["references"].as_array().unwrap().iter().map(|r| json!({"name": r["name"], "subject": r["subject"], "version": r["version"]})).collect::<Vec<_>>(),
            "id": f["schema_id"], "guid": f["guid"]}));
        for _ in &frames {
            expected.push((name.clone(), f["value"].clone()));
        }
        requests.push(
            json!({"op": "decode", "format": "avro", "topic": f["topic"], "is_key": f["is_key"],
            "schemas": schemas, "frames": frames}),
        );
    }
    // A typed record encoded from serde, as a producer would.
    let reg = Arc::new(InMemoryRegistry::new());
    let ser = AvroSerializer::<Order>::new(reg, ParsedSchema::parse(ORDER).unwrap());
    let order = Order {
        id: "o-1".into(),
        customer_id: 42,
        amount_cents: -1250,
        lines: vec![
            Line {
                sku: "a".into(),
                qty: 2,
                price: 1.25,
            },
            Line {
                sku: "ü".into(),
                qty: -1,
                price: 0.5,
            },
        ],
        note: Some("rush".into()),
        created_ms: 1_700_000_000_123,
    };
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
    let _ = resolve::serialize(&ser, &order, &mut ctx, &mut out)
        .await
        .unwrap();
    requests.push(
        json!({"op": "decode", "format": "avro", "topic": "orders", "is_key": false,
        "schemas": [{"subject": "orders-value", "schema_type": "AVRO", "schema": ORDER}],
        "frames": [{"hex": hex(&out), "headers": {}}]}),
    );
    expected.push((
        "typed Order".into(),
        json!({"id": "o-1", "customer_id": 42, "amount_cents": -1250,
            "lines": [{"sku": "a", "qty": 2, "price": 1.25}, {"sku": "ü", "qty": -1, "price": 0.5}],
            "note": {"string": "rush"}, "created_ms": 1_700_000_000_123_i64}),
    ));

    let response = run_oracle(&python, &json!({"op": "batch", "requests": requests}));
    let values: Vec<&Json> = response["responses"]
        .as_array()
        .unwrap()
        .iter()
        .flat_map(|r| r["values"].as_array().unwrap().iter())
        .collect();
    assert_eq!(values.len(), expected.len());
    let mut failures = Vec::new();
    for ((name, want), got) in expected.iter().zip(values) {
        if got != want {
            failures.push(format!("{name}: Python decoded {got}, expected {want}"));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
    println!("Python decoded {} kcodec frames", expected.len());
}
