//! `#[derive(Record)]`: for each shape, the derived schema equals a hand-written Avro schema
//! (by Parsing Canonical Form and by every attribute, docs and defaults included), and values
//! round-trip through Avro binary with it.

#![allow(deprecated)] // apache-avro's datum functions: the plainest reference writer/reader

use apache_avro::Schema;
use kcodec::{Keyed, Record};
use serde::{Deserialize, Serialize};
use std::collections::HashMap;

/// Asserts that `T`'s derived schema is the hand-written one, attribute for attribute.
fn assert_schema<T: Record>(hand_written: &str) {
    let derived = T::avro_schema().schema();
    let expected = Schema::parse_str(hand_written).expect("hand-written schema parses");
    assert_eq!(
        derived.canonical_form(),
        expected.canonical_form(),
        "canonical form"
    );
    assert_eq!(
        serde_json::to_value(derived).unwrap(),
        serde_json::to_value(&expected).unwrap(),
        "full schema (docs, defaults, logical types)\nderived: {}",
        T::avro_schema().json()
    );
}

/// Writes `value` as Avro binary with the derived schema and reads it back.
fn round_trip<T>(value: &T) -> T
where
    T: Record + Serialize + serde::de::DeserializeOwned,
{
    let schema = T::avro_schema().schema();
    let avro = apache_avro::to_value(value)
        .unwrap()
        .resolve(schema)
        .unwrap();
    let bytes = apache_avro::to_avro_datum(schema, avro).unwrap();
    let read = apache_avro::from_avro_datum(schema, &mut &bytes[..], None).unwrap();
    apache_avro::from_value(&read).unwrap()
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
struct Primitives {
    flag: bool,
    small: i16,
    int: i32,
    long: i64,
    unsigned: u32,
    float: f32,
    double: f64,
    text: String,
}

#[test]
fn primitives() {
    assert_schema::<Primitives>(
        r#"{"type":"record","name":"Primitives","fields":[
            {"name":"flag","type":"boolean"},{"name":"small","type":"int"},{"name":"int","type":"int"},
            {"name":"long","type":"long"},{"name":"unsigned","type":"long"},{"name":"float","type":"float"},
            {"name":"double","type":"double"},{"name":"text","type":"string"}]}"#,
    );
    let v = Primitives {
        flag: true,
        small: -3,
        int: 7,
        long: -1 << 40,
        unsigned: u32::MAX,
        float: 1.5,
        double: -0.25,
        text: "héllo".into(),
    };
    assert_eq!(round_trip(&v), v);
    assert_eq!(Primitives::FULL_NAME, "Primitives");
    assert_eq!(Primitives::TOPIC, None);
}

/// A line of an order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "shop.v1")]
struct Line {
    /// The product's SKU.
    sku: String,
    quantity: i32,
}

/// An order placed by a customer.
#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "shop.v1", topic = "orders")]
struct Order {
    #[record(key)]
    id: String,
    amount_cents: i64,
    #[record(default = "\"EUR\"")]
    currency: String,
    note: Option<String>,
    lines: Vec<Line>,
    /// The line that was discounted, if any: the second use of Line is by name.
    discounted: Option<Line>,
}

#[test]
fn the_issue_order_with_nested_records() {
    assert_schema::<Order>(
        r#"{"type":"record","name":"Order","namespace":"shop.v1","doc":"An order placed by a customer.","fields":[
            {"name":"id","type":"string"},
            {"name":"amount_cents","type":"long"},
            {"name":"currency","type":"string","default":"EUR"},
            {"name":"note","type":["null","string"],"default":null},
            {"name":"lines","type":{"type":"array","items":{"type":"record","name":"Line","namespace":"shop.v1","doc":"A line of an order.","fields":[
                {"name":"sku","type":"string","doc":"The product's SKU."},{"name":"quantity","type":"int"}]}}},
            {"name":"discounted","type":["null","shop.v1.Line"],"default":null,
             "doc":"The line that was discounted, if any: the second use of Line is by name."}]}"#,
    );
    assert_eq!(Order::FULL_NAME, "shop.v1.Order");
    assert_eq!(Order::TOPIC, Some("orders"));
    let line = Line {
        sku: "sku-1".into(),
        quantity: 2,
    };
    let v = Order {
        id: "o-1".into(),
        amount_cents: 1250,
        currency: "EUR".into(),
        note: None,
        lines: vec![line.clone(), line.clone()],
        discounted: Some(line),
    };
    assert_eq!(v.key(), "o-1");
    assert_eq!(round_trip(&v), v);
    // The schema is built once and cached.
    assert!(std::ptr::eq(Order::avro_schema(), Order::avro_schema()));
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
struct Collections {
    counts: HashMap<String, i64>,
    matrix: Vec<Vec<i32>>,
    maybe_tags: Option<Vec<String>>,
}

#[test]
fn maps_arrays_and_optional_collections() {
    assert_schema::<Collections>(
        r#"{"type":"record","name":"Collections","fields":[
            {"name":"counts","type":{"type":"map","values":"long"}},
            {"name":"matrix","type":{"type":"array","items":{"type":"array","items":"int"}}},
            {"name":"maybe_tags","type":["null",{"type":"array","items":"string"}],"default":null}]}"#,
    );
    let v = Collections {
        counts: HashMap::from([("a".into(), 1), ("b".into(), -2)]),
        matrix: vec![vec![1, 2], vec![]],
        maybe_tags: Some(vec!["x".into()]),
    };
    assert_eq!(round_trip(&v), v);
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[serde(rename_all = "camelCase", rename = "CustomerEvent")]
#[record(namespace = "crm")]
struct Renamed {
    customer_id: i64,
    #[serde(rename = "when")]
    occurred_at_ms: i64,
    #[serde(alias = "mail")]
    email_address: Option<String>,
}

#[test]
fn serde_renames_are_followed() {
    assert_schema::<Renamed>(
        r#"{"type":"record","name":"CustomerEvent","namespace":"crm","fields":[
            {"name":"customerId","type":"long"},
            {"name":"when","type":"long"},
            {"name":"emailAddress","type":["null","string"],"default":null,"aliases":["mail"]}]}"#,
    );
    assert_eq!(Renamed::FULL_NAME, "crm.CustomerEvent");
    let v = Renamed {
        customer_id: 9,
        occurred_at_ms: 1_700_000_000_000,
        email_address: Some("a@b".into()),
    };
    assert_eq!(round_trip(&v), v);
}

