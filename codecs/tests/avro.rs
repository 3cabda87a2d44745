//! The Avro codec: framing, schema selection, null records, evolution and bad input.
#![cfg(feature = "avro")]

use bytes::{Bytes, BytesMut};
use kcodec_codecs::avro::{
    AvroDeserializer, AvroError, AvroSerializer, AvroSerializerConfig, GenericAvroDeserializer,
    GenericAvroSerializer, ParsedSchema, Value,
};
use kcodec_codecs::subject::SchemaIdFormat;
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{
    DeserializeContext, Deserializer, Error, Headers, SerializeContext, Serialized, Serializer,
    Target, Unresolved, resolve,
};
use kcodec_registry::strategy::{
    RecordNameStrategy, SubjectNameStrategy, TopicNameStrategy, TopicRecordNameStrategy,
};
use kcodec_registry::{InMemoryRegistry, RegistryError, Schema, SchemaRegistry};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const USER_V1: &str = r#"{"type":"record","name":"User","namespace":"shop","fields":[
    {"name":"name","type":"string"},
    {"name":"id","type":"long"}]}"#;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct UserV1 {
    name: String,
    id: i64,
}

fn parsed(text: &str) -> ParsedSchema {
    ParsedSchema::parse(text).unwrap()
}

fn registry() -> Arc<InMemoryRegistry> {
    Arc::new(InMemoryRegistry::new())
}

/// Encodes through the async helper (resolving as needed); returns the bytes and headers.
async fn encode<T: ?Sized, S: Serializer<T>>(
    ser: &S,
    topic: &str,
    target: Target,
    value: &T,
) -> Result<(Option<Bytes>, Headers), Error> {
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new(topic, target, &mut headers);
    let written = resolve::serialize(ser, value, &mut ctx, &mut out).await?;
    Ok(match written {
        Serialized::Data => (Some(out.freeze()), headers),
        Serialized::Null => {
            assert!(out.is_empty());
            (None, headers)
        }
    })
}

async fn decode<T, D: Deserializer<T>>(
    de: &D,
    topic: &str,
    target: Target,
    data: Option<&Bytes>,
    headers: &Headers,
) -> Result<T, Error> {
    let ctx = DeserializeContext::new(topic, target, headers);
    resolve::deserialize(de, data, &ctx).await
}

async fn roundtrip_value<T: Serialize>(
    writer_schema: &str,
    reader_schema: &str,
    value: &T,
) -> Result<Value, Error> {
    let reg = registry();
    let ser = AvroSerializer::<T>::new(reg.clone(), parsed(writer_schema));
    let (data, headers) = encode(&ser, "t", Target::Value, value).await?;
    let de = GenericAvroDeserializer::with_reader_schema(reg, parsed(reader_schema));
    decode(&de, "t", Target::Value, data.as_ref(), &headers).await
}

#[tokio::test]
async fn typed_roundtrip_registers_once_and_then_stays_sync() {
    let reg = registry();
    let ser = AvroSerializer::<UserV1>::new(reg.clone(), parsed(USER_V1));
    let user = UserV1 {
        name: "ada".into(),
        id: -2,
    };
    // Before resolving, the sync call names what it needs.
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("users", Target::Value, &mut headers);
    match ser.serialize(&user, &mut ctx, &mut out) {
        Err(Error::Unresolved(Unresolved::WriterSchema { subject, .. })) => {
            assert_eq!(subject.as_deref(), Some("users-value"))
        }
        other => panic!("expected Unresolved, got {other:?}"),
    }
    assert!(out.is_empty());
    let (data, headers) = encode(&ser, "users", Target::Value, &user).await.unwrap();
    let data = data.unwrap();
    // magic, id 1, then "ada" (len 3 → 0x06) and zigzag(-2) = 3.
    assert_eq!(&data[..], [0, 0, 0, 0, 1, 0x06, b'a', b'd', b'a', 0x03]);
    assert!(headers.is_empty());
    // Now the sync path serves, appending after what the caller had.
    let mut headers = Headers::new();
    let mut out = BytesMut::from(&b"xy"[..]);
    let mut ctx = SerializeContext::new("users", Target::Value, &mut headers);
    assert_eq!(
        ser.serialize(&user, &mut ctx, &mut out).unwrap(),
        Serialized::Data
    );
    assert_eq!(&out[2..], &data[..]);
    assert_eq!(reg.subjects(false).await.unwrap(), vec!["users-value"]);

    let de = AvroDeserializer::<UserV1>::new(reg.clone());
    let back: UserV1 = decode(&de, "users", Target::Value, Some(&data), &Headers::new())
        .await
        .unwrap();
    assert_eq!(back, user);
    // The writer schema is cached: the sync call now succeeds.
    let ctx_headers = Headers::new();
    let ctx = DeserializeContext::new("users", Target::Value, &ctx_headers);
    assert_eq!(de.deserialize(Some(&data), &ctx).unwrap(), user);
}

