//! The Avro code `#[derive(Record)]` generates (`AvroType::avro_encode_raw` /
//! `avro_decode_raw`, runtime in `avro::raw`): byte for byte what the compiled plan writes for the
//! record's own schema, used by `for_record` only when the writer schema is that schema, and
//! never panicking on bad input.
#![cfg(feature = "avro")]

use bytes::BytesMut;
use kcodec_codecs::avro::{AvroDeserializer, AvroError, AvroSerializer, ParsedSchema, raw};
use kcodec_codecs::record::{AvroType, Record};
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{
    DeserializeContext, Deserializer, Headers, SerializeContext, Serializer, Target,
};
use kcodec_derive::Record;
use serde::{Deserialize, Serialize};
use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap};
use std::sync::Arc;

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
struct Everything {
    b: bool,
    i8_: i8,
    i16_: i16,
    i32_: i32,
    u8_: u8,
    u16_: u16,
    i64_: i64,
    u32_: u32,
    f: f32,
    d: f64,
    s: String,
    c: char,
    unit: (),
    opt: Option<String>,
    none: Option<i64>,
    list: Vec<Item>,
    empty: Vec<i32>,
    map: BTreeMap<String, i64>,
    hash: HashMap<String, Option<Item>>,
    #[serde(rename = "boxedStr")]
    boxed_str: Box<str>,
    boxed_slice: Box<[i32]>,
    color: Color,
    payment: Payment,
    maybe: Maybe,
    tree: Tree,
    #[serde(default)]
    defaulted: i32,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
struct Item {
    name: String,
    qty: i32,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
enum Color {
    Red,
    DarkGreen,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
struct Card {
    number: String,
}

#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
struct Transfer {
    iban: String,
}

/// A union of two records.
#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
enum Payment {
    Card(Card),
    Transfer(Transfer),
}

/// A union with null and primitive branches.
#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
enum Maybe {
    Nothing,
    Number(i64),
    Text(String),
}

/// A recursive record.
#[derive(Record, Serialize, Deserialize, Debug, PartialEq, Clone)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
struct Tree {
    value: i32,
    children: Vec<Tree>,
    next: Option<Box<Tree>>,
}

fn everything() -> Everything {
    Everything {
        b: true,
        i8_: -8,
        i16_: -300,
        i32_: i32::MIN,
        u8_: 255,
        u16_: 65_535,
        i64_: i64::MIN,
        u32_: u32::MAX,
        f: 1.5,
        d: -2.25,
        s: "héllo".into(),
        c: 'ß',
        unit: (),
        opt: Some("x".into()),
        none: None,
        list: vec![
            Item {
                name: "a".into(),
                qty: 1,
            },
            Item {
                name: "b".into(),
                qty: -1,
            },
        ],
        empty: vec![],
        map: [("k".to_owned(), 1), ("j".to_owned(), -2)].into(),
        hash: [
            (
                "one".to_owned(),
                Some(Item {
                    name: "c".into(),
                    qty: 3,
                }),
            ),
            ("two".to_owned(), None),
        ]
        .into(),
        boxed_str: "boxed".into(),
        boxed_slice: vec![1, 2, 3].into_boxed_slice(),
        color: Color::DarkGreen,
        payment: Payment::Transfer(Transfer {
            iban: "DE00".into(),
        }),
        maybe: Maybe::Text("t".into()),
        tree: Tree {
            value: 1,
            children: vec![Tree {
                value: 2,
                children: vec![],
                next: None,
            }],
            next: Some(Box::new(Tree {
                value: 3,
                children: vec![],
                next: None,
            })),
        },
        defaulted: 7,
    }
}

/// What the compiled plan (the serde path) writes for `value` with `T`'s own schema.
fn plan_bytes<T: Record + Serialize>(value: &T) -> Vec<u8> {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let schema = ParsedSchema::parse(T::avro_schema().json()).unwrap();
    let ser = AvroSerializer::<T>::new(registry, schema);
    ser.preload("t", Target::Value, SchemaId::Id(1)).unwrap();
    let mut headers = Headers::new();
    let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
    let mut out = BytesMut::new();
    let _ = ser.serialize(value, &mut ctx, &mut out).unwrap();
    out[5..].to_vec()
}

fn raw_bytes<T: AvroType>(value: &T) -> Vec<u8> {
    let mut out = BytesMut::new();
    raw::encode(value, &mut out).unwrap();
    out.to_vec()
}

#[test]
fn generated_code_writes_what_the_plan_writes_and_reads_it_back() {
    assert!(raw::supported::<Everything>());
    // HashMap iteration order is per map: compare with one entry where order can't differ.
    let mut value = everything();
    value.hash.remove("two");
    let bytes = raw_bytes(&value);
    assert_eq!(bytes, plan_bytes(&value));
    assert_eq!(raw::decode::<Everything>(&bytes).unwrap(), value);

    let value = everything();
    let bytes = raw_bytes(&value);
    assert_eq!(raw::decode::<Everything>(&bytes).unwrap(), value);
    // Each union branch, both enum symbols.
    for (payment, maybe, color) in [
        (
            Payment::Card(Card { number: "4".into() }),
            Maybe::Nothing,
            Color::Red,
        ),
        (
            Payment::Transfer(Transfer { iban: "x".into() }),
            Maybe::Number(-5),
            Color::DarkGreen,
        ),
    ] {
        let mut v = value.clone();
        v.hash.clear();
        v.payment = payment;
        v.maybe = maybe;
        v.color = color;
        let bytes = raw_bytes(&v);
        assert_eq!(bytes, plan_bytes(&v));
        assert_eq!(raw::decode::<Everything>(&bytes).unwrap(), v);
    }
}

#[test]
fn for_record_uses_the_generated_code_for_its_own_schema() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let ser = AvroSerializer::<Everything>::for_record(registry.clone()).unwrap();
    ser.preload("t", Target::Value, SchemaId::Id(1)).unwrap();
    let de = AvroDeserializer::<Everything>::for_record(registry).unwrap();
    de.preload(SchemaId::Id(1), ser.schema().clone()).unwrap();
    let value = everything();
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
    let _ = ser.serialize(&value, &mut ctx, &mut out).unwrap();
    assert_eq!(&out[..5], [0, 0, 0, 0, 1]);
    assert_eq!(out[5..], raw_bytes(&value)[..]);
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    assert_eq!(de.deserialize(Some(&out), &ctx).unwrap(), value);
}

/// Version 1 of `Reading`: no `unit` field.
const READING_V1: &str = r#"{"type":"record","name":"Reading","namespace":"test.raw","fields":[
    {"name":"value","type":"double"}]}"#;

