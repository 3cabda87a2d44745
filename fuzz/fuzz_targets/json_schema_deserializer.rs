//! Fuzzes the JSON Schema deserializer: deframing, JSON parsing, validation against a schema
//! with nested objects, arrays, `oneOf`, formats and numeric limits, and serde into a struct.
#![no_main]

use kcodec_codecs::json_schema::{JsonSchema, JsonSchemaDeserializer};
use kcodec_codecs::wire;
use kcodec_codecs::{DeserializeContext, Deserializer, Headers, Target};
use libfuzzer_sys::fuzz_target;
use std::sync::OnceLock;

const SCHEMA: &str = r#"{"$schema":"http://json-schema.org/draft-07/schema#","title":"Person",
 "type":"object","properties":{
   "name":{"type":"string","minLength":1,"maxLength":64,"pattern":"^[A-Za-z ]+$"},
   "age":{"type":"integer","minimum":0,"maximum":200},
   "email":{"type":["string","null"],"format":"email"},
   "tags":{"type":"array","items":{"type":"string"},"uniqueItems":true,"maxItems":8},
   "address":{"type":"object","properties":{"city":{"type":"string"}},"required":["city"],
              "additionalProperties":false},
   "nickname":{"oneOf":[{"type":"null"},{"type":"string"}]}},
 "required":["name","age"]}"#;

#[derive(serde::Deserialize)]
#[allow(dead_code)]
struct Person {
    name: String,
    age: u32,
    email: Option<String>,
    tags: Option<Vec<String>>,
}

fn validating() -> &'static JsonSchemaDeserializer<serde_json::Value> {
    static D: OnceLock<JsonSchemaDeserializer<serde_json::Value>> = OnceLock::new();
    D.get_or_init(|| JsonSchemaDeserializer::with_schema(JsonSchema::parse(SCHEMA).unwrap()))
}

fn typed() -> &'static JsonSchemaDeserializer<Person> {
    static D: OnceLock<JsonSchemaDeserializer<Person>> = OnceLock::new();
    D.get_or_init(|| JsonSchemaDeserializer::with_schema(JsonSchema::parse(SCHEMA).unwrap()))
}

fn run(data: &[u8], headers: &Headers) {
    let ctx = DeserializeContext::new("fuzz", Target::Key, headers);
    let _ = validating().deserialize(Some(data), &ctx);
    let _ = typed().deserialize(Some(data), &ctx);
    let _: Result<Option<serde_json::Value>, _> =
        JsonSchemaDeserializer::without_validation().deserialize(Some(data), &ctx);
}

fuzz_target!(|data: &[u8]| {
    run(data, &Headers::new());
    if let Some((&split, rest)) = data.split_first() {
        let at = usize::from(split).min(rest.len());
        let (header, payload) = rest.split_at(at);
        let mut headers = Headers::new();
        headers.add(wire::KEY_SCHEMA_ID_HEADER, header.to_vec());
        run(payload, &headers);
    }
});
