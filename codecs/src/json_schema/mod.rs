//! JSON Schema with the Confluent Schema Registry wire format.
//!
//! Any serde type is written as compact JSON after the Confluent prefix (magic byte and schema
//! id; no message indexes), or with the id in a header. Values are validated against the schema
//! on serialize and on deserialize by default, as Confluent's Python client does; a failure is a
//! [`JsonSchemaError::Invalid`] naming the JSON pointer and the rule. The schema is given as text
//! ([`JsonSchema::parse`]) or generated from the type with schemars ([`JsonSchema::for_type`],
//! feature `schemars`). The Record subject strategies use the schema's `title`.
//!
//! Plain, unframed JSON with no registry is [`crate::json`].

mod de;
mod error;
mod schema;
mod ser;

pub use de::JsonSchemaDeserializer;
pub use error::JsonSchemaError;
pub use schema::JsonSchema;
pub use ser::{JsonSchemaOptions, JsonSchemaSerializer, JsonSchemaSerializerConfig};

/// The schemars crate [`JsonSchema::for_type`] takes types from (feature `schemars`), so a
/// `#[derive(schemars::JsonSchema)]` can use the same version.
#[cfg(feature = "schemars")]
pub use schemars;