#[derive(Record, Serialize, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "test.raw")]
struct Reading {
    value: f64,
    #[record(default = "\"celsius\"")]
    #[serde(default)]
    unit: String,
}

#[test]
fn another_writer_schema_goes_through_the_plan_with_resolution() {
    // Java's SpecificDatumReader with a writer schema that differs from the reader's: the
    // resolving decoder fills the added field from the reader's default.
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let de = AvroDeserializer::<Reading>::for_record(registry.clone()).unwrap();
    de.preload(SchemaId::Id(1), ParsedSchema::parse(READING_V1).unwrap())
        .unwrap();
    let mut frame = vec![0, 0, 0, 0, 1];
    frame.extend_from_slice(&2.5f64.to_le_bytes());
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    assert_eq!(
        de.deserialize(Some(&frame), &ctx).unwrap(),
        Reading {
            value: 2.5,
            unit: "celsius".into()
        }
    );

    // A serializer told to write with the registry's latest version (Java's
    // `use.latest.version`), here v3 with a field `note` the type lacks, writes v3 through the
    // plan (the field's default filled in), not the generated code's own-schema bytes.
    let rt = tokio::runtime::Builder::new_current_thread()
        .build()
        .unwrap();
    rt.block_on(async {
        use kcodec_registry::SchemaRegistry;
        registry
            .register(
                "t-value",
                &kcodec_registry::Schema::avro(READING_V3.to_owned()),
                false,
            )
            .await
            .unwrap();
    });
    let config = kcodec_codecs::avro::AvroSerializerConfig::new()
        .auto_register_schemas(false)
        .use_latest_version(true);
    let ser = AvroSerializer::<Reading>::for_record_with_config(registry, config).unwrap();
    assert!(raw::supported::<Reading>());
    let value = Reading {
        value: 1.0,
        unit: "K".into(),
    };
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    rt.block_on(async {
        let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
        let _ = kcodec_codecs::resolve::serialize(&ser, &value, &mut ctx, &mut out)
            .await
            .unwrap();
    });
    let mut expected = 1.0f64.to_le_bytes().to_vec();
    expected.extend_from_slice(&[2, b'K', 6, b'n', b'/', b'a']);
    assert_eq!(out[5..], expected[..]);
}