fn default_priority() -> i32 {
    5
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
struct Defaults {
    #[serde(default)]
    retries: i32,
    #[serde(default = "default_priority")]
    priority: i32,
    #[serde(default)]
    labels: Vec<String>,
    #[serde(skip)]
    cache: Option<String>,
    #[serde(skip_serializing, default)]
    internal: i64,
}

#[test]
fn serde_defaults_and_skips() {
    assert_schema::<Defaults>(
        r#"{"type":"record","name":"Defaults","fields":[
            {"name":"retries","type":"int","default":0},
            {"name":"priority","type":"int","default":5},
            {"name":"labels","type":{"type":"array","items":"string"},"default":[]}]}"#,
    );
    let v = Defaults {
        retries: 3,
        priority: 1,
        labels: vec!["x".into()],
        cache: None,
        internal: 0,
    };
    assert_eq!(round_trip(&v), v);
}

/// How an order is paid.
#[derive(Debug, Clone, Copy, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
#[record(namespace = "shop.v1")]
enum PaymentMethod {
    CreditCard,
    BankTransfer,
    #[serde(rename = "CASH")]
    Cash,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "shop.v1")]
struct Payment {
    method: PaymentMethod,
    fallback: Option<PaymentMethod>,
}

#[test]
fn unit_enums_are_avro_enums() {
    assert_schema::<PaymentMethod>(
        r#"{"type":"enum","name":"PaymentMethod","namespace":"shop.v1","doc":"How an order is paid.",
            "symbols":["CREDIT_CARD","BANK_TRANSFER","CASH"]}"#,
    );
    assert_schema::<Payment>(
        r#"{"type":"record","name":"Payment","namespace":"shop.v1","fields":[
            {"name":"method","type":{"type":"enum","name":"PaymentMethod","namespace":"shop.v1","doc":"How an order is paid.","symbols":["CREDIT_CARD","BANK_TRANSFER","CASH"]}},
            {"name":"fallback","type":["null","shop.v1.PaymentMethod"],"default":null}]}"#,
    );
    let v = Payment {
        method: PaymentMethod::BankTransfer,
        fallback: Some(PaymentMethod::Cash),
    };
    assert_eq!(round_trip(&v), v);
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "tree")]
struct Node {
    value: i32,
    children: Vec<Node>,
    parent_hint: Option<Box<Node>>,
}

#[test]
fn recursive_records_refer_to_themselves_by_name() {
    assert_schema::<Node>(
        r#"{"type":"record","name":"Node","namespace":"tree","fields":[
            {"name":"value","type":"int"},
            {"name":"children","type":{"type":"array","items":"tree.Node"}},
            {"name":"parent_hint","type":["null","tree.Node"],"default":null}]}"#,
    );
    let v = Node {
        value: 1,
        children: vec![Node {
            value: 2,
            children: vec![],
            parent_hint: None,
        }],
        parent_hint: None,
    };
    assert_eq!(round_trip(&v), v);
}

mod avro_bytes {
    pub fn serialize<S: serde::Serializer>(v: &[u8], s: S) -> Result<S::Ok, S::Error> {
        s.serialize_bytes(v)
    }
    pub fn deserialize<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Vec<u8>, D::Error> {
        struct V;
        impl serde::de::Visitor<'_> for V {
            type Value = Vec<u8>;
            fn expecting(&self, f: &mut std::fmt::Formatter) -> std::fmt::Result {
                f.write_str("bytes")
            }
            fn visit_bytes<E>(self, v: &[u8]) -> Result<Vec<u8>, E> {
                Ok(v.to_vec())
            }
            fn visit_byte_buf<E>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
                Ok(v)
            }
        }
        d.deserialize_bytes(V)
    }
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
struct Blob {
    #[record(key)]
    id: uuid::Uuid,
    #[record(schema = r#""bytes""#)]
    #[serde(with = "avro_bytes")]
    payload: Vec<u8>,
    /// serde's own form of a `Vec<u8>` (a sequence of ints), kept with an explicit schema.
    #[record(schema = r#"{"type":"array","items":"int"}"#)]
    raw_ints: Vec<u8>,
}

#[test]
fn explicit_schemas_and_uuid_keys() {
    assert_schema::<Blob>(
        r#"{"type":"record","name":"Blob","fields":[
            {"name":"id","type":{"type":"string","logicalType":"uuid"}},
            {"name":"payload","type":"bytes"},
            {"name":"raw_ints","type":{"type":"array","items":"int"},
             "doc":"serde's own form of a `Vec<u8>` (a sequence of ints), kept with an explicit schema."}]}"#,
    );
    let id = uuid::Uuid::from_u128(42);
    let blob = Blob {
        id,
        payload: vec![0, 1, 255],
        raw_ints: vec![3],
    };
    assert_eq!(*blob.key(), id);
    // The key type names its built-in serde: UUIDs are keys as Java's UUIDSerializer writes them.
    let serde = <<Blob as Keyed>::Key as kcodec::record::RecordKey>::Serde::default();
    let mut headers = kcodec::Headers::new();
    let mut key = kcodec::BytesMut::new();
    let mut ctx = kcodec::SerializeContext::new("blobs", kcodec::Target::Key, &mut headers);
    let written = kcodec::Serializer::serialize(&serde, blob.key(), &mut ctx, &mut key).unwrap();
    assert_eq!(written, kcodec::Serialized::Data);
    assert_eq!(&key[..], b"00000000-0000-0000-0000-00000000002a");
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(name = "Measurement", namespace = "iot.v2", topic = "sensors")]
struct Reading {
    #[record(key)]
    sensor: i64,
    celsius: f64,
    tags: HashMap<String, String>,
    unit: (),
}

#[test]
fn record_name_override_and_numeric_key() {
    assert_schema::<Reading>(
        r#"{"type":"record","name":"Measurement","namespace":"iot.v2","fields":[
            {"name":"sensor","type":"long"},{"name":"celsius","type":"double"},
            {"name":"tags","type":{"type":"map","values":"string"}},{"name":"unit","type":"null"}]}"#,
    );
    assert_eq!(Reading::FULL_NAME, "iot.v2.Measurement");
    assert_eq!(Reading::TOPIC, Some("sensors"));
    let v = Reading {
        sensor: 7,
        celsius: 21.5,
        tags: HashMap::from([("room".into(), "a".into())]),
        unit: (),
    };
    assert_eq!(v.key(), &7);
    assert_eq!(round_trip(&v), v);
}

/// A record with
/// a doc comment on two lines.
#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
struct Documented {
    /// First line.
    ///
    /// Second paragraph.
    field: bool,
}

