//! Typed encode on the compiled plan: unions chosen by name whatever the writer's branch
//! order, `Option` either way round, fields by position or by name, defaults for fields serde
//! leaves out, errors that name the field, and typed encode → typed decode round trips.
#![cfg(feature = "avro")]

use kcodec_codecs::avro::{
    AvroDeserializer, AvroError, AvroSerializer, GenericAvroDeserializer, ParsedSchema, Value,
};
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{
    BytesMut, DeserializeContext, Deserializer, Error, Headers, SerializeContext, Serialized,
    Serializer, Target,
};
use kcodec_registry::InMemoryRegistry;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

fn parsed(text: &str) -> ParsedSchema {
    ParsedSchema::parse(text).unwrap()
}

/// The Avro payload (after the 5-byte prefix) of `value` written with `schema` under id 1.
fn encode<T: Serialize + ?Sized>(schema: &str, value: &T) -> Result<Vec<u8>, Error> {
    let ser = AvroSerializer::<T>::new(Arc::new(InMemoryRegistry::new()), parsed(schema));
    ser.preload("t", Target::Value, SchemaId::Id(1)).unwrap();
    let mut headers = Headers::new();
    let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
    let mut out = BytesMut::new();
    assert_eq!(ser.serialize(value, &mut ctx, &mut out)?, Serialized::Data);
    assert_eq!(&out[..5], [0, 0, 0, 0, 1]);
    Ok(out[5..].to_vec())
}

fn frame(payload: &[u8]) -> bytes::Bytes {
    let mut f = vec![0, 0, 0, 0, 1];
    f.extend_from_slice(payload);
    f.into()
}

/// Decodes a payload written with `schema` (id 1) into `T` with the typed decoder.
fn decode<T: serde::de::DeserializeOwned>(schema: &str, payload: &[u8]) -> T {
    let de = AvroDeserializer::<T>::new(Arc::new(InMemoryRegistry::new()));
    de.preload(SchemaId::Id(1), parsed(schema)).unwrap();
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    de.deserialize(Some(&frame(payload)), &ctx).unwrap()
}

/// Decodes a payload written with `schema` (id 1) into apache-avro's generic value.
fn generic(schema: &str, payload: &[u8]) -> Value {
    let de = GenericAvroDeserializer::new(Arc::new(InMemoryRegistry::new()));
    de.preload(SchemaId::Id(1), parsed(schema)).unwrap();
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    de.deserialize(Some(&frame(payload)), &ctx).unwrap()
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Cat {
    name: String,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Dog {
    name: String,
}

/// Declared Cat, Dog: the opposite of the writer union's order below.
#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Pet {
    Cat(Cat),
    Dog(Dog),
}

/// A union of two records of the same shape, Dog first.
const DOG_CAT: &str = r#"[
    {"type":"record","name":"Dog","namespace":"pets","fields":[{"name":"name","type":"string"}]},
    {"type":"record","name":"Cat","namespace":"pets","fields":[{"name":"name","type":"string"}]}]"#;

#[test]
fn a_union_ordered_unlike_the_enum_gets_the_branch_named_as_the_variant() {
    let cat = Pet::Cat(Cat { name: "Tom".into() });
    let dog = Pet::Dog(Dog { name: "Rex".into() });
    // Cat is the union's branch 1 (zigzag 2), although it is the enum's variant 0.
    assert_eq!(encode(DOG_CAT, &cat).unwrap(), [2, 6, b'T', b'o', b'm']);
    assert_eq!(encode(DOG_CAT, &dog).unwrap(), [0, 6, b'R', b'e', b'x']);
    // An independent reader (apache-avro's generic decoder) sees the right record.
    match generic(DOG_CAT, &encode(DOG_CAT, &cat).unwrap()) {
        Value::Union(1, inner) => assert!(matches!(*inner, Value::Record(_))),
        other => panic!("{other:?}"),
    }
    // And the typed decoder reads each back as itself.
    for pet in [cat, dog] {
        assert_eq!(decode::<Pet>(DOG_CAT, &encode(DOG_CAT, &pet).unwrap()), pet);
    }
}

