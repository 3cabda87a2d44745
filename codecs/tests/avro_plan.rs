//! The Avro engine's compiled plan: references to any depth and in any order, schema identity
//! with references included, unions chosen by name, and the self-referential schema from the
//! issue decoding with bounded work.
#![cfg(feature = "avro")]

use bytes::Bytes;
use kcodec_codecs::avro::{AvroDeserializer, GenericAvroDeserializer, ParsedSchema, Value};
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{DeserializeContext, Deserializer, Headers, Target};
use kcodec_registry::{InMemoryRegistry, SchemaReference};
use serde::{Deserialize, Serialize};
use std::sync::Arc;

const A: &str =
    r#"{"type":"record","name":"A","namespace":"n","fields":[{"name":"b","type":"n.B"}]}"#;
const B: &str =
    r#"{"type":"record","name":"B","namespace":"n","fields":[{"name":"c","type":"n.C"}]}"#;
const C: &str =
    r#"{"type":"record","name":"C","namespace":"n","fields":[{"name":"x","type":"long"}]}"#;

fn reference(name: &str) -> SchemaReference {
    SchemaReference {
        name: name.to_owned(),
        subject: name.to_owned(),
        version: 1,
    }
}

#[test]
fn a_three_level_reference_chain_parses_given_in_every_order() {
    for deps in [[B, C], [C, B]] {
        let parsed = ParsedSchema::parse_with_references(A, vec![reference("n.B")], &deps)
            .unwrap_or_else(|e| panic!("deps {deps:?}: {e}"));
        assert_eq!(parsed.name(), "n.A");
        assert_eq!(parsed.dependencies().len(), 2);
    }
}

const ORDER: &str = r#"{"type":"record","name":"Order","namespace":"n","fields":[
    {"name":"id","type":"long"},{"name":"ship_to","type":"n.Address"}]}"#;
const ADDRESS_V1: &str = r#"{"type":"record","name":"Address","namespace":"n","fields":[
    {"name":"street","type":"string"}]}"#;
const ADDRESS_V2: &str = r#"{"type":"record","name":"Address","namespace":"n","fields":[
    {"name":"street","type":"string"},{"name":"zip","type":"string","default":"00000"}]}"#;

fn order_over(address: &str) -> ParsedSchema {
    ParsedSchema::parse_with_references(ORDER, vec![reference("n.Address")], &[address]).unwrap()
}

/// The frame of `Order { id: 7, ship_to: { street: "Elm" } }` written with schema id 1.
fn order_v1_frame() -> Bytes {
    let mut frame = vec![0, 0, 0, 0, 1];
    frame.extend_from_slice(&[14, 6, b'E', b'l', b'm']);
    Bytes::from(frame)
}

#[test]
fn schema_identity_includes_the_referenced_types() {
    assert_ne!(order_over(ADDRESS_V1), order_over(ADDRESS_V2));
    assert_eq!(order_over(ADDRESS_V1), order_over(ADDRESS_V1));
    // The root alone is the same text.
    assert_eq!(
        order_over(ADDRESS_V1).canonical_form(),
        order_over(ADDRESS_V2).canonical_form()
    );
}

#[test]
fn a_referenced_type_v1_to_v2_takes_the_new_fields_default() {
    let headers = Headers::new();
    let ctx = DeserializeContext::new("orders", Target::Value, &headers);
    let frame = order_v1_frame();

    // Generic.
    let de = GenericAvroDeserializer::with_reader_schema(
        Arc::new(InMemoryRegistry::new()),
        order_over(ADDRESS_V2),
    );
    de.preload(SchemaId::Id(1), order_over(ADDRESS_V1)).unwrap();
    let value: Value = de.deserialize(Some(&frame), &ctx).unwrap();
    let Value::Record(fields) = value else {
        panic!("a record: {value:?}")
    };
    assert_eq!(fields[0], ("id".to_owned(), Value::Long(7)));
    assert_eq!(
        fields[1].1,
        Value::Record(vec![
            ("street".to_owned(), Value::String("Elm".to_owned())),
            ("zip".to_owned(), Value::String("00000".to_owned())),
        ])
    );

    // Typed.
    #[derive(Deserialize, Debug, PartialEq)]
    struct Address {
        street: String,
        zip: String,
    }
    #[derive(Deserialize, Debug, PartialEq)]
    struct Order {
        id: i64,
        ship_to: Address,
    }
    let de = AvroDeserializer::<Order>::with_reader_schema(
        Arc::new(InMemoryRegistry::new()),
        order_over(ADDRESS_V2),
    );
    de.preload(SchemaId::Id(1), order_over(ADDRESS_V1)).unwrap();
    let order = de.deserialize(Some(&frame), &ctx).unwrap();
    assert_eq!(
        order,
        Order {
            id: 7,
            ship_to: Address {
                street: "Elm".to_owned(),
                zip: "00000".to_owned()
            }
        }
    );
}