#[test]
fn multi_line_docs() {
    assert_schema::<Documented>(
        r#"{"type":"record","name":"Documented","doc":"A record with\na doc comment on two lines.","fields":[
            {"name":"field","type":"boolean","doc":"First line.\n\nSecond paragraph."}]}"#,
    );
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[serde(rename_all = "PascalCase")]
struct Pascal {
    first_name: String,
    r#type: i32,
}

#[test]
fn pascal_case_and_raw_identifiers() {
    assert_schema::<Pascal>(
        r#"{"type":"record","name":"Pascal","fields":[
            {"name":"FirstName","type":"string"},{"name":"Type","type":"int"}]}"#,
    );
    let v = Pascal {
        first_name: "a".into(),
        r#type: 1,
    };
    assert_eq!(round_trip(&v), v);
}

/// Every derived schema passes the registry's local compatibility checker against itself, at the
/// strictest level.
#[test]
fn derived_schemas_are_compatible_with_themselves() {
    use kcodec_registry::{CompatibilityLevel, Schema as Registered, compat};
    fn check<T: Record>() {
        let s = Registered::avro(T::avro_schema().json());
        compat::assert_compatible(&s, &s, CompatibilityLevel::FullTransitive);
    }
    check::<Primitives>();
    check::<Order>();
    check::<Collections>();
    check::<Renamed>();
    check::<Defaults>();
    check::<PaymentMethod>();
    check::<Payment>();
    check::<Node>();
    check::<Blob>();
    check::<Reading>();
    check::<Documented>();
    check::<Pascal>();
    check::<Attachment>();
    check::<WithSerdeBytes>();
    check::<DocV2>();
}

/// Derived records round-trip through kcodec's own Avro codec (Confluent framing, the in-memory
/// registry), with the schema the derive built.
#[tokio::test]
async fn derived_records_round_trip_through_the_avro_codec() {
    use kcodec::avro::{AvroDeserializer, AvroSerializer};
    use kcodec::registry::{InMemoryRegistry, SchemaRegistry};
    use kcodec::{DeserializeContext, Headers, SerializeContext, Serialized, Target, resolve};
    use std::sync::Arc;

    async fn check<T>(registry: &Arc<dyn SchemaRegistry>, value: &T)
    where
        T: Record
            + kcodec::record::AvroDecodeOwned
            + Serialize
            + serde::de::DeserializeOwned
            + PartialEq
            + std::fmt::Debug,
    {
        let ser = AvroSerializer::<T>::for_record(registry.clone()).unwrap();
        let de = AvroDeserializer::<T>::for_record(registry.clone()).unwrap();
        let mut headers = Headers::new();
        let mut buf = kcodec::BytesMut::new();
        let topic = T::FULL_NAME.replace('.', "-");
        let mut ctx = SerializeContext::new(&topic, Target::Value, &mut headers);
        let written = resolve::serialize(&ser, value, &mut ctx, &mut buf)
            .await
            .unwrap();
        assert_eq!(written, Serialized::Data);
        assert_eq!(buf[0], 0, "Confluent magic byte");
        let frame = buf.freeze();
        let ctx = DeserializeContext::new(&topic, Target::Value, &headers);
        let back: T = resolve::deserialize(&de, Some(&frame), &ctx).await.unwrap();
        assert_eq!(&back, value);
    }

    let registry: Arc<dyn SchemaRegistry> = Arc::new(InMemoryRegistry::new());
    let line = Line {
        sku: "sku-1".into(),
        quantity: 2,
    };
    check(
        &registry,
        &Order {
            id: "o-1".into(),
            amount_cents: 1250,
            currency: "EUR".into(),
            note: Some("gift".into()),
            lines: vec![line.clone()],
            discounted: Some(line),
        },
    )
    .await;
    check(
        &registry,
        &Primitives {
            flag: false,
            small: 1,
            int: -7,
            long: 1 << 40,
            unsigned: 3,
            float: 0.5,
            double: 2.25,
            text: "x".into(),
        },
    )
    .await;
    check(
        &registry,
        &Collections {
            counts: HashMap::from([("a".into(), 1)]),
            matrix: vec![vec![1], vec![]],
            maybe_tags: None,
        },
    )
    .await;
    check(
        &registry,
        &Renamed {
            customer_id: 1,
            occurred_at_ms: 2,
            email_address: None,
        },
    )
    .await;
    check(
        &registry,
        &Payment {
            method: PaymentMethod::CreditCard,
            fallback: None,
        },
    )
    .await;
    check(
        &registry,
        &Node {
            value: 1,
            children: vec![Node {
                value: 2,
                children: vec![],
                parent_hint: None,
            }],
            parent_hint: None,
        },
    )
    .await;
    check(
        &registry,
        &Reading {
            sensor: 7,
            celsius: 21.5,
            tags: HashMap::new(),
            unit: (),
        },
    )
    .await;
    check(
        &registry,
        &Pascal {
            first_name: "a".into(),
            r#type: 1,
        },
    )
    .await;
    // Each record type registered its derived schema under its topic's subject.
    let subjects = registry.subjects(false).await.unwrap();
    assert_eq!(subjects.len(), 8, "{subjects:?}");
    assert!(
        subjects.contains(&"shop-v1-Order-value".to_owned()),
        "{subjects:?}"
    );
}

/// Serializes `value` with kcodec's Avro serializer (the derived schema, registered in a fresh
/// in-memory registry), checks the Confluent frame, reads it back with kcodec's Avro
/// deserializer and returns the Avro payload (the bytes after the 5-byte prefix).
async fn through_the_codec<T>(value: &T) -> Vec<u8>
where
    T: Record
        + kcodec::record::AvroDecodeOwned
        + Serialize
        + serde::de::DeserializeOwned
        + PartialEq
        + std::fmt::Debug,
{
    use kcodec::avro::{AvroDeserializer, AvroSerializer};
    use kcodec::registry::{InMemoryRegistry, SchemaRegistry};
    use kcodec::{DeserializeContext, Headers, SerializeContext, Target, resolve};
    use std::sync::Arc;

    let registry: Arc<dyn SchemaRegistry> = Arc::new(InMemoryRegistry::new());
    let ser = AvroSerializer::<T>::for_record(registry.clone()).unwrap();
    let de = AvroDeserializer::<T>::for_record(registry).unwrap();
    let mut headers = Headers::new();
    let mut buf = kcodec::BytesMut::new();
    let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
    let written = resolve::serialize(&ser, value, &mut ctx, &mut buf)
        .await
        .unwrap();
    assert_eq!(written, kcodec::Serialized::Data);
    assert_eq!(&buf[..5], [0, 0, 0, 0, 1], "magic byte and schema id 1");
    let frame = buf.freeze();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let back: T = resolve::deserialize(&de, Some(&frame), &ctx).await.unwrap();
    assert_eq!(&back, value);
    frame[5..].to_vec()
}

