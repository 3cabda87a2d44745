//! Records: Rust types that know their Avro schema, their name and, optionally, their key and
//! default topic. `#[derive(Record)]` (crate `kcodec-derive`, re-exported by `kcodec` behind the
//! `derive` feature) implements these traits; they can also be written by hand.
//!
//! The schema is built from the types of the fields ([`AvroType`]) once, on first use, and cached.
//! Values are read back by [`AvroDecode<'de>`](AvroDecode), which may borrow from the input
//! (`&'de str`, `Cow<'de, str>`, derived records with lifetimes).
//!
//! | Rust | Avro |
//! |---|---|
//! | `bool` | `"boolean"` |
//! | `i8`, `i16`, `i32`, `u8`, `u16` | `"int"` |
//! | `i64`, `u32` | `"long"` |
//! | `f32` / `f64` | `"float"` / `"double"` |
//! | `String`, `char`, `&str`, `Cow<str>` | `"string"` |
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

use std::borrow::Cow;
use std::collections::{BTreeMap, HashMap, HashSet};
use std::sync::OnceLock;

use serde_json::{Value, json};

use crate::avro::{AvroError, ParsedSchema};

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
    ///
    /// # Panics
    /// If the [`AvroType`] impls give an invalid schema (a hand-written impl's bug; the
    /// derive's output is valid): [`try_avro_schema`](Self::try_avro_schema) says why instead.
    fn avro_schema() -> &'static RecordSchema;

    /// The schema, built on first use and cached, or why it is invalid: what `for_record` calls.
    /// The derive implements it with [`SchemaCell::try_get`]; the default calls
    /// [`avro_schema`](Self::avro_schema).
    fn try_avro_schema() -> Result<&'static RecordSchema, AvroError> {
        Ok(Self::avro_schema())
    }
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

/// A record's schema: the JSON it was built from, parsed (and compiled).
#[derive(Debug)]
pub struct RecordSchema {
    json: String,
    parsed: ParsedSchema,
    raw: bool,
}

impl RecordSchema {
    /// The schema as JSON text, as it is registered.
    pub fn json(&self) -> &str {
        &self.json
    }

    /// The parsed schema.
    pub fn schema(&self) -> &apache_avro::Schema {
        self.parsed.schema()
    }

    /// The parsed schema, compiled: what the Avro serializers and deserializers take.
    pub fn parsed(&self) -> &ParsedSchema {
        &self.parsed
    }

    /// Whether the type has generated Avro code ([`avro_raw::supported`]), checked once.
    pub fn has_raw(&self) -> bool {
        self.raw
    }

    /// Builds and parses the schema of `T`.
    ///
    /// # Panics
    /// If the schema is invalid ([`try_build`](Self::try_build) fails), which is a bug in a
    /// hand-written [`AvroType`] impl (the derive's output is valid).
    pub fn build<T: AvroType + ?Sized>() -> Self {
        Self::try_build::<T>().unwrap_or_else(|e| panic!("{e}"))
    }

    /// Builds and parses the schema of `T`: an error, never a panic, when `T`'s [`AvroType`]
    /// impls give an invalid schema. A derived record calls this once, through its
    /// [`SchemaCell`].
    pub fn try_build<T: AvroType + ?Sized>() -> Result<Self, AvroError> {
        let rust_type = std::any::type_name::<T>();
        let mut names = Names::default();
        let value = T::avro_schema_in(&mut names);
        if let Some(problem) = names.problem {
            return Err(AvroError::RecordSchema {
                rust_type,
                problem,
                source: None,
            });
        }
        let json = value.to_string();
        let parsed = ParsedSchema::parse(&json).map_err(|e| AvroError::RecordSchema {
            rust_type,
            problem: format!("{json} does not parse"),
            source: Some(Box::new(e)),
        })?;
        Ok(RecordSchema {
            json,
            parsed,
            raw: avro_raw::supported::<T>(),
        })
    }
}

/// The named types already defined while one schema is built: the first use of a record or enum
/// writes its definition, later uses write its name, as Avro requires.
#[derive(Debug, Default)]
pub struct Names {
    defined: HashSet<&'static str>,
    unions: HashSet<&'static str>,
    /// The first reason the schema can't be built, if any.
    problem: Option<String>,
}