const CAT: &str = r#"{"type":"record","name":"Cat","namespace":"pets","fields":[{"name":"name","type":"string"}]}"#;
const DOG: &str = r#"{"type":"record","name":"Dog","namespace":"pets","fields":[{"name":"name","type":"string"}]}"#;

#[derive(Serialize, Deserialize, Debug, PartialEq)]
struct Named {
    name: String,
}

/// The enum lists Cat before Dog; the writer's union lists Dog first.
#[derive(Serialize, Deserialize, Debug, PartialEq)]
enum Pet {
    Cat(Named),
    Dog(Named),
}

fn pets_dog_first() -> ParsedSchema {
    ParsedSchema::parse(&format!(r#"{{"type":"array","items":[{DOG},{CAT}]}}"#)).unwrap()
}

#[test]
fn typed_decode_picks_union_branches_by_name_not_position() {
    let headers = Headers::new();
    let ctx = DeserializeContext::new("pets", Target::Value, &headers);
    // [Dog("rex"), Cat("tom")] with Dog as branch 0 and Cat as branch 1.
    let frame = Bytes::from_static(&[
        0, 0, 0, 0, 1, 4, 0, 6, b'r', b'e', b'x', 2, 6, b't', b'o', b'm', 0,
    ]);
    let de = AvroDeserializer::<Vec<Pet>>::new(Arc::new(InMemoryRegistry::new()));
    de.preload(SchemaId::Id(1), pets_dog_first()).unwrap();
    let pets = de.deserialize(Some(&frame), &ctx).unwrap();
    assert_eq!(
        pets,
        vec![
            Pet::Dog(Named { name: "rex".into() }),
            Pet::Cat(Named { name: "tom".into() })
        ]
    );
}

/// The schema from the issue: four fields that all refer to their record, inside an array. The
/// zero-width check behind every array decode used to follow the references with no memo
/// (billions of calls per array, even an empty one); work is now bounded by the plan (its size
/// and step counts are asserted in `avro::validate`'s unit tests).
const SELF_REF: &str = r#"{"type":"array","items":{"type":"record","name":"R","fields":[
    {"name":"a","type":"R"},{"name":"b","type":"R"},{"name":"c","type":"R"},{"name":"d","type":"R"}]}}"#;
const SELF_REF_OPTIONAL: &str = r#"{"type":"array","items":{"type":"record","name":"R","fields":[
    {"name":"a","type":["null","R"]},{"name":"b","type":["null","R"]},
    {"name":"c","type":["null","R"]},{"name":"d","type":["null","R"]}]}}"#;

#[test]
fn the_self_referential_array_schema_decodes_empty_and_1000_item_arrays() {
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let registry = Arc::new(InMemoryRegistry::new());
    let generic = GenericAvroDeserializer::new(registry.clone());
    let typed = AvroDeserializer::<serde_json::Value>::new(registry);
    for (id, text) in [(1, SELF_REF), (2, SELF_REF_OPTIONAL)] {
        let schema = ParsedSchema::parse(text).unwrap();
        generic.preload(SchemaId::Id(id), schema.clone()).unwrap();
        typed.preload(SchemaId::Id(id), schema).unwrap();
    }
    for id in [1, 2] {
        let empty = Bytes::from(vec![0, 0, 0, 0, id, 0]);
        let value: Value = generic.deserialize(Some(&empty), &ctx).unwrap();
        assert_eq!(value, Value::Array(vec![]));
        let typed_value = typed.deserialize(Some(&empty), &ctx).unwrap();
        assert_eq!(typed_value, serde_json::json!([]));
    }
    // 1 000 items with every field null: five blocks of 200 items of four bytes each.
    let mut frame = vec![0, 0, 0, 0, 2];
    for _ in 0..5 {
        frame.extend_from_slice(&[0x90, 0x03]); // 200
        frame.extend(std::iter::repeat_n(0u8, 800));
    }
    frame.push(0);
    let frame = Bytes::from(frame);
    let Value::Array(items) = generic.deserialize(Some(&frame), &ctx).unwrap() else {
        panic!("an array")
    };
    assert_eq!(items.len(), 1000);
    let typed_value = typed.deserialize(Some(&frame), &ctx).unwrap();
    assert_eq!(typed_value.as_array().map(Vec::len), Some(1000));
    // Without a way to end, a value of R never ends: 1 000 items claimed (taking no bytes each)
    // stop at the depth limit.
    let frame = Bytes::from(vec![0, 0, 0, 0, 1, 0xd0, 0x0f, 0]);
    for err in [
        Deserializer::<Value>::deserialize(&generic, Some(&frame), &ctx)
            .map(drop)
            .unwrap_err(),
        typed.deserialize(Some(&frame), &ctx).map(drop).unwrap_err(),
    ] {
        assert!(err.to_string().contains("deeper than 128"), "{err}");
    }
}