#[tokio::test]
async fn null_records() {
    let reg = registry();
    let ser = AvroSerializer::<Option<UserV1>>::new(reg.clone(), parsed(USER_V1));
    let (data, headers) = encode(&ser, "users", Target::Value, &None).await.unwrap();
    assert_eq!(data, None);
    assert!(headers.is_empty());
    assert!(
        reg.subjects(false).await.unwrap().is_empty(),
        "nothing registered"
    );
    let some = Some(UserV1 {
        name: "b".into(),
        id: 1,
    });
    let (data, _) = encode(&ser, "users", Target::Value, &some).await.unwrap();
    let de = AvroDeserializer::<Option<UserV1>>::new(reg.clone());
    let back = decode(&de, "users", Target::Value, data.as_ref(), &Headers::new())
        .await
        .unwrap();
    assert_eq!(back, some);
    let none = decode(&de, "users", Target::Value, None, &Headers::new())
        .await
        .unwrap();
    assert_eq!(none, None);
    let strict = AvroDeserializer::<UserV1>::new(reg.clone());
    let err = decode(&strict, "users", Target::Key, None, &Headers::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedNull {
                target: Target::Key,
                ..
            }
        ),
        "{err:?}"
    );
    // Generic: Option<Value> gets None, Value refuses null.
    let generic = GenericAvroDeserializer::new(reg.clone());
    let none: Option<Value> = decode(&generic, "users", Target::Value, None, &Headers::new())
        .await
        .unwrap();
    assert_eq!(none, None);
    let err = decode::<Value, _>(&generic, "users", Target::Value, None, &Headers::new())
        .await
        .unwrap_err();
    assert!(matches!(err, Error::UnexpectedNull { .. }));
    let gser = GenericAvroSerializer::new(reg.clone(), parsed(USER_V1));
    let (data, _) = encode::<Option<Value>, _>(&gser, "g", Target::Value, &None)
        .await
        .unwrap();
    assert_eq!(data, None);
}

#[tokio::test]
async fn header_mode_writes_guid_header_and_no_prefix() {
    let reg = registry();
    let config = AvroSerializerConfig::new().schema_id_format(SchemaIdFormat::Header);
    let ser = AvroSerializer::<UserV1>::with_config(reg.clone(), parsed(USER_V1), config).unwrap();
    let user = UserV1 {
        name: "x".into(),
        id: 5,
    };
    let (data, headers) = encode(&ser, "users", Target::Key, &user).await.unwrap();
    let data = data.unwrap();
    assert_eq!(&data[..], [0x02, b'x', 0x0a]);
    let guid = reg.guid_of(1).unwrap();
    let header = headers.last("__key_schema_id").unwrap();
    assert_eq!(header[0], 0x01);
    assert_eq!(&header[1..], guid.as_bytes());
    assert!(headers.last("__value_schema_id").is_none());
    // The header wins over the (absent) prefix when reading.
    let de = AvroDeserializer::<UserV1>::new(reg.clone());
    let back = decode(&de, "users", Target::Key, Some(&data), &headers)
        .await
        .unwrap();
    assert_eq!(back, user);
}

#[tokio::test]
async fn schema_selection_config() {
    // use.latest.version with auto.register is refused, as in Confluent's Python client.
    let err = AvroSerializer::<UserV1>::with_config(
        registry(),
        parsed(USER_V1),
        AvroSerializerConfig::new().use_latest_version(true),
    )
    .unwrap_err();
    assert!(err.to_string().contains("use.latest.version"), "{err}");

    // auto.register off: the schema must already be registered.
    let reg = registry();
    let config = AvroSerializerConfig::new().auto_register_schemas(false);
    let ser = AvroSerializer::<UserV1>::with_config(reg.clone(), parsed(USER_V1), config.clone())
        .unwrap();
    let user = UserV1 {
        name: "n".into(),
        id: 1,
    };
    let err = encode(&ser, "users", Target::Value, &user)
        .await
        .unwrap_err();
    assert!(matches!(err, Error::Registry(_)), "{err:?}");
    reg.register("users-value", &Schema::avro(USER_V1), false)
        .await
        .unwrap();
    let (data, _) = encode(&ser, "users", Target::Value, &user).await.unwrap();
    assert_eq!(&data.unwrap()[..5], [0, 0, 0, 0, 1]);

    // use.latest.version: encode with the latest registered version (here a v2 with an extra
    // optional field: the serde value fills it from its own Option).
    #[derive(Serialize)]
    struct UserV2 {
        name: String,
        id: i64,
        email: Option<String>,
    }
    let v2 = r#"{"type":"record","name":"User","namespace":"shop","fields":[
        {"name":"name","type":"string"},{"name":"id","type":"long"},
        {"name":"email","type":["null","string"],"default":null}]}"#;
    reg.register("users-value", &Schema::avro(v2), false)
        .await
        .unwrap();
    let latest = AvroSerializer::<UserV2>::with_config(
        reg.clone(),
        parsed(USER_V1),
        AvroSerializerConfig::new()
            .auto_register_schemas(false)
            .use_latest_version(true),
    )
    .unwrap();
    let value = UserV2 {
        name: "n".into(),
        id: 1,
        email: Some("e".into()),
    };
    let (data, _) = encode(&latest, "users", Target::Value, &value)
        .await
        .unwrap();
    assert_eq!(
        &data.unwrap()[..],
        [0, 0, 0, 0, 2, 0x02, b'n', 0x02, 0x02, 0x02, b'e']
    );

    // use.schema.id with auto-registration on: as Java's `serializeImpl`, which checks
    // `autoRegisterSchema` first, the local schema is registered (id 1) and the id ignored.
    let registers = AvroSerializer::<UserV1>::with_config(
        reg.clone(),
        parsed(USER_V1),
        AvroSerializerConfig::new().use_schema_id(Some(2)),
    )
    .unwrap();
    let (data, _) = encode(&registers, "users", Target::Value, &user)
        .await
        .unwrap();
    assert_eq!(&data.unwrap()[..5], [0, 0, 0, 0, 1]);
    // use.schema.id with auto-registration off: encode with the schema of that id.
    let by_id = AvroSerializer::<UserV1>::with_config(
        reg.clone(),
        parsed(USER_V1),
        AvroSerializerConfig::new()
            .auto_register_schemas(false)
            .use_schema_id(Some(1)),
    )
    .unwrap();
    let (data, _) = encode(&by_id, "users", Target::Value, &user).await.unwrap();
    assert_eq!(&data.unwrap()[..5], [0, 0, 0, 0, 1]);
}