/// What apache-avro's generic writer (an independent encoder) writes for `fields` with `T`'s
/// derived schema: the reference the codec's bytes are compared with.
fn reference_datum<T: Record>(fields: Vec<(&str, apache_avro::types::Value)>) -> Vec<u8> {
    let record = apache_avro::types::Value::Record(
        fields.into_iter().map(|(n, v)| (n.to_owned(), v)).collect(),
    );
    apache_avro::to_avro_datum(T::avro_schema().schema(), record).unwrap()
}

/// A file attached to a message.
#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "files.v1")]
struct Attachment {
    #[serde(with = "kcodec::record::avro_bytes")]
    content: Vec<u8>,
    /// Named `files.v1.AttachmentSha256` by default (record name + field name).
    #[serde(with = "kcodec::record::avro_bytes")]
    sha256: [u8; 32],
    #[serde(with = "kcodec::record::avro_bytes")]
    #[record(fixed_name = "files.hash.Md5")]
    md5: Option<[u8; 16]>,
    #[serde(with = "kcodec::record::avro_bytes")]
    thumbnail: Option<Vec<u8>>,
    #[serde(with = "kcodec::record::avro_bytes", default)]
    extra: Box<[u8]>,
    #[serde(with = "kcodec::record::avro_bytes")]
    shared: kcodec::Bytes,
}

#[test]
fn byte_buffers_are_bytes_and_byte_arrays_are_fixed() {
    assert_schema::<Attachment>(
        r#"{"type":"record","name":"Attachment","namespace":"files.v1","doc":"A file attached to a message.","fields":[
            {"name":"content","type":"bytes"},
            {"name":"sha256","type":{"type":"fixed","name":"AttachmentSha256","size":32},
             "doc":"Named `files.v1.AttachmentSha256` by default (record name + field name)."},
            {"name":"md5","type":["null",{"type":"fixed","name":"Md5","namespace":"files.hash","size":16}],"default":null},
            {"name":"thumbnail","type":["null","bytes"],"default":null},
            {"name":"extra","type":"bytes","default":""},
            {"name":"shared","type":"bytes"}]}"#,
    );
    assert_eq!(
        fixed_names::<Attachment>(),
        ["files.v1.AttachmentSha256", "files.hash.Md5"]
    );
}

/// The full names of the fixed types of `T`'s fields (direct or in a union).
fn fixed_names<T: Record>() -> Vec<String> {
    let apache_avro::Schema::Record(r) = T::avro_schema().schema() else {
        panic!("a record")
    };
    r.fields
        .iter()
        .filter_map(|f| match &f.schema {
            apache_avro::Schema::Fixed(x) => Some(x.name.fullname(None)),
            apache_avro::Schema::Union(u) => u.variants().iter().find_map(|v| match v {
                apache_avro::Schema::Fixed(x) => Some(x.name.fullname(None)),
                _ => None,
            }),
            _ => None,
        })
        .collect()
}

#[tokio::test]
async fn bytes_and_fixed_round_trip_through_the_avro_codec_byte_for_byte() {
    use apache_avro::types::Value as V;
    let v = Attachment {
        content: vec![1, 2, 3],
        sha256: [0xab; 32],
        md5: Some([7; 16]),
        thumbnail: None,
        extra: Box::new([]),
        shared: kcodec::Bytes::from_static(b"hi"),
    };
    let payload = through_the_codec(&v).await;
    // bytes: zigzag length, then the bytes; fixed: the N bytes, no length; union: zigzag index.
    let mut expected = vec![0x06, 1, 2, 3];
    expected.extend([0xab; 32]);
    expected.push(0x02);
    expected.extend([7; 16]);
    expected.extend([0x00, 0x00, 0x04, b'h', b'i']);
    assert_eq!(payload, expected);
    assert_eq!(
        payload,
        reference_datum::<Attachment>(vec![
            ("content", V::Bytes(vec![1, 2, 3])),
            ("sha256", V::Fixed(32, vec![0xab; 32])),
            ("md5", V::Union(1, Box::new(V::Fixed(16, vec![7; 16])))),
            ("thumbnail", V::Union(0, Box::new(V::Null))),
            ("extra", V::Bytes(vec![])),
            ("shared", V::Bytes(b"hi".to_vec())),
        ])
    );
    let other = Attachment {
        content: vec![],
        sha256: [0; 32],
        md5: None,
        thumbnail: Some(vec![0xff; 200]),
        extra: Box::new([9]),
        shared: kcodec::Bytes::new(),
    };
    let payload = through_the_codec(&other).await;
    assert_eq!(
        payload,
        reference_datum::<Attachment>(vec![
            ("content", V::Bytes(vec![])),
            ("sha256", V::Fixed(32, vec![0; 32])),
            ("md5", V::Union(0, Box::new(V::Null))),
            (
                "thumbnail",
                V::Union(1, Box::new(V::Bytes(vec![0xff; 200])))
            ),
            ("extra", V::Bytes(vec![9])),
            ("shared", V::Bytes(vec![])),
        ])
    );
    // 200 bytes: the length 200 is zigzag 400 = 0x90 0x03.
    assert_eq!(&payload[34..37], [0x02, 0x90, 0x03]);
}

/// The first version of a record with bytes and fixed fields.
mod doc_v1 {
    #[derive(serde::Serialize, kcodec::Record)]
    #[record(name = "Doc", namespace = "files.v2")]
    pub struct Doc {
        #[serde(with = "kcodec::record::avro_bytes")]
        pub content: Vec<u8>,
        #[serde(with = "kcodec::record::avro_bytes")]
        pub digest: [u8; 4],
    }
}

/// The second version: two added fields with defaults. The fixed keeps its derived name
/// (`files.v2.DocDigest`: record name + field name), so the two versions resolve.
#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(name = "Doc", namespace = "files.v2")]
struct DocV2 {
    #[serde(with = "kcodec::record::avro_bytes")]
    content: Vec<u8>,
    #[serde(with = "kcodec::record::avro_bytes")]
    digest: [u8; 4],
    #[serde(with = "kcodec::record::avro_bytes", default)]
    extra: Vec<u8>,
    #[serde(with = "kcodec::record::avro_bytes")]
    thumbnail: Option<Vec<u8>>,
}

