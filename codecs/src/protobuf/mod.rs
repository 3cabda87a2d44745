//! Protobuf with the Confluent Schema Registry wire format.
//!
//! Any prost message that also has a descriptor ([`prost_reflect::ReflectMessage`], generated at
//! build time with protox and prost-build, no `protoc` needed) is framed as Confluent's clients
//! frame it: magic byte, schema id, the message's indexes in its file, then the prost encoding.
//!
//! - [`message_indexes`] come from the descriptor's path (`[0]` for the first top-level message,
//!   written as a single `0x00`; `User.Address` in the first message is `[0, 0]`).
//! - [`ProtobufSchema`] parses a registry schema (`.proto` text or base64 `FileDescriptorProto`)
//!   with its references; [`file_to_proto_text`] prints a descriptor back as `.proto` text.

mod de;
mod error;
mod json;
mod printer;
mod schema;
mod ser;
#[cfg(feature = "protobuf-server")]
mod server;

pub use de::{
    MAX_REFERENCE_DEPTH, ProtobufDeserializer, ProtobufDynamicDeserializer, fetch_references,
};
pub use ser::{ProtobufOptions, ProtobufSerializer, ProtobufSerializerConfig, register_references};
#[cfg(feature = "protobuf-server")]
pub use server::ProtobufServerFormat;

pub use error::ProtobufError;
pub use json::write_proto3_json;
pub use printer::file_to_proto_text;
pub use schema::{
    DEFAULT_FILE_NAME, ProtobufSchema, file_descriptor_bytes, file_to_base64, is_known_type,
    message_at, message_indexes,
};

pub use prost;
pub use prost_reflect;
