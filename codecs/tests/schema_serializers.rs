//! What the three schema serializers share (`kcodec_codecs::subject`): the settings precedence
//! of Confluent's Java serializers, null records without registry I/O, preloading, user subject
//! strategies, and Protobuf message indexes taken from the schema written with.
#![cfg(all(feature = "avro", feature = "protobuf", feature = "json-schema"))]

use async_trait::async_trait;
use bytes::{Bytes, BytesMut};
use kcodec_codecs::avro::{AvroSerializer, AvroSerializerConfig, ParsedSchema};
use kcodec_codecs::json_schema::{JsonSchema, JsonSchemaSerializer, JsonSchemaSerializerConfig};
use kcodec_codecs::protobuf::{
    ProtobufDynamicDeserializer, ProtobufSchema, ProtobufSerializer, ProtobufSerializerConfig,
    prost_reflect::{DynamicMessage, ReflectMessage},
};
use kcodec_codecs::subject::{ConfigError, SchemaIdFormat};
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{
    DeserializeContext, Error, Headers, SerializeContext, Serialized, Serializer, Target, resolve,
};
use kcodec_registry::strategy::SubjectNameStrategy;
use kcodec_registry::{
    CompatibilityLevel, CompatibilityReport, InMemoryRegistry, RegisteredSchema, RegistryError,
    Schema, SchemaRegistry, Version,
};
use serde::Serialize;
use std::collections::BTreeMap;
use std::sync::{Arc, Mutex};
use uuid::Uuid;

/// An in-memory registry that records the calls a serializer makes (`"register users-value"`).
#[derive(Default)]
struct Recording {
    inner: InMemoryRegistry,
    calls: Mutex<Vec<String>>,
}

impl Recording {
    fn log(&self, call: String) {
        self.calls.lock().unwrap().push(call);
    }
    fn take(&self) -> Vec<String> {
        std::mem::take(&mut *self.calls.lock().unwrap())
    }
}

#[async_trait]
impl SchemaRegistry for Recording {
    async fn register(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        self.log(format!("register {subject} normalize={normalize}"));
        self.inner.register(subject, schema, normalize).await
    }
    async fn lookup(
        &self,
        subject: &str,
        schema: &Schema,
        normalize: bool,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        self.log(format!("lookup {subject} normalize={normalize}"));
        self.inner.lookup(subject, schema, normalize, deleted).await
    }
    async fn schema_by_id(&self, id: u32) -> Result<Arc<Schema>, RegistryError> {
        self.log(format!("schema_by_id {id}"));
        self.inner.schema_by_id(id).await
    }
    async fn schema_by_guid(&self, guid: Uuid) -> Result<Arc<Schema>, RegistryError> {
        self.log(format!("schema_by_guid {guid}"));
        self.inner.schema_by_guid(guid).await
    }
    async fn subjects_for_id(&self, id: u32, deleted: bool) -> Result<Vec<String>, RegistryError> {
        self.inner.subjects_for_id(id, deleted).await
    }
    async fn subjects(&self, deleted: bool) -> Result<Vec<String>, RegistryError> {
        self.inner.subjects(deleted).await
    }
    async fn versions(&self, subject: &str, deleted: bool) -> Result<Vec<i32>, RegistryError> {
        self.inner.versions(subject, deleted).await
    }
    async fn version(
        &self,
        subject: &str,
        version: Version,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        self.log(format!("version {subject} {version}"));
        self.inner.version(subject, version, deleted).await
    }
    async fn delete_subject(
        &self,
        subject: &str,
        permanent: bool,
    ) -> Result<Vec<i32>, RegistryError> {
        self.inner.delete_subject(subject, permanent).await
    }
    async fn delete_version(
        &self,
        subject: &str,
        version: Version,
        permanent: bool,
    ) -> Result<i32, RegistryError> {
        self.inner.delete_version(subject, version, permanent).await
    }
    async fn test_compatibility(
        &self,
        subject: &str,
        schema: &Schema,
        version: Option<Version>,
    ) -> Result<CompatibilityReport, RegistryError> {
        self.inner
            .test_compatibility(subject, schema, version)
            .await
    }
    async fn compatibility(
        &self,
        subject: Option<&str>,
        default_to_global: bool,
    ) -> Result<CompatibilityLevel, RegistryError> {
        self.inner.compatibility(subject, default_to_global).await
    }
    async fn set_compatibility(
        &self,
        subject: Option<&str>,
        level: CompatibilityLevel,
    ) -> Result<CompatibilityLevel, RegistryError> {
        self.inner.set_compatibility(subject, level).await
    }
    async fn delete_compatibility(
        &self,
        subject: &str,
    ) -> Result<CompatibilityLevel, RegistryError> {
        self.inner.delete_compatibility(subject).await
    }
    async fn latest_with_metadata(
        &self,
        subject: &str,
        metadata: &BTreeMap<String, String>,
        deleted: bool,
    ) -> Result<RegisteredSchema, RegistryError> {
        self.log(format!("latest_with_metadata {subject} {metadata:?}"));
        self.inner
            .latest_with_metadata(subject, metadata, deleted)
            .await
    }
}

