//! `#[derive(Record)]`: gives a struct (or an enum) its Avro schema, its full name, and
//! optionally its key field and default topic, by implementing the traits of
//! `kcodec::record`. Use it through the `kcodec` facade (feature `derive`).
//!
//! The schema is the one serde's encoding of the type matches, so values round-trip through
//! kcodec's Avro codec (and read as Confluent's and Java's serializers write them).
//!
//! # Generated Avro code
//!
//! Besides the schema, the derive writes straight-line Avro encode and decode functions for the
//! type's own schema (`AvroType::avro_encode_raw` and `AvroDecode::avro_decode_raw`, running on
//! `kcodec::record::avro_raw`): prost's `encode_raw` shape, one function per type, fields in
//! order, no visitor. `AvroSerializer::for_record` and `AvroDeserializer::for_record` use them
//! whenever a frame's writer schema is the record's own (references included); any other writer
//! schema goes through the compiled plan, with resolution. A record with a field that serde
//! writes through a `with` module (other than `avro_bytes`/`serde_bytes` on the byte types
//! below), a `#[record(schema)]`, or a skipped field (and an enum with a skipped variant) gets
//! none: serde's form of such a field is not its type's, so those records always take the plan
//! (`kcodec::record::avro_raw::supported` tells).
//!
//! # Borrowed records
//!
//! A record may have lifetime parameters (not type or const parameters: an Avro record has one
//! schema) and borrow from the frame it is decoded from: `&'a str` and `Cow<'a, str>` fields
//! (`"string"`), `&'a [u8]` and `Cow<'a, [u8]>` fields with `#[serde(with = "serde_bytes")]`
//! (`"bytes"`), and any of them inside `Option`, `Vec`, maps' values, other borrowed records
//! and unions. The generated decode (`AvroDecode<'de>`, `'de` the frame's lifetime) points into
//! the frame: `AvroDeserializer::deserialize_record` decodes such a record with no allocation
//! (besides its `Vec`s) when the frame's writer schema is the record's own; another writer
//! schema needs resolution, which only owned records get (`for_record`), and is an error.
//! `bytes::Bytes` fields of an owned record are slices of the frame (no copy) when the frame is
//! a `Bytes` (`Deserializer::deserialize_bytes`, what the typed consumers call).
//!
//! # Type mapping
//!
//! | Rust field type | Avro schema |
//! |---|---|
//! | `bool` | `"boolean"` |
//! | `i8`, `i16`, `i32`, `u8`, `u16` | `"int"` |
//! | `i64`, `u32` | `"long"` |
//! | `f32` / `f64` | `"float"` / `"double"` |
//! | `String`, `char`, `&'a str`, `Cow<'a, str>` | `"string"` |
//! | `()` | `"null"` |
//! | `Option<T>` | `["null", T]`, default `null` |
//! | `Vec<T>`, `Box<[T]>` | `{"type": "array", "items": T}` |
//! | `HashMap<String, T>`, `BTreeMap<String, T>` | `{"type": "map", "values": T}` |
//! | `Box<T>` | `T` |
//! | `uuid::Uuid` | `{"type": "string", "logicalType": "uuid"}` |
//! | `bytes::Bytes` | `"bytes"` |
//! | `kcodec::record::Decimal<P, S>` | `{"type": "bytes", "logicalType": "decimal", "precision": P, "scale": S}` |
//! | `Vec<u8>`, `Box<[u8]>`, `bytes::Bytes` with `#[serde(with = "kcodec::record::avro_bytes")]` | `"bytes"` |
//! | `&'a [u8]`, `Cow<'a, [u8]>` (and the above) with `#[serde(with = "serde_bytes")]` | `"bytes"` |
//! | `[u8; N]` with `#[serde(with = "kcodec::record::avro_bytes")]` | `{"type": "fixed", "name": …, "size": N}` |
//! | a timestamp with `#[serde(with = "kcodec::record::avro_time::timestamp_millis")]` (or `_micros`) | `{"type": "long", "logicalType": "timestamp-millis"}` (or `-micros`) |
//! | a local date-time with `avro_time::local_timestamp_millis` (or `_micros`) | `{"type": "long", "logicalType": "local-timestamp-millis"}` (or `-micros`) |
//! | a date with `avro_time::date` | `{"type": "int", "logicalType": "date"}` |
//! | a time of day with `avro_time::time_millis` / `time_micros` | `{"type": "int", "logicalType": "time-millis"}` / `{"type": "long", "logicalType": "time-micros"}` |
//! | `DateTime<Utc>` with `chrono::serde::ts_milliseconds` / `ts_microseconds` (`_option`) | `timestamp-millis` / `timestamp-micros` |
//! | a `#[derive(Record)]` struct | its record (defined at first use, then named) |
//! | a `#[derive(Record)]` enum of unit variants | an Avro enum |
//! | a `#[derive(Record)]` enum of newtype variants and at most one unit variant | an Avro union: one branch per variant, in order (`"null"` for the unit variant) |
//! | anything else implementing `kcodec::record::AvroType` | its schema |
//! | any field with `#[record(schema = "<JSON>")]` | that schema |
//!
//! An `Option` of the bytes, fixed and date/time fields above is `["null", …]` with default
//! `null`; the same `with` module handles the `Option`.
//!
//! ## Bytes and fixed
//!
//! serde writes `Vec<u8>` as a sequence of ints and `[u8; N]` as a tuple, which Avro `bytes` and
//! `fixed` can't hold, so a `Vec<u8>`, `Box<[u8]>` or `[u8; N]` field needs
//! `#[serde(with = "kcodec::record::avro_bytes")]` (the `serde_bytes` crate's
//! `#[serde(with = "serde_bytes")]` is recognised as well, and is what a borrowed `&'a [u8]` or
//! `Cow<'a, [u8]>` needs, serde's own form of those being a sequence of ints too) — or an explicit
//! `#[record(schema = …)]`; without either it is a compile error rather than a silent array of
//! ints. (Nested in another collection, where no `with` applies, `Vec<u8>` stays an array of
//! ints, as serde writes it.)
//!
//! An Avro `fixed` is a named type. Its name is `#[record(fixed_name = "Name")]` if given (a
//! full name `ns.Name` is allowed), else the record's name followed by the field's name in
//! PascalCase — field `sha256` of record `Attachment` gives `AttachmentSha256` — in the record's
//! namespace. The default is deterministic, so two versions of a record agree on it (Avro
//! resolves a fixed by name); name it explicitly when two fields should share one fixed type
//! (give one the schema by name with `#[record(schema = "\"ns.Name\"")]`).
//!
//! ## Dates and times
//!
//! serde's default forms of `chrono`, `time` and `std::time::SystemTime` values are strings or
//! structs, not the `long`/`int` an Avro logical type stores. A field of such a type needs one of
//! the `kcodec::record::avro_time` modules in `#[serde(with = …)]` (kcodec features `chrono` /
//! `time` for those crates' types); the derive takes the logical type from the module's name.
//! A `DateTime`, `NaiveDate`, `NaiveTime`, `NaiveDateTime`, `OffsetDateTime`,
//! `PrimitiveDateTime`, `SystemTime` (or `chrono::…`/`time::…` `Date`/`Time`) field without one
//! is a compile error.
//!
//! ## Enums with data
//!
//! An enum with newtype variants is an Avro union of its variants' types, in declaration order,
//! which is exactly how kcodec's Avro codec writes serde's externally tagged variants (branch
//! index = variant index): several record types on one topic, or a field that holds one of
//! several records. One unit variant may stand for `"null"`. Struct and tuple variants, two
//! variants of the same type, an `Option` payload (a union in a union), skipped variants, and a
//! variant holding the enum itself are compile errors: Avro unions can't express them. A union
//! has no Avro name: the enum's `FULL_NAME` is `namespace.RustName`, used only by subject
//! naming. An `Option` of such an enum would be a union in a union: add a unit variant instead.
//!
//! # Attributes
//!
//! Container attributes: `#[record(namespace = "shop.v1", name = "Order", topic = "orders",
//! crate = "::kcodec")]`. Field attributes: `#[record(key)]`, `#[record(default = "<JSON>")]`,
//! `#[record(schema = "<JSON>")]`, `#[record(fixed_name = "Name")]`. Doc comments become Avro
//! `doc`. serde's `rename`, `rename_all`, `alias`, `skip`, `skip_serializing`,
//! `skip_deserializing`, `default` and the `with` modules above are honoured so the schema
//! matches what serde writes (a `#[serde(default)]` on a bytes or date/time field becomes the
//! Avro default in Avro's JSON form); serde attributes that change the shape in ways Avro
//! records can't express (`flatten`, `tag`, `untagged`, `skip_serializing_if`, other `with`
//! modules without `#[record(schema)]`, …) are compile errors.

#![warn(missing_docs)]

mod attrs;
mod expand;

use proc_macro::TokenStream;

/// Implements `Record` (and `Keyed` when a field has `#[record(key)]`) for a struct with named
/// fields, an enum of unit variants (an Avro enum) or an enum of newtype variants (an Avro
/// union). See the crate documentation for the type mapping and the attributes.
#[proc_macro_derive(Record, attributes(record))]
pub fn derive_record(input: TokenStream) -> TokenStream {
    let input = syn::parse_macro_input!(input as syn::DeriveInput);
    expand::expand(&input)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
