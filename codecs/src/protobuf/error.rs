//! The Protobuf codec's errors.

/// Why a Protobuf value, frame or schema could not be handled.
///
/// Wrapped errors keep their source ([`std::error::Error::source`]).
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProtobufError {
    /// The payload after the prefix and message indexes is not a valid encoding of the message.
    #[error("protobuf payload does not decode as message '{message}'")]
    Decode {
        /// The message's full name.
        message: String,
        /// What prost reported.
        #[source]
        source: prost::DecodeError,
    },
    /// The frame's message indexes name no message of the writer schema.
    #[error("message indexes {indexes:?} point at no message in schema file '{file}'")]
    NoMessageAtIndexes {
        /// The indexes read from the frame.
        indexes: Vec<i32>,
        /// The writer schema's file name.
        file: String,
    },
    /// A frame's message indexes are not those of the deserializer's message type (with
    /// [`ProtobufDeserializer::check_message_indexes`](super::ProtobufDeserializer::check_message_indexes)).
    #[error(
        "message indexes {found:?} are not those of '{message}' ({expected:?}): the frame holds another message type"
    )]
    WrongMessageIndexes {
        /// The deserializer's message (full name).
        message: String,
        /// Its indexes in its file.
        expected: Vec<i32>,
        /// The frame's.
        found: Vec<i32>,
    },
    /// A dynamic message of another type than the serializer's.
    #[error("expected a {expected} message, got a {found}")]
    WrongMessage {
        /// The serializer's message.
        expected: String,
        /// The value's message.
        found: String,
    },
    /// Serializer settings that exclude each other (as in Confluent's clients).
    #[error(transparent)]
    Settings(#[from] crate::subject::ConfigError),
    /// The registered schema a serializer was told to write with (`use.schema.id`,
    /// `use.latest.version`) does not define the serializer's message.
    #[error("the registered schema {id} defines no message '{message}'")]
    MessageNotInSchema {
        /// The serializer's message (full name).
        message: String,
        /// The registered schema's id.
        id: crate::wire::SchemaId,
    },
    /// Header mode needs the schema's GUID, and the registry answered none.
    #[error("the registry gave no GUID for schema id {0}, which the schema-id header needs")]
    NoGuid(u32),
    /// A schema's references nest deeper than the limit, or loop.
    #[error("protobuf schema references nest deeper than {0} levels (or form a cycle)")]
    ReferenceDepth(usize),
    /// A `.proto` schema (or one it imports) does not parse or does not link.
    #[error("protobuf schema '{file}' does not compile")]
    Compile {
        /// The file being compiled.
        file: String,
        /// What protox reported.
        #[source]
        source: Box<protox::Error>,
    },
    /// A schema string looked like a base64 `FileDescriptorProto` but does not decode as one.
    #[error("protobuf schema '{file}' is not a valid serialized FileDescriptorProto")]
    BadDescriptor {
        /// The reference name or file, as far as known.
        file: String,
        /// What prost reported.
        #[source]
        source: prost::DecodeError,
    },
    /// Descriptors that do not form a valid pool.
    #[error("protobuf descriptors are invalid")]
    Descriptor(#[source] Box<prost_reflect::DescriptorError>),
    /// The writer schema named by a frame is not a Protobuf schema.
    #[error("{id} is a {schema_type} schema, not PROTOBUF")]
    NotProtobuf {
        /// The frame's schema id.
        id: crate::wire::SchemaId,
        /// Its type.
        schema_type: kcodec_registry::SchemaType,
    },
    /// A decoded message could not be written as proto3 JSON.
    #[error("protobuf message '{message}' could not be written as JSON")]
    Json {
        /// The message's full name.
        message: String,
        /// What serde_json reported.
        #[source]
        source: serde_json::Error,
    },
}

impl From<ProtobufError> for crate::Error {
    fn from(e: ProtobufError) -> Self {
        crate::Error::Protobuf(Box::new(e))
    }
}