const USER: &str = r#"{"type":"record","name":"User","namespace":"shop","fields":[{"name":"name","type":"string"}]}"#;
/// The same record with a doc: another schema (id 2), written the same way.
const USER_DOC: &str = r#"{"type":"record","name":"User","namespace":"shop","doc":"v2","fields":[{"name":"name","type":"string"}]}"#;

#[derive(Serialize)]
struct User {
    name: String,
}

async fn encode<T: ?Sized, S: Serializer<T>>(
    ser: &S,
    topic: &str,
    value: &T,
) -> Result<(Option<Bytes>, Headers), Error> {
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new(topic, Target::Value, &mut headers);
    let written = resolve::serialize(ser, value, &mut ctx, &mut out).await?;
    Ok(((written == Serialized::Data).then(|| out.freeze()), headers))
}

/// One row of the precedence table in `kcodec_codecs::subject`'s docs.
struct Row {
    /// The Java (or Python) lines the row follows.
    follows: &'static str,
    auto_register: bool,
    use_schema_id: Option<u32>,
    metadata: bool,
    latest: bool,
    normalize: bool,
    /// `Err(setting)`: refused, naming the setting to drop; `Ok(calls, id)`: the registry calls
    /// made and the id written (`None`: resolving fails after those calls).
    expect: Result<(&'static [&'static str], Option<u32>), &'static str>,
}

