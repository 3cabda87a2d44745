//! Property tests: typed and generic Avro round trips, and agreement between the typed (serde)
//! writer, the generic writer, the direct decoder, and Avro's JSON encoding.
#![cfg(feature = "avro")]

use kcodec_codecs::avro::{
    AvroDeserializer, AvroSerializer, GenericAvroDeserializer, GenericAvroSerializer, ParsedSchema,
    Value,
};
use kcodec_codecs::testing;
use kcodec_codecs::wire::SchemaId;
use kcodec_codecs::{Target, testing::TOPIC};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;
use std::sync::Arc;

const SCHEMA: &str = r#"{"type":"record","name":"Rec","namespace":"p","fields":[
    {"name":"s","type":"string"},
    {"name":"l","type":"long"},
    {"name":"i","type":"int"},
    {"name":"d","type":"double"},
    {"name":"b","type":"boolean"},
    {"name":"opt","type":["null","string"],"default":null},
    {"name":"items","type":{"type":"array","items":{"type":"record","name":"Item","fields":[
        {"name":"k","type":"string"},{"name":"v","type":"long"}]}}},
    {"name":"m","type":{"type":"map","values":"int"}},
    {"name":"kind","type":{"type":"enum","name":"Kind","symbols":["A","B","C"]}},
    {"name":"ts","type":{"type":"long","logicalType":"timestamp-micros"}}]}"#;

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Rec {
    s: String,
    l: i64,
    i: i32,
    d: f64,
    b: bool,
    opt: Option<String>,
    items: Vec<Item>,
    m: BTreeMap<String, i32>,
    kind: Kind,
    ts: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone)]
struct Item {
    k: String,
    v: i64,
}

#[derive(Serialize, Deserialize, Debug, PartialEq, Clone, Copy)]
enum Kind {
    A,
    B,
    C,
}

fn rec() -> impl Strategy<Value = Rec> {
    (
        (
            ".{0,20}",
            any::<i64>(),
            any::<i32>(),
            any::<f64>().prop_filter("not NaN", |d| !d.is_nan()),
            any::<bool>(),
        ),
        (
            proptest::option::of(".{0,8}"),
            proptest::collection::vec(
                (".{0,6}", any::<i64>()).prop_map(|(k, v)| Item { k, v }),
                0..5,
            ),
            proptest::collection::btree_map(".{0,5}", any::<i32>(), 0..4),
            prop_oneof![Just(Kind::A), Just(Kind::B), Just(Kind::C)],
            any::<i64>(),
        ),
    )
        .prop_map(|((s, l, i, d, b), (opt, items, m, kind, ts))| Rec {
            s,
            l,
            i,
            d,
            b,
            opt,
            items,
            m,
            kind,
            ts,
        })
}

struct Codecs {
    schema: ParsedSchema,
    typed_ser: AvroSerializer<Rec>,
    typed_de: AvroDeserializer<Rec>,
    generic_ser: GenericAvroSerializer,
    generic_de: GenericAvroDeserializer,
}

fn codecs() -> Codecs {
    let registry = Arc::new(kcodec_registry::InMemoryRegistry::new());
    let schema = ParsedSchema::parse(SCHEMA).unwrap();
    let id = SchemaId::Id(7);
    let typed_ser = AvroSerializer::new(registry.clone(), schema.clone());
    typed_ser.preload(TOPIC, Target::Value, id).unwrap();
    let generic_ser = GenericAvroSerializer::new(registry.clone(), schema.clone());
    generic_ser.preload(TOPIC, Target::Value, id).unwrap();
    let typed_de = AvroDeserializer::new(registry.clone());
    typed_de.preload(id, schema.clone()).unwrap();
    let generic_de = GenericAvroDeserializer::new(registry);
    generic_de.preload(id, schema.clone()).unwrap();
    Codecs {
        schema,
        typed_ser,
        typed_de,
        generic_ser,
        generic_de,
    }
}

proptest! {
    #![proptest_config(ProptestConfig::with_cases(256))]

    #[test]
    fn typed_and_generic_paths_agree(value in rec()) {
        let c = codecs();
        let frame = testing::encode(&c.typed_ser, &value).unwrap().unwrap();
        prop_assert_eq!(&frame[..5], &[0, 0, 0, 0, 7]);
        // typed → typed
        let back: Rec = testing::decode(&c.typed_de, Some(&frame)).unwrap();
        prop_assert_eq!(&back, &value);
        // typed → generic → JSON → generic → bytes: identical to the serde writer's
        // (map keys in order on both sides).
        let generic: Value = testing::decode(&c.generic_de, Some(&frame)).unwrap();
        let json = c.schema.value_to_json(&generic).unwrap();
        let from_json = c.schema.value_from_json(&json).unwrap();
        prop_assert_eq!(&from_json, &generic);
        let again = testing::encode(&c.generic_ser, &from_json).unwrap().unwrap();
        prop_assert_eq!(&again[..], &frame[..]);
    }

    #[test]
    fn truncated_frames_are_errors_not_panics(value in rec(), cut in 0usize..200) {
        let c = codecs();
        let frame = testing::encode(&c.typed_ser, &value).unwrap().unwrap();
        let cut = cut.min(frame.len());
        if cut < frame.len() {
            prop_assert!(testing::decode::<Rec, _>(&c.typed_de, Some(&frame[..cut])).is_err());
            prop_assert!(testing::decode::<Value, _>(&c.generic_de, Some(&frame[..cut])).is_err());
        }
        // One extra byte is always trailing data.
        let mut longer = frame.to_vec();
        longer.push(0);
        prop_assert!(testing::decode::<Rec, _>(&c.typed_de, Some(&longer)).is_err());
    }
}

/// Regression: an empty array or map is a single zero count, read once.
#[test]
fn empty_collections_round_trip() {
    let c = codecs();
    let value = Rec {
        s: "".into(),
        l: 0,
        i: 0,
        d: 0.0,
        b: false,
        opt: None,
        items: vec![],
        m: BTreeMap::new(),
        kind: Kind::A,
        ts: 0,
    };
    let frame = testing::encode(&c.typed_ser, &value).unwrap().unwrap();
    assert_eq!(frame.len(), 5 + 17);
    let back: Rec = testing::decode(&c.typed_de, Some(&frame)).unwrap();
    assert_eq!(back, value);
}
