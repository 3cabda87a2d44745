//! Fuzzes the Confluent wire-format readers: prefix, message indexes, and the schema-id header.
#![no_main]

use kcodec_codecs::{Headers, Target, wire};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let _ = wire::read_prefixed(data, true);
    let _ = wire::read_prefixed(data, false);
    // Split the input into a header value and a payload at a point chosen by the first byte.
    if let Some((&split, rest)) = data.split_first() {
        let at = usize::from(split).min(rest.len());
        let (header, payload) = rest.split_at(at);
        let mut headers = Headers::new();
        headers.add(wire::VALUE_SCHEMA_ID_HEADER, header.to_vec());
        if let Ok(framed) = wire::read(payload, &headers, Target::Value, true) {
            assert_eq!(framed.payload, payload);
        }
    }
});
