//! Java client byte layouts (org.apache.kafka.common.serialization), null handling, errors, and
//! round trips for every built-in serde.

use bytes::Bytes;
use kcodec_codecs::builtin::*;
use kcodec_codecs::testing::{decode, encode};
use kcodec_codecs::{DeserializeContext, Deserializer, Error, Headers, Target};
use proptest::prelude::*;
use std::num::NonZeroUsize;

fn hex(s: &str) -> Vec<u8> {
    let s: String = s.split_whitespace().collect();
    (0..s.len())
        .step_by(2)
        .map(|i| u8::from_str_radix(&s[i..i + 2], 16).unwrap())
        .collect()
}

fn bytes_of<T: ?Sized, S: kcodec_codecs::Serializer<T> + ?Sized>(serde: &S, v: &T) -> Vec<u8> {
    encode(serde, v).unwrap().expect("non-null").to_vec()
}

// ---- fixed vectors: what Java's serializers write --------------------------------------------

#[test]
fn java_primitive_layouts() {
    assert_eq!(bytes_of(&StringSerde, "héllo"), hex("68 c3a9 6c 6c 6f"));
    assert_eq!(bytes_of(&StringSerde, ""), b"");
    assert_eq!(bytes_of(&BytesSerde, &[1u8, 2, 3][..]), [1, 2, 3]);
    assert_eq!(bytes_of(&I16Serde, &0x1234), hex("1234"));
    assert_eq!(bytes_of(&I16Serde, &-1), hex("ffff"));
    assert_eq!(bytes_of(&I32Serde, &1), hex("00000001"));
    assert_eq!(bytes_of(&I32Serde, &i32::MIN), hex("80000000"));
    assert_eq!(
        bytes_of(&I64Serde, &0x0102030405060708),
        hex("0102030405060708")
    );
    assert_eq!(bytes_of(&I64Serde, &-2), hex("fffffffffffffffe"));
    assert_eq!(bytes_of(&F32Serde, &1.0), hex("3f800000"));
    assert_eq!(bytes_of(&F32Serde, &-2.5), hex("c0200000"));
    assert_eq!(bytes_of(&F64Serde, &1.0), hex("3ff0000000000000"));
    assert_eq!(bytes_of(&F64Serde, &0.1), hex("3fb999999999999a"));
    assert_eq!(bytes_of(&BoolSerde, &true), [1]);
    assert_eq!(bytes_of(&BoolSerde, &false), [0]);
    let id = uuid::Uuid::parse_str("6BA7B810-9DAD-11D1-80B4-00C04FD430C8").unwrap();
    assert_eq!(
        bytes_of(&UuidSerde, &id),
        b"6ba7b810-9dad-11d1-80b4-00c04fd430c8"
    );
}

#[test]
fn java_list_layouts() {
    // Known vector: List<Integer> [1, null, 3] (constant size, null-index list).
    let ints = ListSerde::new(I32Serde);
    assert_eq!(
        bytes_of(&ints, &vec![Some(1), None, Some(3)]),
        hex("00 00000001 00000001 00000003 00000001 00000003")
    );
    // No nulls: an empty null-index list.
    assert_eq!(
        bytes_of(&ints, &vec![7, -1]),
        hex("00 00000000 00000002 00000007 ffffffff")
    );
    // Long, Short, Double, Float and UUID are constant size too.
    assert_eq!(
        bytes_of(&ListSerde::new(I64Serde), &vec![Some(1i64), None]),
        hex("00 00000001 00000001 00000002 0000000000000001")
    );
    assert_eq!(
        ListSerde::new(I16Serde).strategy(),
        ListStrategy::ConstantSize(NonZeroUsize::new(2).unwrap())
    );
    assert_eq!(
        ListSerde::new(F32Serde).strategy(),
        ListStrategy::ConstantSize(NonZeroUsize::new(4).unwrap())
    );
    assert_eq!(
        ListSerde::new(F64Serde).strategy(),
        ListStrategy::ConstantSize(NonZeroUsize::new(8).unwrap())
    );
    assert_eq!(
        ListSerde::new(UuidSerde).strategy(),
        ListStrategy::ConstantSize(NonZeroUsize::new(36).unwrap())
    );
    // String, bytes and Boolean are variable size: length (−1 for null) before each entry.
    let strings = ListSerde::new(StringSerde);
    assert_eq!(
        bytes_of(
            &strings,
            &vec![Some("a".to_string()), None, Some("bc".to_string())]
        ),
        hex("01 00000003 00000001 61 ffffffff 00000002 6263")
    );
    assert_eq!(
        ListSerde::new(BoolSerde).strategy(),
        ListStrategy::VariableSize
    );
    assert_eq!(
        bytes_of(&ListSerde::new(BoolSerde), &vec![true, false]),
        hex("01 00000002 00000001 01 00000001 00")
    );
    // Empty lists.
    assert_eq!(
        bytes_of(&ints, &Vec::<i32>::new()),
        hex("00 00000000 00000000")
    );
    assert_eq!(
        bytes_of(&strings, &Vec::<String>::new()),
        hex("01 00000000")
    );
}

