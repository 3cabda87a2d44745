//! Records: Rust types that know their Avro schema, their name and, optionally, their key and
//! default topic. `#[derive(Record)]` (crate `kcodec-derive`, re-exported by `kcodec` behind the
//! `derive` feature) implements these traits; they can also be written by hand.
//!
//! The schema is built from the types of the fields ([`AvroType`]) once, on first use, and cached.
//!
//! | Rust | Avro |
//! |---|---|
//! | `bool` | `"boolean"` |
//! | `i8`, `i16`, `i32`, `u8`, `u16` | `"int"` |
//! | `i64`, `u32` | `"long"` |
//! | `f32` / `f64` | `"float"` / `"double"` |
//! | `String`, `char` | `"string"` |
//! | `Option<T>` | `["null", T]`, default `null` |
//! | `Vec<T>`, `[T]` | `{"type": "array", "items": T}` |
//! | `HashMap<String, T>`, `BTreeMap<String, T>` | `{"type": "map", "values": T}` |
//! | `uuid::Uuid` | `{"type": "string", "logicalType": "uuid"}` |
//! | `bytes::Bytes` (serde writes it as bytes) | `"bytes"` |
//! | [`Decimal<P, S>`](Decimal) | `{"type": "bytes", "logicalType": "decimal", "precision": P, "scale": S}` |
//! | a `#[derive(Record)]` struct | its record (defined once, then named) |
//! | a `#[derive(Record)]` enum of unit variants | an Avro enum |
//! | a `#[derive(Record)]` enum of newtype (and at most one unit) variants | an Avro union |
//!
//! Fields of type `Vec<u8>` / `[u8; N]` (or `Option` of them) with
//! `#[serde(with = "kcodec::record::avro_bytes")]` are Avro `bytes` / `fixed` ([`avro_bytes`]);
//! date and time fields with `#[serde(with = "kcodec::record::avro_time::…")]` are Avro logical
//! types ([`avro_time`]). The derive reads those attributes; through this trait alone (a
//! `Vec<u8>` nested in another collection, say) a `Vec<u8>` is an Avro array of ints, as serde
//! writes it.

use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::{Value, json};

pub mod avro_bytes;
pub mod avro_time;
mod decimal;

pub use decimal::Decimal;

/// The runtime of the Avro code `#[derive(Record)]` generates (see [`crate::avro::raw`]).
pub use crate::avro::raw as avro_raw;

/// A type with a named Avro schema.
pub trait Record: AvroType {
    /// The full name, `namespace.Name` (or `Name` without a namespace).
    const FULL_NAME: &'static str;
    /// The topic records of this type go to unless a producer is told otherwise.
    const TOPIC: Option<&'static str> = None;

    /// The schema, built on first use and cached.
    fn avro_schema() -> &'static RecordSchema;
}

/// A record whose key is one of its fields (`#[record(key)]`).
pub trait Keyed: Record {
    /// The key's type.
    type Key: RecordKey;
    /// The key of this record.
    fn key(&self) -> &Self::Key;
}

/// Types that can be a record key: they have a built-in Kafka serializer, named by `Serde`.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be a record key: it has no built-in Kafka serializer",
    label = "this key field's type has no built-in serializer",
    note = "keys can be String, i16, i32, i64, f32, f64, bool, uuid::Uuid, Vec<u8> or bytes::Bytes"
)]
pub trait RecordKey {
    /// The built-in serde that writes this key as the Kafka Java client would.
    type Serde: crate::Serializer<Self> + Default;
}

macro_rules! record_key {
    ($($t:ty => $s:ty),+ $(,)?) => {$(
        impl RecordKey for $t {
            type Serde = $s;
        }
    )+};
}

record_key!(
    String => crate::builtin::StringSerde,
    i16 => crate::builtin::I16Serde,
    i32 => crate::builtin::I32Serde,
    i64 => crate::builtin::I64Serde,
    f32 => crate::builtin::F32Serde,
    f64 => crate::builtin::F64Serde,
    bool => crate::builtin::BoolSerde,
    uuid::Uuid => crate::builtin::UuidSerde,
    Vec<u8> => crate::builtin::BytesSerde,
    bytes::Bytes => crate::builtin::BytesSerde,
);

/// A record's schema: the JSON it was built from and the parsed Avro schema.
#[derive(Debug)]
pub struct RecordSchema {
    json: String,
    schema: apache_avro::Schema,
}

impl RecordSchema {
    /// The schema as JSON text, as it is registered.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The parsed schema.
    pub fn schema(&self) -> &apache_avro::Schema {
        &self.schema
    }

