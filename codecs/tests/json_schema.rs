//! JSON Schema codec: framing, validation on both sides, null records, strategies, bad input.
#![cfg(feature = "json-schema")]

use bytes::BytesMut;
use kcodec_codecs::json_schema::{
    JsonSchema, JsonSchemaDeserializer, JsonSchemaError, JsonSchemaSerializer,
    JsonSchemaSerializerConfig,
};
use kcodec_codecs::{
    DeserializeContext, Deserializer, Error, Headers, SerializeContext, Serialized, Serializer,
    Target, resolve, testing,
};
use kcodec_registry::strategy::{RecordNameStrategy, TopicRecordNameStrategy};
use kcodec_registry::{InMemoryRegistry, SchemaRegistry};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const SCHEMA: &str = r#"{"title":"shop.Order","type":"object","properties":{"id":{"type":"string"},"qty":{"type":"integer","minimum":1},"note":{"type":["string","null"]}},"required":["id","qty"],"additionalProperties":false}"#;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
#[cfg_attr(feature = "schemars", derive(schemars::JsonSchema))]
struct Order {
    id: String,
    qty: i64,
    note: Option<String>,
}

fn rt() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap()
}

fn serializer(registry: Arc<InMemoryRegistry>) -> JsonSchemaSerializer<Order> {
    JsonSchemaSerializer::new(registry, JsonSchema::parse(SCHEMA).unwrap()).unwrap()
}

fn encode(ser: &JsonSchemaSerializer<Order>, value: &Order) -> Result<BytesMut, Error> {
    rt().block_on(async {
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let _ = resolve::serialize(ser, value, &mut ctx, &mut out).await?;
        Ok(out)
    })
}

#[test]
fn frames_compact_json_after_the_prefix() {
    let registry = Arc::new(InMemoryRegistry::new());
    let ser = serializer(registry.clone());
    let order = Order {
        id: "o-1".into(),
        qty: 2,
        note: None,
    };
    let out = encode(&ser, &order).unwrap();
    assert_eq!(
        &out[..],
        b"\x00\x00\x00\x00\x01{\"id\":\"o-1\",\"qty\":2,\"note\":null}"
    );
    let back: Order = testing::decode(
        &JsonSchemaDeserializer::<Order>::with_schema(JsonSchema::parse(SCHEMA).unwrap()),
        Some(&out),
    )
    .unwrap();
    assert_eq!(back, order);
    let registered = rt().block_on(registry.latest("orders-value")).unwrap();
    assert_eq!(registered.schema.schema, SCHEMA);
}

