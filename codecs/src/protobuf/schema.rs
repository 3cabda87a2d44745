//! Protobuf schemas as the registry holds them: `.proto` text or a base64 `FileDescriptorProto`,
//! with their imports given as references.

use super::ProtobufError;
use crate::wire::MessageIndexes;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD as BASE64;
use kcodec_registry::Schema;
use prost::Message as _;
use prost_reflect::{DescriptorPool, FileDescriptor, MessageDescriptor};
use protox::file::{File, FileResolver, GoogleFileResolver};
use std::collections::{BTreeMap, HashMap};

/// The file name given to a root schema registered as `.proto` text (the text carries no name).
pub const DEFAULT_FILE_NAME: &str = "schema.proto";

/// Whether `import` is one of the files Confluent's clients treat as built in and never register
/// (`skip.known.types`): Google's well-known types (`google/protobuf/…`), `google/type/…`, and
/// Confluent's own `confluent/…` files.
pub fn is_known_type(import: &str) -> bool {
    import.starts_with("google/protobuf/")
        || import.starts_with("google/type/")
        || import.starts_with("confluent/")
}

/// The message indexes of `message`: its path from the file down, each step the position among
/// its siblings (`[0]` for the first top-level message, `[1, 0]` for the first message nested in
/// the second). Read from the descriptor's path, never from `.proto` text.
///
/// ```
/// # use kcodec_codecs::protobuf::{ProtobufSchema, message_indexes};
/// let schema = ProtobufSchema::parse_text("a.proto", "syntax = \"proto3\"; message A {} message B { message C {} }").unwrap();
/// let c = schema.file().parent_pool().get_message_by_name("B.C").unwrap();
/// assert_eq!(&message_indexes(&c)[..], &[1, 0]);
/// ```
pub fn message_indexes(message: &MessageDescriptor) -> MessageIndexes {
    // The path is [4, top-level index, 3, nested index, 3, …] (FileDescriptorProto.message_type = 4,
    // DescriptorProto.nested_type = 3).
    message.path().iter().skip(1).step_by(2).copied().collect()
}

/// The message at `indexes` in `file`, if there is one.
pub fn message_at(file: &FileDescriptor, indexes: &[i32]) -> Option<MessageDescriptor> {
    let (&first, rest) = indexes.split_first()?;
    let mut message = file.messages().nth(usize::try_from(first).ok()?)?;
    for &index in rest {
        let child = message.child_messages().nth(usize::try_from(index).ok()?)?;
        message = child;
    }
    Some(message)
}

/// The serialized `FileDescriptorProto` of `file`, base64-encoded, without source code info: the
/// form Confluent's official Python client registers.
pub fn file_to_base64(file: &FileDescriptor) -> String {
    BASE64.encode(file_descriptor_bytes(file))
}

/// The serialized `FileDescriptorProto` of `file` as `protoc` writes it for generated code (and so
/// as Confluent's Python client registers it): without source code info, and without the JSON
/// names that merely repeat the default (descriptor pools fill them in for every field).
pub fn file_descriptor_bytes(file: &FileDescriptor) -> Vec<u8> {
    let mut proto = file.file_descriptor_proto().clone();
    proto.source_code_info = None;
    for message in &mut proto.message_type {
        strip_default_json_names(message);
    }
    for field in &mut proto.extension {
        strip_json_name(field);
    }
    proto.encode_to_vec()
}

fn strip_default_json_names(message: &mut prost_types::DescriptorProto) {
    for field in message.field.iter_mut().chain(message.extension.iter_mut()) {
        strip_json_name(field);
    }
    for nested in &mut message.nested_type {
        strip_default_json_names(nested);
    }
}

fn strip_json_name(field: &mut prost_types::FieldDescriptorProto) {
    if field.extendee.is_some()
        || field.json_name.as_deref()
            == Some(super::printer::default_json_name(field.name()).as_str())
    {
        field.json_name = None;
    }
}

/// A parsed Protobuf schema: its file, linked with everything it imports.
#[derive(Debug, Clone)]
pub struct ProtobufSchema {
    file: FileDescriptor,
}

impl ProtobufSchema {
    /// Wraps a file descriptor (for example, a generated message's `descriptor().parent_file()`).
    pub fn from_file(file: FileDescriptor) -> Self {
        ProtobufSchema { file }
    }

    /// Parses a registry schema: `.proto` text or a base64 `FileDescriptorProto` (both forms the
    /// registry accepts), with `references` mapping each import path to the referenced schema,
    /// transitively. Google's well-known types need no reference.
    pub fn parse(
        schema: &str,
        references: &BTreeMap<String, Schema>,
    ) -> Result<Self, ProtobufError> {
        let root = to_file(None, schema)?;
        let root_name = root.name().to_owned();
        let mut files = HashMap::with_capacity(references.len() + 1);
        for (name, referenced) in references {
            files.insert(name.clone(), to_file(Some(name), &referenced.schema)?);
        }
        files.insert(root_name.clone(), root);
        compile(&root_name, files)
    }