#[test]
fn a_struct_in_a_union_takes_the_record_branch_of_its_name() {
    #[derive(Serialize)]
    struct Holder {
        pet: Cat,
    }
    let schema = format!(
        r#"{{"type":"record","name":"Holder","fields":[{{"name":"pet","type":{DOG_CAT}}}]}}"#
    );
    let h = Holder {
        pet: Cat { name: "Tom".into() },
    };
    assert_eq!(encode(&schema, &h).unwrap(), [2, 6, b'T', b'o', b'm']);
    // A struct named as no branch is refused, not written as the first record of its shape.
    #[derive(Serialize)]
    struct Bird {
        name: String,
    }
    #[derive(Serialize)]
    struct Aviary {
        pet: Bird,
    }
    let a = Aviary {
        pet: Bird {
            name: "Tweety".into(),
        },
    };
    match encode(&schema, &a).unwrap_err() {
        Error::Avro(AvroError::Encode { path, problem, .. }) => {
            assert_eq!(path, "$.pet");
            assert!(problem.contains("no union branch"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn option_is_a_union_with_null_in_either_order() {
    let null_first = r#"["null","long"]"#;
    let null_last = r#"["long","null"]"#;
    assert_eq!(encode(null_first, &Some(5i64)).unwrap(), [2, 10]);
    assert_eq!(encode(null_last, &Some(5i64)).unwrap(), [0, 10]);
    #[derive(Serialize, Deserialize, Debug, PartialEq)]
    struct R {
        a: Option<i64>,
        b: Option<i64>,
    }
    let schema = r#"{"type":"record","name":"R","fields":[
        {"name":"a","type":["null","long"]},{"name":"b","type":["long","null"]}]}"#;
    let v = R { a: None, b: None };
    assert_eq!(encode(schema, &v).unwrap(), [0, 2]);
    assert_eq!(decode::<R>(schema, &[0, 2]), v);
    let v = R {
        a: Some(-1),
        b: Some(1),
    };
    assert_eq!(encode(schema, &v).unwrap(), [2, 1, 0, 2]);
    assert_eq!(decode::<R>(schema, &[2, 1, 0, 2]), v);
}

#[test]
fn fields_in_another_order_than_the_schemas_are_matched_by_name() {
    #[derive(Serialize)]
    struct InOrder {
        a: i32,
        b: String,
        c: bool,
    }
    #[derive(Serialize)]
    struct Shuffled {
        c: bool,
        a: i32,
        b: String,
    }
    let schema = r#"{"type":"record","name":"R","fields":[
        {"name":"a","type":"int"},{"name":"b","type":"string"},{"name":"c","type":"boolean"}]}"#;
    let expected = encode(
        schema,
        &InOrder {
            a: 3,
            b: "x".into(),
            c: true,
        },
    )
    .unwrap();
    assert_eq!(expected, [6, 2, b'x', 1]);
    let shuffled = Shuffled {
        c: true,
        a: 3,
        b: "x".into(),
    };
    assert_eq!(encode(schema, &shuffled).unwrap(), expected);
}

#[test]
fn a_field_serde_leaves_out_takes_the_schemas_default() {
    #[derive(Serialize)]
    struct Partial {
        a: i32,
    }
    let schema = r#"{"type":"record","name":"R","fields":[
        {"name":"a","type":"int"},
        {"name":"b","type":"string","default":"dd"},
        {"name":"c","type":["null","long"],"default":null},
        {"name":"d","type":"long"}]}"#;
    let err = encode(schema, &Partial { a: 1 }).unwrap_err();
    match err {
        Error::Avro(AvroError::Encode { path, problem, .. }) => {
            assert_eq!(path, "$.d");
            assert!(problem.contains("no default"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
    let with_defaults = r#"{"type":"record","name":"R","fields":[
        {"name":"a","type":"int"},
        {"name":"b","type":"string","default":"dd"},
        {"name":"c","type":["null","long"],"default":null}]}"#;
    assert_eq!(
        encode(with_defaults, &Partial { a: 1 }).unwrap(),
        [2, 4, b'd', b'd', 0]
    );
}

#[test]
fn errors_name_the_field_path_and_the_problem() {
    #[derive(Serialize)]
    struct Line {
        qty: i64,
    }
    #[derive(Serialize)]
    struct Order {
        lines: Vec<Line>,
    }
    let schema = r#"{"type":"record","name":"Order","fields":[{"name":"lines","type":
        {"type":"array","items":{"type":"record","name":"Line","fields":[
            {"name":"qty","type":"int"}]}}}]}"#;
    let order = Order {
        lines: vec![Line { qty: 1 }, Line { qty: 1 << 40 }],
    };
    match encode(schema, &order).unwrap_err() {
        Error::Avro(AvroError::Encode {
            path,
            schema,
            problem,
        }) => {
            assert_eq!(path, "$.lines[1].qty");
            assert_eq!(schema, "int");
            assert!(problem.contains("out of the int range"), "{problem}");
        }
        other => panic!("{other:?}"),
    }
}

