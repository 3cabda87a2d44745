//! The JSON Schema codec's errors.

/// Why a JSON Schema value or schema could not be handled.
///
/// Wrapped errors keep their source ([`std::error::Error::source`]); messages don't repeat it.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonSchemaError {
    /// A value does not match the schema. Names the failing location in the value (a JSON
    /// pointer, `""` for the root) and the schema keyword that failed; why (`message`, such as
    /// `-3 is less than the minimum of 0`) is the source's message.
    #[error("JSON at '{pointer}' does not match the schema: '{keyword}' failed")]
    Invalid {
        /// JSON pointer of the failing part of the value (RFC 6901; `""` is the whole value).
        pointer: String,
        /// The schema keyword (rule) that failed, such as `type`, `required`, `minimum`.
        keyword: String,
        /// JSON pointer of the failing rule in the schema.
        schema_pointer: String,
        /// The validator's message.
        message: String,
        /// The validator's error.
        #[source]
        source: Box<jsonschema::ValidationError<'static>>,
    },
    /// The schema text is not JSON.
    #[error("JSON schema is not valid JSON")]
    SchemaJson(#[source] serde_json::Error),
    /// The schema is JSON but not a valid JSON Schema (or a `$ref` does not resolve).
    #[error("invalid JSON schema")]
    Schema {
        /// The validator's message.
        message: String,
        /// The validator's error.
        #[source]
        source: Box<jsonschema::ValidationError<'static>>,
    },
    /// A value could not be turned into JSON, or JSON into the value's type.
    #[error("JSON (de)serialization failed")]
    Json(#[source] serde_json::Error),
    /// Serializer settings that exclude each other (as in Confluent's clients).
    #[error(transparent)]
    Settings(#[from] crate::subject::ConfigError),
    /// Header mode needs the schema's GUID, and the registry answered none.
    #[error("the registry gave no GUID for schema id {0}, which the schema-id header needs")]
    NoGuid(u32),
    /// The writer schema named by a frame is not a JSON Schema.
    #[error("{id} is a {schema_type} schema, not JSON")]
    NotJsonSchema {
        /// The frame's schema id.
        id: crate::wire::SchemaId,
        /// Its type.
        schema_type: kcodec_registry::SchemaType,
    },
    /// A schema's references nest deeper than the limit.
    #[error("JSON schema references nest deeper than {0} levels")]
    ReferenceDepth(usize),
}

impl From<JsonSchemaError> for crate::Error {
    fn from(e: JsonSchemaError) -> Self {
        crate::Error::JsonSchema(Box::new(e))
    }
}