    /// Parses `.proto` text named `name`, with no references beyond Google's well-known types.
    pub fn parse_text(name: &str, text: &str) -> Result<Self, ProtobufError> {
        let root = File::from_source(name, text).map_err(|e| compile_error(name, e))?;
        compile(name, HashMap::from([(name.to_owned(), root)]))
    }

    /// The file.
    pub fn file(&self) -> &FileDescriptor {
        &self.file
    }

    /// The message at `indexes`, or [`ProtobufError::NoMessageAtIndexes`].
    pub fn message_at(&self, indexes: &[i32]) -> Result<MessageDescriptor, ProtobufError> {
        message_at(&self.file, indexes).ok_or_else(|| ProtobufError::NoMessageAtIndexes {
            indexes: indexes.to_vec(),
            file: self.file.name().to_owned(),
        })
    }

    /// The file as `.proto` text (see [`super::file_to_proto_text`]).
    pub fn to_proto_text(&self) -> String {
        super::file_to_proto_text(self.file.file_descriptor_proto())
    }

    /// The file as a base64 serialized `FileDescriptorProto` (see [`file_to_base64`]).
    pub fn to_base64(&self) -> String {
        file_to_base64(&self.file)
    }
}

/// Whether `s` can only be base64 (a `.proto` file always has a space, `;` or newline, or is empty).
fn looks_like_base64(s: &str) -> bool {
    !s.is_empty()
        && s.bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'+' || b == b'/' || b == b'=')
}

/// Turns a registry schema string into a protox `File`. `name` is the reference name (import
/// path) for a referenced schema, `None` for the root.
fn to_file(name: Option<&str>, schema: &str) -> Result<File, ProtobufError> {
    let label = name.unwrap_or(DEFAULT_FILE_NAME);
    // Python's client, with skip.known.types off, registers a built-in file by its name alone.
    if is_known_type(schema) && schema.ends_with(".proto") {
        return GoogleFileResolver::new()
            .open_file(schema)
            .map_err(|e| compile_error(schema, e));
    }
    if looks_like_base64(schema)
        && let Ok(bytes) = BASE64.decode(schema)
    {
        {
            let mut proto =
                prost_types::FileDescriptorProto::decode(bytes.as_slice()).map_err(|source| {
                    ProtobufError::BadDescriptor {
                        file: label.to_owned(),
                        source,
                    }
                })?;
            return Ok(match name {
                // An import is found under its reference name, whatever the descriptor says.
                Some(name) if proto.name() != name => {
                    proto.name = Some(name.to_owned());
                    File::from_file_descriptor_proto(proto)
                }
                _ => {
                    if proto.name().is_empty() {
                        proto.name = Some(DEFAULT_FILE_NAME.to_owned());
                        File::from_file_descriptor_proto(proto)
                    } else {
                        // Keep the exact bytes (and any extension options) when nothing changes.
                        File::decode_file_descriptor_proto(bytes.as_slice()).map_err(|source| {
                            ProtobufError::BadDescriptor {
                                file: label.to_owned(),
                                source,
                            }
                        })?
                    }
                }
            });
        }
    }
    File::from_source(label, schema).map_err(|e| compile_error(label, e))
}

fn compile_error(file: &str, e: protox::Error) -> ProtobufError {
    ProtobufError::Compile {
        file: file.to_owned(),
        source: Box::new(e),
    }
}

/// Resolves imports from the given files, then from Google's well-known types.
struct MapResolver {
    files: HashMap<String, File>,
    google: GoogleFileResolver,
}

impl FileResolver for MapResolver {
    fn open_file(&self, name: &str) -> Result<File, protox::Error> {
        match self.files.get(name) {
            Some(file) => Ok(file.clone()),
            None => self.google.open_file(name),
        }
    }
}

fn compile(root: &str, files: HashMap<String, File>) -> Result<ProtobufSchema, ProtobufError> {
    let mut compiler = protox::Compiler::with_file_resolver(MapResolver {
        files,
        google: GoogleFileResolver::new(),
    });
    compiler.include_imports(true);
    compiler
        .open_file(root)
        .map_err(|e| compile_error(root, e))?;
    let pool: DescriptorPool = compiler.descriptor_pool();
    // protox normalizes the name it opens; a name it rewrote is not found under the original.
    let file = pool
        .get_file_by_name(root)
        .ok_or_else(|| compile_error(root, protox::Error::file_not_found(root)))?;
    Ok(ProtobufSchema { file })
}