#[test]
fn values_nesting_past_the_depth_limit_are_refused_not_overflowed() {
    #[derive(Serialize)]
    struct Node {
        next: Option<Box<Node>>,
    }
    let schema = r#"{"type":"record","name":"Node","fields":[
        {"name":"next","type":["null","Node"]}]}"#;
    let mut deep = Node { next: None };
    for _ in 0..200 {
        deep = Node {
            next: Some(Box::new(deep)),
        };
    }
    match encode(schema, &deep).unwrap_err() {
        Error::Avro(AvroError::Encode { problem, .. }) => {
            assert!(problem.contains("deeper than 128"), "{problem}")
        }
        other => panic!("{other:?}"),
    }
    // 100 levels are fine.
    let mut ok = Node { next: None };
    for _ in 0..100 {
        ok = Node {
            next: Some(Box::new(ok)),
        };
    }
    assert_eq!(encode(schema, &ok).unwrap().len(), 101);
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
enum Status {
    #[serde(rename = "NEW")]
    New,
    #[serde(rename = "SHIPPED")]
    Shipped,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Item {
    sku: String,
    qty: i32,
    price: f64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Everything {
    id: i64,
    status: Status,
    items: Vec<Item>,
    attrs: BTreeMap<String, i64>,
    note: Option<String>,
    pet: Pet,
    digest: [u8; 4],
    ratio: f32,
    flag: bool,
    at_ms: i64,
}

const EVERYTHING: &str = r#"{"type":"record","name":"Everything","namespace":"shop","fields":[
    {"name":"id","type":"long"},
    {"name":"status","type":{"type":"enum","name":"Status","symbols":["SHIPPED","NEW"]}},
    {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
        {"name":"sku","type":"string"},{"name":"qty","type":"int"},{"name":"price","type":"double"}]}}},
    {"name":"attrs","type":{"type":"map","values":"long"}},
    {"name":"note","type":["null","string"]},
    {"name":"pet","type":[
        {"type":"record","name":"Dog","namespace":"pets","fields":[{"name":"name","type":"string"}]},
        {"type":"record","name":"Cat","namespace":"pets","fields":[{"name":"name","type":"string"}]}]},
    {"name":"digest","type":{"type":"fixed","name":"Digest","size":4}},
    {"name":"ratio","type":"float"},
    {"name":"flag","type":"boolean"},
    {"name":"at_ms","type":{"type":"long","logicalType":"timestamp-millis"}}]}"#;

