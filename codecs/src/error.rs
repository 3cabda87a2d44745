//! The error every codec returns.

use std::error::Error as StdError;

/// Why a value could not be encoded or decoded.
///
/// Each variant names the problem; wrapped errors keep their source (see
/// [`std::error::Error::source`]). A message never repeats its source's: variants that only
/// wrap are transparent (their message and source are the wrapped error's), the others add
/// their own context and leave the cause to `source()`, so printers that walk the chain show
/// each cause once.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum Error {
    /// A fixed-size deserializer got the wrong number of bytes. The wording is the Java client's
    /// (`Size of data received by IntegerDeserializer is not 4`) with the Rust type's name.
    #[error(
        "size of data received by {deserializer} deserializer is not {expected} (received {actual} bytes)"
    )]
    Size {
        /// The deserializer's name (`i32`, `f64`, `bool`…).
        deserializer: &'static str,
        /// The size it needs.
        expected: usize,
        /// The size it got.
        actual: usize,
    },
    /// A null key or value reached a deserializer of a type that can't be null. Deserialize into
    /// `Option<T>` to accept tombstones.
    #[error(
        "null {target} received by {deserializer} deserializer (deserialize into Option<_> to accept null)"
    )]
    UnexpectedNull {
        /// The deserializer's name.
        deserializer: &'static str,
        /// `key` or `value`.
        target: crate::Target,
    },
    /// The unit (Java `Void`) deserializer accepts only null.
    #[error("data should be null for a unit (Void) deserializer, received {0} bytes")]
    NotNull(usize),
    /// The bool deserializer accepts only `0x00` and `0x01`.
    #[error("unexpected byte 0x{0:02x} received by bool deserializer (expected 0x00 or 0x01)")]
    InvalidBool(u8),
    /// String data is not UTF-8 ([`StrictStringSerde`](crate::builtin::StrictStringSerde); the
    /// default `StringSerde` replaces malformed bytes as Java does).
    #[error("string data is not valid UTF-8")]
    Utf8(#[source] std::str::Utf8Error),
    /// UUID data is not a 36-character UUID string.
    #[error("error parsing data into UUID")]
    Uuid(#[source] uuid::Error),
    /// A Java `List` layout was malformed.
    #[error(transparent)]
    List(#[from] crate::builtin::ListError),
    /// The Confluent wire format (magic byte, schema id, message indexes) was malformed.
    #[error(transparent)]
    Wire(#[from] crate::wire::WireError),
    /// JSON could not be written or read. Displays as serde_json's report (which names the
    /// line and column).
    #[cfg(feature = "json")]
    #[error(transparent)]
    Json(#[from] serde_json::Error),
    /// The Avro codec failed (bad data, a schema that doesn't fit or doesn't resolve).
    #[cfg(feature = "avro")]
    #[error(transparent)]
    Avro(#[from] crate::avro::AvroError),
    /// Protobuf: a payload, frame or schema that does not fit (see
    /// [`crate::protobuf::ProtobufError`]).
    #[cfg(feature = "protobuf")]
    #[error(transparent)]
    Protobuf(Box<crate::protobuf::ProtobufError>),
    /// JSON Schema: a value that does not validate, or a schema that does not compile (see
    /// [`crate::json_schema::JsonSchemaError`]).
    #[cfg(feature = "json-schema")]
    #[error(transparent)]
    JsonSchema(Box<crate::json_schema::JsonSchemaError>),
    /// The schema registry failed (or refused) while resolving a schema. Displays as the
    /// registry's error itself (whose messages name the registry, subject or schema).
    #[cfg(any(feature = "avro", feature = "protobuf", feature = "json-schema"))]
    #[error(transparent)]
    Registry(#[from] kcodec_registry::RegistryError),
    /// A schema codec needs registry I/O first: await the codec's `resolve` for this and call it
    /// again (the async clients do; see [`crate::resolve`]).
    #[error("{0}: resolve it asynchronously before encoding or decoding")]
    Unresolved(crate::Unresolved),
    /// `resolve` was asked for something this codec can't load.
    #[error("this codec cannot resolve what was asked: {0}")]
    CannotResolve(crate::Unresolved),
    /// An error from a codec outside this crate (a closure, a user's serializer).
    #[error(transparent)]
    Custom(Box<dyn StdError + Send + Sync + 'static>),
}

impl Error {
    /// Wraps any error from user code as [`Error::Custom`], keeping it as the source.
    pub fn custom(error: impl Into<Box<dyn StdError + Send + Sync + 'static>>) -> Self {
        Error::Custom(error.into())
    }
}
