//! Text ⇄ key/value bytes for every `--format`: the one layer `produce`, `consume`, `encode` and
//! `decode` share.
//!
//! Text forms (what `produce`/`encode` read and `consume`/`decode` print):
//! * `string`: the text itself (UTF-8, as Kafka's `StringSerializer`).
//! * `int`/`long`/`short`/`double`/`float`/`boolean`/`uuid`: the number/`true`/UUID as text, encoded
//!   as Java's big-endian serializers.
//! * `bytes`: the raw bytes of the text.
//! * `json`: a JSON document, written compact (no framing, as Kafka's JSON serializers).
//! * `avro`: the Avro JSON encoding (as `kafka-avro-console-producer`), Confluent framing.
//! * `protobuf`: canonical proto3 JSON, Confluent framing with message indexes.
//! * `json-schema`: a JSON document validated against the schema, Confluent framing.
//! * `auto` (decode only): Avro, Protobuf or JSON Schema, chosen by the registry's schema type for
//!   the id in each record.

use bytes::Bytes;
use kcodec_codecs::{Headers, Target};
use kcodec_registry::SchemaRegistry;
use std::path::PathBuf;
use std::sync::Arc;
use thiserror::Error;

/// A key or value format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// UTF-8 text.
    String,
    /// Compact JSON, no framing.
    Json,
    /// Avro JSON encoding ⇄ Confluent-framed Avro.
    Avro,
    /// Canonical proto3 JSON ⇄ Confluent-framed Protobuf.
    Protobuf,
    /// JSON ⇄ Confluent-framed JSON Schema.
    JsonSchema,
    /// 16-bit big-endian integer.
    Short,
    /// 32-bit big-endian integer.
    Int,
    /// 64-bit big-endian integer.
    Long,
    /// 32-bit big-endian IEEE 754 float.
    Float,
    /// 64-bit big-endian IEEE 754 float.
    Double,
    /// `true`/`false` as one byte.
    Boolean,
    /// A UUID as its 36-character text.
    Uuid,
    /// The raw bytes.
    Bytes,
    /// Decode only: Avro, Protobuf or JSON Schema by the registry's schema type.
    Auto,
}

impl Format {
    /// `true` for formats that need a schema registry.
    pub fn needs_registry(self) -> bool {
        matches!(
            self,
            Format::Avro | Format::Protobuf | Format::JsonSchema | Format::Auto
        )
    }
}

/// How to encode or decode one side (key or value) of a record.
#[derive(Debug, Clone)]
pub struct CodecSpec {
    /// The format.
    pub format: Format,
    /// Key or value (subject `<topic>-key` / `<topic>-value`, header names).
    pub target: Target,
    /// Schema text to use (and register, unless a schema id is given).
    pub schema_file: Option<PathBuf>,
    /// Use this registered schema id instead of registering.
    pub schema_id: Option<u32>,
    /// Subject to register under or read the latest version of (default: topic name strategy).
    pub subject: Option<String>,
    /// Use the subject's latest registered schema.
    pub use_latest: bool,
    /// Protobuf: the message's full name (default: the first message of the file).
    pub message: Option<String>,
    /// Write the schema id into the `__key_schema_id`/`__value_schema_id` header instead of a prefix.
    pub schema_id_in_header: bool,
}

impl CodecSpec {
    /// A spec for `format` with no schema options.
    pub fn new(format: Format, target: Target) -> Self {
        CodecSpec {
            format,
            target,
            schema_file: None,
            schema_id: None,
            subject: None,
            use_latest: false,
            message: None,
            schema_id_in_header: false,
        }
    }
}