    /// Builds and parses the schema of `T`. A derived record calls this once, from a `OnceLock`.
    ///
    /// # Panics
    /// If the generated schema does not parse, which is a bug in a hand-written [`AvroType`] impl
    /// (the derive's output always parses): a schema is a program constant, not input.
    pub fn build<T: AvroType + ?Sized>() -> Self {
        let value = T::avro_schema_in(&mut Names::default());
        let json = value.to_string();
        let schema = apache_avro::Schema::parse_str(&json)
            .unwrap_or_else(|e| panic!("generated Avro schema {json} does not parse: {e}"));
        RecordSchema { json, schema }
    }
}

/// The named types already defined while one schema is built: the first use of a record or enum
/// writes its definition, later uses write its name, as Avro requires.
#[derive(Debug, Default)]
pub struct Names {
    defined: HashSet<&'static str>,
    unions: HashSet<&'static str>,
}

impl Names {
    /// Marks `full_name` as defined; `true` if it was not yet.
    pub fn define(&mut self, full_name: &'static str) -> bool {
        self.defined.insert(full_name)
    }

    /// Starts writing the union of the Rust enum `name` (unions have no Avro name, so they are
    /// written out at each use).
    ///
    /// # Panics
    /// If that union is already being written: it contains itself with no named record in
    /// between, which no Avro schema can express (the derive refuses the direct case at compile
    /// time; this catches the indirect one instead of recursing without end).
    pub fn begin_union(&mut self, name: &'static str) {
        assert!(
            self.unions.insert(name),
            "the Avro union of `{name}` contains itself with no named record in between"
        );
    }

    /// Ends [`begin_union`](Self::begin_union).
    pub fn end_union(&mut self, name: &'static str) {
        self.unions.remove(name);
    }
}

/// A Rust type's Avro schema, as JSON.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Avro schema",
    label = "kcodec can't map this field's type to Avro",
    note = "derive Record for it, or give the field an explicit schema: #[record(schema = \"...\")]",
    note = "dates and times need #[serde(with = \"kcodec::record::avro_time::...\")] (kcodec features `chrono`, `time`)"
)]
pub trait AvroType {
    /// What this type's schema is at its top, as Avro tells union branches apart: a named
    /// type's full name, else its type (`"int"`, `"string"`, `"array"`, `"union"`…). Empty when
    /// unknown (the default), which no check compares. `#[derive(Record)]` compares these at
    /// compile time to refuse what Avro can't express (two branches of one type, a union in a
    /// union).
    const AVRO_BRANCH: &'static str = "";

    /// Whether [`avro_encode_raw`](Self::avro_encode_raw) and
    /// [`avro_decode_raw`](Self::avro_decode_raw) are real for this type and every type in it:
    /// straight-line Avro code for this type's own schema, which `#[derive(Record)]` generates
    /// (and kcodec implements for the built-in types above). `false` by default: the codecs then
    /// go through the compiled schema plan, as they do for any other writer schema. Types
    /// already in `seen` (a recursive type, met again) answer `true`; ask with
    /// [`avro_raw::supported`].
    fn avro_raw_in(seen: &mut avro_raw::Seen) -> bool {
        let _ = seen;
        false
    }

    /// Writes `self` as Avro binary of [`avro_schema_in`](Self::avro_schema_in)'s schema. Only
    /// called when [`avro_raw_in`](Self::avro_raw_in) says so; the default fails.
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        let _ = w;
        Err(avro_raw::unsupported(std::any::type_name::<Self>()))
    }

    /// Reads a value written with this type's own schema. Only called when
    /// [`avro_raw_in`](Self::avro_raw_in) says so; the default fails.
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError>
    where
        Self: Sized,
    {
        let _ = r;
        Err(avro_raw::unsupported(std::any::type_name::<Self>()))
    }

    /// The schema of this type; named types already in `names` are referred to by name.
    fn avro_schema_in(names: &mut Names) -> Value;
}

/// Whether two [`AvroType::AVRO_BRANCH`]es are the same union branch (never for an unknown,
/// empty one): what `#[derive(Record)]`'s compile-time checks call.
#[doc(hidden)]
pub const fn __same_branch(a: &str, b: &str) -> bool {
    let (a, b) = (a.as_bytes(), b.as_bytes());
    if a.is_empty() || a.len() != b.len() {
        return false;
    }
    let mut i = 0;
    while i < a.len() {
        if a[i] != b[i] {
            return false;
        }
        i += 1;
    }
    true
}

