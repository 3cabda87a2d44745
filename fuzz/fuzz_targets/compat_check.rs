//! The registry's schema parsers and compatibility checkers on arbitrary schema pairs: the
//! first byte picks the schema type (Avro, JSON Schema, Protobuf) and the level, the rest is the
//! old and the new schema text separated by the first NUL byte. Nothing may panic, overflow the
//! stack or run long (libFuzzer's `-timeout`).

#![no_main]

use kcodec_registry::compat::{Level, compatibility_errors};
use kcodec_registry::{Schema, SchemaType};
use libfuzzer_sys::fuzz_target;

fuzz_target!(|data: &[u8]| {
    let Some((&selector, rest)) = data.split_first() else {
        return;
    };
    let schema_type = match selector % 3 {
        0 => SchemaType::Avro,
        1 => SchemaType::Json,
        _ => SchemaType::Protobuf,
    };
    let level = match (selector / 3) % 4 {
        0 => Level::Backward,
        1 => Level::Forward,
        2 => Level::Full,
        _ => Level::FullTransitive,
    };
    let (old, new) = match rest.iter().position(|b| *b == 0) {
        Some(at) => (&rest[..at], &rest[at + 1..]),
        None => (rest, rest),
    };
    let (Ok(old), Ok(new)) = (std::str::from_utf8(old), std::str::from_utf8(new)) else {
        return;
    };
    let old = Schema::new(schema_type, old);
    let new = Schema::new(schema_type, new);
    let _ = compatibility_errors(&old, &new, level);
});