/// Values written with the old schema are resolved into the new one (apache-avro's resolution,
/// then serde through `avro_bytes`).
#[tokio::test]
async fn bytes_and_fixed_fields_evolve() {
    use kcodec::avro::{AvroDeserializer, AvroSerializer};
    use kcodec::registry::{CompatibilityLevel, InMemoryRegistry, Schema as Registered, compat};
    use kcodec::{DeserializeContext, Headers, SerializeContext, Target, resolve};
    use std::sync::Arc;

    let old = Registered::avro(doc_v1::Doc::avro_schema().json());
    let new = Registered::avro(DocV2::avro_schema().json());
    compat::assert_compatible(&old, &new, CompatibilityLevel::Backward);

    let registry = Arc::new(InMemoryRegistry::new());
    let ser = AvroSerializer::<doc_v1::Doc>::for_record(registry.clone()).unwrap();
    let de = AvroDeserializer::<DocV2>::for_record(registry).unwrap();
    let mut headers = Headers::new();
    let mut buf = kcodec::BytesMut::new();
    let mut ctx = SerializeContext::new("docs", Target::Value, &mut headers);
    let old_value = doc_v1::Doc {
        content: b"pdf".to_vec(),
        digest: [1, 2, 3, 4],
    };
    let written = resolve::serialize(&ser, &old_value, &mut ctx, &mut buf)
        .await
        .unwrap();
    assert_eq!(written, kcodec::Serialized::Data);
    assert_eq!(&buf[5..], [0x06, b'p', b'd', b'f', 1, 2, 3, 4]);
    let frame = buf.freeze();
    let ctx = DeserializeContext::new("docs", Target::Value, &headers);
    let read: DocV2 = resolve::deserialize(&de, Some(&frame), &ctx).await.unwrap();
    assert_eq!(
        read,
        DocV2 {
            content: b"pdf".to_vec(),
            digest: [1, 2, 3, 4],
            extra: vec![],
            thumbnail: None,
        }
    );
}

// The serde_bytes crate's `with` module writes the same and is recognised too.
#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
struct WithSerdeBytes {
    #[serde(with = "serde_bytes")]
    data: Vec<u8>,
    #[serde(with = "serde_bytes")]
    id: [u8; 4],
}

#[tokio::test]
async fn serde_bytes_is_recognised() {
    assert_schema::<WithSerdeBytes>(
        r#"{"type":"record","name":"WithSerdeBytes","fields":[
            {"name":"data","type":"bytes"},
            {"name":"id","type":{"type":"fixed","name":"WithSerdeBytesId","size":4}}]}"#,
    );
    let v = WithSerdeBytes {
        data: vec![5],
        id: *b"abcd",
    };
    assert_eq!(
        through_the_codec(&v).await,
        [0x02, 5, b'a', b'b', b'c', b'd']
    );
}

/// Dates and times with the `avro_time` modules (features `chrono` and `time`).
#[cfg(all(feature = "chrono", feature = "time"))]
mod dates_and_times {
    use super::*;
    use apache_avro::types::Value as V;
    use chrono::{DateTime, NaiveDate, NaiveDateTime, NaiveTime, Utc};
    use kcodec::record::avro_time;

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    #[record(namespace = "cal")]
    struct ChronoTimes {
        #[serde(with = "avro_time::timestamp_millis")]
        created: DateTime<Utc>,
        #[serde(with = "kcodec::record::avro_time::timestamp_micros")]
        updated: Option<DateTime<Utc>>,
        #[serde(with = "avro_time::local_timestamp_millis")]
        local: NaiveDateTime,
        #[serde(with = "avro_time::date")]
        day: NaiveDate,
        #[serde(with = "avro_time::time_millis")]
        opens: NaiveTime,
        #[serde(with = "avro_time::time_micros")]
        closes: NaiveTime,
        /// chrono's own module writes the same number.
        #[serde(with = "chrono::serde::ts_milliseconds")]
        legacy: DateTime<Utc>,
        #[serde(with = "avro_time::date", default)]
        since: NaiveDate,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    #[record(namespace = "cal")]
    struct TimeCrateTimes {
        #[serde(with = "avro_time::timestamp_micros")]
        at: time::OffsetDateTime,
        #[serde(with = "avro_time::local_timestamp_micros")]
        wall: time::PrimitiveDateTime,
        #[serde(with = "avro_time::date")]
        day: Option<time::Date>,
        #[serde(with = "avro_time::time_micros")]
        clock: time::Time,
        #[serde(with = "avro_time::timestamp_millis")]
        system: std::time::SystemTime,
    }

    #[test]
    fn logical_types_in_the_schema() {
        assert_schema::<ChronoTimes>(
            r#"{"type":"record","name":"ChronoTimes","namespace":"cal","fields":[
                {"name":"created","type":{"type":"long","logicalType":"timestamp-millis"}},
                {"name":"updated","type":["null",{"type":"long","logicalType":"timestamp-micros"}],"default":null},
                {"name":"local","type":{"type":"long","logicalType":"local-timestamp-millis"}},
                {"name":"day","type":{"type":"int","logicalType":"date"}},
                {"name":"opens","type":{"type":"int","logicalType":"time-millis"}},
                {"name":"closes","type":{"type":"long","logicalType":"time-micros"}},
                {"name":"legacy","type":{"type":"long","logicalType":"timestamp-millis"},
                 "doc":"chrono's own module writes the same number."},
                {"name":"since","type":{"type":"int","logicalType":"date"},"default":0}]}"#,
        );
        assert_schema::<TimeCrateTimes>(
            r#"{"type":"record","name":"TimeCrateTimes","namespace":"cal","fields":[
                {"name":"at","type":{"type":"long","logicalType":"timestamp-micros"}},
                {"name":"wall","type":{"type":"long","logicalType":"local-timestamp-micros"}},
                {"name":"day","type":["null",{"type":"int","logicalType":"date"}],"default":null},
                {"name":"clock","type":{"type":"long","logicalType":"time-micros"}},
                {"name":"system","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#,
        );
        use kcodec_registry::{CompatibilityLevel, Schema as Registered, compat};
        for json in [
            ChronoTimes::avro_schema().json(),
            TimeCrateTimes::avro_schema().json(),
        ] {
            let s = Registered::avro(json);
            compat::assert_compatible(&s, &s, CompatibilityLevel::FullTransitive);
        }
    }

