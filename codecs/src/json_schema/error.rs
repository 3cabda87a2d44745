//! The JSON Schema codec's errors.

/// Why a JSON Schema value or schema could not be handled.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonSchemaError {
    /// Placeholder.
    #[error("x")]
    X,
}

impl From<JsonSchemaError> for crate::Error {
    fn from(e: JsonSchemaError) -> Self {
        crate::Error::JsonSchema(Box::new(e))
    }
}