impl Names {
    /// Marks `full_name` as defined; `true` if it was not yet.
    pub fn define(&mut self, full_name: &'static str) -> bool {
        self.defined.insert(full_name)
    }

    /// Starts writing the union of the Rust enum `name` (unions have no Avro name, so they are
    /// written out at each use). `false`, with the schema marked invalid, if that union is
    /// already being written: it contains itself with no named record in between, which no Avro
    /// schema can express (the derive refuses the direct case at compile time; this catches the
    /// indirect one instead of recursing without end). The caller then writes no branches.
    pub fn begin_union(&mut self, name: &'static str) -> bool {
        let first = self.unions.insert(name);
        if !first {
            self.fail(format!(
                "the Avro union of `{name}` contains itself with no named record in between"
            ));
        }
        first
    }

    /// Ends [`begin_union`](Self::begin_union).
    pub fn end_union(&mut self, name: &'static str) {
        self.unions.remove(name);
    }

    /// Marks the schema being built as invalid, for `problem` (the first one is kept): building
    /// it then fails with [`AvroError::RecordSchema`].
    pub fn fail(&mut self, problem: String) {
        self.problem.get_or_insert(problem);
    }

    /// A field's default value as JSON, or `null` with the schema marked invalid if it does not
    /// serialize to JSON.
    pub fn default_value(&mut self, field: &str, value: Result<Value, serde_json::Error>) -> Value {
        value.unwrap_or_else(|e| {
            self.fail(format!(
                "the default of field `{field}` does not serialize to JSON: {e}"
            ));
            Value::Null
        })
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
    /// [`AvroDecode::avro_decode_raw`] are real for this type and every type in it:
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

    /// The schema of this type; named types already in `names` are referred to by name.
    fn avro_schema_in(names: &mut Names) -> Value;
}

/// Reading a value of an [`AvroType`] from Avro binary of its own schema with straight-line code
/// (what `#[derive(Record)]` generates), as serde's `Deserialize<'de>`: `'de` is the lifetime of
/// the input, which the value may borrow from (`&'de str`, `Cow<'de, str>`, a derived record
/// with lifetimes); [`AvroDecodeOwned`] types borrow nothing.
///
/// A hand-written [`AvroType`] without generated code implements it empty
/// (`impl<'de> AvroDecode<'de> for MyType {}`): its default fails, and
/// [`AvroType::avro_raw_in`]'s default `false` keeps records holding it on the compiled plan.
#[diagnostic::on_unimplemented(
    message = "`{Self}` has no Avro decode (`AvroDecode`)",
    label = "kcodec can't read this field's type with generated code",
    note = "derive Record for it; for a hand-written AvroType impl, add `impl<'de> AvroDecode<'de> for {Self} {{}}` (it then keeps to the compiled plan)"
)]
pub trait AvroDecode<'de>: AvroType + Sized {
    /// Reads a value written with this type's own schema. Only called when
    /// [`AvroType::avro_raw_in`] says so; the default fails.
    fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
        let _ = r;
        Err(avro_raw::unsupported(std::any::type_name::<Self>()))
    }
}

/// An [`AvroDecode`] type that borrows nothing from its input (serde's `DeserializeOwned`).
pub trait AvroDecodeOwned: for<'de> AvroDecode<'de> {}

impl<T: for<'de> AvroDecode<'de>> AvroDecodeOwned for T {}

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
/// `CELL.get::<Self>()` (or [`try_get`](Self::try_get)).
#[derive(Debug)]
pub struct SchemaCell(OnceLock<RecordSchema>);

impl SchemaCell {
    /// An empty cell.
    pub const fn new() -> Self {
        SchemaCell(OnceLock::new())
    }

    /// The schema of `T`, built on the first call.
    ///
    /// # Panics
    /// If the schema is invalid (see [`RecordSchema::build`]).
    pub fn get<T: AvroType + ?Sized>(&'static self) -> &'static RecordSchema {
        self.try_get::<T>().unwrap_or_else(|e| panic!("{e}"))
    }

    /// The schema of `T`, built on the first call, or why it is invalid.
    pub fn try_get<T: AvroType + ?Sized>(
        &'static self,
    ) -> Result<&'static RecordSchema, AvroError> {
        if let Some(schema) = self.0.get() {
            return Ok(schema);
        }
        // An invalid schema is not cached: building it again gives the error again.
        let schema = RecordSchema::try_build::<T>()?;
        Ok(self.0.get_or_init(|| schema))
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

            fn avro_schema_in(_: &mut Names) -> Value {
                Value::String($name.to_owned())
            }
        }