/// Why text could not become bytes, or bytes text.
#[derive(Debug, Error)]
pub enum FormatError {
    /// The text is not a valid value of a simple format.
    #[error("not a valid {format}: {text:?}")]
    BadText {
        /// The format's name.
        format: &'static str,
        /// The offending text (as given).
        text: String,
    },
    /// The format is not available in this direction (e.g. `auto` for encoding).
    #[error("{0}")]
    Unsupported(String),
    /// A codec refused the value or the bytes.
    #[error(transparent)]
    Codec(#[from] kcodec_codecs::Error),
    /// The input is not JSON.
    #[error("invalid JSON")]
    Json(#[from] serde_json::Error),
}

/// Turns text into key or value bytes.
pub struct Encoder {
    spec: CodecSpec,
    #[allow(dead_code)]
    registry: Option<Arc<dyn SchemaRegistry>>,
}

impl Encoder {
    /// Prepares an encoder (reads schema files, checks options; registry I/O happens on first use).
    pub async fn new(
        spec: CodecSpec,
        registry: Option<Arc<dyn SchemaRegistry>>,
    ) -> Result<Self, FormatError> {
        if spec.format == Format::Auto {
            return Err(FormatError::Unsupported(
                "--format auto is for decoding only: name the format to encode with".to_owned(),
            ));
        }
        Ok(Encoder { spec, registry })
    }

    /// Encodes `text` for `topic`; may add headers (schema id in headers). `Ok(None)` is a null.
    pub async fn encode(
        &self,
        topic: &str,
        text: &str,
        headers: &mut Headers,
    ) -> Result<Option<Bytes>, FormatError> {
        let _ = (topic, &headers);
        let bad = |format: &'static str| FormatError::BadText {
            format,
            text: text.to_owned(),
        };
        let bytes = match self.spec.format {
            Format::String | Format::Bytes => Bytes::copy_from_slice(text.as_bytes()),
            Format::Json => {
                let value: serde_json::Value = serde_json::from_str(text)?;
                Bytes::from(serde_json::to_vec(&value)?)
            }
            Format::Short => {
                let n: i16 = text.trim().parse().map_err(|_| bad("short"))?;
                Bytes::copy_from_slice(&n.to_be_bytes())
            }
            Format::Int => {
                let n: i32 = text.trim().parse().map_err(|_| bad("int"))?;
                Bytes::copy_from_slice(&n.to_be_bytes())
            }
            Format::Long => {
                let n: i64 = text.trim().parse().map_err(|_| bad("long"))?;
                Bytes::copy_from_slice(&n.to_be_bytes())
            }
            Format::Float => {
                let n: f32 = text.trim().parse().map_err(|_| bad("float"))?;
                Bytes::copy_from_slice(&n.to_be_bytes())
            }
            Format::Double => {
                let n: f64 = text.trim().parse().map_err(|_| bad("double"))?;
                Bytes::copy_from_slice(&n.to_be_bytes())
            }
            Format::Boolean => match text.trim() {
                "true" => Bytes::from_static(&[1]),
                "false" => Bytes::from_static(&[0]),
                _ => return Err(bad("boolean")),
            },
            Format::Uuid => {
                let trimmed = text.trim();
                let ok = trimmed.len() == 36
                    && trimmed.char_indices().all(|(i, c)| {
                        if matches!(i, 8 | 13 | 18 | 23) {
                            c == '-'
                        } else {
                            c.is_ascii_hexdigit()
                        }
                    });
                if !ok {
                    return Err(bad("uuid"));
                }
                Bytes::copy_from_slice(trimmed.as_bytes())
            }
            Format::Avro | Format::Protobuf | Format::JsonSchema => {
                return Err(FormatError::Unsupported(
                    "schema formats: not wired yet".to_owned(),
                ));
            }
            Format::Auto => unreachable!("refused in Encoder::new"),
        };
        Ok(Some(bytes))
    }
}

/// Turns key or value bytes into text.
pub struct Decoder {
    spec: CodecSpec,
    #[allow(dead_code)]
    registry: Option<Arc<dyn SchemaRegistry>>,
}

impl Decoder {
    /// Prepares a decoder (schemas are fetched from the registry by id on first use).
    pub async fn new(
        spec: CodecSpec,
        registry: Option<Arc<dyn SchemaRegistry>>,
    ) -> Result<Self, FormatError> {
        Ok(Decoder { spec, registry })
    }

    /// Decodes one key or value of `topic` to its text form.
    pub async fn decode(
        &self,
        topic: &str,
        data: &[u8],
        headers: &Headers,
    ) -> Result<Vec<u8>, FormatError> {
        let _ = (topic, headers);
        let fixed = |format: &'static str, size: usize| -> Result<(), FormatError> {
            if data.len() == size {
                Ok(())
            } else {
                Err(FormatError::BadText {
                    format,
                    text: format!("{} bytes, expected {size}", data.len()),
                })
            }
        };
        let text = match self.spec.format {
            Format::String => String::from_utf8_lossy(data).into_owned().into_bytes(),
            Format::Bytes => data.to_vec(),
            Format::Json => {
                let value: serde_json::Value = serde_json::from_slice(data)?;
                serde_json::to_vec(&value)?
            }
            Format::Short => {
                fixed("short", 2)?;
                i16::from_be_bytes([data[0], data[1]])
                    .to_string()
                    .into_bytes()
            }
            Format::Int => {
                fixed("int", 4)?;
                let mut b = [0; 4];
                b.copy_from_slice(data);
                i32::from_be_bytes(b).to_string().into_bytes()
            }
            Format::Long => {
                fixed("long", 8)?;
                let mut b = [0; 8];
                b.copy_from_slice(data);
                i64::from_be_bytes(b).to_string().into_bytes()
            }
            Format::Float => {
                fixed("float", 4)?;
                let mut b = [0; 4];
                b.copy_from_slice(data);
                f32::from_be_bytes(b).to_string().into_bytes()
            }
            Format::Double => {
                fixed("double", 8)?;
                let mut b = [0; 8];
                b.copy_from_slice(data);
                f64::from_be_bytes(b).to_string().into_bytes()
            }
            Format::Boolean => {
                fixed("boolean", 1)?;
                match data[0] {
                    0 => b"false".to_vec(),
                    1 => b"true".to_vec(),
                    _ => {
                        return Err(FormatError::BadText {
                            format: "boolean",
                            text: format!("byte 0x{:02x}", data[0]),
                        });
                    }
                }
            }
            Format::Uuid => data.to_vec(),
            Format::Avro | Format::Protobuf | Format::JsonSchema | Format::Auto => {
                return Err(FormatError::Unsupported(
                    "schema formats: not wired yet".to_owned(),
                ));
            }
        };
        Ok(text)
    }
}
