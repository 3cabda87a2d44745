//! The values the registry API speaks, shaped as Confluent's REST API shapes them.

use serde::{Deserialize, Serialize};
use std::fmt;
use std::str::FromStr;

/// The kind of a schema. Confluent's REST API omits `schemaType` for Avro, so Avro is the default.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "UPPERCASE")]
pub enum SchemaType {
    /// Apache Avro (the default).
    #[default]
    Avro,
    /// Protocol Buffers.
    Protobuf,
    /// JSON Schema.
    Json,
}

impl SchemaType {
    /// The name the REST API uses: `AVRO`, `PROTOBUF` or `JSON`.
    pub fn as_str(self) -> &'static str {
        match self {
            SchemaType::Avro => "AVRO",
            SchemaType::Protobuf => "PROTOBUF",
            SchemaType::Json => "JSON",
        }
    }
}

impl fmt::Display for SchemaType {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// A reference from one schema to another registered schema: `{name, subject, version}`.
///
/// `name` is how the referring schema names it: the import path for Protobuf, the full record
/// name for Avro, the `$ref` URL for JSON Schema.
#[derive(Debug, Clone, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct SchemaReference {
    /// The name the referring schema uses.
    pub name: String,
    /// The subject the referenced schema is registered under.
    pub subject: String,
    /// The version of that subject.
    pub version: i32,
}

/// A schema as submitted to or returned by a registry: its type, its text and its references.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
pub struct Schema {
    /// Avro, Protobuf or JSON Schema.
    pub schema_type: SchemaType,
    /// The schema text (Avro JSON, `.proto` source or base64 descriptor, JSON Schema document).
    pub schema: String,
    /// The schemas this one refers to.
    pub references: Vec<SchemaReference>,
}

impl Schema {
    /// An Avro schema with no references.
    pub fn avro(text: impl Into<String>) -> Self {
        Self::new(SchemaType::Avro, text)
    }
    /// A Protobuf schema with no references.
    pub fn protobuf(text: impl Into<String>) -> Self {
        Self::new(SchemaType::Protobuf, text)
    }
    /// A JSON Schema with no references.
    pub fn json(text: impl Into<String>) -> Self {
        Self::new(SchemaType::Json, text)
    }
    /// A schema of the given type with no references.
    pub fn new(schema_type: SchemaType, text: impl Into<String>) -> Self {
        Schema {
            schema_type,
            schema: text.into(),
            references: Vec::new(),
        }
    }
    /// The same schema with these references.
    pub fn with_references(mut self, references: Vec<SchemaReference>) -> Self {
        self.references = references;
        self
    }
}

/// A schema as registered under a subject: its global id, GUID, subject and version.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct RegisteredSchema {
    /// The global schema id (the one the wire format's prefix carries).
    pub id: u32,
    /// The schema's GUID (the one the wire format's header carries), where the registry has one.
    pub guid: Option<uuid::Uuid>,
    /// The subject it is registered under.
    pub subject: String,
    /// Its version under that subject, counted from 1.
    pub version: i32,
    /// The schema itself.
    pub schema: Schema,
}

/// Which version of a subject: a number, or the latest one.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Version {
    /// The latest version that is not deleted.
    Latest,
    /// A version number, counted from 1.
    Number(i32),
}

impl fmt::Display for Version {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Version::Latest => f.write_str("latest"),
            Version::Number(n) => write!(f, "{n}"),
        }
    }
}

impl FromStr for Version {
    type Err = crate::RegistryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        if s == "latest" || s == "-1" {
            return Ok(Version::Latest);
        }
        match s.parse::<i32>() {
            Ok(n) if n >= 1 => Ok(Version::Number(n)),
            _ => Err(crate::RegistryError::InvalidVersion(s.to_owned())),
        }
    }
}

/// A subject's (or the global) compatibility level, with Confluent's names.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "SCREAMING_SNAKE_CASE")]
pub enum CompatibilityLevel {
    /// A new schema can read data written with the previous one (the registry's default).
    #[default]
    Backward,
    /// A new schema can read data written with every earlier one.
    BackwardTransitive,
    /// Data written with a new schema can be read with the previous one.
    Forward,
    /// Data written with a new schema can be read with every earlier one.
    ForwardTransitive,
    /// Backward and forward against the previous schema.
    Full,
    /// Backward and forward against every earlier schema.
    FullTransitive,
    /// No check.
    None,
}

impl CompatibilityLevel {
    /// The name the REST API uses, such as `BACKWARD_TRANSITIVE`.
    pub fn as_str(self) -> &'static str {
        match self {
            CompatibilityLevel::Backward => "BACKWARD",
            CompatibilityLevel::BackwardTransitive => "BACKWARD_TRANSITIVE",
            CompatibilityLevel::Forward => "FORWARD",
            CompatibilityLevel::ForwardTransitive => "FORWARD_TRANSITIVE",
            CompatibilityLevel::Full => "FULL",
            CompatibilityLevel::FullTransitive => "FULL_TRANSITIVE",
            CompatibilityLevel::None => "NONE",
        }
    }
    /// Whether the level checks against every earlier version rather than the latest one.
    pub fn is_transitive(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::BackwardTransitive
                | CompatibilityLevel::ForwardTransitive
                | CompatibilityLevel::FullTransitive
        )
    }
    /// Whether the new schema must be able to read data of the old one.
    pub fn checks_backward(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::Backward
                | CompatibilityLevel::BackwardTransitive
                | CompatibilityLevel::Full
                | CompatibilityLevel::FullTransitive
        )
    }
    /// Whether the old schema must be able to read data of the new one.
    pub fn checks_forward(self) -> bool {
        matches!(
            self,
            CompatibilityLevel::Forward
                | CompatibilityLevel::ForwardTransitive
                | CompatibilityLevel::Full
                | CompatibilityLevel::FullTransitive
        )
    }
}

impl fmt::Display for CompatibilityLevel {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

impl FromStr for CompatibilityLevel {
    type Err = crate::RegistryError;
    fn from_str(s: &str) -> Result<Self, Self::Err> {
        Ok(match s.to_ascii_uppercase().as_str() {
            "BACKWARD" => CompatibilityLevel::Backward,
            "BACKWARD_TRANSITIVE" => CompatibilityLevel::BackwardTransitive,
            "FORWARD" => CompatibilityLevel::Forward,
            "FORWARD_TRANSITIVE" => CompatibilityLevel::ForwardTransitive,
            "FULL" => CompatibilityLevel::Full,
            "FULL_TRANSITIVE" => CompatibilityLevel::FullTransitive,
            "NONE" => CompatibilityLevel::None,
            _ => {
                return Err(crate::RegistryError::InvalidCompatibilityLevel(
                    s.to_owned(),
                ));
            }
        })
    }
}