#[test]
fn list_reads_the_layout_from_the_data_like_java() {
    // A list of ints written with the variable layout still reads (Java reads the flag).
    let data = hex("01 00000002 00000004 00000005 ffffffff");
    let v: Vec<Option<i32>> = decode(&ListSerde::new(I32Serde), Some(&data)).unwrap();
    assert_eq!(v, [Some(5), None]);
    // Constant layout for strings is refused: there is no fixed size to read by.
    let err = decode::<Vec<String>, _>(
        &ListSerde::new(StringSerde),
        Some(&hex("00 00000000 00000000")),
    )
    .unwrap_err();
    assert!(matches!(err, Error::List(ListError::NoFixedSize)), "{err}");
}

// ---- null handling ----------------------------------------------------------------------------

#[test]
fn option_none_is_a_null_record_and_back() {
    assert_eq!(encode(&StringSerde, &None::<String>).unwrap(), None);
    assert_eq!(encode(&I32Serde, &None::<i32>).unwrap(), None);
    assert_eq!(encode(&BytesSerde, &None::<Bytes>).unwrap(), None);
    assert_eq!(encode(&UnitSerde, &()).unwrap(), None);
    assert_eq!(
        encode(&ListSerde::new(I32Serde), &None::<Vec<i32>>).unwrap(),
        None
    );
    assert_eq!(
        decode::<Option<String>, _>(&StringSerde, None).unwrap(),
        None
    );
    assert_eq!(decode::<Option<i64>, _>(&I64Serde, None).unwrap(), None);
    assert_eq!(
        decode::<Option<i64>, _>(&I64Serde, Some(&[0, 0, 0, 0, 0, 0, 0, 9])).unwrap(),
        Some(9)
    );
    decode::<(), _>(&UnitSerde, None).unwrap();
}

#[test]
fn null_into_a_non_option_type_is_an_error_naming_it() {
    let err = decode::<i32, _>(&I32Serde, None).unwrap_err();
    assert!(matches!(
        err,
        Error::UnexpectedNull {
            deserializer: "i32",
            target: Target::Value
        }
    ));
    assert!(
        err.to_string()
            .contains("null value received by i32 deserializer"),
        "{err}"
    );
    // A null entry in a list of non-optional values names the entry.
    let err = decode::<Vec<i32>, _>(
        &ListSerde::new(I32Serde),
        Some(&hex("00 00000001 00000000 00000001")),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "list entry 0 failed");
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "null value received by i32 deserializer (deserialize into Option<_> to accept null)"
    );
}

// ---- malformed input --------------------------------------------------------------------------

#[test]
fn wrong_sizes_use_the_java_wording() {
    let cases: Vec<(Error, &str)> = vec![
        (
            decode::<i16, _>(&I16Serde, Some(&[1])).unwrap_err(),
            "size of data received by i16 deserializer is not 2 (received 1 bytes)",
        ),
        (
            decode::<i32, _>(&I32Serde, Some(&[1, 2, 3])).unwrap_err(),
            "size of data received by i32 deserializer is not 4 (received 3 bytes)",
        ),
        (
            decode::<i64, _>(&I64Serde, Some(&[0; 9])).unwrap_err(),
            "size of data received by i64 deserializer is not 8 (received 9 bytes)",
        ),
        (
            decode::<f32, _>(&F32Serde, Some(&[])).unwrap_err(),
            "size of data received by f32 deserializer is not 4 (received 0 bytes)",
        ),
        (
            decode::<f64, _>(&F64Serde, Some(&[0; 4])).unwrap_err(),
            "size of data received by f64 deserializer is not 8 (received 4 bytes)",
        ),
        (
            decode::<bool, _>(&BoolSerde, Some(&[0, 1])).unwrap_err(),
            "size of data received by bool deserializer is not 1 (received 2 bytes)",
        ),
        (
            decode::<uuid::Uuid, _>(&UuidSerde, Some(b"abc")).unwrap_err(),
            "size of data received by uuid deserializer is not 36 (received 3 bytes)",
        ),
    ];
    for (err, msg) in cases {
        assert!(matches!(err, Error::Size { .. }));
        assert_eq!(err.to_string(), msg);
    }
}