#[tokio::test]
async fn subject_name_strategies() {
    let strategies: [(Arc<dyn SubjectNameStrategy>, &str); 3] = [
        (Arc::new(TopicNameStrategy), "orders-key"),
        (Arc::new(RecordNameStrategy), "shop.User"),
        (Arc::new(TopicRecordNameStrategy), "orders-shop.User"),
    ];
    for (strategy, subject) in strategies {
        let reg = registry();
        let config = AvroSerializerConfig::new().subject_name_strategy(strategy);
        let ser =
            AvroSerializer::<UserV1>::with_config(reg.clone(), parsed(USER_V1), config).unwrap();
        let user = UserV1 {
            name: "n".into(),
            id: 1,
        };
        encode(&ser, "orders", Target::Key, &user).await.unwrap();
        assert_eq!(reg.subjects(false).await.unwrap(), vec![subject]);
    }
}

#[tokio::test]
async fn top_level_bytes_are_raw() {
    let reg = registry();
    let ser = AvroSerializer::<serde_bytes_like::Raw>::new(reg.clone(), parsed(r#""bytes""#));
    let raw = serde_bytes_like::Raw(vec![0, 1, 0xfe, 0xff]);
    let (data, _) = encode(&ser, "b", Target::Value, &raw).await.unwrap();
    assert_eq!(
        &data.as_ref().unwrap()[..],
        [0, 0, 0, 0, 1, 0, 1, 0xfe, 0xff]
    );
    let de = GenericAvroDeserializer::new(reg.clone());
    let back: Value = decode(&de, "b", Target::Value, data.as_ref(), &Headers::new())
        .await
        .unwrap();
    assert_eq!(back, Value::Bytes(vec![0, 1, 0xfe, 0xff]));
    let typed = AvroDeserializer::<serde_bytes_like::Raw>::new(reg.clone());
    let back = decode(&typed, "b", Target::Value, data.as_ref(), &Headers::new())
        .await
        .unwrap();
    assert_eq!(back, raw);
    // Generic writer: same bytes.
    let gser = GenericAvroSerializer::new(reg, parsed(r#""bytes""#));
    let (gdata, _) = encode(
        &gser,
        "b",
        Target::Value,
        &Value::Bytes(vec![0, 1, 0xfe, 0xff]),
    )
    .await
    .unwrap();
    assert_eq!(gdata, data);
}

mod serde_bytes_like {
    /// Bytes that serialize with `serialize_bytes` (as `serde_bytes::ByteBuf` does).
    #[derive(Debug, PartialEq)]
    pub struct Raw(pub Vec<u8>);

    impl serde::Serialize for Raw {
        fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
            s.serialize_bytes(&self.0)
        }
    }

    impl<'de> serde::Deserialize<'de> for Raw {
        fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
            struct V;
            impl serde::de::Visitor<'_> for V {
                type Value = Raw;
                fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                    f.write_str("bytes")
                }
                fn visit_bytes<E>(self, v: &[u8]) -> Result<Raw, E> {
                    Ok(Raw(v.to_vec()))
                }
                fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Raw, E> {
                    Ok(Raw(v))
                }
            }
            d.deserialize_bytes(V)
        }
    }
}

// ---------------------------------------------------------------------------------- evolution

fn record(name: &str, fields: &str) -> String {
    format!(r#"{{"type":"record","name":"{name}","namespace":"ev","fields":[{fields}]}}"#)
}

fn field(value: &Value, name: &str) -> Value {
    match value {
        Value::Record(fields) => fields
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.clone())
            .unwrap_or_else(|| panic!("no field {name} in {value:?}")),
        other => panic!("not a record: {other:?}"),
    }
}