    #[tokio::test]
    async fn chrono_values_round_trip_as_avro_numbers() {
        // 2023-11-14T22:13:20.123456Z
        let created = DateTime::from_timestamp(1_700_000_000, 123_456_000).unwrap();
        let millis = created.timestamp_millis();
        let at_millis = DateTime::from_timestamp_millis(millis).unwrap();
        let v = ChronoTimes {
            created: at_millis,
            updated: Some(created),
            local: at_millis.naive_utc(),
            day: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
            opens: NaiveTime::from_hms_milli_opt(8, 30, 0, 250).unwrap(),
            closes: NaiveTime::from_hms_micro_opt(17, 0, 0, 1).unwrap(),
            legacy: at_millis,
            since: NaiveDate::from_ymd_opt(1969, 12, 31).unwrap(),
        };
        let payload = through_the_codec(&v).await;
        let day = 19_782; // 2024-02-29
        let opens = (8 * 3600 + 30 * 60) * 1000 + 250;
        let closes = 17 * 3600 * 1_000_000_i64 + 1;
        assert_eq!(
            payload,
            reference_datum::<ChronoTimes>(vec![
                ("created", V::TimestampMillis(1_700_000_000_123)),
                (
                    "updated",
                    V::Union(1, Box::new(V::TimestampMicros(1_700_000_000_123_456)))
                ),
                ("local", V::LocalTimestampMillis(1_700_000_000_123)),
                ("day", V::Date(day)),
                ("opens", V::TimeMillis(opens)),
                ("closes", V::TimeMicros(closes)),
                ("legacy", V::TimestampMillis(1_700_000_000_123)),
                ("since", V::Date(-1)),
            ])
        );
        // 1_700_000_000_123 zigzagged: 3_400_000_000_246 as a 6-byte varint.
        assert_eq!(&payload[..6], [0xf6, 0xa1, 0xab, 0xfe, 0xf9, 0x62]);
        // -1 (1969-12-31) is zigzag 1.
        assert_eq!(payload.last(), Some(&0x01));
        // Writing truncates to the unit, as Java's Instant.toEpochMilli() does.
        let written =
            avro_time::timestamp_millis::serialize(&created, serde_json::value::Serializer)
                .unwrap();
        assert_eq!(written, 1_700_000_000_123_i64);
        let none = ChronoTimes { updated: None, ..v };
        let payload = through_the_codec(&none).await;
        assert_eq!(payload[6], 0x00, "`updated` is the null branch");
    }

    #[tokio::test]
    async fn time_crate_values_round_trip_as_avro_numbers() {
        use time::macros::{date, datetime, time};
        let v = TimeCrateTimes {
            at: datetime!(2023-11-14 22:13:20.123456 UTC),
            wall: datetime!(1969-12-31 23:59:59.999999),
            day: Some(date!(2000 - 01 - 01)),
            clock: time!(00:00:00.000001),
            system: std::time::UNIX_EPOCH + std::time::Duration::from_millis(42),
        };
        let payload = through_the_codec(&v).await;
        assert_eq!(
            payload,
            reference_datum::<TimeCrateTimes>(vec![
                ("at", V::TimestampMicros(1_700_000_000_123_456)),
                ("wall", V::LocalTimestampMicros(-1)),
                ("day", V::Union(1, Box::new(V::Date(10_957)))),
                ("clock", V::TimeMicros(1)),
                ("system", V::TimestampMillis(42)),
            ])
        );
        let none = TimeCrateTimes { day: None, ..v };
        through_the_codec(&none).await;
    }
}

/// An order was created.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "shop.events")]
struct Created {
    id: String,
    amount_cents: i64,
}

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "shop.events")]
struct Cancelled {
    id: String,
    reason: Option<String>,
}

/// Several event types on one topic: an Avro union of records (and null), one branch per
/// variant, in order.
#[derive(Debug, Clone, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "shop.events", topic = "order-events")]
enum OrderEvent {
    Created(Created),
    Cancelled(Cancelled),
    Note(String),
    Heartbeat,
}

#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "shop.events")]
struct Envelope {
    seq: i64,
    event: OrderEvent,
    /// The second use of the union: its records are referred to by name.
    previous: Vec<OrderEvent>,
}

#[test]
fn enums_with_newtype_variants_are_unions() {
    let created = r#"{"type":"record","name":"Created","namespace":"shop.events","doc":"An order was created.","fields":[
        {"name":"id","type":"string"},{"name":"amount_cents","type":"long"}]}"#;
    let cancelled = r#"{"type":"record","name":"Cancelled","namespace":"shop.events","fields":[
        {"name":"id","type":"string"},{"name":"reason","type":["null","string"],"default":null}]}"#;
    assert_schema::<OrderEvent>(&format!(r#"[{created},{cancelled},"string","null"]"#));
    assert_eq!(OrderEvent::FULL_NAME, "shop.events.OrderEvent");
    assert_eq!(OrderEvent::TOPIC, Some("order-events"));
    assert_schema::<Envelope>(&format!(
        r#"{{"type":"record","name":"Envelope","namespace":"shop.events","fields":[
            {{"name":"seq","type":"long"}},
            {{"name":"event","type":[{created},{cancelled},"string","null"]}},
            {{"name":"previous","type":{{"type":"array","items":["shop.events.Created","shop.events.Cancelled","string","null"]}},
              "doc":"The second use of the union: its records are referred to by name."}}]}}"#
    ));
    use kcodec_registry::{CompatibilityLevel, Schema as Registered, compat};
    for json in [
        OrderEvent::avro_schema().json(),
        Envelope::avro_schema().json(),
    ] {
        let s = Registered::avro(json);
        compat::assert_compatible(&s, &s, CompatibilityLevel::FullTransitive);
    }
}

#[tokio::test]
async fn union_values_round_trip_through_the_avro_codec_byte_for_byte() {
    use apache_avro::types::Value as V;
    let schema = OrderEvent::avro_schema().schema();
    let created = OrderEvent::Created(Created {
        id: "o-1".into(),
        amount_cents: 1250,
    });
    // Branch 0 (zigzag 0), then the record: "o-1", 1250 (zigzag 2500 = 0xc4 0x13).
    let payload = through_the_codec(&created).await;
    assert_eq!(payload, [0x00, 0x06, b'o', b'-', b'1', 0xc4, 0x13]);
    assert_eq!(
        payload,
        apache_avro::to_avro_datum(
            schema,
            V::Union(
                0,
                Box::new(V::Record(vec![
                    ("id".into(), V::String("o-1".into())),
                    ("amount_cents".into(), V::Long(1250)),
                ]))
            )
        )
        .unwrap()
    );
    let cancelled = OrderEvent::Cancelled(Cancelled {
        id: "o-2".into(),
        reason: Some("late".into()),
    });
    assert_eq!(
        through_the_codec(&cancelled).await,
        [
            0x02, 0x06, b'o', b'-', b'2', 0x02, 0x08, b'l', b'a', b't', b'e'
        ]
    );
    assert_eq!(
        through_the_codec(&OrderEvent::Note("hi".into())).await,
        [0x04, 0x04, b'h', b'i']
    );
    assert_eq!(through_the_codec(&OrderEvent::Heartbeat).await, [0x06]);
    let envelope = Envelope {
        seq: 1,
        event: cancelled,
        previous: vec![created, OrderEvent::Heartbeat],
    };
    let payload = through_the_codec(&envelope).await;
    // seq 1; the event; an array block of 2 (branch 0 record, branch 3), end of array.
    assert_eq!(payload[0], 0x02);
    assert_eq!(
        &payload[12..],
        [0x04, 0x00, 0x06, b'o', b'-', b'1', 0xc4, 0x13, 0x06, 0x00]
    );
}