#[tokio::test]
async fn settings_precedence_follows_javas_serialize_impl() {
    // Line numbers: schema-registry 794611bd, avro-serializer/.../AbstractKafkaAvroSerializer.java
    // (`serializeImpl`; the Protobuf and JSON Schema serializers' chains are the same) and
    // confluent-kafka-python src/confluent_kafka/schema_registry/_sync/{avro,serde}.py.
    let rows = [
        Row {
            follows: "Java serializeImpl L137-148: `if (autoRegisterSchema)` registerWithResponse",
            auto_register: true,
            use_schema_id: None,
            metadata: false,
            latest: false,
            normalize: false,
            expect: Ok((&["register users-value normalize=false"], Some(1))),
        },
        Row {
            follows: "Java L140: registerWithResponse(subject, schema, normalizeSchema, ...)",
            auto_register: true,
            use_schema_id: None,
            metadata: false,
            latest: false,
            normalize: true,
            expect: Ok((&["register users-value normalize=true"], Some(1))),
        },
        Row {
            follows: "Java L137-148: `if (autoRegisterSchema)` comes before `else if (useSchemaId >= 0)` (L149): registers, the id is ignored",
            auto_register: true,
            use_schema_id: Some(2),
            metadata: false,
            latest: false,
            normalize: false,
            expect: Ok((&["register users-value normalize=false"], Some(1))),
        },
        Row {
            follows: "Java L137-148: `if (autoRegisterSchema)` comes before `else if (metadata != null)` (L160): registers, the metadata is ignored",
            auto_register: true,
            use_schema_id: Some(2),
            metadata: true,
            latest: false,
            normalize: true,
            expect: Ok((&["register users-value normalize=true"], Some(1))),
        },
        Row {
            follows: "Java L137-148 with only metadata set: registers",
            auto_register: true,
            use_schema_id: None,
            metadata: true,
            latest: false,
            normalize: false,
            expect: Ok((&["register users-value normalize=false"], Some(1))),
        },
        Row {
            follows: "Python avro.py L308: 'cannot enable both use.latest.version and auto.register.schemas'",
            auto_register: true,
            use_schema_id: None,
            metadata: false,
            latest: true,
            normalize: false,
            expect: Err("use.latest.version"),
        },
        Row {
            follows: "Python avro.py L308 refuses the pair whatever else is set",
            auto_register: true,
            use_schema_id: Some(2),
            metadata: true,
            latest: true,
            normalize: false,
            expect: Err("use.latest.version"),
        },
        Row {
            follows: "Java L149-154: `else if (useSchemaId >= 0)` lookupSchemaEntityBySubjectAndId, before metadata and latest",
            auto_register: false,
            use_schema_id: Some(2),
            metadata: true,
            latest: true,
            normalize: true,
            expect: Ok((&["schema_by_id 2"], Some(2))),
        },
        Row {
            follows: "Java L160-165: `else if (metadata != null)` getLatestWithMetadata, before latest",
            auto_register: false,
            use_schema_id: None,
            metadata: true,
            latest: true,
            normalize: false,
            // The in-memory registry keeps no metadata: no version matches.
            expect: Ok((&["latest_with_metadata users-value {\"app\": \"a\"}"], None)),
        },
        Row {
            follows: "Java L166-171: `else if (useLatestVersion)` lookupLatestVersion",
            auto_register: false,
            use_schema_id: None,
            metadata: false,
            latest: true,
            normalize: true,
            expect: Ok((&["version users-value latest"], Some(2))),
        },
        Row {
            follows: "Java L172-176: `else` getIdWithResponse(subject, schema, normalizeSchema)",
            auto_register: false,
            use_schema_id: None,
            metadata: false,
            latest: false,
            normalize: true,
            expect: Ok((&["lookup users-value normalize=true"], Some(1))),
        },
    ];
    for row in rows {
        let registry = Arc::new(Recording::default());
        let v1 = registry
            .register("users-value", &Schema::avro(USER), false)
            .await
            .unwrap();
        let v2 = registry
            .register("users-value", &Schema::avro(USER_DOC), false)
            .await
            .unwrap();
        assert_eq!((v1.id, v2.id), (1, 2));
        registry.take();
        let metadata = row
            .metadata
            .then(|| BTreeMap::from([("app".to_owned(), "a".to_owned())]));
        let config = AvroSerializerConfig::new()
            .auto_register_schemas(row.auto_register)
            .use_schema_id(row.use_schema_id)
            .use_latest_with_metadata(metadata)
            .use_latest_version(row.latest)
            .normalize_schemas(row.normalize);
        let built = AvroSerializer::<User>::with_config(
            registry.clone(),
            ParsedSchema::parse(USER).unwrap(),
            config,
        );
        match row.expect {
            Err(other) => {
                let err = built
                    .err()
                    .unwrap_or_else(|| panic!("{}: accepted", row.follows));
                assert!(
                    matches!(
                        err,
                        kcodec_codecs::avro::AvroError::Settings(
                            ConfigError::AutoRegisterWithLatestVersion
                        )
                    ),
                    "{}: {err}",
                    row.follows
                );
                assert!(err.to_string().contains(&format!("drop {other}")), "{err}");
            }
            Ok((calls, id)) => {
                let ser = built.unwrap_or_else(|e| panic!("{}: {e}", row.follows));
                let user = User { name: "a".into() };
                let written = encode(&ser, "users", &user).await;
                assert_eq!(registry.take(), calls, "{}", row.follows);
                match id {
                    Some(id) => {
                        let (data, _) = written.unwrap();
                        let mut expected = vec![0];
                        expected.extend(id.to_be_bytes());
                        expected.extend([0x02, b'a']);
                        assert_eq!(data.unwrap(), expected, "{}", row.follows);
                        // Resolved once: the next record asks the registry nothing.
                        encode(&ser, "users", &user).await.unwrap();
                        assert!(registry.take().is_empty(), "{}", row.follows);
                    }
                    None => assert!(
                        matches!(
                            written,
                            Err(Error::Registry(RegistryError::SchemaNotFound(_)))
                        ),
                        "{}: {written:?}",
                        row.follows
                    ),
                }
            }
        }
    }
}