/// Version 3 of `Reading`: a `note` the Rust type lacks, with a default.
const READING_V3: &str = r#"{"type":"record","name":"Reading","namespace":"test.raw","fields":[
    {"name":"value","type":"double"},{"name":"unit","type":"string","default":"celsius"},
    {"name":"note","type":"string","default":"n/a"}]}"#;

#[derive(Record, Serialize, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs")]
struct WithModule {
    #[serde(with = "kcodec_codecs::record::avro_bytes")]
    digest: [u8; 4],
    #[serde(skip)]
    cache: u64,
}

#[test]
fn records_with_serde_modules_or_skipped_fields_keep_to_the_plan() {
    assert!(!raw::supported::<WithModule>());
    let mut out = BytesMut::new();
    let err = raw::encode(
        &WithModule {
            digest: [1, 2, 3, 4],
            cache: 0,
        },
        &mut out,
    )
    .unwrap_err();
    assert!(err.to_string().contains("no generated Avro code"), "{err}");
    assert!(out.is_empty());
    // for_record still works, through the plan.
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let ser = AvroSerializer::<WithModule>::for_record(registry).unwrap();
    ser.preload("t", Target::Value, SchemaId::Id(1)).unwrap();
    let mut headers = Headers::new();
    let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
    let value = WithModule {
        digest: [1, 2, 3, 4],
        cache: 9,
    };
    let _ = ser.serialize(&value, &mut ctx, &mut out).unwrap();
    assert_eq!(out[5..], [1, 2, 3, 4]);
}

#[test]
fn bad_input_is_a_typed_error_never_a_panic() {
    let mut value = everything();
    value.hash.clear();
    let bytes = raw_bytes(&value);
    // Every truncation fails, naming where.
    for len in 0..bytes.len() {
        let err = raw::decode::<Everything>(&bytes[..len]).unwrap_err();
        let text = err.to_string();
        assert!(text.contains("byte"), "{text}");
    }
    // Trailing bytes.
    let mut longer = bytes.clone();
    longer.push(0);
    assert!(matches!(
        raw::decode::<Everything>(&longer),
        Err(AvroError::TrailingBytes { .. })
    ));
    // Every single-byte corruption either decodes or fails; none panics.
    for i in 0..bytes.len() {
        for b in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[i] = b;
            let _ = raw::decode::<Everything>(&bad);
        }
    }
    // Out of range for the Rust type: a u8 field given 256.
    let err = raw::decode::<u8>(&[0x80, 0x04]).unwrap_err();
    assert!(
        matches!(&err, AvroError::Mismatch { at: 0, message } if message.contains("u8")),
        "{err}"
    );
    // A union index outside the union, an enum index outside the symbols.
    assert!(matches!(
        raw::decode::<Payment>(&[4]),
        Err(AvroError::UnionIndex { index: 2, .. })
    ));
    assert!(matches!(
        raw::decode::<Color>(&[5]),
        Err(AvroError::EnumIndex { index: -3, .. })
    ));
}

#[test]
fn counts_and_depth_are_bounded_by_the_input() {
    // An array claiming 2^62 items in a 10-byte input: fails at the end of the input, having
    // reserved at most the input's size.
    let mut data = vec![0xfe, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x7f];
    data.push(2);
    assert!(matches!(
        raw::decode::<Vec<i64>>(&data),
        Err(AvroError::Truncated { .. })
    ));
    // Zero-width items: capped, not looped over 2^62 times.
    assert!(matches!(
        raw::decode::<Vec<()>>(&data[..9]),
        Err(AvroError::TooManyItems { .. })
    ));
    // A recursive record nested past the depth limit: an error, not a stack overflow.
    let mut deep = Vec::new();
    for _ in 0..10_000 {
        deep.extend_from_slice(&[2, 0, 2]); // value 1, no children, next: branch 1
    }
    assert!(matches!(
        raw::decode::<Tree>(&deep),
        Err(AvroError::TooDeep { limit: 128, .. })
    ));
    // And a value nested that deep is refused on encode, as the plan's encoder does.
    let mut tree = Tree {
        value: 0,
        children: vec![],
        next: None,
    };
    for _ in 0..200 {
        tree = Tree {
            value: 0,
            children: vec![],
            next: Some(Box::new(tree)),
        };
    }
    let mut out = BytesMut::new();
    assert!(matches!(
        raw::encode(&tree, &mut out),
        Err(AvroError::TooDeep { .. })
    ));
    assert!(out.is_empty());
}