#[test]
fn other_bad_input_errors() {
    let err = decode::<bool, _>(&BoolSerde, Some(&[2])).unwrap_err();
    assert_eq!(
        err.to_string(),
        "unexpected byte 0x02 received by bool deserializer (expected 0x00 or 0x01)"
    );
    let err = decode::<String, _>(&StrictStringSerde, Some(&[0xff, 0xfe])).unwrap_err();
    assert!(matches!(err, Error::Utf8(_)));
    assert!(
        std::error::Error::source(&err).is_some(),
        "keeps the Utf8Error as source"
    );
    let err = decode::<uuid::Uuid, _>(&UuidSerde, Some(b"zzzzzzzz-9dad-11d1-80b4-00c04fd430c8"))
        .unwrap_err();
    assert!(matches!(err, Error::Uuid(_)));
    assert!(std::error::Error::source(&err).is_some());
    let err = decode::<(), _>(&UnitSerde, Some(b"x")).unwrap_err();
    assert_eq!(
        err.to_string(),
        "data should be null for a unit (Void) deserializer, received 1 bytes"
    );
}

fn list_err(data: &str) -> String {
    decode::<Vec<Option<i32>>, _>(&ListSerde::new(I32Serde), Some(&hex(data)))
        .unwrap_err()
        .to_string()
}

fn string_list_err(data: &str) -> String {
    decode::<Vec<Option<String>>, _>(&ListSerde::new(StringSerde), Some(&hex(data)))
        .unwrap_err()
        .to_string()
}

#[test]
fn malformed_lists_name_the_problem() {
    assert_eq!(
        list_err(""),
        "list data truncated at byte 0: needed 1 bytes for the strategy byte, 0 left"
    );
    assert_eq!(
        list_err("02"),
        "unknown list serialization strategy byte 0x02 (expected 0x00 constant size or 0x01 variable size)"
    );
    assert_eq!(
        list_err("00 000000"),
        "list data truncated at byte 1: needed 4 bytes for the null index count, 3 left"
    );
    // A huge null-index count with no bytes behind it is refused before allocating.
    assert_eq!(
        list_err("00 7fffffff"),
        "list null index count 2147483647 at byte 1 is impossible with 0 bytes left"
    );
    assert_eq!(
        list_err("00 ffffffff"),
        "list null index count -1 at byte 1 is impossible with 0 bytes left"
    );
    // A huge size with too few bytes for its non-null entries.
    assert_eq!(
        list_err("00 00000000 00000003 00000001"),
        "list size 3 at byte 5 is impossible with 4 bytes left"
    );
    assert_eq!(
        list_err("00 00000001 00000005 00000002 00000001 00000002"),
        "list null index 5 is out of range for a list of 2 entries"
    );
    assert_eq!(
        list_err("00 00000000 00000001 00000001 ff"),
        "1 unexpected trailing bytes after the list"
    );
    assert_eq!(
        string_list_err("01 40000000"),
        "list size 1073741824 at byte 1 is impossible with 0 bytes left"
    );
    assert_eq!(
        string_list_err("01 00000001 fffffffe"),
        "list entry 0 has invalid length -2"
    );
    assert_eq!(
        string_list_err("01 00000001 00000005 6162"),
        "list data truncated at byte 9: needed 5 bytes for the entry, 2 left"
    );
    let err = decode::<Vec<String>, _>(
        &ListSerde::new(StrictStringSerde),
        Some(&hex("01 00000001 00000001 ff")),
    )
    .unwrap_err();
    assert_eq!(err.to_string(), "list entry 0 failed");
    assert_eq!(
        std::error::Error::source(&err).unwrap().to_string(),
        "string data is not valid UTF-8"
    );
    // Java's ListDeserializer with a StringDeserializer reads it as U+FFFD.
    let lossy: Vec<String> = decode(
        &ListSerde::new(StringSerde),
        Some(&hex("01 00000001 00000001 ff")),
    )
    .unwrap();
    assert_eq!(lossy, ["\u{fffd}"]);
}

#[test]
fn constant_layout_refuses_entries_of_the_wrong_size() {
    // A closure element serde that writes 3 bytes where the layout promises 4.
    let odd = |_: &i32, _: &mut kcodec_codecs::SerializeContext<'_>, out: &mut bytes::BytesMut| {
        out.extend_from_slice(&[1, 2, 3]);
        Ok(kcodec_codecs::Serialized::Data)
    };
    let list = ListSerde::with_strategy(
        odd,
        ListStrategy::ConstantSize(NonZeroUsize::new(4).unwrap()),
    );
    let err = encode(&list, &vec![1]).unwrap_err();
    assert_eq!(
        err.to_string(),
        "list entry 0 encoded to 3 bytes, the constant-size layout needs 4"
    );
}

