//! The JSON codec: compact output, tombstones, errors and round trips.

use kcodec_codecs::json::JsonSerde;
use kcodec_codecs::testing::{decode, encode};
use kcodec_codecs::{Error, Target};
use proptest::prelude::*;
use serde::{Deserialize, Serialize};
use std::collections::BTreeMap;

#[derive(Debug, Clone, PartialEq, Serialize, Deserialize)]
struct Order {
    id: String,
    amount_cents: i64,
    note: Option<String>,
    tags: Vec<String>,
    attrs: BTreeMap<String, f64>,
}

fn order() -> impl Strategy<Value = Order> {
    (
        any::<String>(),
        any::<i64>(),
        any::<Option<String>>(),
        proptest::collection::vec(any::<String>(), 0..4),
        proptest::collection::btree_map(any::<String>(), -1e9f64..1e9, 0..4),
    )
        .prop_map(|(id, amount_cents, note, tags, attrs)| Order {
            id,
            amount_cents,
            note,
            tags,
            attrs,
        })
}

#[test]
fn output_is_compact_json() {
    let o = Order {
        id: "o-1".into(),
        amount_cents: 5,
        note: None,
        tags: vec!["a".into()],
        attrs: BTreeMap::new(),
    };
    let bytes = encode(&JsonSerde, &o).unwrap().unwrap();
    assert_eq!(
        bytes,
        &br#"{"id":"o-1","amount_cents":5,"note":null,"tags":["a"],"attrs":{}}"#[..]
    );
}

#[test]
fn null_values_are_tombstones() {
    assert_eq!(encode(&JsonSerde, &None::<Order>).unwrap(), None);
    assert_eq!(encode(&JsonSerde, &()).unwrap(), None);
    // A JSON null payload (written by another client) reads as None as well.
    assert_eq!(
        decode::<Option<Order>, _>(&JsonSerde, Some(b"null")).unwrap(),
        None
    );
    let err = decode::<Order, _>(&JsonSerde, None).unwrap_err();
    assert!(
        matches!(
            err,
            Error::UnexpectedNull {
                deserializer: "JSON",
                target: Target::Value
            }
        ),
        "{err}"
    );
}

#[test]
fn bad_json_is_a_typed_error_with_its_source() {
    let err = decode::<Order, _>(&JsonSerde, Some(br#"{"id": 5}"#)).unwrap_err();
    assert!(matches!(err, Error::Json(_)));
    assert!(
        err.to_string()
            .contains("invalid type: integer `5`, expected a string"),
        "{err}"
    );
    let err = decode::<Order, _>(&JsonSerde, Some(b"{")).unwrap_err();
    assert!(err.to_string().contains("EOF while parsing"), "{err}");
}

proptest! {
    #[test]
    fn orders_round_trip(o in order()) {
        let bytes = encode(&JsonSerde, &o).unwrap().unwrap();
        prop_assert_eq!(decode::<Order, _>(&JsonSerde, Some(&bytes)).unwrap(), o);
    }

    #[test]
    fn json_values_round_trip(v in any::<Option<(i32, String, bool)>>()) {
        let bytes = encode(&JsonSerde, &v).unwrap();
        prop_assert_eq!(decode::<Option<(i32, String, bool)>, _>(&JsonSerde, bytes.as_deref()).unwrap(), v);
    }
}
