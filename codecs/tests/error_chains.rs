//! Error chains print each cause once: a variant either shows its cause in its message or returns
//! it from `source()`, never both, so printers that walk `source()` (anyhow, the CLI, the
//! consumer's dead-letter headers) don't repeat it.
#![cfg(all(feature = "avro", feature = "json-schema", feature = "protobuf"))]

use kcodec_codecs::avro::{AvroDeserializer, GenericAvroSerializer, ParsedSchema, Value};
use kcodec_codecs::builtin::UuidSerde;
use kcodec_codecs::json::JsonSerde;
use kcodec_codecs::json_schema::{JsonSchema, JsonSchemaDeserializer};
use kcodec_codecs::protobuf::ProtobufSchema;
use kcodec_codecs::{
    BytesMut, DeserializeContext, Deserializer, Headers, SerializeContext, Target, resolve,
};
use kcodec_registry::InMemoryRegistry;
use std::error::Error as StdError;
use std::sync::Arc;

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

/// The messages of `err` and its sources, asserting that no message contains the next one's
/// (non-empty) text: a cause is printed by exactly one link of the chain.
fn chain(err: &(dyn StdError + 'static)) -> Vec<String> {
    let mut messages = vec![err.to_string()];
    let mut current = err;
    while let Some(source) = current.source() {
        let outer = current.to_string();
        let inner = source.to_string();
        assert!(!inner.is_empty(), "empty message in the chain of {err:?}");
        assert!(
            !outer.contains(&inner),
            "'{outer}' repeats its source '{inner}' ({err:?})"
        );
        messages.push(inner);
        current = source;
    }
    messages
}

/// `chain`, and `needle` appears in exactly one of its messages.
fn chain_names_once(err: &(dyn StdError + 'static), needle: &str) -> Vec<String> {
    let messages = chain(err);
    let hits = messages.iter().filter(|m| m.contains(needle)).count();
    assert_eq!(hits, 1, "'{needle}' in {messages:?}");
    messages
}

fn frame(id: u32, payload: &[u8]) -> Vec<u8> {
    let mut data = vec![0];
    data.extend_from_slice(&id.to_be_bytes());
    data.extend_from_slice(payload);
    data
}

#[test]
fn registry_error_is_printed_once() {
    let registry = Arc::new(InMemoryRegistry::new());
    let de = JsonSchemaDeserializer::<serde_json::Value>::new(registry);
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let err = rt()
        .block_on(resolve::deserialize(
            &de,
            Some(&frame(9, b"{}").into()),
            &ctx,
        ))
        .unwrap_err();
    assert!(matches!(err, kcodec_codecs::Error::Registry(_)), "{err:?}");
    let messages = chain_names_once(&err, "Schema 9 not found");
    assert!(
        messages[0].contains("id 9") || messages[0].contains(" 9 "),
        "{messages:?}"
    );
}

#[test]
fn json_schema_validation_failure_is_printed_once() {
    let schema = JsonSchema::parse(
        r#"{"type":"object","properties":{"age":{"type":"integer","minimum":0}}}"#,
    )
    .unwrap();
    let de = JsonSchemaDeserializer::<serde_json::Value>::with_schema(schema);
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let err = rt()
        .block_on(resolve::deserialize(
            &de,
            Some(&frame(1, br#"{"age":-3}"#).into()),
            &ctx,
        ))
        .unwrap_err();
    let messages = chain_names_once(&err, "-3 is less than the minimum of 0");
    // The top message still names where and which rule.
    assert!(
        messages[0].contains("'/age'") && messages[0].contains("'minimum'"),
        "{messages:?}"
    );
}

#[test]
fn invalid_json_schema_is_printed_once() {
    let err = JsonSchema::parse(r#"{"type": 5}"#).unwrap_err();
    let messages = chain(&err);
    assert!(
        messages.len() >= 2,
        "the validator's report is the source: {messages:?}"
    );
    assert!(messages[0].contains("invalid JSON schema"), "{messages:?}");
}

#[test]
fn json_codec_error_is_printed_once() {
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let err =
        Deserializer::<serde_json::Value>::deserialize(&JsonSerde, Some(b"{x"), &ctx).unwrap_err();
    chain_names_once(&err, "key must be a string");
}

#[test]
fn uuid_error_is_printed_once() {
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Key, &headers);
    let err = Deserializer::<uuid::Uuid>::deserialize(
        &UuidSerde,
        Some(b"zzzzzzzz-zzzz-zzzz-zzzz-zzzzzzzzzzzz"),
        &ctx,
    )
    .unwrap_err();
    let messages = chain(&err);
    assert_eq!(messages.len(), 2, "{messages:?}");
}

#[test]
fn list_entry_error_is_printed_once() {
    use kcodec_codecs::builtin::{ListSerde, StrictStringSerde};
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let data = [1, 0, 0, 0, 1, 0, 0, 0, 1, 0xff];
    let err = Deserializer::<Vec<String>>::deserialize(
        &ListSerde::new(StrictStringSerde),
        Some(&data),
        &ctx,
    )
    .unwrap_err();
    chain_names_once(&err, "not valid UTF-8");
}

#[test]
fn avro_errors_are_printed_once() {
    // Unknown writer id.
    let registry = Arc::new(InMemoryRegistry::new());
    let de = AvroDeserializer::<i64>::new(registry.clone());
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let err = rt()
        .block_on(resolve::deserialize(
            &de,
            Some(&frame(9, &[2]).into()),
            &ctx,
        ))
        .unwrap_err();
    chain_names_once(&err, "Schema 9 not found");

    // A schema that does not parse.
    let err = ParsedSchema::parse(r#"{"type":"record","name":"R"}"#).unwrap_err();
    let messages = chain(&err);
    assert!(messages.len() >= 2, "{messages:?}");

    // A generic value that does not fit.
    let ser = GenericAvroSerializer::new(registry, ParsedSchema::parse(r#""long""#).unwrap());
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
    let err = rt()
        .block_on(resolve::serialize(
            &ser,
            &Value::String("x".into()),
            &mut ctx,
            &mut out,
        ))
        .unwrap_err();
    chain(&err);
}

#[test]
fn protobuf_compile_error_is_printed_once() {
    let err =
        ProtobufSchema::parse_text("bad.proto", "syntax = \"proto3\"; message {").unwrap_err();
    let messages = chain(&err);
    assert!(messages[0].contains("bad.proto"), "{messages:?}");
    assert!(messages.len() >= 2, "{messages:?}");
}
