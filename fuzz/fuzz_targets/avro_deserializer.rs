//! Fuzzes the Avro deserializers: the direct serde path, the generic path, and resolution
//! against a reader schema, over schemas with every type. Whatever decodes must re-encode and
//! decode to the same value.
#![no_main]

use kcodec_codecs::avro::{
    AvroDeserializer, GenericAvroDeserializer, GenericAvroSerializer, ParsedSchema, Value,
};
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::testing;
use libfuzzer_sys::fuzz_target;
use std::sync::{Arc, OnceLock};

const SCHEMAS: &[&str] = &[
    r#"{"type":"record","name":"All","namespace":"f","fields":[
        {"name":"n","type":"null"},{"name":"b","type":"boolean"},{"name":"i","type":"int"},
        {"name":"l","type":"long"},{"name":"f","type":"float"},{"name":"d","type":"double"},
        {"name":"by","type":"bytes"},{"name":"s","type":"string"},
        {"name":"e","type":{"type":"enum","name":"E","symbols":["A","B","C"]}},
        {"name":"x","type":{"type":"fixed","name":"X","size":3}},
        {"name":"a","type":{"type":"array","items":"long"}},
        {"name":"m","type":{"type":"map","values":["null","string"]}},
        {"name":"u","type":["null","int","string",{"type":"record","name":"In","fields":[{"name":"v","type":"double"}]}]}]}"#,
    r#"{"type":"record","name":"Node","fields":[{"name":"v","type":"int"},{"name":"next","type":["null","Node"]}]}"#,
    r#"{"type":"array","items":"null"}"#,
    r#"{"type":"map","values":{"type":"array","items":{"type":"record","name":"Z","fields":[]}}}"#,
    r#"{"type":"record","name":"Logical","fields":[
        {"name":"dec","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}},
        {"name":"decf","type":{"type":"fixed","name":"D8","size":8,"logicalType":"decimal","precision":18,"scale":3}},
        {"name":"uuid","type":{"type":"string","logicalType":"uuid"}},
        {"name":"date","type":{"type":"int","logicalType":"date"}},
        {"name":"tm","type":{"type":"int","logicalType":"time-millis"}},
        {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}},
        {"name":"lts","type":{"type":"long","logicalType":"local-timestamp-millis"}}]}"#,
    r#""bytes""#,
    r#"["null","long","string"]"#,
];

/// Reader schemas resolved against SCHEMAS[0] (evolution): widened, reordered, defaults.
const READER: &str = r#"{"type":"record","name":"All","namespace":"f","fields":[
    {"name":"s","type":"bytes"},{"name":"l","type":"double"},{"name":"i","type":"long"},
    {"name":"added","type":"string","default":"d"},
    {"name":"e","type":{"type":"enum","name":"E","symbols":["C","A","Z"],"default":"Z"}},
    {"name":"u","type":["null","long","string",{"type":"record","name":"In","fields":[{"name":"v","type":"double"}]}]}]}"#;

struct Setup {
    generic: GenericAvroDeserializer,
    typed: AvroDeserializer<serde_json::Value>,
    resolving: GenericAvroDeserializer,
    serializers: Vec<GenericAvroSerializer>,
    parsed: Vec<ParsedSchema>,
}

fn setup() -> &'static Setup {
    static SETUP: OnceLock<Setup> = OnceLock::new();
    SETUP.get_or_init(|| {
        let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
        let generic = GenericAvroDeserializer::new(registry.clone());
        let typed = AvroDeserializer::new(registry.clone());
        let resolving = GenericAvroDeserializer::with_reader_schema(
            registry.clone(),
            ParsedSchema::parse(READER).unwrap(),
        );
        let mut serializers = Vec::new();
        let mut parsed = Vec::new();
        for (i, text) in SCHEMAS.iter().enumerate() {
            let schema = ParsedSchema::parse(text).unwrap();
            let id = SchemaId::Id(i as u32 + 1);
            generic.preload(id, schema.clone()).unwrap();
            typed.preload(id, schema.clone()).unwrap();
            resolving.preload(id, schema.clone()).unwrap();
            let ser = GenericAvroSerializer::new(registry.clone(), schema.clone());
            ser.preload(testing::TOPIC, kcodec_codecs::Target::Value, id).unwrap();
            serializers.push(ser);
            parsed.push(schema);
        }
        Setup {
            generic,
            typed,
            resolving,
            serializers,
            parsed,
        }
    })
}

fuzz_target!(|data: &[u8]| {
    let s = setup();
    let Some((&pick, payload)) = data.split_first() else {
        return;
    };
    let index = usize::from(pick) % SCHEMAS.len();
    let mut frame = vec![0, 0, 0, 0, index as u8 + 1];
    frame.extend_from_slice(payload);
    // Raw input as a frame too (bad magic, unknown ids, truncated prefixes).
    let _ = testing::decode::<Value, _>(&s.generic, Some(data));
    let _ = testing::decode::<serde_json::Value, _>(&s.typed, Some(&frame));
    let _ = testing::decode::<Value, _>(&s.resolving, Some(&frame));
    if let Ok(value) = testing::decode::<Value, _>(&s.generic, Some(&frame)) {
        // Whatever decodes re-encodes to a frame that decodes to the same value.
        let again = testing::encode(&s.serializers[index], &value)
            .expect("a decoded value re-encodes")
            .expect("not null");
        let back = testing::decode::<Value, _>(&s.generic, Some(&again)).expect("re-decodes");
        assert!(values_equal(&back, &value), "{value:?} came back as {back:?}");
        // And survives Avro's JSON encoding.
        let json = s.parsed[index].value_to_json(&value).expect("to JSON");
        let back = s.parsed[index].value_from_json(&json).expect("from JSON");
        assert!(values_equal(&back, &value), "JSON changed {value:?} into {back:?}");
    }
});

/// Equality that treats NaN as equal to itself.
fn values_equal(a: &Value, b: &Value) -> bool {
    match (a, b) {
        (Value::Float(x), Value::Float(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Double(x), Value::Double(y)) => x == y || (x.is_nan() && y.is_nan()),
        (Value::Union(i, x), Value::Union(j, y)) => i == j && values_equal(x, y),
        (Value::Array(x), Value::Array(y)) => {
            x.len() == y.len() && x.iter().zip(y).all(|(a, b)| values_equal(a, b))
        }
        (Value::Map(x), Value::Map(y)) => {
            x.len() == y.len() && x.iter().all(|(k, v)| y.get(k).is_some_and(|w| values_equal(v, w)))
        }
        (Value::Record(x), Value::Record(y)) => {
            x.len() == y.len()
                && x.iter().zip(y).all(|((n, a), (m, b))| n == m && values_equal(a, b))
        }
        _ => a == b,
    }
}
