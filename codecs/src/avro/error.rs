//! The Avro codec's error type.

use crate::wire::SchemaId;

/// Where and why a writer schema does not resolve to a reader schema.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("at {path}: {reason}")]
pub struct Incompatibility {
    /// Where in the reader schema (`$.address.zip`; `<1>` a union branch, `[]` array items,
    /// `{}` map values).
    pub path: String,
    /// What does not resolve.
    pub reason: String,
}

/// Why an Avro value could not be encoded or decoded, or a schema could not be used.
///
/// Byte offsets (`at`) count from the start of the Avro payload (after the wire-format prefix).
/// Wrapped errors keep their source ([`std::error::Error::source`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum AvroError {
    /// The schema text is not a valid Avro schema.
    #[error("invalid Avro schema")]
    SchemaParse(#[source] apache_avro::Error),
    /// The registry holds a schema of another type under this id.
    #[error("{id} is a {schema_type} schema, not Avro")]
    NotAvro {
        /// The schema's id.
        id: SchemaId,
        /// Its type as the registry reports it.
        schema_type: kcodec_registry::SchemaType,
    },
    /// The registry does not know the writer schema a frame names.
    #[error("unknown writer schema: the registry has no {id}")]
    UnknownSchema {
        /// The id or GUID the frame carried.
        id: SchemaId,
        /// The registry's answer.
        #[source]
        source: kcodec_registry::RegistryError,
    },
    /// A serde value does not fit the writer schema (typed encode).
    #[error("value at {path} does not fit the Avro schema '{schema}': {problem}")]
    Encode {
        /// Where in the value (`$.items[2].price`).
        path: String,
        /// The schema expected there (a named type's full name, else its type).
        schema: String,
        /// What did not fit.
        problem: String,
    },
    /// A generic value does not fit the writer schema.
    #[error("value at {path} does not match the schema '{schema}': {value}")]
    ValueMismatch {
        /// Where in the value (`$.field[2]`).
        path: String,
        /// The schema expected there.
        schema: String,
        /// The value found (abbreviated).
        value: String,
    },
    /// The payload could not be decoded into the requested type.
    #[error("Avro payload could not be decoded with schema '{schema}'")]
    Decode {
        /// The writer schema's name (or type).
        schema: String,
        /// apache-avro's report.
        #[source]
        source: apache_avro::Error,
    },
    /// The writer schema cannot be resolved against the reader schema (Avro schema resolution):
    /// no value written with it can be read.
    #[error("writer {writer} does not resolve to the reader schema '{reader}'")]
    Unresolvable {
        /// The writer schema's id.
        writer: SchemaId,
        /// The reader schema's name (or type).
        reader: String,
        /// The first incompatibility found, and where.
        #[source]
        source: Incompatibility,
    },
    /// A value written with a resolvable schema could not be resolved (an enum symbol the reader
    /// lacks with no enum default, a union branch the reader's schema has no match for).
    #[error(
        "value written with {writer} could not be resolved to the reader schema '{reader}' (at byte {at})"
    )]
    Resolve {
        /// The writer schema's id.
        writer: SchemaId,
        /// The reader schema's name (or type).
        reader: String,
        /// Where in the payload.
        at: usize,
        /// What does not resolve.
        #[source]
        source: Incompatibility,
    },
    /// A logical type's value is invalid (a `uuid` that does not parse, a `duration` whose
    /// `fixed` is not 12 bytes).
    #[error("invalid {logical} value at byte {at}: {problem}")]
    Logical {
        /// Where it was read.
        at: usize,
        /// The logical type.
        logical: &'static str,
        /// What is wrong.
        problem: String,
    },
    /// The payload ends inside a value.
    #[error("truncated Avro data: {what} at byte {at} needs {needed} bytes, {available} left")]
    Truncated {
        /// What was being read (`int`, `double`, `fixed`, …).
        what: &'static str,
        /// Where it starts.
        at: usize,
        /// How many bytes it needs.
        needed: usize,
        /// How many were left.
        available: usize,
    },
    /// A string or bytes length prefix is larger than the bytes that remain.
    #[error("{what} length {length} at byte {at} is larger than the {remaining} bytes left")]
    LengthTooLarge {
        /// `string`, `bytes` or `block`.
        what: &'static str,
        /// Where the length was read.
        at: usize,
        /// The length read.
        length: i64,
        /// How many bytes follow it.
        remaining: usize,
    },
    /// A length or count is negative where it can't be.
    #[error("negative {what} length {length} at byte {at}")]
    NegativeLength {
        /// `string`, `bytes` or `block`.
        what: &'static str,
        /// Where it was read.
        at: usize,
        /// The value read.
        length: i64,
    },
    /// An array or map block claims more items than the bytes that remain could hold.
    #[error("{what} block of {count} items at byte {at} is impossible with {remaining} bytes left")]
    ItemCount {
        /// `array` or `map`.
        what: &'static str,
        /// Where the count was read.
        at: usize,
        /// The count read.
        count: i64,
        /// How many bytes follow it.
        remaining: usize,
    },
    /// Arrays of zero-width items (such as `null`) hold more items in all than
    /// [`MAX_ZERO_WIDTH_ITEMS`](super::MAX_ZERO_WIDTH_ITEMS) allows.
    #[error(
        "{count} zero-width array items at byte {at} exceed the limit of {limit} for this input"
    )]
    TooManyItems {
        /// Where the block was read.
        at: usize,
        /// The total count so far.
        count: u64,
        /// The limit.
        limit: u64,
    },
    /// A varint runs past 10 bytes (long) or 5 bytes (int), or its value does not fit.
    #[error("invalid {what} varint at byte {at}")]
    Varint {
        /// `int` or `long`.
        what: &'static str,
        /// Where it starts.
        at: usize,
    },
    /// A union branch index is outside the union.
    #[error(
        "union branch index {index} at byte {at} is out of range (the union has {branches} branches)"
    )]
    UnionIndex {
        /// Where it was read.
        at: usize,
        /// The index read.
        index: i64,
        /// How many branches the union has.
        branches: usize,
    },
    /// An enum index is outside the enum's symbols.
    #[error("enum index {index} at byte {at} is out of range ('{name}' has {symbols} symbols)")]
    EnumIndex {
        /// Where it was read.
        at: usize,
        /// The index read.
        index: i64,
        /// The enum's name.
        name: String,
        /// How many symbols it has.
        symbols: usize,
    },
    /// A boolean byte is neither 0 nor 1.
    #[error("invalid boolean byte 0x{byte:02x} at byte {at}")]
    Boolean {
        /// Where it was read.
        at: usize,
        /// The byte.
        byte: u8,
    },
    /// Values nest deeper than the decoder allows (a recursive schema fed adversarial data).
    #[error("Avro data nests deeper than {limit} levels at byte {at}")]
    TooDeep {
        /// Where the limit was hit.
        at: usize,
        /// The limit.
        limit: usize,
    },
    /// The payload has bytes left after the value.
    #[error("{count} trailing bytes after the Avro value (it ended at byte {at})")]
    TrailingBytes {
        /// Where the value ended.
        at: usize,
        /// How many bytes follow it.
        count: usize,
    },
    /// A string is not UTF-8.
    #[error("string at byte {at} is not valid UTF-8")]
    Utf8 {
        /// Where the string's bytes start.
        at: usize,
        /// The UTF-8 error.
        #[source]
        source: std::str::Utf8Error,
    },
    /// The data does not fit the Rust type it is decoded into.
    #[error("Avro value near byte {at} does not fit the Rust type: {message}")]
    Mismatch {
        /// About where decoding stopped.
        at: usize,
        /// The type's complaint.
        message: String,
    },
    /// A schema nests unnamed types (arrays, maps, unions) deeper than the compiler allows.
    #[error("Avro schema nests deeper than {limit} levels")]
    SchemaTooDeep {
        /// The limit.
        limit: usize,
    },
    /// A record takes no bytes (its fields are all `null`s, empty records…) yet its one value is
    /// made of more values than the schema has fields: types reused in several fields, nested,
    /// which would make reading it cost exponentially more than the schema's size.
    #[error("the record '{name}' takes no bytes but its value is made of more than {limit} values")]
    ZeroWidthTooLarge {
        /// The record's full name.
        name: String,
        /// The most values allowed (the schema's field count plus 64).
        limit: u32,
    },
    /// A named type referenced by the schema is not defined in it.
    #[error("schema references undefined type '{0}'")]
    UndefinedName(String),
    /// Two serializer settings exclude each other (as in Confluent's clients).
    #[error("invalid Avro serializer configuration: {0}")]
    Config(&'static str),
    /// Serializer settings that exclude each other (as in Confluent's clients).
    #[error(transparent)]
    Settings(#[from] crate::subject::ConfigError),
    /// Header mode needs the schema's GUID and the registry did not give one.
    #[error(
        "the registry returned no GUID for schema id {0}, needed to write the schema id header"
    )]
    NoGuid(u32),
    /// The text given to [`ParsedSchema::value_from_json_text`](super::ParsedSchema::value_from_json_text)
    /// is not JSON.
    #[error("invalid JSON")]
    JsonText(#[source] serde_json::Error),
    /// A JSON value does not fit the schema ([`value_from_json`](super::value_from_json)).
    #[error("JSON value at {path} does not fit the schema: expected {expected}")]
    Json {
        /// Where in the value (`$.field[2]`).
        path: String,
        /// What the schema wanted there.
        expected: String,
    },
    /// A record type's Avro schema, as its [`AvroType`](crate::record::AvroType) impls give it,
    /// is not a valid schema (a hand-written impl's mistake: the derive's output is valid).
    #[error("the Avro schema of {rust_type} is invalid: {problem}")]
    RecordSchema {
        /// The Rust type.
        rust_type: &'static str,
        /// What is wrong.
        problem: String,
        /// The parser's error, when the schema's JSON does not parse.
        #[source]
        source: Option<Box<AvroError>>,
    },
    /// A borrowed decode met a frame whose writer schema is not the record's own: reading it
    /// needs schema resolution, which writes a new encoding and so can't be borrowed from.
    #[error(
        "a borrowed decode of '{record}' reads only frames written with the record's own schema; \
         writer {writer} is another one, which needs resolution: decode into an owned record \
         (`AvroDeserializer::for_record`)"
    )]
    NeedsResolution {
        /// The record's full name.
        record: &'static str,
        /// The frame's writer schema.
        writer: SchemaId,
    },
}
