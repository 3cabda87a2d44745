//! The dev registry server's `?format=` conversion for Protobuf schemas (feature
//! `protobuf-server`).

use super::ProtobufSchema;
use kcodec_registry::compat::References;
use kcodec_registry::server::ProtobufFormat;
use kcodec_registry::{RegistryError, Schema};

/// Converts a stored Protobuf schema (`.proto` text or base64 `FileDescriptorProto`, with its
/// references) for the dev server's `?format=`: `serialized` answers the base64 serialized
/// `FileDescriptorProto` (what Confluent's clients ask for), any other format the `.proto` text
/// printed from the descriptor.
///
/// Install it when starting the server:
///
/// ```
/// use kcodec_codecs::protobuf::ProtobufServerFormat;
/// use kcodec_registry::server::ServerOptions;
/// use std::sync::Arc;
///
/// let options = ServerOptions {
///     protobuf_format: Arc::new(ProtobufServerFormat),
///     ..ServerOptions::default()
/// };
/// # let _ = options;
/// ```
#[derive(Debug, Clone, Copy, Default)]
pub struct ProtobufServerFormat;

impl ProtobufFormat for ProtobufServerFormat {
    fn format(
        &self,
        schema: &Schema,
        references: &References,
        format: &str,
    ) -> Result<String, RegistryError> {
        let parsed = ProtobufSchema::parse(&schema.schema, references).map_err(|e| {
            let mut message = e.to_string();
            let mut source = std::error::Error::source(&e);
            while let Some(s) = source {
                message.push_str(": ");
                message.push_str(&s.to_string());
                source = s.source();
            }
            RegistryError::InvalidSchema(message)
        })?;
        Ok(if format.eq_ignore_ascii_case("serialized") {
            parsed.to_base64()
        } else {
            parsed.to_proto_text()
        })
    }
}