/// Caches a record's schema: `static CELL: SchemaCell = SchemaCell::new();` then
/// `CELL.get::<Self>()`.
#[derive(Debug)]
pub struct SchemaCell(OnceLock<RecordSchema>);

impl SchemaCell {
    /// An empty cell.
    pub const fn new() -> Self {
        SchemaCell(OnceLock::new())
    }

    /// The schema of `T`, built on the first call.
    pub fn get<T: AvroType + ?Sized>(&'static self) -> &'static RecordSchema {
        self.0.get_or_init(RecordSchema::build::<T>)
    }
}

impl Default for SchemaCell {
    fn default() -> Self {
        Self::new()
    }
}

macro_rules! primitive {
    ($($t:ty => $name:literal, |$w:ident, $v:ident| $enc:expr, |$r:ident| $dec:expr;)+) => {$(
        impl AvroType for $t {
            const AVRO_BRANCH: &'static str = $name;
            fn avro_raw_in(_: &mut avro_raw::Seen) -> bool {
                true
            }

            #[inline]
            fn avro_encode_raw(&self, $w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
                let $v = self;
                $enc;
                Ok(())
            }

            #[inline]
            fn avro_decode_raw($r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
                $dec
            }

            fn avro_schema_in(_: &mut Names) -> Value {
                Value::String($name.to_owned())
            }
        }
    )+};
}

primitive!(
    bool => "boolean", |w, v| w.boolean(*v), |r| r.boolean();
    i8 => "int", |w, v| w.long((*v).into()), |r| r.int_as("i8");
    i16 => "int", |w, v| w.long((*v).into()), |r| r.int_as("i16");
    i32 => "int", |w, v| w.long((*v).into()), |r| r.int();
    u8 => "int", |w, v| w.long((*v).into()), |r| r.int_as("u8");
    u16 => "int", |w, v| w.long((*v).into()), |r| r.int_as("u16");
    i64 => "long", |w, v| w.long(*v), |r| r.long();
    u32 => "long", |w, v| w.long((*v).into()), |r| r.long_as("u32");
    f32 => "float", |w, v| w.float(*v), |r| r.float();
    f64 => "double", |w, v| w.double(*v), |r| r.double();
    String => "string", |w, v| w.str(v), |r| r.str().map(str::to_owned);
    char => "string", |w, v| w.str(v.encode_utf8(&mut [0; 4])), |r| read_char(r);
    Box<str> => "string", |w, v| w.str(v), |r| r.str().map(Box::from);
    bytes::Bytes => "bytes", |w, v| w.bytes(v), |r| r.bytes().map(bytes::Bytes::copy_from_slice);
);

impl AvroType for () {
    const AVRO_BRANCH: &'static str = "null";

    fn avro_raw_in(_: &mut avro_raw::Seen) -> bool {
        true
    }

    #[inline]
    fn avro_encode_raw(&self, _: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        Ok(())
    }

    #[inline]
    fn avro_decode_raw(_: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        Ok(())
    }

    fn avro_schema_in(_: &mut Names) -> Value {
        Value::String("null".to_owned())
    }
}

impl AvroType for str {
    const AVRO_BRANCH: &'static str = "string";

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        w.str(self);
        Ok(())
    }

    fn avro_schema_in(_: &mut Names) -> Value {
        Value::String("string".to_owned())
    }
}

/// A `char`: a string of exactly one character.
fn read_char(r: &mut avro_raw::Reader<'_>) -> Result<char, avro_raw::AvroError> {
    let at = r.position();
    let s = r.str()?;
    let mut chars = s.chars();
    match (chars.next(), chars.next()) {
        (Some(c), None) => Ok(c),
        _ => Err(r.mismatch(
            at,
            format!("a char needs a string of one character, not {s:?}"),
        )),
    }
}

impl<T: AvroType> AvroType for Option<T> {
    const AVRO_BRANCH: &'static str = "union";

    fn avro_raw_in(seen: &mut avro_raw::Seen) -> bool {
        T::avro_raw_in(seen)
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        match self {
            None => {
                w.long(0);
                Ok(())
            }
            Some(v) => {
                w.long(1);
                v.avro_encode_raw(w)
            }
        }
    }

    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        match r.branch(2)? {
            0 => Ok(None),
            _ => T::avro_decode_raw(r).map(Some),
        }
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        json!(["null", T::avro_schema_in(names)])
    }
}

impl<T: AvroType> AvroType for Vec<T> {
    const AVRO_BRANCH: &'static str = "array";

