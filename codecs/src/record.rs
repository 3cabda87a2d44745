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
    ($($t:ty => $name:literal),+ $(,)?) => {$(
        impl AvroType for $t {
            const AVRO_BRANCH: &'static str = $name;

            fn avro_schema_in(_: &mut Names) -> Value {
                Value::String($name.to_owned())
            }
        }
    )+};
}

primitive!(
    bool => "boolean",
    i8 => "int", i16 => "int", i32 => "int", u8 => "int", u16 => "int",
    i64 => "long", u32 => "long",
    f32 => "float", f64 => "double",
    String => "string", str => "string", char => "string",
    () => "null",
);

impl<T: AvroType> AvroType for Option<T> {
    const AVRO_BRANCH: &'static str = "union";

    fn avro_schema_in(names: &mut Names) -> Value {
        json!(["null", T::avro_schema_in(names)])
    }
}

impl<T: AvroType> AvroType for Vec<T> {
    const AVRO_BRANCH: &'static str = "array";

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "array", "items": T::avro_schema_in(names)})
    }
}

impl<T: AvroType> AvroType for [T] {
    const AVRO_BRANCH: &'static str = "array";

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "array", "items": T::avro_schema_in(names)})
    }
}

impl<T: AvroType + ?Sized> AvroType for Box<T> {
    const AVRO_BRANCH: &'static str = T::AVRO_BRANCH;

    fn avro_schema_in(names: &mut Names) -> Value {
        T::avro_schema_in(names)
    }
}

impl<T: AvroType, S> AvroType for HashMap<String, T, S> {
    const AVRO_BRANCH: &'static str = "map";

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "map", "values": T::avro_schema_in(names)})
    }
}

impl<T: AvroType> AvroType for BTreeMap<String, T> {
    const AVRO_BRANCH: &'static str = "map";

    fn avro_schema_in(names: &mut Names) -> Value {
        json!({"type": "map", "values": T::avro_schema_in(names)})
    }
}

impl AvroType for uuid::Uuid {
    const AVRO_BRANCH: &'static str = "string";

    fn avro_schema_in(_: &mut Names) -> Value {
        json!({"type": "string", "logicalType": "uuid"})
    }
}

impl AvroType for bytes::Bytes {
    const AVRO_BRANCH: &'static str = "bytes";

    fn avro_schema_in(_: &mut Names) -> Value {
        Value::String("bytes".to_owned())
    }
}
