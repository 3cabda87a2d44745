//! Fuzzes the Avro engine with schemas as well as data: the first bytes build a schema from a
//! small grammar (every primitive, enum, fixed, array, map, union, records with fields and
//! references back to named types, recursion included), the rest is decoded against it by the
//! generic and the typed deserializer, and resolved into a second schema from the same grammar
//! (named alike, so records, enums and fixed meet their namesakes) by both. Nothing may panic,
//! hang or allocate without bound; whatever decodes re-encodes to bytes that decode and
//! re-encode the same, and prints as Avro JSON that reads back.
#![no_main]

use kcodec_codecs::avro::{
    AvroDeserializer, GenericAvroDeserializer, GenericAvroSerializer, ParsedSchema, Value,
};
use kcodec_codecs::testing;
use kcodec_codecs::wire::SchemaId;
use libfuzzer_sys::fuzz_target;
use std::sync::Arc;

/// Most bytes one schema takes from the input, and how deep its types nest.
const MAX_SCHEMA_BYTES: usize = 64;
const MAX_NESTING: usize = 6;

struct Grammar<'a> {
    bytes: &'a [u8],
    used: usize,
    /// Named types defined so far (any may be referred to, the enclosing records included).
    names: Vec<String>,
}

impl Grammar<'_> {
    fn next(&mut self) -> u8 {
        let b = self.bytes.get(self.used).copied().unwrap_or(0);
        self.used = (self.used + 1).min(self.bytes.len());
        b
    }

    fn name(&mut self) -> String {
        let name = format!("N{}", self.names.len());
        self.names.push(name.clone());
        name
    }

    fn schema(&mut self, depth: usize) -> String {
        let budget_left = self.used < MAX_SCHEMA_BYTES.min(self.bytes.len());
        let pick = if depth >= MAX_NESTING || !budget_left {
            self.next() % 8
        } else {
            self.next() % 16
        };
        match pick {
            0 => r#""null""#.to_owned(),
            1 => r#""boolean""#.to_owned(),
            2 => r#""int""#.to_owned(),
            3 => r#""long""#.to_owned(),
            4 => r#""float""#.to_owned(),
            5 => r#""double""#.to_owned(),
            6 => r#""bytes""#.to_owned(),
            7 => r#""string""#.to_owned(),
            8 => {
                let name = self.name();
                let n = 1 + self.next() % 4;
                let symbols: Vec<String> = (0..n).map(|i| format!(r#""S{i}""#)).collect();
                format!(
                    r#"{{"type":"enum","name":"{name}","symbols":[{}]}}"#,
                    symbols.join(",")
                )
            }
            9 => {
                let name = self.name();
                let size = self.next() % 5;
                format!(r#"{{"type":"fixed","name":"{name}","size":{size}}}"#)
            }
            10 => format!(r#"{{"type":"array","items":{}}}"#, self.schema(depth + 1)),
            11 => format!(r#"{{"type":"map","values":{}}}"#, self.schema(depth + 1)),
            12 => {
                let n = 1 + self.next() % 3;
                let branches: Vec<String> = (0..n).map(|_| self.schema(depth + 1)).collect();
                format!("[{}]", branches.join(","))
            }
            13 | 14 => {
                let name = self.name();
                let n = self.next() % 5;
                let fields: Vec<String> = (0..n)
                    .map(|i| format!(r#"{{"name":"f{i}","type":{}}}"#, self.schema(depth + 1)))
                    .collect();
                format!(
                    r#"{{"type":"record","name":"{name}","fields":[{}]}}"#,
                    fields.join(",")
                )
            }
            _ => match self.names.len() {
                0 => r#""long""#.to_owned(),
                n => {
                    let pick = usize::from(self.next()) % n;
                    format!(r#""{}""#, self.names[pick])
                }
            },
        }
    }
}

fuzz_target!(|data: &[u8]| {
    let mut grammar = Grammar {
        bytes: data,
        used: 0,
        names: Vec::new(),
    };
    let text = grammar.schema(0);
    // The reader schema: the next bytes, its names counted afresh.
    grammar.names.clear();
    let reader_text = grammar.schema(0);
    let payload = &data[grammar.used..];
    // Schemas Avro refuses (a union in a union, two branches of one type…) are not the point.
    let Ok(schema) = ParsedSchema::parse(&text) else {
        return;
    };
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let id = SchemaId::Id(1);
    let generic = GenericAvroDeserializer::new(registry.clone());
    let typed = AvroDeserializer::<serde_json::Value>::new(registry.clone());
    generic.preload(id, schema.clone()).unwrap();
    typed.preload(id, schema.clone()).unwrap();
    let mut frame = vec![0, 0, 0, 0, 1];
    frame.extend_from_slice(payload);
    let _ = testing::decode::<serde_json::Value, _>(&typed, Some(&frame));
    if let Ok(reader) = ParsedSchema::parse(&reader_text) {
        let generic = GenericAvroDeserializer::with_reader_schema(registry.clone(), reader.clone());
        let typed = AvroDeserializer::<serde_json::Value>::with_reader_schema(
            registry.clone(),
            reader.clone(),
        );
        generic.preload(id, schema.clone()).unwrap();
        typed.preload(id, schema.clone()).unwrap();
        let _ = testing::decode::<serde_json::Value, _>(&typed, Some(&frame));
        if let Ok(resolved) = testing::decode::<Value, _>(&generic, Some(&frame)) {
            // A resolved value is a value of the reader schema.
            let ser = GenericAvroSerializer::new(registry.clone(), reader.clone());
            ser.preload(testing::TOPIC, kcodec_codecs::Target::Value, id)
                .unwrap();
            testing::encode(&ser, &resolved).unwrap_or_else(|e| {
                panic!("{text} -> {reader_text}: {resolved:?} does not re-encode: {e}")
            });
        }
    }
    let Ok(value) = testing::decode::<Value, _>(&generic, Some(&frame)) else {
        return;
    };
    let ser = GenericAvroSerializer::new(registry, schema.clone());
    ser.preload(testing::TOPIC, kcodec_codecs::Target::Value, id)
        .unwrap();
    let once = testing::encode(&ser, &value)
        .unwrap_or_else(|e| panic!("{text}: {value:?} does not re-encode: {e}"))
        .expect("not null");
    let back = testing::decode::<Value, _>(&generic, Some(&once))
        .unwrap_or_else(|e| panic!("{text}: re-encoded {value:?} does not decode: {e}"));
    let twice = testing::encode(&ser, &back).unwrap().expect("not null");
    assert_eq!(once, twice, "{text}: {value:?} came back as {back:?}");
    // Avro JSON: what decodes prints, and what prints reads back.
    let json = schema
        .value_to_json(&value)
        .unwrap_or_else(|e| panic!("{text}: {value:?} does not print as JSON: {e}"));
    schema
        .value_from_json(&json)
        .unwrap_or_else(|e| panic!("{text}: {json} does not read back: {e}"));
});
