//! Parsed, compiled Avro schemas: parsed once, then shared by every message.

use super::AvroError;
use apache_avro::Schema;
use apache_avro::reader::datum::GenericDatumReader;
use apache_avro::schema::NamesRef;
use apache_avro::types::Value;
use apache_avro::writer::datum::GenericDatumWriter;
use serde::{Serialize, de::DeserializeOwned};
use std::sync::Arc;

/// A parsed Avro schema, ready to encode and decode with: its named types are resolved and its
/// writer and reader are built once. Cheap to clone (shared).
///
/// ```
/// use kcodec_codecs::avro::ParsedSchema;
///
/// let schema = ParsedSchema::parse(r#"{"type":"record","name":"User","fields":[{"name":"id","type":"long"}]}"#).unwrap();
/// assert_eq!(schema.name(), "User");
/// assert!(ParsedSchema::parse("{").is_err());
/// ```
#[derive(Clone)]
pub struct ParsedSchema {
    inner: Arc<Inner>,
}

#[ouroboros::self_referencing]
struct Compiled {
    schema: Schema,
    #[borrows(schema)]
    #[covariant]
    writer: GenericDatumWriter<'this>,
    #[borrows(schema)]
    #[covariant]
    reader: GenericDatumReader<'this>,
    #[borrows(schema)]
    #[covariant]
    names: NamesRef<'this>,
}

struct Inner {
    text: String,
    canonical: String,
    name: String,
    compiled: Compiled,
}

impl std::fmt::Debug for ParsedSchema {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ParsedSchema")
            .field("name", &self.inner.name)
            .field("canonical", &self.inner.canonical)
            .finish()
    }
}

impl PartialEq for ParsedSchema {
    /// Two schemas are equal when their Parsing Canonical Forms are: they encode the same bytes.
    fn eq(&self, other: &Self) -> bool {
        self.inner.canonical == other.inner.canonical
    }
}

impl Eq for ParsedSchema {}

/// The decoder's allocation limit for one string, bytes or collection, set once per process
/// through apache-avro's global `max_allocation_bytes` (unless the program set it first). Every
/// length is also checked against the bytes that remain before decoding, so a frame can't make
/// the decoder allocate much more than its own size.
pub const MAX_ALLOCATION_BYTES: usize = 64 * 1024 * 1024;

pub(crate) fn init_limits() {
    apache_avro::util::max_allocation_bytes(MAX_ALLOCATION_BYTES);
}

impl ParsedSchema {
    /// Parses an Avro schema from its JSON text.
    pub fn parse(text: &str) -> Result<Self, AvroError> {
        let schema = Schema::parse_str(text).map_err(AvroError::SchemaParse)?;
        Self::build(text.to_owned(), schema)
    }

    /// Wraps an already parsed schema; its text is its canonical JSON form.
    pub fn from_schema(schema: Schema) -> Result<Self, AvroError> {
        let text = serde_json::to_string(&schema).map_err(|e| {
            AvroError::SchemaParse(apache_avro::Error::from(
                apache_avro::error::Details::ParseSchemaJson(e),
            ))
        })?;
        Self::build(text, schema)
    }

    fn build(text: String, schema: Schema) -> Result<Self, AvroError> {
        init_limits();
        let canonical = schema.canonical_form();
        let name = schema_label(&schema);
        let compiled = CompiledTryBuilder {
            schema,
            writer_builder: |s: &Schema| {
                GenericDatumWriter::builder(s).human_readable(false).build()
            },
            reader_builder: |s: &Schema| {
                GenericDatumReader::builder(s).human_readable(false).build()
            },
            names_builder: |s: &Schema| {
                apache_avro::schema::ResolvedSchema::try_from(s).map(|r| r.get_names().clone())
            },
        }
        .try_build()
        .map_err(AvroError::SchemaParse)?;
        Ok(ParsedSchema {
            inner: Arc::new(Inner {
                text,
                canonical,
                name,
                compiled,
            }),
        })
    }

    /// The apache-avro schema.
    pub fn schema(&self) -> &Schema {
        self.inner.compiled.borrow_schema()
    }

    /// The schema text as given (what is registered).
    pub fn text(&self) -> &str {
        &self.inner.text
    }

    /// The Parsing Canonical Form: equal for schemas that encode the same bytes.
    pub fn canonical_form(&self) -> &str {
        &self.inner.canonical
    }

    /// The full name of a named schema, else its type (`string`, `array`…).
    pub fn name(&self) -> &str {
        &self.inner.name
    }

    /// Whether the schema is a top-level `"bytes"`, which Confluent writes raw (no length prefix).
    pub fn is_raw_bytes(&self) -> bool {
        matches!(self.schema(), Schema::Bytes)
    }

    pub(crate) fn names(&self) -> &NamesRef<'_> {
        self.inner.compiled.borrow_names()
    }

    /// Writes `value` straight from serde to Avro binary (no intermediate `Value`).
    pub(crate) fn write_ser<W: std::io::Write, T: Serialize + ?Sized>(
        &self,
        out: &mut W,
        value: &T,
    ) -> Result<(), AvroError> {
        self.inner
            .compiled
            .borrow_writer()
            .write_ser(out, &value)
            .map(drop)
            .map_err(|source| AvroError::Encode {
                schema: self.inner.name.clone(),
                source,
            })
    }

    /// Writes a generic value, validating it against the schema first.
    pub(crate) fn write_value<W: std::io::Write>(
        &self,
        out: &mut W,
        value: &Value,
    ) -> Result<(), AvroError> {
        self.inner
            .compiled
            .borrow_writer()
            .write_value_ref(out, value)
            .map(drop)
            .map_err(|source| AvroError::Encode {
                schema: self.inner.name.clone(),
                source,
            })
    }

    /// Decodes a payload straight into `T` (no intermediate `Value`), checking it as it goes.
    pub(crate) fn read_de<T: DeserializeOwned>(&self, data: &[u8]) -> Result<T, AvroError> {
        super::direct::from_slice(self.schema(), self.names(), data)
    }

    /// Decodes a validated payload into a generic value.
    pub(crate) fn read_value(&self, mut data: &[u8]) -> Result<Value, AvroError> {
        self.inner
            .compiled
            .borrow_reader()
            .read_value(&mut data)
            .map_err(|source| self.decode_error(source))
    }

    pub(crate) fn decode_error(&self, source: apache_avro::Error) -> AvroError {
        AvroError::Decode {
            schema: self.inner.name.clone(),
            source,
        }
    }
}

/// A schema's full name, or its type for unnamed schemas.
pub(crate) fn schema_label(schema: &Schema) -> String {
    match schema {
        Schema::Record(r) => r.name.fullname(None),
        Schema::Enum(e) => e.name.fullname(None),
        Schema::Fixed(f) => f.name.fullname(None),
        Schema::Ref { name } => name.fullname(None),
        other => {
            let json = serde_json::to_value(other).unwrap_or_default();
            match json {
                serde_json::Value::String(s) => s,
                serde_json::Value::Object(map) => match map.get("logicalType") {
                    Some(serde_json::Value::String(l)) => l.clone(),
                    _ => map
                        .get("type")
                        .and_then(|t| t.as_str())
                        .unwrap_or("schema")
                        .to_owned(),
                },
                serde_json::Value::Array(_) => "union".to_owned(),
                _ => "schema".to_owned(),
            }
        }
    }
}