#[test]
fn bytes_from_a_shared_buffer_are_not_copied() {
    let shared = Bytes::from_static(b"payload");
    let headers = Headers::new();
    let ctx = DeserializeContext::new("t", Target::Value, &headers);
    let out: Bytes = BytesSerde.deserialize_bytes(Some(&shared), &ctx).unwrap();
    assert_eq!(out.as_ptr(), shared.as_ptr());
    // Entries of a list of bytes point into the list's buffer too.
    let list = Bytes::from(hex("01 00000002 00000002 6162 00000001 63"));
    let items: Vec<Bytes> = ListSerde::new(BytesSerde)
        .deserialize_bytes(Some(&list), &ctx)
        .unwrap();
    assert_eq!(items, [Bytes::from_static(b"ab"), Bytes::from_static(b"c")]);
    assert_eq!(items[1].as_ptr(), list[15..].as_ptr());
}

// ---- strings that are not UTF-8 ---------------------------------------------------------------

/// The default string deserializer reads malformed UTF-8 as Java's `StringDeserializer` does
/// (`new String(bytes, UTF_8)`): checked against vectors recorded from OpenJDK 17 and 25.
#[test]
fn malformed_utf8_is_replaced_as_java_does() {
    let fixture = include_str!("fixtures/java_utf8_replacement.txt");
    let mut cases = 0;
    for line in fixture.lines().filter(|l| !l.starts_with('#')) {
        let (input, expected) = line.split_once(' ').unwrap();
        let input = hex(input);
        let expected = String::from_utf8(if expected == "-" {
            vec![]
        } else {
            hex(expected)
        })
        .unwrap();
        assert_eq!(
            decode_utf8_like_java(&input),
            expected,
            "input {input:02x?}"
        );
        let through_serde: String = decode(&StringSerde, Some(&input)).unwrap();
        assert_eq!(through_serde, expected, "input {input:02x?}");
        cases += 1;
    }
    assert!(cases > 400, "{cases} cases");
    // The two rules where Java differs from String::from_utf8_lossy.
    let surrogate = [b'a', 0xed, 0xa0, 0x80, b'b'];
    assert_eq!(decode_utf8_like_java(&surrogate), "a\u{fffd}b");
    assert_eq!(
        String::from_utf8_lossy(&surrogate),
        "a\u{fffd}\u{fffd}\u{fffd}b"
    );
    let truncated_surrogate = [b'a', 0xed, 0xa0];
    assert_eq!(decode_utf8_like_java(&truncated_surrogate), "a\u{fffd}");
}

#[test]
fn strict_strings_refuse_malformed_utf8_and_the_default_does_not() {
    let latin1 = b"caf\xe9";
    let lossy: String = decode(&StringSerde, Some(latin1)).unwrap();
    assert_eq!(lossy, "caf\u{fffd}");
    let lossy: Option<String> = decode(&StringSerde, Some(latin1)).unwrap();
    assert_eq!(lossy.as_deref(), Some("caf\u{fffd}"));
    let err = decode::<String, _>(&StrictStringSerde, Some(latin1)).unwrap_err();
    let Error::Utf8(utf8) = &err else {
        panic!("{err:?}")
    };
    assert_eq!(utf8.valid_up_to(), 3);
    assert_eq!(err.to_string(), "string data is not valid UTF-8");
    // Both write the same bytes and read valid UTF-8 the same.
    assert_eq!(
        bytes_of(&StrictStringSerde, "héllo"),
        bytes_of(&StringSerde, "héllo")
    );
    let strict: String = decode(&StrictStringSerde, Some("héllo".as_bytes())).unwrap();
    assert_eq!(strict, "héllo");
    // Null is still null.
    assert_eq!(
        decode::<Option<String>, _>(&StrictStringSerde, None).unwrap(),
        None
    );
}

// ---- round trips ------------------------------------------------------------------------------

fn round_trip<T, S>(serde: &S, v: &T) -> T
where
    S: kcodec_codecs::Serializer<T> + Deserializer<T>,
{
    let bytes = encode(serde, v).unwrap();
    decode(serde, bytes.as_deref()).unwrap()
}

