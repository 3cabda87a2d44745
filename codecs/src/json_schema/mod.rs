//! JSON Schema with the Confluent Schema Registry wire format.

mod error;
pub use error::JsonSchemaError;