#[derive(Deserialize, Debug, PartialEq)]
struct ItemRef<'a> {
    name: &'a str,
    qty: i32,
}

#[test]
fn borrowed_decode_points_into_the_frame() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let de = AvroDeserializer::<Item>::for_record(registry).unwrap();
    de.preload(
        SchemaId::Id(3),
        ParsedSchema::parse(Item::avro_schema().json()).unwrap(),
    )
    .unwrap();
    let mut frame = vec![0, 0, 0, 0, 3];
    frame.extend(raw_bytes(&Item {
        name: "widget".into(),
        qty: 2,
    }));
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let item: ItemRef<'_> = de.deserialize_borrowed(Some(&frame), &ctx).unwrap();
    assert_eq!(
        item,
        ItemRef {
            name: "widget",
            qty: 2
        }
    );
    assert!(std::ptr::eq(item.name.as_ptr(), frame[6..].as_ptr()));
    let none: Option<ItemRef<'_>> = de.deserialize_borrowed(None, &ctx).unwrap();
    assert_eq!(none, None);
    assert!(matches!(
        de.deserialize_borrowed::<ItemRef<'_>>(None, &ctx),
        Err(kcodec_codecs::Error::UnexpectedNull { .. })
    ));
}

/// A record that borrows every string and byte field from the frame it is decoded from.
#[derive(Record, Serialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "test.borrow")]
struct View<'a> {
    id: &'a str,
    label: Cow<'a, str>,
    coupon: Option<&'a str>,
    missing: Option<&'a str>,
    tags: Vec<&'a str>,
    #[serde(with = "serde_bytes")]
    blob: &'a [u8],
    #[serde(with = "serde_bytes")]
    thumb: Option<Cow<'a, [u8]>>,
    #[serde(with = "kcodec_codecs::record::avro_bytes")]
    digest: [u8; 2],
    count: i64,
    place: Place<'a>,
    shape: Shape<'a>,
}

#[derive(Record, Serialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "test.borrow")]
struct Place<'a> {
    city: &'a str,
}

/// A union whose branch borrows.
#[derive(Record, Serialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "test.borrow")]
enum Shape<'a> {
    Named(Place<'a>),
    Count(i32),
}

fn view() -> View<'static> {
    View {
        id: "v-1",
        label: Cow::Borrowed("label"),
        coupon: Some("SAVE"),
        missing: None,
        tags: vec!["a", "bc"],
        blob: &[1, 2, 3],
        thumb: Some(Cow::Borrowed(&[9, 8])),
        digest: [7, 7],
        count: -5,
        place: Place { city: "Lyon" },
        shape: Shape::Named(Place { city: "Nice" }),
    }
}

/// Whether `s` lies inside `buf`.
fn inside(s: &[u8], buf: &[u8]) -> bool {
    let (start, end) = (buf.as_ptr() as usize, buf.as_ptr() as usize + buf.len());
    s.as_ptr() as usize >= start && s.as_ptr() as usize + s.len() <= end
}