#[tokio::test]
async fn evolution_added_field_takes_default_and_removed_field_is_skipped() {
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct V1 {
        a: i32,
        gone: String,
    }
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct V2 {
        a: i32,
        added: String,
    }
    let v1 = record(
        "R",
        r#"{"name":"a","type":"int"},{"name":"gone","type":"string"}"#,
    );
    let v2 = record(
        "R",
        r#"{"name":"a","type":"int"},{"name":"added","type":"string","default":"dflt"}"#,
    );
    // write v1, read v2 (typed, through resolution)
    let reg = registry();
    let ser = AvroSerializer::<V1>::new(reg.clone(), parsed(&v1));
    let (data, h) = encode(
        &ser,
        "ev",
        Target::Value,
        &V1 {
            a: 7,
            gone: "x".into(),
        },
    )
    .await
    .unwrap();
    let de = AvroDeserializer::<V2>::with_reader_schema(reg.clone(), parsed(&v2));
    let back = decode(&de, "ev", Target::Value, data.as_ref(), &h)
        .await
        .unwrap();
    assert_eq!(
        back,
        V2 {
            a: 7,
            added: "dflt".into()
        }
    );
    // write v2, read v1: "gone" has no default in v1, so v2 data can't be read as v1.
    let ser2 = AvroSerializer::<V2>::new(registry(), parsed(&v2));
    let reg2 = registry();
    let ser2b = AvroSerializer::<V2>::new(reg2.clone(), parsed(&v2));
    drop(ser2);
    let (data, h) = encode(
        &ser2b,
        "ev",
        Target::Value,
        &V2 {
            a: 1,
            added: "y".into(),
        },
    )
    .await
    .unwrap();
    let de1 = AvroDeserializer::<V1>::with_reader_schema(reg2.clone(), parsed(&v1));
    let err = decode(&de1, "ev", Target::Value, data.as_ref(), &h)
        .await
        .unwrap_err();
    match &err {
        Error::Avro(AvroError::Unresolvable { writer, reader, .. }) => {
            assert_eq!(*writer, SchemaId::Id(1));
            assert_eq!(reader, "ev.R");
            let source = std::error::Error::source(&err).unwrap().to_string();
            assert!(!source.is_empty());
        }
        other => panic!("expected Unresolvable, got {other:?}"),
    }
    // v3 = v1 plus a default for "gone": now v2 data reads as v3, skipping "added".
    let v3 = record(
        "R",
        r#"{"name":"a","type":"int"},{"name":"gone","type":"string","default":"g"}"#,
    );
    let de3 = AvroDeserializer::<V1>::with_reader_schema(reg2, parsed(&v3));
    let back = decode(&de3, "ev", Target::Value, data.as_ref(), &h)
        .await
        .unwrap();
    assert_eq!(
        back,
        V1 {
            a: 1,
            gone: "g".into()
        }
    );
}