#[test]
fn validation_names_the_pointer_and_the_rule_on_both_sides() {
    let registry = Arc::new(InMemoryRegistry::new());
    let ser = serializer(registry.clone());
    let err = encode(
        &ser,
        &Order {
            id: "o".into(),
            qty: 0,
            note: None,
        },
    )
    .unwrap_err();
    let Error::JsonSchema(inner) = &err else {
        panic!("{err:?}")
    };
    let JsonSchemaError::Invalid {
        pointer, keyword, ..
    } = &**inner
    else {
        panic!("{inner:?}")
    };
    assert_eq!((pointer.as_str(), keyword.as_str()), ("/qty", "minimum"));
    assert!(std::error::Error::source(&**inner).is_some());
    // Turned off, the same value is written.
    let lax = JsonSchemaSerializer::<Order>::with_config(
        registry.clone(),
        JsonSchema::parse(SCHEMA).unwrap(),
        JsonSchemaSerializerConfig::new().validate(false),
    )
    .unwrap();
    let bad = encode(
        &lax,
        &Order {
            id: "o".into(),
            qty: 0,
            note: None,
        },
    )
    .unwrap();
    // The deserializer validates against the writer schema it fetches…
    let de = JsonSchemaDeserializer::<Order>::new(registry.clone());
    let headers = Headers::new();
    let ctx = DeserializeContext::new("orders", Target::Value, &headers);
    let err = rt()
        .block_on(resolve::deserialize(&de, Some(&bad.clone().freeze()), &ctx))
        .unwrap_err();
    assert_eq!(
        err.to_string(),
        "JSON at '/qty' does not match the schema: 'minimum' failed"
    );
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "0 is less than the minimum of 1"
    );
    // …and without validation reads it.
    let ok: Order = JsonSchemaDeserializer::without_validation()
        .deserialize(Some(&bad), &ctx)
        .unwrap();
    assert_eq!(ok.qty, 0);
    // Extra properties and wrong types are caught, with their pointers.
    let mut frame = bad[..5].to_vec();
    frame.extend_from_slice(br#"{"id":"o","qty":1,"x":1}"#);
    let err = rt()
        .block_on(resolve::deserialize(&de, Some(&frame.into()), &ctx))
        .unwrap_err();
    assert!(
        err.to_string().contains("'additionalProperties' failed"),
        "{err}"
    );
    let mut frame = bad[..5].to_vec();
    frame.extend_from_slice(br#"{"id":7,"qty":1}"#);
    let err = rt()
        .block_on(resolve::deserialize(&de, Some(&frame.into()), &ctx))
        .unwrap_err();
    assert!(
        err.to_string()
            .starts_with("JSON at '/id' does not match the schema: 'type' failed"),
        "{err}"
    );
}

#[test]
fn none_is_a_tombstone_and_null_reads_as_none() {
    let registry = Arc::new(InMemoryRegistry::new());
    let ser =
        JsonSchemaSerializer::<Option<Order>>::new(registry, JsonSchema::parse(SCHEMA).unwrap())
            .unwrap();
    rt().block_on(async {
        let mut headers = Headers::new();
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
        let w = resolve::serialize(&ser, &None, &mut ctx, &mut out)
            .await
            .unwrap();
        assert_eq!(w, Serialized::Null);
        assert!(out.is_empty());
        // Null records resolve nothing and append nothing on the sync path either.
        assert_eq!(
            ser.serialize(&None, &mut ctx, &mut out).unwrap(),
            Serialized::Null
        );
    });
    let de = JsonSchemaDeserializer::<Option<Order>>::without_validation();
    assert_eq!(testing::decode(&de, None).unwrap(), None);
    let err =
        testing::decode(&JsonSchemaDeserializer::<Order>::without_validation(), None).unwrap_err();
    assert!(matches!(err, Error::UnexpectedNull { .. }));
}

#[test]
fn record_strategy_uses_the_title_and_needs_one() {
    let registry = Arc::new(InMemoryRegistry::new());
    let ser = JsonSchemaSerializer::<Order>::with_config(
        registry.clone(),
        JsonSchema::parse(SCHEMA).unwrap(),
        JsonSchemaSerializerConfig::new().subject_name_strategy(TopicRecordNameStrategy),
    )
    .unwrap();
    encode(
        &ser,
        &Order {
            id: "a".into(),
            qty: 1,
            note: Some("n".into()),
        },
    )
    .unwrap();
    assert!(rt().block_on(registry.latest("orders-shop.Order")).is_ok());
    let err = JsonSchemaSerializer::<Order>::with_config(
        registry,
        JsonSchema::parse(r#"{"type":"object"}"#).unwrap(),
        JsonSchemaSerializerConfig::new().subject_name_strategy(RecordNameStrategy),
    )
    .unwrap_err();
    assert!(err.to_string().contains("title"), "{err}");
}

#[test]
fn bad_schemas_and_bad_frames_are_typed_errors() {
    assert!(matches!(
        JsonSchema::parse("{"),
        Err(JsonSchemaError::SchemaJson(_))
    ));
    assert!(matches!(
        JsonSchema::parse(r#"{"type":"no-such-type"}"#),
        Err(JsonSchemaError::Schema { .. })
    ));
    // A $ref to nothing registered does not reach the network or the disk.
    assert!(matches!(
        JsonSchema::parse(r#"{"$ref":"https://example.com/x.json"}"#),
        Err(JsonSchemaError::Schema { .. })
    ));
    let de = JsonSchemaDeserializer::<Order>::with_schema(JsonSchema::parse(SCHEMA).unwrap());
    for (data, want) in [
        (&b""[..], "empty data"),
        (b"\x02abcdef", "bad magic"),
        (
            b"\x00\x00\x00\x00\x01{\"id\":",
            "JSON (de)serialization failed",
        ),
        (b"\x00\x00\x00\x00\x01\xff", "JSON (de)serialization failed"),
    ] {
        let err = testing::decode(&de, Some(data)).unwrap_err();
        assert!(err.to_string().contains(want), "{data:?}: {err}");
    }
    // Deep nesting is refused by the parser's recursion limit, not by a stack overflow.
    let mut deep = b"\x00\x00\x00\x00\x01".to_vec();
    deep.extend(std::iter::repeat_n(b'[', 100_000));
    assert!(testing::decode(&de, Some(&deep)).is_err());
}

#[test]
fn references_resolve_from_the_registry() {
    let registry = Arc::new(InMemoryRegistry::new());
    rt().block_on(async {
        let address = kcodec_registry::Schema::json(
            r#"{"type":"object","properties":{"city":{"type":"string"}},"required":["city"]}"#,
        );
        let a = registry.register("address", &address, false).await.unwrap();
        let person = kcodec_registry::Schema::json(
            r#"{"type":"object","properties":{"home":{"$ref":"address.json"}}}"#,
        )
        .with_references(vec![kcodec_registry::SchemaReference {
            name: "address.json".into(),
            subject: "address".into(),
            version: a.version,
        }]);
        let p = registry
            .register("people-value", &person, false)
            .await
            .unwrap();
        let de = JsonSchemaDeserializer::<serde_json::Value>::new(registry.clone());
        let headers = Headers::new();
        let ctx = DeserializeContext::new("people", Target::Value, &headers);
        let mut frame = vec![0];
        frame.extend(p.id.to_be_bytes());
        let mut good = frame.clone();
        good.extend_from_slice(br#"{"home":{"city":"Oslo"}}"#);
        resolve::deserialize(&de, Some(&good.into()), &ctx)
            .await
            .unwrap();
        frame.extend_from_slice(br#"{"home":{}}"#);
        let err = resolve::deserialize(&de, Some(&frame.into()), &ctx)
            .await
            .unwrap_err();
        assert!(
            err.to_string().contains("'/home'") && err.to_string().contains("'required'"),
            "{err}"
        );
    });
}

#[cfg(feature = "schemars")]
#[test]
fn schemars_generates_the_schema_and_its_title() {
    let schema = JsonSchema::for_type::<Order>().unwrap();
    assert_eq!(schema.title(), Some("Order"));
    assert!(
        schema
            .validate(&serde_json::json!({"id":"a","qty":1,"note":null}))
            .is_ok()
    );
    assert!(schema.validate(&serde_json::json!({"id":"a"})).is_err());
}