#[test]
fn typed_encode_then_typed_decode_round_trips() {
    let value = Everything {
        id: -42,
        status: Status::New,
        items: vec![
            Item {
                sku: "a".into(),
                qty: 2,
                price: 9.5,
            },
            Item {
                sku: "bb".into(),
                qty: -1,
                price: 0.0,
            },
        ],
        attrs: [("k".to_owned(), 1), ("j".to_owned(), -300)].into(),
        note: Some("hi".into()),
        pet: Pet::Cat(Cat { name: "Tom".into() }),
        digest: [1, 2, 3, 4],
        ratio: 0.25,
        flag: true,
        at_ms: 1_704_164_645_678,
    };
    let payload = encode(EVERYTHING, &value).unwrap();
    assert_eq!(decode::<Everything>(EVERYTHING, &payload), value);
    // The enum symbol goes by name: NEW is the schema's symbol 1.
    assert_eq!(payload[1], 2);
    // The independent reader agrees on the shape.
    let Value::Record(fields) = generic(EVERYTHING, &payload) else {
        panic!("a record")
    };
    assert_eq!(fields[1].1, Value::Enum(1, "NEW".into()));
    assert!(matches!(&fields[5].1, Value::Union(1, _)));
    assert_eq!(fields[6].1, Value::Fixed(4, vec![1, 2, 3, 4]));
    // Empty collections and the other branches.
    let empty = Everything {
        items: vec![],
        attrs: BTreeMap::new(),
        note: None,
        pet: Pet::Dog(Dog {
            name: String::new(),
        }),
        ..value
    };
    let payload = encode(EVERYTHING, &empty).unwrap();
    assert_eq!(decode::<Everything>(EVERYTHING, &payload), empty);
}

#[test]
fn a_decimal_on_fixed_is_sign_extended_to_the_size() {
    #[derive(Serialize)]
    struct Price {
        p: apache_avro::Decimal,
    }
    let schema = r#"{"type":"record","name":"Price","fields":[{"name":"p","type":
        {"type":"fixed","name":"D","size":4,"logicalType":"decimal","precision":9,"scale":2}}]}"#;
    let pos = Price {
        p: apache_avro::Decimal::from(vec![0x30, 0x39]),
    };
    assert_eq!(encode(schema, &pos).unwrap(), [0, 0, 0x30, 0x39]);
    let neg = Price {
        p: apache_avro::Decimal::from(vec![0xcf, 0xc7]),
    };
    assert_eq!(encode(schema, &neg).unwrap(), [0xff, 0xff, 0xcf, 0xc7]);
}

/// The first topic resolved is framed from its pinned entry; a second `preload` of it with
/// another id, and other topics, still frame with their own ids.
#[test]
fn every_topic_frames_with_its_latest_schema_id() {
    let ser = AvroSerializer::<i64>::new(Arc::new(InMemoryRegistry::new()), parsed(r#""long""#));
    let frame_of = |topic: &str| {
        let mut headers = Headers::new();
        let mut ctx = SerializeContext::new(topic, Target::Value, &mut headers);
        let mut out = BytesMut::new();
        assert_eq!(
            ser.serialize(&1, &mut ctx, &mut out).unwrap(),
            Serialized::Data
        );
        out.to_vec()
    };
    ser.preload("a", Target::Value, SchemaId::Id(1)).unwrap();
    assert_eq!(frame_of("a"), [0, 0, 0, 0, 1, 2]);
    // The same id again keeps the pinned entry; another one replaces it.
    ser.preload("a", Target::Value, SchemaId::Id(1)).unwrap();
    assert_eq!(frame_of("a"), [0, 0, 0, 0, 1, 2]);
    ser.preload("a", Target::Value, SchemaId::Id(2)).unwrap();
    assert_eq!(frame_of("a"), [0, 0, 0, 0, 2, 2]);
    ser.preload("b", Target::Value, SchemaId::Id(3)).unwrap();
    assert_eq!(frame_of("b"), [0, 0, 0, 0, 3, 2]);
    assert_eq!(frame_of("a"), [0, 0, 0, 0, 2, 2]);
    // Keys are apart from values.
    let mut headers = Headers::new();
    let mut ctx = SerializeContext::new("a", Target::Key, &mut headers);
    let err = ser
        .serialize(&1, &mut ctx, &mut BytesMut::new())
        .unwrap_err();
    assert!(matches!(err, Error::Unresolved(_)), "{err:?}");
}