mod events_v1 {
    /// The first version of the event union: two branches.
    #[derive(serde::Serialize, kcodec::Record)]
    #[record(namespace = "shop.events")]
    pub enum OrderEvent {
        Created(super::Created),
        Heartbeat,
    }
}

/// Values of an older union are resolved into the newer one by branch (Avro's rules), and serde
/// picks the variant by the reader's branch index.
#[tokio::test]
async fn unions_evolve_by_adding_branches() {
    use kcodec::avro::{AvroDeserializer, AvroSerializer};
    use kcodec::registry::{CompatibilityLevel, InMemoryRegistry, Schema as Registered, compat};
    use kcodec::{DeserializeContext, Headers, SerializeContext, Target, resolve};
    use std::sync::Arc;

    let old = Registered::avro(events_v1::OrderEvent::avro_schema().json());
    let new = Registered::avro(OrderEvent::avro_schema().json());
    compat::assert_compatible(&old, &new, CompatibilityLevel::Backward);

    let registry = Arc::new(InMemoryRegistry::new());
    let ser = AvroSerializer::<events_v1::OrderEvent>::for_record(registry.clone()).unwrap();
    let de = AvroDeserializer::<OrderEvent>::for_record(registry).unwrap();
    let created = Created {
        id: "o-9".into(),
        amount_cents: 5,
    };
    for (old_value, expected) in [
        (
            events_v1::OrderEvent::Created(created.clone()),
            OrderEvent::Created(created),
        ),
        (events_v1::OrderEvent::Heartbeat, OrderEvent::Heartbeat),
    ] {
        let mut headers = Headers::new();
        let mut buf = kcodec::BytesMut::new();
        let mut ctx = SerializeContext::new("order-events", Target::Value, &mut headers);
        let written = resolve::serialize(&ser, &old_value, &mut ctx, &mut buf)
            .await
            .unwrap();
        assert_eq!(written, kcodec::Serialized::Data);
        let frame = buf.freeze();
        let ctx = DeserializeContext::new("order-events", Target::Value, &headers);
        let read: OrderEvent = resolve::deserialize(&de, Some(&frame), &ctx).await.unwrap();
        assert_eq!(read, expected);
    }
}

/// Derived records against frames written by Confluent's official Python `AvroSerializer`
/// (confluent-kafka 2.16.1, the fixtures in `tests/fixtures/oracle/avro/`, see
/// `tools/oracle/README.md`): the derived schema is the fixture's (Parsing Canonical Form), kcodec
/// encodes the fixture's value to the identical frame, and decodes the frame back to the value.
mod confluent_oracle {
    use super::*;
    use std::collections::BTreeMap;

    struct Fixture {
        schema: String,
        frame: Vec<u8>,
    }

    fn fixture(case: &str) -> Fixture {
        let path = format!(
            "{}/tests/fixtures/oracle/avro/{case}.json",
            env!("CARGO_MANIFEST_DIR")
        );
        let json: serde_json::Value =
            serde_json::from_str(&std::fs::read_to_string(&path).unwrap()).unwrap();
        let prefix = json["frames"]
            .as_array()
            .unwrap()
            .iter()
            .find(|f| f["id_mode"] == "prefix")
            .unwrap();
        let hex = prefix["hex"].as_str().unwrap();
        Fixture {
            schema: json["schema"].as_str().unwrap().to_owned(),
            frame: (0..hex.len())
                .step_by(2)
                .map(|i| u8::from_str_radix(&hex[i..i + 2], 16).unwrap())
                .collect(),
        }
    }