#[tokio::test]
async fn evolution_promotions() {
    #[derive(Serialize)]
    struct W {
        i2l: i32,
        i2f: i32,
        i2d: i32,
        l2f: i64,
        l2d: i64,
        f2d: f32,
        s2b: String,
        b2s: serde_bytes_like::Raw,
    }
    let w = record(
        "P",
        r#"{"name":"i2l","type":"int"},{"name":"i2f","type":"int"},{"name":"i2d","type":"int"},
           {"name":"l2f","type":"long"},{"name":"l2d","type":"long"},{"name":"f2d","type":"float"},
           {"name":"s2b","type":"string"},{"name":"b2s","type":"bytes"}"#,
    );
    let r = record(
        "P",
        r#"{"name":"i2l","type":"long"},{"name":"i2f","type":"float"},{"name":"i2d","type":"double"},
           {"name":"l2f","type":"float"},{"name":"l2d","type":"double"},{"name":"f2d","type":"double"},
           {"name":"s2b","type":"bytes"},{"name":"b2s","type":"string"}"#,
    );
    let value = roundtrip_value(
        &w,
        &r,
        &W {
            i2l: -3,
            i2f: 4,
            i2d: 5,
            l2f: 6,
            l2d: 7,
            f2d: 1.5,
            s2b: "hi".into(),
            b2s: serde_bytes_like::Raw(b"yo".to_vec()),
        },
    )
    .await
    .unwrap();
    assert_eq!(field(&value, "i2l"), Value::Long(-3));
    assert_eq!(field(&value, "i2f"), Value::Float(4.0));
    assert_eq!(field(&value, "i2d"), Value::Double(5.0));
    assert_eq!(field(&value, "l2f"), Value::Float(6.0));
    assert_eq!(field(&value, "l2d"), Value::Double(7.0));
    assert_eq!(field(&value, "f2d"), Value::Double(1.5));
    assert_eq!(field(&value, "s2b"), Value::Bytes(b"hi".to_vec()));
    assert_eq!(field(&value, "b2s"), Value::String("yo".into()));
    // The reverse (narrowing) doesn't resolve.
    #[derive(Serialize)]
    struct X {
        x: i64,
    }
    let err = roundtrip_value(
        &record("N", r#"{"name":"x","type":"long"}"#),
        &record("N", r#"{"name":"x","type":"int"}"#),
        &X { x: 1 },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Avro(AvroError::Unresolvable { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn evolution_enums() {
    #[derive(Serialize)]
    #[allow(clippy::upper_case_acronyms)]
    enum Color {
        RED,
        GREEN,
        BLUE,
    }
    #[derive(Serialize)]
    struct E {
        e: Color,
    }
    let writer = record(
        "E",
        r#"{"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN","BLUE"]}}"#,
    );
    // Reader lacks BLUE but has a default: BLUE reads as the default.
    let with_default = record(
        "E",
        r#"{"name":"e","type":{"type":"enum","name":"Color","symbols":["GREEN","RED","OTHER"],"default":"OTHER"}}"#,
    );
    let v = roundtrip_value(&writer, &with_default, &E { e: Color::BLUE })
        .await
        .unwrap();
    assert_eq!(field(&v, "e"), Value::Enum(2, "OTHER".into()));
    // Symbols are matched by name, not position.
    let v = roundtrip_value(&writer, &with_default, &E { e: Color::RED })
        .await
        .unwrap();
    assert_eq!(field(&v, "e"), Value::Enum(1, "RED".into()));
    // Without a default, a symbol the reader lacks is an error naming the problem.
    let no_default = record(
        "E",
        r#"{"name":"e","type":{"type":"enum","name":"Color","symbols":["RED","GREEN"]}}"#,
    );
    let v = roundtrip_value(&writer, &no_default, &E { e: Color::GREEN })
        .await
        .unwrap();
    assert_eq!(field(&v, "e"), Value::Enum(1, "GREEN".into()));
    let err = roundtrip_value(&writer, &no_default, &E { e: Color::BLUE })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Avro(AvroError::Resolve { .. } | AvroError::Unresolvable { .. })
        ),
        "{err:?}"
    );
}

#[tokio::test]
async fn evolution_unions() {
    // Writer plain long, reader ["null","long"]: the long branch is picked.
    #[derive(Serialize)]
    struct L {
        x: i64,
    }
    let plain = record("U", r#"{"name":"x","type":"long"}"#);
    let optional = record("U", r#"{"name":"x","type":["null","long"],"default":null}"#);
    let v = roundtrip_value(&plain, &optional, &L { x: 9 })
        .await
        .unwrap();
    assert_eq!(field(&v, "x"), Value::Union(1, Box::new(Value::Long(9))));
    // Writer union, reader plain: a long branch reads, a null branch is an error.
    #[derive(Serialize)]
    struct O {
        x: Option<i64>,
    }
    let v = roundtrip_value(&optional, &plain, &O { x: Some(4) })
        .await
        .unwrap();
    assert_eq!(field(&v, "x"), Value::Long(4));
    let err = roundtrip_value(&optional, &plain, &O { x: None })
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Avro(AvroError::Resolve { .. } | AvroError::Unresolvable { .. })
        ),
        "{err:?}"
    );
    // Union to union with a promotion: int branch → reader's long branch.
    #[derive(Serialize)]
    struct I {
        x: Option<i32>,
    }
    let ints = record("U", r#"{"name":"x","type":["null","int"]}"#);
    let longs = record("U", r#"{"name":"x","type":["null","long"]}"#);
    let v = roundtrip_value(&ints, &longs, &I { x: Some(3) })
        .await
        .unwrap();
    assert_eq!(field(&v, "x"), Value::Union(1, Box::new(Value::Long(3))));
    // A type that doesn't resolve at all.
    let err = roundtrip_value(
        &ints,
        &record("U", r#"{"name":"x","type":"string"}"#),
        &I { x: Some(1) },
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Avro(AvroError::Unresolvable { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn same_schema_with_different_text_takes_the_direct_path() {
    // Same canonical form (docs and field order of attributes differ): typed direct decoding.
    let reg = registry();
    let ser = AvroSerializer::<UserV1>::new(reg.clone(), parsed(USER_V1));
    let user = UserV1 {
        name: "q".into(),
        id: 3,
    };
    let (data, h) = encode(&ser, "u", Target::Value, &user).await.unwrap();
    let reader = r#"{"name":"User","namespace":"shop","type":"record","doc":"users","fields":[
        {"name":"name","type":"string","doc":"n"},{"name":"id","type":"long"}]}"#;
    let de = AvroDeserializer::<UserV1>::with_reader_schema(reg, parsed(reader));
    assert_eq!(
        decode(&de, "u", Target::Value, data.as_ref(), &h)
            .await
            .unwrap(),
        user
    );
}

// ---------------------------------------------------------------------------------- bad input

async fn decode_raw(schema: &str, payload: &[u8]) -> Error {
    let reg = registry();
    reg.register("t-value", &Schema::avro(schema), false)
        .await
        .unwrap();
    let mut frame = vec![0, 0, 0, 0, 1];
    frame.extend_from_slice(payload);
    let de = GenericAvroDeserializer::new(reg);
    decode::<Value, _>(
        &de,
        "t",
        Target::Value,
        Some(&Bytes::from(frame)),
        &Headers::new(),
    )
    .await
    .unwrap_err()
}

#[tokio::test]
async fn bad_input_gives_typed_errors() {
    let user = USER_V1;
    // Truncated: the string says 3 bytes, one follows.
    let err = decode_raw(user, &[0x06, b'a']).await;
    assert!(
        matches!(
            err,
            Error::Avro(AvroError::LengthTooLarge {
                what: "string",
                at: 0,
                length: 3,
                remaining: 1
            })
        ),
        "{err:?}"
    );
    // A length prefix far beyond the input: refused before allocating.
    let err = decode_raw(user, &[0xfe, 0xff, 0xff, 0xff, 0x0f]).await;
    assert!(
        matches!(err, Error::Avro(AvroError::LengthTooLarge { .. })),
        "{err:?}"
    );
    // Negative length.
    let err = decode_raw(user, &[0x01]).await;
    assert!(
        matches!(err, Error::Avro(AvroError::NegativeLength { .. })),
        "{err:?}"
    );
    // Data ends before the long.
    let err = decode_raw(user, &[0x02, b'a']).await;
    assert!(
        matches!(err, Error::Avro(AvroError::Truncated { at: 2, .. })),
        "{err:?}"
    );
    // A varint that never ends.
    let err = decode_raw(
        user,
        &[
            0x02, b'a', 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01,
        ],
    )
    .await;
    assert!(
        matches!(err, Error::Avro(AvroError::Varint { at: 2, .. })),
        "{err:?}"
    );
    // Trailing bytes.
    let err = decode_raw(user, &[0x02, b'a', 0x02, 0x00]).await;
    assert!(
        matches!(
            err,
            Error::Avro(AvroError::TrailingBytes { at: 3, count: 1 })
        ),
        "{err:?}"
    );
    assert_eq!(
        err.to_string(),
        "1 trailing bytes after the Avro value (it ended at byte 3)"
    );
    // Union index out of range.
    let err = decode_raw(r#"["null","string"]"#, &[0x04]).await;
    assert!(
        matches!(
            err,
            Error::Avro(AvroError::UnionIndex {
                index: 2,
                branches: 2,
                ..
            })
        ),
        "{err:?}"
    );
    // Enum index out of range.
    let err = decode_raw(r#"{"type":"enum","name":"E","symbols":["A"]}"#, &[0x02]).await;
    assert!(
        matches!(err, Error::Avro(AvroError::EnumIndex { index: 1, .. })),
        "{err:?}"
    );
    // An array claiming more items than bytes.
    let err = decode_raw(
        r#"{"type":"array","items":"long"}"#,
        &[0x80, 0x80, 0x80, 0x08],
    )
    .await;
    assert!(
        matches!(err, Error::Avro(AvroError::ItemCount { .. })),
        "{err:?}"
    );
    // Arrays of nulls take no bytes: their count is capped at MAX_ZERO_WIDTH_ITEMS (65536).
    let reg = registry();
    reg.register(
        "t-value",
        &Schema::avro(r#"{"type":"array","items":"null"}"#),
        false,
    )
    .await
    .unwrap();
    let de = GenericAvroDeserializer::new(reg);
    let at_cap = Bytes::from_static(&[0, 0, 0, 0, 1, 0x80, 0x80, 0x08, 0x00]);
    let value: Value = decode(&de, "t", Target::Value, Some(&at_cap), &Headers::new())
        .await
        .unwrap();
    assert!(matches!(value, Value::Array(items) if items.len() == 65_536));
    let over = Bytes::from_static(&[0, 0, 0, 0, 1, 0x82, 0x80, 0x08, 0x00]);
    let err = decode::<Value, _>(&de, "t", Target::Value, Some(&over), &Headers::new())
        .await
        .unwrap_err();
    assert!(
        matches!(
            err,
            Error::Avro(AvroError::TooManyItems { count: 65_537, .. })
        ),
        "{err:?}"
    );
    let err = decode_raw(
        r#"{"type":"array","items":"null"}"#,
        &[0xfe, 0xff, 0xff, 0xff, 0x0f, 0x00],
    )
    .await;
    assert!(
        matches!(err, Error::Avro(AvroError::TooManyItems { .. })),
        "{err:?}"
    );
    // A bad boolean.
    let err = decode_raw(r#""boolean""#, &[0x02]).await;
    assert!(
        matches!(err, Error::Avro(AvroError::Boolean { byte: 2, .. })),
        "{err:?}"
    );
    // An int that overflows 32 bits.
    let err = decode_raw(r#""int""#, &[0xff, 0xff, 0xff, 0xff, 0x7f]).await;
    assert!(
        matches!(err, Error::Avro(AvroError::Varint { what: "int", .. })),
        "{err:?}"
    );
    // Deep recursion through a recursive schema is cut off.
    let list =
        r#"{"type":"record","name":"Node","fields":[{"name":"next","type":["null","Node"]}]}"#;
    let err = decode_raw(list, &[0x02; 300]).await;
    assert!(
        matches!(err, Error::Avro(AvroError::TooDeep { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn unknown_schema_id_and_bad_frames() {
    let de = GenericAvroDeserializer::new(registry());
    let frame = Bytes::from_static(&[0, 0, 0, 0, 42, 0]);
    let err = decode::<Value, _>(&de, "t", Target::Value, Some(&frame), &Headers::new())
        .await
        .unwrap_err();
    match &err {
        Error::Avro(AvroError::UnknownSchema { id, source }) => {
            assert_eq!(*id, SchemaId::Id(42));
            assert!(matches!(source, RegistryError::SchemaNotFound(_)));
        }
        other => panic!("expected UnknownSchema, got {other:?}"),
    }
    assert!(err.to_string().contains("schema id 42"), "{err}");
    // Bad magic byte, truncated prefix.
    let err = decode::<Value, _>(
        &de,
        "t",
        Target::Value,
        Some(&Bytes::from_static(&[7, 0])),
        &Headers::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Wire(_)), "{err:?}");
    let err = decode::<Value, _>(
        &de,
        "t",
        Target::Value,
        Some(&Bytes::from_static(&[0, 0, 1])),
        &Headers::new(),
    )
    .await
    .unwrap_err();
    assert!(matches!(err, Error::Wire(_)), "{err:?}");
    // A registered non-Avro schema.
    let reg = registry();
    reg.register(
        "p",
        &Schema::protobuf("syntax = \"proto3\"; message M {}"),
        false,
    )
    .await
    .unwrap();
    let de = GenericAvroDeserializer::new(reg);
    let err = decode::<Value, _>(
        &de,
        "t",
        Target::Value,
        Some(&Bytes::from_static(&[0, 0, 0, 0, 1])),
        &Headers::new(),
    )
    .await
    .unwrap_err();
    assert!(
        matches!(err, Error::Avro(AvroError::NotAvro { .. })),
        "{err:?}"
    );
}

#[tokio::test]
async fn encode_errors_leave_the_buffer_alone() {
    #[derive(Serialize)]
    struct Wrong {
        name: i32,
    }
    let reg = registry();
    let ser = AvroSerializer::<Wrong>::new(reg, parsed(USER_V1));
    let mut headers = Headers::new();
    let mut out = BytesMut::from(&b"keep"[..]);
    let mut ctx = SerializeContext::new("w", Target::Value, &mut headers);
    let err = resolve::serialize(&ser, &Wrong { name: 1 }, &mut ctx, &mut out)
        .await
        .unwrap_err();
    // The error names the field and what did not fit.
    match &err {
        Error::Avro(AvroError::Encode {
            path,
            schema,
            problem,
        }) => {
            assert_eq!(path, "$.name");
            assert_eq!(schema, "string");
            assert!(problem.contains("i32"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    assert_eq!(&out[..], b"keep");
    // Generic values are validated against the schema.
    let gser = GenericAvroSerializer::new(registry(), parsed(USER_V1));
    let err = encode(&gser, "w", Target::Value, &Value::Long(1))
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Avro(AvroError::ValueMismatch { path, .. }) if path == "$"),
        "{err:?}"
    );
    let wrong_field = Value::Record(vec![
        ("name".into(), Value::String("n".into())),
        ("id".into(), Value::String("not a long".into())),
    ]);
    let err = encode(&gser, "w", Target::Value, &wrong_field)
        .await
        .unwrap_err();
    assert!(
        matches!(&err, Error::Avro(AvroError::ValueMismatch { path, .. }) if path == "$.id"),
        "{err:?}"
    );
}

#[test]
fn invalid_schema_text_is_a_parse_error() {
    let err = ParsedSchema::parse(r#"{"type":"record","name":"R"}"#).unwrap_err();
    assert!(matches!(err, AvroError::SchemaParse(_)));
    assert!(std::error::Error::source(&err).is_some());
}

#[tokio::test]
async fn logical_types_map_to_rust_types() {
    #[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
    struct Logical {
        id: uuid::Uuid,
        day: i32,
        at_ms: i64,
        at_us: i64,
        local_ms: i64,
        time_ms: i32,
        time_us: i64,
        price: apache_avro::Decimal,
    }
    let schema = r#"{"type":"record","name":"Logical","fields":[
        {"name":"id","type":{"type":"string","logicalType":"uuid"}},
        {"name":"day","type":{"type":"int","logicalType":"date"}},
        {"name":"at_ms","type":{"type":"long","logicalType":"timestamp-millis"}},
        {"name":"at_us","type":{"type":"long","logicalType":"timestamp-micros"}},
        {"name":"local_ms","type":{"type":"long","logicalType":"local-timestamp-millis"}},
        {"name":"time_ms","type":{"type":"int","logicalType":"time-millis"}},
        {"name":"time_us","type":{"type":"long","logicalType":"time-micros"}},
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}]}"#;
    let value = Logical {
        id: uuid::Uuid::parse_str("6ba7b810-9dad-41d1-80b4-00c04fd430c8").unwrap(),
        day: 19_782,
        at_ms: 1_704_164_645_678,
        at_us: -1,
        local_ms: 0,
        time_ms: 45_296_789,
        time_us: 86_399_999_999,
        price: apache_avro::Decimal::from(vec![0x30, 0x39]), // 12345 → 123.45
    };
    let reg = registry();
    let ser = AvroSerializer::<Logical>::new(reg.clone(), parsed(schema));
    let (data, h) = encode(&ser, "l", Target::Value, &value).await.unwrap();
    // The uuid is written as its 36-character string.
    let data = data.unwrap();
    assert_eq!(data[5], 72); // zigzag(36)
    assert_eq!(&data[6..42], b"6ba7b810-9dad-41d1-80b4-00c04fd430c8");
    // Direct typed path.
    let de = AvroDeserializer::<Logical>::new(reg.clone());
    let back = decode(&de, "l", Target::Value, Some(&data), &h)
        .await
        .unwrap();
    assert_eq!(back, value);
    // Generic values carry the logical types.
    let generic = GenericAvroDeserializer::new(reg.clone());
    let v: Value = decode(&generic, "l", Target::Value, Some(&data), &h)
        .await
        .unwrap();
    assert_eq!(field(&v, "id"), Value::Uuid(value.id));
    assert_eq!(field(&v, "day"), Value::Date(19_782));
    assert_eq!(
        field(&v, "at_ms"),
        Value::TimestampMillis(1_704_164_645_678)
    );
    assert_eq!(field(&v, "at_us"), Value::TimestampMicros(-1));
    assert_eq!(field(&v, "local_ms"), Value::LocalTimestampMillis(0));
    assert_eq!(field(&v, "time_ms"), Value::TimeMillis(45_296_789));
    assert_eq!(field(&v, "time_us"), Value::TimeMicros(86_399_999_999));
    assert_eq!(
        field(&v, "price"),
        Value::Decimal(apache_avro::Decimal::from(vec![0x30, 0x39]))
    );
    // Through resolution (a reader with one more field, and without the decimal: apache-avro
    // 0.22's resolution refuses bytes decimals shorter than their precision allows) the same
    // Rust values come out.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Logical2 {
        id: uuid::Uuid,
        day: i32,
        at_ms: i64,
        extra: String,
    }
    let reader = schema
        .replace(
            r#"{"name":"day""#,
            r#"{"name":"extra","type":"string","default":"x"},{"name":"day""#,
        )
        .replace(
            r#",
        {"name":"price","type":{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}}"#,
            "",
        );
    assert!(!reader.contains("price"));
    let de2 = AvroDeserializer::<Logical2>::with_reader_schema(reg, parsed(&reader));
    let back = decode(&de2, "l", Target::Value, Some(&data), &h)
        .await
        .unwrap();
    assert_eq!(
        back,
        Logical2 {
            id: value.id,
            day: value.day,
            at_ms: value.at_ms,
            extra: "x".into()
        }
    );
}

#[tokio::test]
async fn maps_read_from_json_text_keep_the_documents_key_order() {
    // A map in a record, and a union of a map of maps (a nested map's own order counts too).
    let schema = parsed(
        r#"{"type":"record","name":"M","fields":[
            {"name":"m","type":{"type":"map","values":"int"}},
            {"name":"u","type":["null",{"type":"map","values":{"type":"map","values":"string"}}]},
            {"name":"a","type":{"type":"array","items":{"type":"map","values":"int"}},"default":[]}]}"#,
    );
    let ser = GenericAvroSerializer::new(registry(), schema.clone());
    let payload = |bytes: &Bytes| hex(&bytes[5..]);
    let text =
        r#"{"m":{"k":1,"j":-2},"u":{"map":{"z":{"b":"1","a":"2"},"y":{}}},"a":[{"q":1,"p":2}]}"#;
    let ordered = schema.value_from_json_text(text).unwrap();
    let (bytes, _) = encode(&ser, "t", Target::Value, &ordered).await.unwrap();
    // Confluent's Python AvroSerializer (fastavro 1.x under confluent-kafka 2.16.1) writes the
    // dict {"m": {"k": 1, "j": -2}, ...} in insertion order: these bytes.
    assert_eq!(
        payload(&bytes.unwrap()),
        "04026b02026a0300\
         0204027a0402620231026102320002790000\
         02040271020270040000"
    );
    // The same value without the order (a plain `Value`, `HashMap` maps): sorted by key.
    let (bytes, _) = encode(&ser, "t", Target::Value, ordered.value())
        .await
        .unwrap();
    assert_eq!(
        payload(&bytes.unwrap()),
        "04026a03026b0200\
         0204027900027a0402610232026202310000\
         02040270040271020000"
    );
    // A repeated key (serde_json keeps the last value): the order can't list the map's keys, so
    // the entries are sorted; a record field left to its default has no order either.
    let dup = schema
        .value_from_json_text(r#"{"m":{"k":1,"j":2,"k":3},"u":null}"#)
        .unwrap();
    let (bytes, _) = encode(&ser, "t", Target::Value, &dup).await.unwrap();
    assert_eq!(payload(&bytes.unwrap()), "04026a04026b06000000");
    // Not JSON, and JSON that does not fit, are errors.
    assert!(matches!(
        schema.value_from_json_text("{"),
        Err(AvroError::JsonText(_))
    ));
    assert!(matches!(
        schema.value_from_json_text(r#"{"m":{"k":"x"}}"#),
        Err(AvroError::Json { .. })
    ));
}

fn hex(bytes: &[u8]) -> String {
    bytes.iter().map(|b| format!("{b:02x}")).collect()
}
