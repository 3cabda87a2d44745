//! Fuzzes Java's List layouts with fixed-size and variable-size element serdes.
#![no_main]

use kcodec_codecs::builtin::{BytesSerde, I32Serde, I64Serde, ListSerde, StringSerde, UuidSerde};
use kcodec_codecs::testing::{decode, encode};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    // Whatever decodes must encode back to the same bytes: the layouts are canonical for
    // null-index lists in ascending order, so compare only after a re-decode.
    if let Ok(v) = decode::<Vec<Option<i32>>, _>(&ListSerde::new(I32Serde), Some(data)) {
        let again = encode(&ListSerde::new(I32Serde), &v).unwrap().unwrap();
        let v2: Vec<Option<i32>> = decode(&ListSerde::new(I32Serde), Some(&again)).unwrap();
        assert_eq!(v, v2);
    }
    let _ = decode::<Vec<Option<i64>>, _>(&ListSerde::new(I64Serde), Some(data));
    let _ = decode::<Vec<Option<uuid::Uuid>>, _>(&ListSerde::new(UuidSerde), Some(data));
    if let Ok(v) = decode::<Vec<Option<String>>, _>(&ListSerde::new(StringSerde), Some(data)) {
        let again = encode(&ListSerde::new(StringSerde), &v).unwrap().unwrap();
        let v2: Vec<Option<String>> = decode(&ListSerde::new(StringSerde), Some(&again)).unwrap();
        assert_eq!(v, v2);
        // Java's `StringDeserializer` (`new String(bytes, UTF_8)`) replaces malformed UTF-8 with
        // U+FFFD, so only lists of well-formed strings re-encode to the same bytes.
        if !v.iter().flatten().any(|s| s.contains('\u{FFFD}')) {
            assert_eq!(&again[..], data, "variable-size layout is canonical");
        }
    }
    let _ = decode::<Vec<Vec<u8>>, _>(&ListSerde::new(BytesSerde), Some(data));
    let _ = decode::<Vec<Vec<i32>>, _>(&ListSerde::new(ListSerde::new(I32Serde)), Some(data));
});