/// The enum's own order (Cat, Dog): a reader schema built from the enum.
fn pets_cat_first() -> ParsedSchema {
    ParsedSchema::parse(&format!(r#"{{"type":"array","items":[{CAT},{DOG}]}}"#)).unwrap()
}

/// `[Dog("rex"), Cat("tom")]` written with `writer`, preloaded as schema id 1.
fn pets_frame(writer_dog_first: bool) -> Bytes {
    let (dog, cat) = if writer_dog_first { (0, 2) } else { (2, 0) };
    Bytes::from(vec![
        0, 0, 0, 0, 1, 4, dog, 6, b'r', b'e', b'x', cat, 6, b't', b'o', b'm', 0,
    ])
}

/// Schema resolution picks a reader union's branch by the writer branch's full name, as Java's
/// `Resolver.ReaderUnion` (`firstMatchingBranch`: an exact name match first), whatever order
/// either union lists them in: two records of the same shape are never read as each other.
#[test]
fn resolution_maps_union_branches_by_name_in_both_directions() {
    let headers = Headers::new();
    let ctx = DeserializeContext::new("pets", Target::Value, &headers);
    let expected = vec![
        Pet::Dog(Named { name: "rex".into() }),
        Pet::Cat(Named { name: "tom".into() }),
    ];
    let dog = |name: &str| Value::Record(vec![("name".to_owned(), Value::String(name.to_owned()))]);
    for (writer_dog_first, writer, reader) in [
        (true, pets_dog_first(), pets_cat_first()),
        (false, pets_cat_first(), pets_dog_first()),
    ] {
        let frame = pets_frame(writer_dog_first);
        // Typed: the reader schema's union order is not the writer's.
        let de = AvroDeserializer::<Vec<Pet>>::with_reader_schema(
            Arc::new(InMemoryRegistry::new()),
            reader.clone(),
        );
        de.preload(SchemaId::Id(1), writer.clone()).unwrap();
        assert_eq!(de.deserialize(Some(&frame), &ctx).unwrap(), expected);
        // Generic: the union indexes are the reader's.
        let de = GenericAvroDeserializer::with_reader_schema(
            Arc::new(InMemoryRegistry::new()),
            reader.clone(),
        );
        de.preload(SchemaId::Id(1), writer).unwrap();
        let value: Value = de.deserialize(Some(&frame), &ctx).unwrap();
        let (dog_index, cat_index) = if writer_dog_first { (1, 0) } else { (0, 1) };
        assert_eq!(
            value,
            Value::Array(vec![
                Value::Union(dog_index, Box::new(dog("rex"))),
                Value::Union(cat_index, Box::new(dog("tom"))),
            ])
        );
    }
}

/// A `bytes` decimal of zero bytes is refused on decode, as Java's
/// `Conversions.DecimalConversion.fromBytes` (`new BigInteger(new byte[0])` throws), instead of
/// decoding to a value that does not re-encode (found by the `avro_deserializer` fuzz target).
#[test]
fn a_zero_length_bytes_decimal_is_refused() {
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let de = GenericAvroDeserializer::new(Arc::new(InMemoryRegistry::new()));
    let schema = r#"{"type":"record","name":"D","fields":[{"name":"dec","type":
        {"type":"bytes","logicalType":"decimal","precision":4,"scale":2}}]}"#;
    de.preload(SchemaId::Id(1), ParsedSchema::parse(schema).unwrap())
        .unwrap();
    let empty = Bytes::from(vec![0, 0, 0, 0, 1, 0]);
    let err = Deserializer::<Value>::deserialize(&de, Some(&empty), &ctx).unwrap_err();
    assert!(err.to_string().contains("decimal"), "{err}");
    let one = Bytes::from(vec![0, 0, 0, 0, 1, 2, 0x7f]);
    let value: Value = de.deserialize(Some(&one), &ctx).unwrap();
    let Value::Record(fields) = value else {
        panic!("a record: {value:?}")
    };
    assert_eq!(
        fields[0].1,
        Value::Decimal(apache_avro::Decimal::from(vec![0x7f]))
    );
}