    /// The fixtures were written with schema id 1, as a fresh registry gives `T`'s schema.
    async fn check<T>(case: &str, value: &T)
    where
        T: Record
            + kcodec::record::AvroDecodeOwned
            + Serialize
            + serde::de::DeserializeOwned
            + PartialEq
            + std::fmt::Debug,
    {
        let f = fixture(case);
        let expected = Schema::parse_str(&f.schema).unwrap();
        assert_eq!(
            T::avro_schema().schema().canonical_form(),
            expected.canonical_form(),
            "{case}: derived {}",
            T::avro_schema().json()
        );
        let payload = through_the_codec(value).await;
        assert_eq!(&f.frame[..5], [0, 0, 0, 0, 1]);
        assert_eq!(payload, f.frame[5..], "{case}: the frame Confluent wrote");
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    #[serde(rename_all = "SCREAMING_SNAKE_CASE")]
    #[record(namespace = "kcodec.oracle")]
    enum Suit {
        Spades,
        Hearts,
        Diamonds,
        Clubs,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    #[record(namespace = "kcodec.oracle")]
    struct EnumFixed {
        suit: Suit,
        #[serde(with = "kcodec::record::avro_bytes")]
        #[record(fixed_name = "MD5")]
        md5: [u8; 16],
        #[serde(with = "kcodec::record::avro_bytes")]
        #[record(fixed_name = "kcodec.other.Tiny")]
        tiny: [u8; 2],
    }

    #[tokio::test]
    async fn fixed_fields() {
        let md5: Vec<u8> = (0..16).collect();
        check(
            "avro_enum_fixed",
            &EnumFixed {
                suit: Suit::Diamonds,
                md5: md5.try_into().unwrap(),
                tiny: [0xff, 0],
            },
        )
        .await;
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    #[record(namespace = "kcodec.oracle")]
    struct Tag {
        v: i64,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    enum StringFirst {
        Text(String),
        Nothing,
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    enum Multi {
        Nothing,
        Int(i32),
        Text(String),
        Tag(Tag),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    enum ArrayOrMap {
        Nothing,
        Array(Vec<i32>),
        Map(BTreeMap<String, i32>),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    enum FloatOrDouble {
        Float(f32),
        Double(f64),
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    #[record(namespace = "kcodec.oracle")]
    struct Unions {
        opt_null: Option<String>,
        opt_set: Option<String>,
        str_first: StringFirst,
        multi_int: Multi,
        multi_rec: Multi,
        multi_arr: ArrayOrMap,
        multi_map: ArrayOrMap,
        float_or_double: FloatOrDouble,
    }

    #[tokio::test]
    async fn unions_of_enums_with_data() {
        check(
            "avro_unions",
            &Unions {
                opt_null: None,
                opt_set: Some("present".into()),
                str_first: StringFirst::Text("first".into()),
                multi_int: Multi::Int(5),
                multi_rec: Multi::Tag(Tag { v: 99 }),
                multi_arr: ArrayOrMap::Array(vec![1, 2]),
                multi_map: ArrayOrMap::Map(BTreeMap::from([("k".into(), 3)])),
                float_or_double: FloatOrDouble::Double(2.5),
            },
        )
        .await;
    }

    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    enum TopLevel {
        Nothing,
        Text(String),
        Number(i64),
    }

    #[tokio::test]
    async fn a_top_level_union() {
        check("avro_union_toplevel", &TopLevel::Number(77)).await;
    }

    #[cfg(all(feature = "chrono", feature = "time"))]
    #[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
    #[record(namespace = "kcodec.oracle")]
    struct Logical {
        #[record(schema = r#"{"type":"bytes","logicalType":"decimal","precision":10,"scale":2}"#)]
        dec_bytes: apache_avro::Decimal,
        #[record(schema = r#"{"type":"bytes","logicalType":"decimal","precision":20,"scale":4}"#)]
        dec_bytes_pos: apache_avro::Decimal,
        #[record(
            schema = r#"{"type":"fixed","name":"Dec8","size":8,"logicalType":"decimal","precision":18,"scale":3}"#
        )]
        dec_fixed: apache_avro::Decimal,
        uuid: uuid::Uuid,
        #[serde(with = "kcodec::record::avro_time::date")]
        date: chrono::NaiveDate,
        #[serde(with = "kcodec::record::avro_time::time_millis")]
        time_millis: chrono::NaiveTime,
        #[serde(with = "kcodec::record::avro_time::time_micros")]
        time_micros: time::Time,
        #[serde(with = "kcodec::record::avro_time::timestamp_millis")]
        ts_millis: chrono::DateTime<chrono::Utc>,
        #[serde(with = "kcodec::record::avro_time::timestamp_micros")]
        ts_micros: time::OffsetDateTime,
        #[serde(with = "kcodec::record::avro_time::local_timestamp_millis")]
        local_ts_millis: chrono::NaiveDateTime,
        #[serde(with = "kcodec::record::avro_time::local_timestamp_micros")]
        local_ts_micros: time::PrimitiveDateTime,
        #[serde(with = "kcodec::record::avro_time::date")]
        pre_epoch_date: time::Date,
        #[serde(with = "kcodec::record::avro_time::timestamp_millis")]
        pre_epoch_ts: std::time::SystemTime,
    }

    #[cfg(all(feature = "chrono", feature = "time"))]
    #[tokio::test]
    async fn dates_and_times() {
        use chrono::{DateTime, NaiveDate, NaiveTime};
        use time::macros::{date, datetime, time};
        let ts_millis = DateTime::from_timestamp_millis(1_704_164_645_678).unwrap();
        check(
            "avro_logical_types",
            &Logical {
                dec_bytes: apache_avro::Decimal::from([0xcf, 0xc7]),
                dec_bytes_pos: apache_avro::Decimal::from([0x00, 0xe5, 0xf4, 0xc8, 0xf3, 0x74]),
                dec_fixed: apache_avro::Decimal::from([0, 0, 0, 0, 0, 0x12, 0xd6, 0x87]),
                uuid: "6ba7b810-9dad-41d1-80b4-00c04fd430c8".parse().unwrap(),
                date: NaiveDate::from_ymd_opt(2024, 2, 29).unwrap(),
                time_millis: NaiveTime::from_hms_milli_opt(12, 34, 56, 789).unwrap(),
                time_micros: time!(23:59:59.999999),
                ts_millis,
                ts_micros: datetime!(2024-01-02 03:04:05.678901 UTC),
                local_ts_millis: ts_millis.naive_utc(),
                local_ts_micros: datetime!(2024-01-02 03:04:05.678901),
                pre_epoch_date: date!(1969 - 07 - 20),
                pre_epoch_ts: std::time::UNIX_EPOCH
                    - std::time::Duration::from_millis(14_182_940_000),
            },
        )
        .await;
    }
}

mod user_v1 {
    /// The first version of a user.
    #[derive(Debug, PartialEq, serde::Serialize, serde::Deserialize, kcodec::Record)]
    #[record(namespace = "ev", name = "User")]
    pub struct User {
        pub name: String,
    }
}

/// The second version: a field added with a default.
#[derive(Debug, PartialEq, Serialize, Deserialize, kcodec::Record)]
#[record(namespace = "ev", name = "User")]
struct UserV2 {
    name: String,
    #[record(default = "7")]
    level: i32,
}

/// A derived record read with `for_record` resolves the writer's schema into its own, so the
/// added field takes its Avro default (Confluent's specific reader); `new` has no reader schema,
/// applies no default, and its error says which constructor does.
#[tokio::test]
async fn derived_record_evolution_needs_for_record() {
    use kcodec::avro::{AvroDeserializer, AvroSerializer};
    use kcodec::registry::InMemoryRegistry;
    use kcodec::{DeserializeContext, Headers, SerializeContext, Target, resolve};
    use std::sync::Arc;

    let registry = Arc::new(InMemoryRegistry::new());
    let ser = AvroSerializer::<user_v1::User>::for_record(registry.clone()).unwrap();
    let mut headers = Headers::new();
    let mut buf = kcodec::BytesMut::new();
    let mut ctx = SerializeContext::new("users", Target::Value, &mut headers);
    let written = resolve::serialize(
        &ser,
        &user_v1::User { name: "ada".into() },
        &mut ctx,
        &mut buf,
    )
    .await
    .unwrap();
    assert_eq!(written, kcodec::Serialized::Data);
    let frame = buf.freeze();
    let ctx = DeserializeContext::new("users", Target::Value, &headers);

    let de = AvroDeserializer::<UserV2>::for_record(registry.clone()).unwrap();
    let read: UserV2 = resolve::deserialize(&de, Some(&frame), &ctx).await.unwrap();
    assert_eq!(
        read,
        UserV2 {
            name: "ada".into(),
            level: 7
        }
    );

    let plain = AvroDeserializer::<UserV2>::new(registry);
    let err = resolve::deserialize(&plain, Some(&frame), &ctx)
        .await
        .unwrap_err();
    let message = err.to_string();
    assert!(message.contains("missing field `level`"), "{message}");
    assert!(message.contains("for_record"), "{message}");
}