proptest! {
    #[test]
    fn strings_round_trip(v in any::<String>()) { prop_assert_eq!(round_trip(&StringSerde, &v), v); }
    #[test]
    fn strict_strings_round_trip(v in any::<String>()) { prop_assert_eq!(round_trip(&StrictStringSerde, &v), v); }
    /// Any bytes decode, never panic, agree with the strict decoder on valid UTF-8, and stay
    /// within three output bytes per input byte.
    #[test]
    fn any_bytes_decode_like_java(v in proptest::collection::vec(any::<u8>(), 0..64)) {
        let lossy = decode_utf8_like_java(&v);
        prop_assert!(lossy.len() <= 3 * v.len());
        match std::str::from_utf8(&v) {
            Ok(valid) => prop_assert_eq!(lossy.as_str(), valid),
            Err(_) => prop_assert!(lossy.contains(char::REPLACEMENT_CHARACTER), "{:?}", lossy),
        }
    }
    #[test]
    fn bytes_round_trip(v in any::<Vec<u8>>()) { prop_assert_eq!(round_trip(&BytesSerde, &v), v); }
    #[test]
    fn i16_round_trip(v in any::<i16>()) { prop_assert_eq!(round_trip(&I16Serde, &v), v); }
    #[test]
    fn i32_round_trip(v in any::<i32>()) { prop_assert_eq!(round_trip(&I32Serde, &v), v); }
    #[test]
    fn i64_round_trip(v in any::<i64>()) { prop_assert_eq!(round_trip(&I64Serde, &v), v); }
    #[test]
    fn f32_round_trip_bit_exact(v in any::<f32>()) { prop_assert_eq!(round_trip(&F32Serde, &v).to_bits(), v.to_bits()); }
    #[test]
    fn f64_round_trip_bit_exact(v in any::<f64>()) { prop_assert_eq!(round_trip(&F64Serde, &v).to_bits(), v.to_bits()); }
    #[test]
    fn bool_round_trip(v in any::<bool>()) { prop_assert_eq!(round_trip(&BoolSerde, &v), v); }
    #[test]
    fn uuid_round_trip(v in any::<u128>()) {
        let id = uuid::Uuid::from_u128(v);
        prop_assert_eq!(round_trip(&UuidSerde, &id), id);
    }
    #[test]
    fn optional_round_trip(v in any::<Option<i64>>()) { prop_assert_eq!(round_trip(&I64Serde, &v), v); }
    #[test]
    fn int_lists_round_trip(v in proptest::collection::vec(any::<Option<i32>>(), 0..40)) {
        prop_assert_eq!(round_trip(&ListSerde::new(I32Serde), &v), v);
    }
    #[test]
    fn uuid_lists_round_trip(v in proptest::collection::vec(any::<Option<u128>>(), 0..20)) {
        let v: Vec<Option<uuid::Uuid>> = v.into_iter().map(|o| o.map(uuid::Uuid::from_u128)).collect();
        prop_assert_eq!(round_trip(&ListSerde::new(UuidSerde), &v), v);
    }
    #[test]
    fn string_lists_round_trip(v in proptest::collection::vec(any::<Option<String>>(), 0..20)) {
        prop_assert_eq!(round_trip(&ListSerde::new(StringSerde), &v), v);
    }
    #[test]
    fn nested_lists_round_trip(v in proptest::collection::vec(proptest::collection::vec(any::<i64>(), 0..5), 0..8)) {
        prop_assert_eq!(round_trip(&ListSerde::new(ListSerde::variable(I64Serde)), &v), v);
    }
    #[test]
    fn list_decoder_never_panics(data in proptest::collection::vec(any::<u8>(), 0..64)) {
        let _ = decode::<Vec<Option<i32>>, _>(&ListSerde::new(I32Serde), Some(&data));
        let _ = decode::<Vec<Option<String>>, _>(&ListSerde::new(StringSerde), Some(&data));
    }
}

#[test]
fn traits_are_object_safe() {
    let serdes: Vec<Box<dyn kcodec_codecs::Serializer<i32> + Send + Sync>> =
        vec![Box::new(I32Serde), Box::new(kcodec_codecs::json::JsonSerde)];
    let encoded: Vec<Vec<u8>> = serdes.iter().map(|s| bytes_of(&**s, &7)).collect();
    assert_eq!(encoded, [vec![0, 0, 0, 7], b"7".to_vec()]);
    let de: Box<dyn Deserializer<Option<i32>>> = Box::new(I32Serde);
    assert_eq!(
        decode::<Option<i32>, _>(&*de, Some(&[0, 0, 1, 0])).unwrap(),
        Some(256)
    );
}