        impl<'de> AvroDecode<'de> for $t {
            #[inline]
            fn avro_decode_raw($r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
                $dec
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
    bytes::Bytes => "bytes", |w, v| w.bytes(v), |r| r.shared_bytes();
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

    fn avro_schema_in(_: &mut Names) -> Value {
        Value::String("null".to_owned())
    }
}

impl AvroDecode<'_> for () {
    #[inline]
    fn avro_decode_raw(_: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        Ok(())
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

/// `&str` and `Cow<str>`: strings the generated decoder borrows from the input (a frame),
/// allocating nothing.
macro_rules! borrowed_str {
    ($($t:ident),+) => {$(
        impl AvroType for $t<'_> {
            const AVRO_BRANCH: &'static str = "string";

            fn avro_raw_in(_: &mut avro_raw::Seen) -> bool {
                true
            }

            #[inline]
            fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
                w.str(self);
                Ok(())
            }

            fn avro_schema_in(_: &mut Names) -> Value {
                Value::String("string".to_owned())
            }
        }

        impl<'de: 'a, 'a> AvroDecode<'de> for $t<'a> {
            #[inline]
            fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
                r.str().map(Into::into)
            }
        }
    )+};
}

/// `&'a str` as a path with one lifetime, for `borrowed_str!`.
type StrRef<'a> = &'a str;
/// `Cow<'a, str>`, for `borrowed_str!`.
type CowStr<'a> = Cow<'a, str>;

borrowed_str!(StrRef, CowStr);

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
        avro_raw::write_option(w, self, T::avro_encode_raw)
    }

    fn avro_schema_in(names: &mut Names) -> Value {
        json!(["null", T::avro_schema_in(names)])
    }
}

impl<'de, T: AvroDecode<'de>> AvroDecode<'de> for Option<T> {
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
        avro_raw::option(r, T::avro_decode_raw)
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

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "array", "items": T::avro_schema_in(names)})
    }
}

impl<'de, T: AvroDecode<'de>> AvroDecode<'de> for Vec<T> {
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
        avro_raw::array(r, T::avro_decode_raw)
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

    fn avro_schema_in(names: &mut Names) -> Value {
        T::avro_schema_in(names)
    }
}

impl<'de, T: AvroDecode<'de>> AvroDecode<'de> for Box<T> {
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
        T::avro_decode_raw(r).map(Box::new)
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

    fn avro_schema_in(names: &mut Names) -> Value {
        <[T]>::avro_schema_in(names)
    }
}

impl<'de, T: AvroDecode<'de>> AvroDecode<'de> for Box<[T]> {
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
        Vec::<T>::avro_decode_raw(r).map(Vec::into_boxed_slice)
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
fn read_map<'de, T: AvroDecode<'de>, M: Extend<(String, T)>>(
    r: &mut avro_raw::Reader<'de>,
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

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "map", "values": T::avro_schema_in(names)})
    }
}

impl<'de, T: AvroDecode<'de>, S: std::hash::BuildHasher + Default> AvroDecode<'de>
    for HashMap<String, T, S>
{
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
        let mut map = HashMap::default();
        read_map(r, &mut map, |m: &mut Self, n| m.reserve(n))?;
        Ok(map)
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

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "map", "values": T::avro_schema_in(names)})
    }
}

impl<'de, T: AvroDecode<'de>> AvroDecode<'de> for BTreeMap<String, T> {
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'de>) -> Result<Self, avro_raw::AvroError> {
        let mut map = BTreeMap::new();
        read_map(r, &mut map, |_, _| {})?;
        Ok(map)
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

    fn avro_schema_in(_: &mut Names) -> Value {
        json!({"type": "string", "logicalType": "uuid"})
    }
}

impl AvroDecode<'_> for uuid::Uuid {
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        let at = r.position();
        let s = r.str()?;
        uuid::Uuid::parse_str(s).map_err(|e| r.mismatch(at, format!("{s:?} is not a UUID: {e}")))
    }
}