const ORDER: &str =
    r#"{"title":"shop.Order","type":"object","properties":{"id":{"type":"string"}}}"#;

#[tokio::test]
async fn null_records_need_no_registry() {
    // Java's serializeImpl returns null before any registry call (`if (object == null)`).
    let registry = Arc::new(Recording::default());
    let avro =
        AvroSerializer::<Option<User>>::new(registry.clone(), ParsedSchema::parse(USER).unwrap());
    let json = JsonSchemaSerializer::<Option<serde_json::Value>>::new(
        registry.clone(),
        JsonSchema::parse(ORDER).unwrap(),
    )
    .unwrap();
    let unvalidated = JsonSchemaSerializer::<Option<serde_json::Value>>::with_config(
        registry.clone(),
        JsonSchema::parse(ORDER).unwrap(),
        JsonSchemaSerializerConfig::new().validate(false),
    )
    .unwrap();
    let proto = ProtobufSerializer::<prost_types::Timestamp>::new(registry.clone());
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
    // The sync path: nothing resolved, and none needed.
    assert_eq!(
        avro.serialize(&None, &mut ctx, &mut out).unwrap(),
        Serialized::Null
    );
    assert_eq!(
        json.serialize(&None, &mut ctx, &mut out).unwrap(),
        Serialized::Null
    );
    let null = Some(serde_json::Value::Null);
    assert_eq!(
        json.serialize(&null, &mut ctx, &mut out).unwrap(),
        Serialized::Null
    );
    assert_eq!(
        unvalidated.serialize(&null, &mut ctx, &mut out).unwrap(),
        Serialized::Null
    );
    assert_eq!(
        Serializer::<Option<prost_types::Timestamp>>::serialize(&proto, &None, &mut ctx, &mut out)
            .unwrap(),
        Serialized::Null
    );
    assert!(out.is_empty() && headers.is_empty());
    assert!(registry.take().is_empty());
}

