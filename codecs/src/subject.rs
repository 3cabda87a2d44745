//! Subject naming and schema-id placement shared by the schema codecs (Protobuf, JSON Schema).

pub use kcodec_registry::strategy::{SubjectKind, SubjectNameStrategy};

/// The registry's [`SubjectKind`] for a key or a value.
pub fn kind(target: crate::Target) -> SubjectKind {
    if target.is_key() {
        SubjectKind::Key
    } else {
        SubjectKind::Value
    }
}

/// Where the writer schema's id goes (Confluent's `schema.id.serializer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaIdFormat {
    /// `0x00` + the 4-byte big-endian id before the payload (Confluent's default).
    #[default]
    Prefix,
    /// A `__key_schema_id`/`__value_schema_id` header holding `0x01` + the schema's GUID (and,
    /// for Protobuf, the message indexes); the payload has no prefix.
    Header,
}