#[test]
fn a_record_with_lifetimes_round_trips_and_borrows_from_the_input() {
    assert!(raw::supported::<View<'_>>());
    let value = view();
    let bytes = raw_bytes(&value);
    // The generated code writes what serde on the compiled plan writes for the same schema.
    assert_eq!(bytes, plan_bytes(&value));
    let back: View<'_> = raw::decode(&bytes).unwrap();
    assert_eq!(back, value);
    for s in [back.id, &back.label, back.coupon.unwrap(), back.tags[1]] {
        assert!(inside(s.as_bytes(), &bytes), "{s} is a copy");
    }
    assert!(matches!(back.label, Cow::Borrowed(_)));
    assert!(inside(back.blob, &bytes));
    assert!(matches!(&back.thumb, Some(Cow::Borrowed(t)) if inside(t, &bytes)));
    assert!(matches!(back.shape, Shape::Named(Place { city }) if inside(city.as_bytes(), &bytes)));
    // The schema: strings, bytes, a fixed, the union.
    let schema = View::avro_schema().json();
    assert!(
        schema.contains(r#"{"name":"blob","type":"bytes"}"#),
        "{schema}"
    );
    assert!(
        schema.contains(r#"{"name":"label","type":"string"}"#),
        "{schema}"
    );
}

#[test]
fn deserialize_record_borrows_only_from_frames_of_the_records_own_schema() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let de = AvroDeserializer::<()>::new(registry);
    de.preload(SchemaId::Id(1), View::avro_schema().parsed().clone())
        .unwrap();
    let value = view();
    let mut frame = vec![0, 0, 0, 0, 1];
    frame.extend(raw_bytes(&value));
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let back: View<'_> = de.deserialize_record(Some(&frame), &ctx).unwrap();
    assert_eq!(back, value);
    assert!(std::ptr::eq(back.id.as_ptr(), frame[6..].as_ptr()));

    // Another writer schema (a field more) would need resolution: a typed error saying so.
    let v2 = View::avro_schema().json().replacen(
        r#""fields":["#,
        r#""fields":[{"name":"extra","type":"int","default":0},"#,
        1,
    );
    de.preload(SchemaId::Id(2), ParsedSchema::parse(&v2).unwrap())
        .unwrap();
    frame[4] = 2;
    let err = de
        .deserialize_record::<View<'_>>(Some(&frame), &ctx)
        .unwrap_err();
    assert!(
        matches!(
            &err,
            kcodec_codecs::Error::Avro(AvroError::NeedsResolution { record: "test.borrow.View", writer })
                if *writer == SchemaId::Id(2)
        ),
        "{err:?}"
    );
    assert!(err.to_string().contains("needs resolution"), "{err}");
    assert!(matches!(
        de.deserialize_record::<View<'_>>(None, &ctx),
        Err(kcodec_codecs::Error::UnexpectedNull { .. })
    ));
    // A record without generated code can't be decoded this way: an error, not a panic.
    de.preload(SchemaId::Id(3), WithModule::avro_schema().parsed().clone())
        .unwrap();
    let err = de
        .deserialize_record::<WithModule>(Some(&[0, 0, 0, 0, 3, 1, 2, 3, 4]), &ctx)
        .unwrap_err();
    assert!(err.to_string().contains("no generated Avro code"), "{err}");
}

#[test]
fn a_borrowed_record_never_panics_on_truncated_or_corrupt_input() {
    let bytes = raw_bytes(&view());
    for len in 0..bytes.len() {
        assert!(
            raw::decode::<View<'_>>(&bytes[..len]).is_err(),
            "prefix {len}"
        );
    }
    // Every byte replaced by a few values: an error or a value, never a panic.
    for i in 0..bytes.len() {
        for b in [0x00, 0x01, 0x7f, 0x80, 0xff] {
            let mut bad = bytes.clone();
            bad[i] = b;
            let _ = raw::decode::<View<'_>>(&bad);
        }
    }
    // Invalid UTF-8 in a borrowed string is a typed error.
    let mut bad = bytes.clone();
    bad[1] = 0xff; // the first byte of `id`
    assert!(matches!(
        raw::decode::<View<'_>>(&bad),
        Err(AvroError::Utf8 { .. })
    ));
}

/// `bytes::Bytes` fields (serde needs `avro_bytes` for them without bytes's `serde` feature).
#[derive(Record, Serialize, Deserialize, Debug, PartialEq)]
#[record(crate = "kcodec_codecs", namespace = "test.borrow")]
struct Blobs {
    name: String,
    #[serde(with = "kcodec_codecs::record::avro_bytes")]
    payload: bytes::Bytes,
    #[serde(with = "kcodec_codecs::record::avro_bytes")]
    extra: Option<bytes::Bytes>,
}

#[test]
fn bytes_fields_are_slices_of_a_shared_frame() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let de = AvroDeserializer::<Blobs>::for_record(registry).unwrap();
    de.preload(SchemaId::Id(4), Blobs::avro_schema().parsed().clone())
        .unwrap();
    let value = Blobs {
        name: "n".into(),
        payload: bytes::Bytes::from_static(b"payload"),
        extra: Some(bytes::Bytes::from_static(b"extra")),
    };
    let mut frame = BytesMut::from(&[0u8, 0, 0, 0, 4][..]);
    raw::encode(&value, &mut frame).unwrap();
    let frame = frame.freeze();
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);

    // From the shared frame: the `Bytes` fields point into it.
    let back = de.deserialize_bytes(Some(&frame), &ctx).unwrap();
    assert_eq!(back, value);
    // name: length + 1 byte at 5..7, payload's length at 7, its bytes from 8.
    assert_eq!(back.payload.as_ptr(), frame[8..].as_ptr());
    let extra = back.extra.as_ref().unwrap();
    assert_eq!(extra.as_ptr(), frame[frame.len() - 5..].as_ptr());
    // From a plain slice: the same value, copied.
    let copied = de.deserialize(Some(&frame[..]), &ctx).unwrap();
    assert_eq!(copied, value);
    assert!(!inside(&copied.payload, &frame));
    // Truncated shared frames are errors.
    for len in 0..frame.len() {
        assert!(
            de.deserialize_bytes(Some(&frame.slice(..len)), &ctx)
                .is_err()
        );
    }

    // `Bytes` through its `AvroType` (an array of bytes here) slices the frame too, and a
    // payload outside the frame is copied.
    let items = vec![
        bytes::Bytes::from_static(b"ab"),
        bytes::Bytes::from_static(b"c"),
    ];
    let mut out = BytesMut::new();
    raw::encode(&items, &mut out).unwrap();
    let shared = out.freeze();
    let back: Vec<bytes::Bytes> = raw::decode_shared(&shared, &shared).unwrap();
    assert_eq!(back, items);
    assert_eq!(back[0].as_ptr(), shared[2..].as_ptr());
    assert_eq!(back[1].as_ptr(), shared[5..].as_ptr());
    let elsewhere = shared.to_vec();
    let back: Vec<bytes::Bytes> = raw::decode_shared(&shared, &elsewhere).unwrap();
    assert_eq!(back, items);
    assert!(!inside(&back[0], &shared) && !inside(&back[0], &elsewhere));
}