#[tokio::test]
async fn preloaded_guid_frames_the_same_in_every_codec() {
    // Prefix mode with a GUID: `0x01` + the 16-byte GUID (Java's PrefixSchemaIdSerializer
    // writes the GUID form for a SchemaId without an id), for all three codecs alike.
    let registry: Arc<dyn SchemaRegistry> = Arc::new(InMemoryRegistry::new());
    let guid = Uuid::from_u128(0x0102_0304_0506_0708_090a_0b0c_0d0e_0f10);
    let mut expected = vec![0x01];
    expected.extend(guid.as_bytes());
    let avro = AvroSerializer::<User>::new(registry.clone(), ParsedSchema::parse(USER).unwrap());
    avro.preload("t", Target::Value, SchemaId::Guid(guid))
        .unwrap();
    let json = JsonSchemaSerializer::<serde_json::Value>::new(
        registry.clone(),
        JsonSchema::parse(ORDER).unwrap(),
    )
    .unwrap();
    json.preload("t", Target::Value, SchemaId::Guid(guid))
        .unwrap();
    let proto = ProtobufSerializer::<prost_types::Timestamp>::new(registry.clone());
    proto
        .preload("t", Target::Value, SchemaId::Guid(guid))
        .unwrap();

    let (a, _) = encode(&avro, "t", &User { name: "a".into() })
        .await
        .unwrap();
    assert_eq!(&a.unwrap()[..17], expected);
    let (j, _) = encode(&json, "t", &serde_json::json!({"id": "x"}))
        .await
        .unwrap();
    let j = j.unwrap();
    assert_eq!(&j[..17], expected);
    assert_eq!(&j[17..], br#"{"id":"x"}"#);
    let (p, _) = encode(&proto, "t", &prost_types::Timestamp::default())
        .await
        .unwrap();
    // Then the message indexes: `Timestamp` is the first message of its file, `[0]` as `0x00`.
    let mut with_indexes = expected.clone();
    with_indexes.push(0);
    assert_eq!(p.unwrap(), with_indexes);
}

/// A user's strategy: one subject per key/value, whatever the topic.
#[derive(Debug)]
struct Shared;

impl SubjectNameStrategy for Shared {
    fn subject(
        &self,
        _: &str,
        is_key: bool,
        record: Option<&str>,
    ) -> Result<String, RegistryError> {
        Ok(format!(
            "shared-{}-{}",
            record.unwrap_or("none"),
            if is_key { "key" } else { "value" }
        ))
    }
}

#[tokio::test]
async fn a_user_strategy_names_the_subject() {
    let registry = Arc::new(InMemoryRegistry::new());
    let config = AvroSerializerConfig::new().subject_name_strategy(Shared);
    let ser = AvroSerializer::<User>::with_config(
        registry.clone(),
        ParsedSchema::parse(USER).unwrap(),
        config,
    )
    .unwrap();
    encode(&ser, "a", &User { name: "x".into() }).await.unwrap();
    encode(&ser, "b", &User { name: "y".into() }).await.unwrap();
    assert_eq!(
        registry.subjects(false).await.unwrap(),
        ["shared-shop.User-value"]
    );
}

/// The local file orders `Other` before `Order`; the registered one `Order` first.
const LOCAL_PROTO: &str = "syntax = \"proto3\"; package shop; message Other { string x = 1; } message Order { int32 qty = 1; }";
const REGISTERED_PROTO: &str = "syntax = \"proto3\"; package shop; message Order { int32 qty = 1; } message Other { string x = 1; }";

#[tokio::test]
async fn protobuf_indexes_come_from_the_schema_written_with() {
    // Java: `schema.toMessageIndexes(object.getDescriptorForType().getFullName())` on the
    // schema serializeImpl picked (AbstractKafkaProtobufSerializer L196).
    let local = ProtobufSchema::parse_text("shop.proto", LOCAL_PROTO).unwrap();
    let order = local
        .file()
        .parent_pool()
        .get_message_by_name("shop.Order")
        .unwrap();
    let mut value = DynamicMessage::new(order.clone());
    value.set_field_by_name("qty", prost_reflect::Value::I32(3));

    for (name, config) in [
        (
            "use_latest_version",
            ProtobufSerializerConfig::new()
                .auto_register_schemas(false)
                .use_latest_version(true),
        ),
        (
            "use_schema_id",
            ProtobufSerializerConfig::new()
                .auto_register_schemas(false)
                .use_schema_id(Some(1)),
        ),
    ] {
        let registry = Arc::new(InMemoryRegistry::new());
        let registered = registry
            .register("orders-value", &Schema::protobuf(REGISTERED_PROTO), false)
            .await
            .unwrap();
        assert_eq!(registered.id, 1);
        let ser =
            ProtobufSerializer::for_descriptor(registry.clone(), order.clone(), config).unwrap();
        assert_eq!(ser.message_indexes(), [1], "the local file's");
        let (data, headers) = encode(&ser, "orders", &value).await.unwrap();
        let data = data.unwrap();
        // Magic byte, id 1, indexes [0] (a single 0x00), then qty = 3.
        assert_eq!(&data[..], [0, 0, 0, 0, 1, 0x00, 0x08, 0x03], "{name}");
        let de = ProtobufDynamicDeserializer::new(registry.clone());
        let ctx = DeserializeContext::new("orders", Target::Value, &headers);
        let back: DynamicMessage = resolve::deserialize(&de, Some(&data), &ctx).await.unwrap();
        assert_eq!(back.descriptor().full_name(), "shop.Order", "{name}");
        assert_eq!(back, value_in(&back, 3));
    }

    // Header mode carries the same indexes after the GUID.
    let registry = Arc::new(InMemoryRegistry::new());
    registry
        .register("orders-value", &Schema::protobuf(REGISTERED_PROTO), false)
        .await
        .unwrap();
    let config = ProtobufSerializerConfig::new()
        .auto_register_schemas(false)
        .use_latest_version(true)
        .schema_id_format(SchemaIdFormat::Header);
    let ser = ProtobufSerializer::for_descriptor(registry.clone(), order.clone(), config).unwrap();
    let (_, headers) = encode(&ser, "orders", &value).await.unwrap();
    let header = headers.last("__value_schema_id").unwrap();
    assert_eq!(header.len(), 18);
    assert_eq!(&header[1..17], registry.guid_of(1).unwrap().as_bytes());
    assert_eq!(header[17], 0x00);

    // A registered file without the message is refused, naming it.
    let registry = Arc::new(InMemoryRegistry::new());
    registry
        .register(
            "orders-value",
            &Schema::protobuf("syntax = \"proto3\"; package shop; message Else {}"),
            false,
        )
        .await
        .unwrap();
    let config = ProtobufSerializerConfig::new()
        .auto_register_schemas(false)
        .use_latest_version(true);
    let ser = ProtobufSerializer::for_descriptor(registry, order, config).unwrap();
    let err = encode(&ser, "orders", &value).await.unwrap_err();
    assert!(err.to_string().contains("shop.Order"), "{err}");
}

/// `qty = n` in the message type of `like`.
fn value_in(like: &DynamicMessage, n: i32) -> DynamicMessage {
    let mut m = DynamicMessage::new(like.descriptor());
    m.set_field_by_name("qty", prost_reflect::Value::I32(n));
    m
}

#[path = "support/python.rs"]
mod python;

/// The local file puts `Order` third; the registered one first, with one other message: a frame
/// naming the local position (`[2]`) would point past the registered file's messages.
const LOCAL_THIRD: &str = "syntax = \"proto3\"; package shop; message Other { string x = 1; } message Pad { bool p = 1; } message Order { int32 qty = 1; }";
const REGISTERED_FIRST: &str = "syntax = \"proto3\"; package shop; message Order { int32 qty = 1; } message Other { string x = 1; }";

#[tokio::test]
async fn python_reads_frames_written_with_a_reordered_registered_file() {
    let Some(python) =
        python::python("python_reads_frames_written_with_a_reordered_registered_file")
    else {
        return;
    };
    let local = ProtobufSchema::parse_text("shop.proto", LOCAL_THIRD).unwrap();
    let order = local
        .file()
        .parent_pool()
        .get_message_by_name("shop.Order")
        .unwrap();
    let mut value = DynamicMessage::new(order.clone());
    value.set_field_by_name("qty", prost_reflect::Value::I32(3));
    // Registered as Confluent's serializers register: the base64 FileDescriptorProto.
    let registered = ProtobufSchema::parse_text("shop.proto", REGISTERED_FIRST)
        .unwrap()
        .to_base64();
    let registry = Arc::new(InMemoryRegistry::new());
    registry
        .register("orders-value", &Schema::protobuf(&registered), false)
        .await
        .unwrap();
    let mut frames = Vec::new();
    for format in [SchemaIdFormat::Prefix, SchemaIdFormat::Header] {
        for config in [
            ProtobufSerializerConfig::new()
                .auto_register_schemas(false)
                .use_latest_version(true),
            ProtobufSerializerConfig::new()
                .auto_register_schemas(false)
                .use_schema_id(Some(1)),
        ] {
            let config = config.schema_id_format(format);
            let ser = ProtobufSerializer::for_descriptor(registry.clone(), order.clone(), config)
                .unwrap();
            assert_eq!(ser.message_indexes(), [2]);
            let (data, headers) = encode(&ser, "orders", &value).await.unwrap();
            let headers: serde_json::Map<String, serde_json::Value> = headers
                .iter()
                .map(|h| (h.key.clone(), hex::encode(h.value.as_ref().unwrap()).into()))
                .collect();
            frames.push(serde_json::json!({"hex": hex::encode(data.unwrap()), "headers": headers}));
        }
    }
    // A frame naming the local position, which the registered file does not have: the Python
    // client refuses it, so the check above can fail.
    frames.push(serde_json::json!({"hex": "000000000102040803", "headers": {}}));
    let answer = python::oracle(
        &python,
        &serde_json::json!({
            "op": "decode", "format": "protobuf", "topic": "orders", "is_key": false,
            "message": "shop.Order",
            "schemas": [{
                "subject": "orders-value", "schema_type": "PROTOBUF", "schema": registered,
                "id": 1, "guid": registry.guid_of(1).unwrap().to_string(),
            }],
            "frames": frames,
        }),
    );
    let values = answer["values"].as_array().unwrap();
    assert_eq!(values.len(), 5, "{answer}");
    for (i, got) in values[..4].iter().enumerate() {
        assert_eq!(got, &serde_json::json!({"qty": 3}), "frame {i}: {answer}");
    }
    assert!(values[4].get("error").is_some(), "{answer}");
}

#[tokio::test]
async fn a_resolve_that_lost_the_race_asks_the_registry_nothing() {
    // Two records of a new topic both miss and both ask to resolve (concurrent sends through
    // the typed producer): the second `resolve` finds the first one's entry, as Java's
    // serializers find their cached id, and keeps it.
    let registry = Arc::new(Recording::default());
    let ser = AvroSerializer::<User>::new(registry.clone(), ParsedSchema::parse(USER).unwrap());
    let user = User { name: "a".into() };
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("users", Target::Value, &mut headers);
    let Err(Error::Unresolved(need)) = ser.serialize(&user, &mut ctx, &mut out) else {
        panic!("resolved before any registry call");
    };
    ser.resolve(&need).await.unwrap();
    assert_eq!(registry.take(), ["register users-value normalize=false"]);
    ser.resolve(&need).await.unwrap();
    assert!(registry.take().is_empty());
    assert_eq!(
        ser.serialize(&user, &mut ctx, &mut out).unwrap(),
        Serialized::Data
    );
    assert_eq!(&out[..], [0, 0, 0, 0, 1, 0x02, b'a']);
}

#[test]
fn record_strategies_refuse_avro_schemas_that_are_not_records() {
    // Java: `AvroSchema.name()` is the full name of a RECORD and null for anything else, and
    // `RecordNameStrategy.getRecordName` then throws "... must only be a record schema".
    use kcodec_registry::strategy::{RecordNameStrategy, TopicRecordNameStrategy};
    let enum_schema = r#"{"type":"enum","name":"Color","namespace":"shop","symbols":["RED"]}"#;
    for schema in [r#""string""#, enum_schema] {
        for config in [
            AvroSerializerConfig::new().subject_name_strategy(RecordNameStrategy),
            AvroSerializerConfig::new().subject_name_strategy(TopicRecordNameStrategy),
        ] {
            let built = AvroSerializer::<String>::with_config(
                Arc::new(InMemoryRegistry::new()),
                ParsedSchema::parse(schema).unwrap(),
                config,
            );
            assert!(
                matches!(
                    built,
                    Err(kcodec_codecs::avro::AvroError::Settings(
                        ConfigError::StrategyNeedsName
                    ))
                ),
                "{schema}: {built:?}"
            );
        }
    }
    // A record is named, and the Topic strategy needs no name.
    assert!(
        AvroSerializer::<User>::with_config(
            Arc::new(InMemoryRegistry::new()),
            ParsedSchema::parse(USER).unwrap(),
            AvroSerializerConfig::new().subject_name_strategy(RecordNameStrategy),
        )
        .is_ok()
    );
    assert!(
        AvroSerializer::<String>::with_config(
            Arc::new(InMemoryRegistry::new()),
            ParsedSchema::parse(r#""string""#).unwrap(),
            AvroSerializerConfig::new(),
        )
        .is_ok()
    );
}