    fn avro_raw_in(seen: &mut avro_raw::Seen) -> bool {
        T::avro_raw_in(seen)
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        avro_raw::write_array(w, self.iter(), |w, v| v.avro_encode_raw(w))
    }

    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        avro_raw::array(r, T::avro_decode_raw)
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "array", "items": T::avro_schema_in(names)})
    }
}

impl<T: AvroType> AvroType for [T] {
    const AVRO_BRANCH: &'static str = "array";

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        avro_raw::write_array(w, self.iter(), |w, v| v.avro_encode_raw(w))
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "array", "items": T::avro_schema_in(names)})
    }
}

impl<T: AvroType> AvroType for Box<T> {
    const AVRO_BRANCH: &'static str = T::AVRO_BRANCH;

    fn avro_raw_in(seen: &mut avro_raw::Seen) -> bool {
        T::avro_raw_in(seen)
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        (**self).avro_encode_raw(w)
    }

    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        T::avro_decode_raw(r).map(Box::new)
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        T::avro_schema_in(names)
    }
}

impl<T: AvroType> AvroType for Box<[T]> {
    const AVRO_BRANCH: &'static str = "array";

    fn avro_raw_in(seen: &mut avro_raw::Seen) -> bool {
        T::avro_raw_in(seen)
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        (**self).avro_encode_raw(w)
    }

    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        Vec::<T>::avro_decode_raw(r).map(Vec::into_boxed_slice)
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        <[T]>::avro_schema_in(names)
    }
}

/// Writes a map's entries as one block (what the plan's typed encoder writes for a map of known
/// length), then the 0 count.
#[inline]
fn write_map<'i, T: AvroType + 'i>(
    w: &mut avro_raw::Writer<'_>,
    entries: impl ExactSizeIterator<Item = (&'i String, &'i T)>,
) -> Result<(), avro_raw::AvroError> {
    w.enter()?;
    if entries.len() > 0 {
        w.long(entries.len() as i64);
        for (k, v) in entries {
            w.str(k);
            v.avro_encode_raw(w)?;
        }
    }
    w.long(0);
    w.leave();
    Ok(())
}

/// Reads a map's blocks into `map` (`reserve` is told how many entries may be reserved: at most
/// the bytes that remain).
#[inline]
fn read_map<T: AvroType, M: Extend<(String, T)>>(
    r: &mut avro_raw::Reader<'_>,
    map: &mut M,
    reserve: fn(&mut M, usize),
) -> Result<(), avro_raw::AvroError> {
    r.enter()?;
    loop {
        let n = r.block()?;
        if n == 0 {
            break;
        }
        reserve(map, n.min(r.remaining()));
        for _ in 0..n {
            // A key takes at least its length byte: no entry is zero-width.
            let key = r.str()?.to_owned();
            let value = T::avro_decode_raw(r)?;
            map.extend(Some((key, value)));
        }
    }
    r.leave();
    Ok(())
}

impl<T: AvroType, S: std::hash::BuildHasher + Default> AvroType for HashMap<String, T, S> {
    const AVRO_BRANCH: &'static str = "map";

    fn avro_raw_in(seen: &mut avro_raw::Seen) -> bool {
        T::avro_raw_in(seen)
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        write_map(w, self.iter())
    }

    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        let mut map = HashMap::default();
        read_map(r, &mut map, |m: &mut Self, n| m.reserve(n))?;
        Ok(map)
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "map", "values": T::avro_schema_in(names)})
    }
}

impl<T: AvroType> AvroType for BTreeMap<String, T> {
    const AVRO_BRANCH: &'static str = "map";

    fn avro_raw_in(seen: &mut avro_raw::Seen) -> bool {
        T::avro_raw_in(seen)
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        write_map(w, self.iter())
    }

    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        let mut map = BTreeMap::new();
        read_map(r, &mut map, |_, _| {})?;
        Ok(map)
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "map", "values": T::avro_schema_in(names)})
    }
}

impl AvroType for uuid::Uuid {
    const AVRO_BRANCH: &'static str = "string";

    fn avro_raw_in(_: &mut avro_raw::Seen) -> bool {
        true
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        // serde's human-readable form, which the plan's encoder writes too.
        w.str(
            self.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer()),
        );
        Ok(())
    }

    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        let at = r.position();
        let s = r.str()?;
        uuid::Uuid::parse_str(s).map_err(|e| r.mismatch(at, format!("{s:?} is not a UUID: {e}")))
    }

    fn avro_schema_in(_: &mut Names) -> Value {
        json!({"type": "string", "logicalType": "uuid"})
    }
}