/// A hand-written `AvroType` whose schema is not valid Avro.
struct NotAvro;

impl AvroType for NotAvro {
    fn avro_schema_in(_: &mut kcodec_codecs::record::Names) -> serde_json::Value {
        serde_json::json!({"type": "no-such-type"})
    }
}

impl kcodec_codecs::record::AvroDecode<'_> for NotAvro {}

impl Serialize for NotAvro {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_unit()
    }
}

impl<'de> Deserialize<'de> for NotAvro {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        <()>::deserialize(d).map(|()| NotAvro)
    }
}

#[derive(Record, Serialize, Deserialize)]
#[record(crate = "kcodec_codecs")]
struct HoldsNotAvro {
    bad: NotAvro,
}

#[test]
fn for_record_refuses_an_invalid_hand_written_schema_without_panicking() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let err = AvroSerializer::<HoldsNotAvro>::for_record(registry.clone()).unwrap_err();
    assert!(
        matches!(&err, AvroError::RecordSchema { rust_type, source: Some(_), .. } if rust_type.ends_with("HoldsNotAvro")),
        "{err:?}"
    );
    assert!(err.to_string().contains("no-such-type"), "{err}");
    let err = AvroDeserializer::<HoldsNotAvro>::for_record(registry).unwrap_err();
    assert!(matches!(err, AvroError::RecordSchema { .. }), "{err:?}");
    assert!(HoldsNotAvro::try_avro_schema().is_err());
}

/// Two unions holding arrays of each other: no named record in between, so no Avro schema.
#[derive(Record, Serialize, Deserialize)]
#[record(crate = "kcodec_codecs")]
enum Ping {
    Pongs(Vec<Pong>),
    Stop(i32),
}

#[derive(Record, Serialize, Deserialize)]
#[record(crate = "kcodec_codecs")]
enum Pong {
    Pings(Vec<Ping>),
    Stop(String),
}

#[derive(Record, Serialize, Deserialize)]
#[record(crate = "kcodec_codecs")]
struct Rally {
    ping: Ping,
}

#[test]
fn a_union_that_contains_itself_is_an_error_from_for_record() {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let err = AvroDeserializer::<Rally>::for_record(registry.clone()).unwrap_err();
    assert!(
        matches!(&err, AvroError::RecordSchema { problem, source: None, .. }
            if problem.contains("contains itself")),
        "{err:?}"
    );
    assert!(AvroSerializer::<Rally>::for_record(registry).is_err());
}
