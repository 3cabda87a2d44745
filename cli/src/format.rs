//! Text ⇄ key/value bytes for every `--format`: the one layer `produce`, `consume`, `encode` and
//! `decode` share.
//!
//! Text forms (what `produce`/`encode` read and `consume`/`decode` print):
//! * `string`: the text itself (UTF-8, as Kafka's `StringSerializer`).
//! * `int`/`long`/`short`/`double`/`float`/`boolean`/`uuid`: the number/`true`/UUID as text, encoded
//!   as Java's big-endian serializers.
//! * `bytes`: the raw bytes of the text.
//! * `json`: a JSON document, written compact (no framing, as Kafka's JSON serializers).
//! * `avro`: the Avro JSON encoding (as `kafka-avro-console-producer`: a union value is
//!   `{"<branch type>": value}`, `null` alone), Confluent framing. A map's entries are written in
//!   the document's key order (as Confluent's Python serializer writes a dict); printed values'
//!   maps are sorted by key.
//! * `protobuf`: canonical proto3 JSON, Confluent framing with message indexes.
//! * `json-schema`: a JSON document validated against the schema, Confluent framing.
//! * `auto` (decode only): Avro, Protobuf or JSON Schema, chosen by the registry's schema type for
//!   the id in each record.
//!
//! Schema formats choose the writer schema as Confluent's console producers do: a schema file
//! registered under the subject (`<topic>-key`/`<topic>-value`, or the one given), a registered
//! schema id, or the subject's latest version. A `.proto` file's imports are looked up in the
//! include directories (`-I`/`--proto-path`, in order, as protoc's; without any, the file's own
//! directory then the current one) and registered as references under their import paths, as
//! Confluent's serializers do. The codecs themselves (`kcodec_codecs`) do the
//! encoding, validation and framing; this layer only picks schemas and converts to and from text.

use bytes::{BufMut, Bytes, BytesMut};
use kcodec_codecs::Serializer as _;
use kcodec_codecs::avro::{
    AvroSerializerConfig, GenericAvroDeserializer, GenericAvroSerializer, ParsedSchema,
};
use kcodec_codecs::json_schema::{
    JsonSchema, JsonSchemaDeserializer, JsonSchemaSerializer, JsonSchemaSerializerConfig,
};
use kcodec_codecs::protobuf::prost_reflect::{
    DynamicMessage, MessageDescriptor, ReflectMessage as _, SerializeOptions,
};
use kcodec_codecs::protobuf::{
    ProtobufDynamicDeserializer, ProtobufSchema, ProtobufSerializer, ProtobufSerializerConfig,
    fetch_references,
};
use kcodec_codecs::subject::SchemaIdFormat;
use kcodec_codecs::wire::{self, SchemaId};
use kcodec_codecs::{DeserializeContext, Deserializer, Headers, SerializeContext, Target, builtin};
use kcodec_registry::http::HttpRegistryConfig;
use kcodec_registry::{
    InMemoryRegistry, RegisteredSchema, RegistryError, Schema, SchemaRegistry, SchemaType,
};
use serde_json::value::RawValue;
use std::collections::{BTreeMap, HashMap};
use std::path::{Path, PathBuf};
use std::sync::{Arc, Mutex};
use thiserror::Error;

/// Environment variable holding `USER:PASS` for the schema registry's basic auth (used when the
/// URL carries no `user:pass@`).
pub const REGISTRY_BASIC_AUTH_ENV: &str = "KCODEC_REGISTRY_BASIC_AUTH";

/// A key or value format.
#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Format {
    /// UTF-8 text.
    String,
    /// Compact JSON, no framing.
    Json,
    /// Avro JSON encoding ⇄ Confluent-framed Avro.
    Avro,
    /// Canonical proto3 JSON ⇄ Confluent-framed Protobuf.
    Protobuf,
    /// JSON ⇄ Confluent-framed JSON Schema.
    JsonSchema,
    /// 16-bit big-endian integer.
    Short,
    /// 32-bit big-endian integer.
    Int,
    /// 64-bit big-endian integer.
    Long,
    /// 32-bit big-endian IEEE 754 float.
    Float,
    /// 64-bit big-endian IEEE 754 float.
    Double,
    /// `true`/`false` as one byte.
    Boolean,
    /// A UUID as its 36-character text.
    Uuid,
    /// The raw bytes.
    Bytes,
    /// Decode only: Avro, Protobuf or JSON Schema by the registry's schema type.
    Auto,
}

impl Format {
    /// `true` for formats that need a schema registry.
    pub fn needs_registry(self) -> bool {
        matches!(
            self,
            Format::Avro | Format::Protobuf | Format::JsonSchema | Format::Auto
        )
    }

    /// The format's name as given on the command line.
    pub fn name(self) -> &'static str {
        match self {
            Format::String => "string",
            Format::Json => "json",
            Format::Avro => "avro",
            Format::Protobuf => "protobuf",
            Format::JsonSchema => "json-schema",
            Format::Short => "short",
            Format::Int => "int",
            Format::Long => "long",
            Format::Float => "float",
            Format::Double => "double",
            Format::Boolean => "boolean",
            Format::Uuid => "uuid",
            Format::Bytes => "bytes",
            Format::Auto => "auto",
        }
    }

    /// The registry's schema type for a schema format.
    fn schema_type(self) -> Option<SchemaType> {
        match self {
            Format::Avro => Some(SchemaType::Avro),
            Format::Protobuf => Some(SchemaType::Protobuf),
            Format::JsonSchema => Some(SchemaType::Json),
            _ => None,
        }
    }
}

/// How to encode or decode one side (key or value) of a record.
#[derive(Debug, Clone)]
pub struct CodecSpec {
    /// The format.
    pub format: Format,
    /// Key or value (subject `<topic>-key` / `<topic>-value`, header names).
    pub target: Target,
    /// Schema text to use (and register, unless a schema id is given). When decoding, the writer
    /// schema of every record whatever its id, so no registry is needed.
    pub schema_file: Option<PathBuf>,
    /// Use this registered schema id instead of registering.
    pub schema_id: Option<u32>,
    /// Subject to register under or read the latest version of (default: topic name strategy).
    pub subject: Option<String>,
    /// Use the subject's latest registered schema.
    pub use_latest: bool,
    /// Protobuf: the message's full name (default: the first message of the file).
    pub message: Option<String>,
    /// Protobuf: the include directories imports are looked up in, in order (protoc's
    /// `--proto_path`); empty: the schema file's directory, then the current directory.
    pub proto_paths: Vec<PathBuf>,
    /// Write the schema id into the `__key_schema_id`/`__value_schema_id` header instead of a prefix.
    pub schema_id_in_header: bool,
}

impl CodecSpec {
    /// A spec for `format` with no schema options.
    pub fn new(format: Format, target: Target) -> Self {
        CodecSpec {
            format,
            target,
            schema_file: None,
            schema_id: None,
            subject: None,
            use_latest: false,
            message: None,
            proto_paths: Vec::new(),
            schema_id_in_header: false,
        }
    }

    /// The subject for `topic`: the one given, else `<topic>-key` / `<topic>-value`.
    pub fn subject_for(&self, topic: &str) -> String {
        match &self.subject {
            Some(subject) => subject.clone(),
            None => format!("{topic}-{}", self.target.as_str()),
        }
    }
}

/// Why text could not become bytes, or bytes text.
#[derive(Debug, Error)]
pub enum FormatError {
    /// The text is not a valid value of a simple format.
    #[error("not a valid {format}: {text:?}")]
    BadText {
        /// The format's name.
        format: &'static str,
        /// The offending text (as given).
        text: String,
    },
    /// The format is not available in this direction (e.g. `auto` for encoding).
    #[error("{0}")]
    Unsupported(String),
    /// A codec refused the value or the bytes.
    #[error(transparent)]
    Codec(#[from] kcodec_codecs::Error),
    /// The input is not JSON.
    #[error("invalid JSON")]
    Json(#[from] serde_json::Error),
    /// A schema format was asked for without a registry to take schemas from.
    #[error(
        "--format {format} needs a schema registry: pass --registry URL or set KCODEC_REGISTRY_URL"
    )]
    NoRegistry {
        /// The format's name.
        format: &'static str,
    },
    /// Encoding with a schema format needs to know which schema.
    #[error("--format {format} needs a schema: --schema-file FILE, --schema-id ID or --use-latest")]
    NoSchema {
        /// The format's name.
        format: &'static str,
    },
    /// The registry has no schema with the id (or GUID) a record or an option names.
    #[error("unknown {id}")]
    UnknownSchemaId {
        /// The id or GUID.
        id: SchemaId,
        /// The registry's answer.
        #[source]
        source: RegistryError,
    },
    /// A registered schema is not of the format asked for.
    #[error("{id} has schema type {found}, not {expected}")]
    WrongSchemaType {
        /// The id or GUID.
        id: SchemaId,
        /// The schema type the format needs.
        expected: SchemaType,
        /// The registry's schema type.
        found: SchemaType,
    },
    /// A schema file could not be read.
    #[error("cannot read schema file {}", path.display())]
    SchemaFile {
        /// The file.
        path: PathBuf,
        /// The I/O error.
        #[source]
        source: std::io::Error,
    },
    /// The schema registry failed while choosing or fetching a schema.
    #[error("schema registry: {context}")]
    Registry {
        /// What was being done.
        context: String,
        /// The registry's error.
        #[source]
        source: RegistryError,
    },
    /// The registry URL or its credentials are malformed.
    #[error("bad schema registry URL or credentials: {0}")]
    RegistryUrl(String),
    /// A `.proto` schema file does not compile (or an import is missing).
    #[error("cannot compile {} (imports looked up in {include}; -I DIR sets where)", path.display())]
    ProtoFile {
        /// The file.
        path: PathBuf,
        /// The include directories searched, comma-separated.
        include: String,
        /// protox's error (file, line and column).
        #[source]
        source: Box<protox::Error>,
    },
    /// The JSON document does not fit the Protobuf message.
    #[error("JSON does not match Protobuf message {message}")]
    ProtobufJson {
        /// The message's full name.
        message: String,
        /// What prost-reflect reported (the field and the problem).
        #[source]
        source: serde_json::Error,
    },
    /// `--message` names no message of the Protobuf schema.
    #[error("no message {name} in Protobuf schema {file} (it has: {available})")]
    NoMessage {
        /// The name asked for.
        name: String,
        /// The schema's file name.
        file: String,
        /// The messages it has, comma-separated.
        available: String,
    },
    /// The schema id goes in a header as the schema's GUID, and the registry gave none.
    #[error("schema id {0} has no GUID in this registry: cannot put it in a header")]
    NoGuid(u32),
}

impl FormatError {
    /// A registry error with what was being done.
    fn registry(context: impl Into<String>, source: RegistryError) -> Self {
        FormatError::Registry {
            context: context.into(),
            source,
        }
    }
}

/// A schema registry client for `url` (one URL or several separated by commas). Basic auth comes
/// from `user:pass@` in the URL, else from the `KCODEC_REGISTRY_BASIC_AUTH` environment variable
/// (`USER:PASS`).
pub fn registry_client(url: &str) -> Result<Arc<dyn SchemaRegistry>, FormatError> {
    let mut urls = Vec::new();
    let mut auth: Option<(String, String)> = None;
    for one in url.split(',').map(str::trim).filter(|u| !u.is_empty()) {
        let (clean, userinfo) = split_userinfo(one);
        if let Some(info) = userinfo {
            auth = Some(parse_user_pass(&info)?);
        }
        urls.push(clean);
    }
    if urls.is_empty() {
        return Err(FormatError::RegistryUrl("empty registry URL".to_owned()));
    }
    if auth.is_none()
        && let Ok(text) = std::env::var(REGISTRY_BASIC_AUTH_ENV)
        && !text.is_empty()
    {
        auth = Some(parse_user_pass(&text)?);
    }
    let mut config = HttpRegistryConfig::new(&urls.join(","));
    if let Some((user, pass)) = auth {
        config = config.basic_auth(user, pass);
    }
    let client = config
        .build()
        .map_err(|e| FormatError::registry(format!("cannot use {}", urls.join(",")), e))?;
    Ok(Arc::new(client))
}

/// Splits `scheme://user:pass@host/...` into the URL without the credentials and the
/// percent-decoded `user:pass`.
fn split_userinfo(url: &str) -> (String, Option<String>) {
    let Some(scheme_end) = url.find("://") else {
        return (url.to_owned(), None);
    };
    let rest = &url[scheme_end + 3..];
    let authority_end = rest.find(['/', '?', '#']).unwrap_or(rest.len());
    let authority = &rest[..authority_end];
    match authority.rfind('@') {
        Some(at) => {
            let info = percent_decode(&authority[..at]);
            let clean = format!(
                "{}{}{}",
                &url[..scheme_end + 3],
                &authority[at + 1..],
                &rest[authority_end..]
            );
            (clean, Some(info))
        }
        None => (url.to_owned(), None),
    }
}

/// Decodes `%XX` escapes (as in a URL's user info); anything else is kept.
fn percent_decode(text: &str) -> String {
    let bytes = text.as_bytes();
    let mut out = Vec::with_capacity(bytes.len());
    let mut i = 0;
    while i < bytes.len() {
        if bytes[i] == b'%'
            && let Some(hex) = text.get(i + 1..i + 3)
            && let Ok(b) = u8::from_str_radix(hex, 16)
        {
            out.push(b);
            i += 3;
            continue;
        }
        out.push(bytes[i]);
        i += 1;
    }
    String::from_utf8_lossy(&out).into_owned()
}

/// Splits `USER:PASS`; the user must not be empty.
fn parse_user_pass(text: &str) -> Result<(String, String), FormatError> {
    match text.split_once(':') {
        Some((user, pass)) if !user.is_empty() => Ok((user.to_owned(), pass.to_owned())),
        _ => Err(FormatError::RegistryUrl(
            "basic auth must be USER:PASS".to_owned(),
        )),
    }
}

/// Maps a registry error for `id` to [`FormatError::UnknownSchemaId`] when the registry has no
/// such schema.
fn by_id_error(id: SchemaId, source: RegistryError) -> FormatError {
    if source.error_code() == 40403 {
        FormatError::UnknownSchemaId { id, source }
    } else {
        FormatError::registry(format!("fetching {id}"), source)
    }
}

/// Maps a codec error whose cause is a missing schema to [`FormatError::UnknownSchemaId`].
fn codec_error(id: Option<SchemaId>, error: kcodec_codecs::Error) -> FormatError {
    match (id, error) {
        (Some(id), kcodec_codecs::Error::Registry(source)) if source.error_code() == 40403 => {
            FormatError::UnknownSchemaId { id, source }
        }
        (_, error) => FormatError::Codec(error),
    }
}

/// The schema with this id or GUID, or [`FormatError::UnknownSchemaId`].
async fn fetch_schema(
    registry: &dyn SchemaRegistry,
    id: SchemaId,
) -> Result<Arc<Schema>, FormatError> {
    let found = match id {
        SchemaId::Id(n) => registry.schema_by_id(n).await,
        SchemaId::Guid(g) => registry.schema_by_guid(g).await,
    };
    found.map_err(|e| by_id_error(id, e))
}

/// How many schemas one schema's references may pull in, transitively (as the codecs allow).
const MAX_REFERENCES: usize = 64;

/// Parses a registered Avro schema with the schemas it references (transitively, at most 64).
async fn parse_avro(
    registry: &dyn SchemaRegistry,
    schema: &Schema,
) -> Result<ParsedSchema, FormatError> {
    if schema.references.is_empty() {
        return Ok(ParsedSchema::parse(&schema.schema).map_err(kcodec_codecs::Error::from)?);
    }
    let mut seen = std::collections::HashSet::new();
    let mut texts = Vec::new();
    let mut queue = schema.references.clone();
    while let Some(reference) = queue.pop() {
        if !seen.insert((reference.subject.clone(), reference.version)) {
            continue;
        }
        if seen.len() > MAX_REFERENCES {
            return Err(FormatError::Unsupported(
                "the Avro schema references more than 64 schemas".to_owned(),
            ));
        }
        let found = registry
            .version(
                &reference.subject,
                kcodec_registry::Version::Number(reference.version),
                true,
            )
            .await
            .map_err(|e| {
                FormatError::registry(
                    format!(
                        "fetching reference {} version {}",
                        reference.subject, reference.version
                    ),
                    e,
                )
            })?;
        queue.extend(found.schema.references.iter().cloned());
        texts.push(found.schema.schema);
    }
    let deps: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok(
        ParsedSchema::parse_with_references(&schema.schema, schema.references.clone(), &deps)
            .map_err(kcodec_codecs::Error::from)?,
    )
}

/// Parses a registered JSON Schema with its references.
async fn parse_json_schema(
    registry: &dyn SchemaRegistry,
    schema: &Schema,
) -> Result<JsonSchema, FormatError> {
    // The same reference walk as Protobuf's: reference name → referenced schema.
    let references: BTreeMap<String, Schema> = if schema.references.is_empty() {
        BTreeMap::new()
    } else {
        fetch_references(registry, schema).await?
    };
    Ok(
        JsonSchema::parse_with_references(&schema.schema, &references)
            .map_err(kcodec_codecs::Error::from)?
            .with_references(schema.references.clone()),
    )
}

/// Where the schema file is: `path` itself, or for a `.proto` file that is not there, `path`
/// under the first `-I` directory that has it (protoc's lookup of an input file by name).
fn schema_file_path(spec: &CodecSpec, path: &Path) -> PathBuf {
    if spec.format != Format::Protobuf || path.exists() || path.is_absolute() {
        return path.to_owned();
    }
    spec.proto_paths
        .iter()
        .map(|dir| dir.join(path))
        .find(|p| p.is_file())
        .unwrap_or_else(|| path.to_owned())
}

/// Compiles a `.proto` schema file as protoc does with `--proto_path`: imports are looked up in
/// `include` in order (Google's well-known types are built in). Without include directories,
/// the file's own directory, then the current directory.
///
/// The file is named by its place under the first include directory holding it (`-I proto` and
/// `proto/shop/order.proto`: `shop/order.proto`); outside all of them, its own directory is
/// searched last. [`schema_file_path`] finds a file given by its name under an include
/// directory (`-I proto` and `shop/order.proto`).
fn load_proto_file(path: &Path, include: &[PathBuf]) -> Result<ProtobufSchema, FormatError> {
    let parent = path
        .parent()
        .filter(|d| !d.as_os_str().is_empty())
        .unwrap_or(Path::new("."));
    let err = |source| FormatError::ProtoFile {
        path: path.to_owned(),
        include: if include.is_empty() {
            [parent, Path::new(".")]
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        } else {
            include
                .iter()
                .map(|d| d.display().to_string())
                .collect::<Vec<_>>()
                .join(", ")
        },
        source: Box::new(source),
    };
    // Compared as canonical paths (protox matches a path to an include directory by its
    // components); a directory that does not exist is kept as given (nothing is found there).
    let canonical = |p: &Path| std::fs::canonicalize(p).unwrap_or_else(|_| p.to_owned());
    let mut dirs: Vec<PathBuf> = if include.is_empty() {
        vec![canonical(parent), canonical(Path::new("."))]
    } else {
        include.iter().map(|d| canonical(d)).collect()
    };
    let open: PathBuf = if path.exists() {
        let file = canonical(path);
        if !dirs.iter().any(|d| file.starts_with(d)) {
            dirs.push(canonical(parent));
        }
        file
    } else {
        path.to_owned()
    };
    let mut compiler = protox::Compiler::new(&dirs).map_err(err)?;
    compiler.open_file(&open).map_err(err)?;
    let name = compiler
        .files()
        .find(|f| !f.is_import())
        .map(|f| f.name().to_owned())
        .ok_or_else(|| err(protox::Error::file_not_found(&path.to_string_lossy())))?;
    let pool = compiler.descriptor_pool();
    let file = pool
        .get_file_by_name(&name)
        .ok_or_else(|| err(protox::Error::file_not_found(&name)))?;
    Ok(ProtobufSchema::from_file(file))
}

/// Parses a registered Protobuf schema with its references.
async fn parse_protobuf(
    registry: &dyn SchemaRegistry,
    schema: &Schema,
) -> Result<ProtobufSchema, FormatError> {
    let references = fetch_references(registry, schema).await?;
    Ok(ProtobufSchema::parse(&schema.schema, &references).map_err(kcodec_codecs::Error::from)?)
}

/// The message `name` (full name, or a name relative to the file's package), else the file's
/// first message.
fn pick_message(
    schema: &ProtobufSchema,
    name: Option<&str>,
) -> Result<MessageDescriptor, FormatError> {
    let file = schema.file();
    let all = || {
        let mut names = Vec::new();
        let mut stack: Vec<MessageDescriptor> = file.messages().collect();
        stack.reverse();
        while let Some(m) = stack.pop() {
            names.push(m.full_name().to_owned());
            let mut nested: Vec<_> = m.child_messages().filter(|c| !c.is_map_entry()).collect();
            nested.reverse();
            stack.extend(nested);
        }
        names
    };
    match name {
        None => file
            .messages()
            .next()
            .ok_or_else(|| FormatError::NoMessage {
                name: "(first message)".to_owned(),
                file: file.name().to_owned(),
                available: String::new(),
            }),
        Some(name) => {
            let name = name.trim_start_matches('.');
            let pool = file.parent_pool();
            let package = file.package_name();
            let qualified = if package.is_empty() {
                name.to_owned()
            } else {
                format!("{package}.{name}")
            };
            pool.get_message_by_name(name)
                .filter(|m| m.parent_file() == *file)
                .or_else(|| pool.get_message_by_name(&qualified))
                .ok_or_else(|| FormatError::NoMessage {
                    name: name.to_owned(),
                    file: file.name().to_owned(),
                    available: all().join(", "),
                })
        }
    }
}

/// The writer schema chosen for one topic.
enum Writer {
    Avro(GenericAvroSerializer, ParsedSchema),
    Protobuf(ProtobufSerializer<DynamicMessage>),
    JsonSchema(JsonSchemaSerializer<RawValue>),
}

/// Turns text into key or value bytes.
pub struct Encoder {
    /// What to encode and how.
    spec: CodecSpec,
    /// Where schemas are registered and looked up.
    registry: Option<Arc<dyn SchemaRegistry>>,
    /// The schema file's text, read once.
    schema_text: Option<(String, String)>,
    /// The `.proto` schema file, compiled with its imports.
    proto_file: Option<ProtobufSchema>,
    /// Resolved writers by topic.
    writers: Mutex<HashMap<String, Arc<Writer>>>,
}

impl Encoder {
    /// Prepares an encoder (reads schema files, checks options; registry I/O happens on first use).
    pub async fn new(
        spec: CodecSpec,
        registry: Option<Arc<dyn SchemaRegistry>>,
    ) -> Result<Self, FormatError> {
        if spec.format == Format::Auto {
            return Err(FormatError::Unsupported(
                "--format auto is for decoding only: name the format to encode with".to_owned(),
            ));
        }
        let mut schema_text = None;
        let mut proto_file = None;
        if spec.format.needs_registry() {
            if registry.is_none() {
                return Err(FormatError::NoRegistry {
                    format: spec.format.name(),
                });
            }
            let chosen = usize::from(spec.schema_file.is_some())
                + usize::from(spec.schema_id.is_some())
                + usize::from(spec.use_latest);
            if chosen == 0 {
                return Err(FormatError::NoSchema {
                    format: spec.format.name(),
                });
            }
            if chosen > 1 {
                return Err(FormatError::Unsupported(
                    "give only one of --schema-file, --schema-id and --use-latest".to_owned(),
                ));
            }
            if let Some(path) = &spec.schema_file {
                let path = &schema_file_path(&spec, path);
                let text =
                    std::fs::read_to_string(path).map_err(|source| FormatError::SchemaFile {
                        path: path.clone(),
                        source,
                    })?;
                let name = path
                    .file_name()
                    .map(|n| n.to_string_lossy().into_owned())
                    .unwrap_or_else(|| "schema.proto".to_owned());
                // Parse now so a bad schema fails before any input is read.
                match spec.format {
                    Format::Avro => {
                        ParsedSchema::parse(&text).map_err(kcodec_codecs::Error::from)?;
                    }
                    Format::Protobuf => {
                        let parsed = load_proto_file(path, &spec.proto_paths)?;
                        pick_message(&parsed, spec.message.as_deref())?;
                        proto_file = Some(parsed);
                    }
                    Format::JsonSchema => {
                        JsonSchema::parse(&text).map_err(kcodec_codecs::Error::from)?;
                    }
                    _ => {}
                }
                schema_text = Some((name, text));
            }
        }
        Ok(Encoder {
            spec,
            registry,
            schema_text,
            proto_file,
            writers: Mutex::new(HashMap::new()),
        })
    }

    /// Chooses the writer schema for `topic` now (registers the schema file, or fetches the
    /// schema by id or latest version), so that schema and registry errors show before any
    /// input is read. [`encode`](Self::encode) does it on first use otherwise. Nothing to do for
    /// formats without schemas.
    pub async fn prepare(&self, topic: &str) -> Result<(), FormatError> {
        if self.spec.format.schema_type().is_some() {
            self.writer(topic).await?;
        }
        Ok(())
    }

    /// Encodes `text` for `topic`; may add headers (schema id in headers). `Ok(None)` is a null.
    pub async fn encode(
        &self,
        topic: &str,
        text: &str,
        headers: &mut Headers,
    ) -> Result<Option<Bytes>, FormatError> {
        let bad = |format: &'static str| FormatError::BadText {
            format,
            text: text.to_owned(),
        };
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new(topic, self.spec.target, headers);
        use kcodec_codecs::Serializer as _;
        let _ = match self.spec.format {
            Format::String => builtin::StringSerde.serialize(text, &mut ctx, &mut out)?,
            Format::Bytes => builtin::BytesSerde.serialize(text.as_bytes(), &mut ctx, &mut out)?,
            Format::Json => {
                // Checked, then written compact as given (key order and number text kept).
                let _: serde::de::IgnoredAny = serde_json::from_str(text)?;
                write_compact(text, &mut out);
                kcodec_codecs::Serialized::Data
            }
            Format::Short => {
                let n: i16 = text.trim().parse().map_err(|_| bad("short"))?;
                builtin::I16Serde.serialize(&n, &mut ctx, &mut out)?
            }
            Format::Int => {
                let n: i32 = text.trim().parse().map_err(|_| bad("int"))?;
                builtin::I32Serde.serialize(&n, &mut ctx, &mut out)?
            }
            Format::Long => {
                let n: i64 = text.trim().parse().map_err(|_| bad("long"))?;
                builtin::I64Serde.serialize(&n, &mut ctx, &mut out)?
            }
            Format::Float => {
                let n: f32 = text.trim().parse().map_err(|_| bad("float"))?;
                builtin::F32Serde.serialize(&n, &mut ctx, &mut out)?
            }
            Format::Double => {
                let n: f64 = text.trim().parse().map_err(|_| bad("double"))?;
                builtin::F64Serde.serialize(&n, &mut ctx, &mut out)?
            }
            Format::Boolean => {
                let b = match text.trim() {
                    "true" => true,
                    "false" => false,
                    _ => return Err(bad("boolean")),
                };
                builtin::BoolSerde.serialize(&b, &mut ctx, &mut out)?
            }
            Format::Uuid => {
                let uuid: uuid::Uuid = text.trim().parse().map_err(|_| bad("uuid"))?;
                builtin::UuidSerde.serialize(&uuid, &mut ctx, &mut out)?
            }
            Format::Avro | Format::Protobuf | Format::JsonSchema => {
                // Checked first: not JSON is named as such, whatever the format.
                let _: serde::de::IgnoredAny = serde_json::from_str(text)?;
                let writer = self.writer(topic).await?;
                return self
                    .encode_schema(&writer, topic, text, headers)
                    .await
                    .map(Some);
            }
            Format::Auto => {
                return Err(FormatError::Unsupported(
                    "--format auto is for decoding only".to_owned(),
                ));
            }
        };
        Ok(Some(out.freeze()))
    }

    /// Encodes a schema format's JSON `text` (valid JSON) with the topic's writer.
    async fn encode_schema(
        &self,
        writer: &Writer,
        topic: &str,
        text: &str,
        headers: &mut Headers,
    ) -> Result<Bytes, FormatError> {
        match writer {
            Writer::Avro(ser, schema) => {
                // From the text: maps keep the document's key order, as Confluent's Python
                // serializer writes a dict (serde_json's `Value` would sort the keys).
                let value = schema
                    .value_from_json_text(text)
                    .map_err(kcodec_codecs::Error::from)?;
                let mut out = BytesMut::new();
                let mut ctx = SerializeContext::new(topic, self.spec.target, headers);
                let _ = kcodec_codecs::resolve::serialize(ser, &value, &mut ctx, &mut out).await?;
                Ok(out.freeze())
            }
            Writer::Protobuf(ser) => {
                let message = ser.message();
                let mut de = serde_json::Deserializer::from_str(text);
                let err = |source| FormatError::ProtobufJson {
                    message: message.full_name().to_owned(),
                    source,
                };
                let msg = DynamicMessage::deserialize(message.clone(), &mut de).map_err(err)?;
                de.end().map_err(err)?;
                let mut out = BytesMut::new();
                let mut ctx = SerializeContext::new(topic, self.spec.target, headers);
                let _ = ser.serialize(&msg, &mut ctx, &mut out)?;
                Ok(out.freeze())
            }
            Writer::JsonSchema(ser) => {
                // The document as given (already parsed: valid JSON), compact, its key order
                // kept (serde_json's Value would sort the keys).
                let mut compact = BytesMut::new();
                write_compact(text, &mut compact);
                let raw = RawValue::from_string(String::from_utf8_lossy(&compact).into_owned())?;
                let mut out = BytesMut::new();
                let mut ctx = SerializeContext::new(topic, self.spec.target, headers);
                let _ = ser.serialize(&*raw, &mut ctx, &mut out)?;
                Ok(out.freeze())
            }
        }
    }

    /// The writer for `topic`, resolved (registry I/O) on first use.
    async fn writer(&self, topic: &str) -> Result<Arc<Writer>, FormatError> {
        if let Some(w) = self
            .writers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .get(topic)
        {
            return Ok(w.clone());
        }
        let writer = Arc::new(self.resolve(topic).await?);
        self.writers
            .lock()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.to_owned(), writer.clone());
        Ok(writer)
    }

    /// Chooses the writer schema for `topic` (registers, or looks up by id or latest version)
    /// and prepares its codec and framing.
    async fn resolve(&self, topic: &str) -> Result<Writer, FormatError> {
        let Some(registry) = self.registry.clone() else {
            return Err(FormatError::NoRegistry {
                format: self.spec.format.name(),
            });
        };
        let Some(schema_type) = self.spec.format.schema_type() else {
            return Err(FormatError::Unsupported(format!(
                "--format {} has no schema",
                self.spec.format.name()
            )));
        };
        let subject = self.spec.subject_for(topic);
        let header_mode = self.spec.schema_id_in_header;
        // (id, guid, the registry's schema, the local text if any)
        let (id, guid, schema): (u32, Option<uuid::Uuid>, Schema) =
            if let Some(id) = self.spec.schema_id {
                let schema = fetch_schema(&*registry, SchemaId::Id(id)).await?;
                let guid = if header_mode {
                    self.guid_of(&*registry, id, &schema).await?
                } else {
                    None
                };
                (id, guid, (*schema).clone())
            } else if self.spec.use_latest {
                let latest: RegisteredSchema = registry.latest(&subject).await.map_err(|e| {
                    FormatError::registry(format!("latest version of subject '{subject}'"), e)
                })?;
                (latest.id, latest.guid, latest.schema)
            } else {
                let (_, text) = self
                    .schema_text
                    .as_ref()
                    .ok_or(FormatError::NoSchema {
                        format: self.spec.format.name(),
                    })?
                    .clone();
                // A .proto file's imports are registered first, each under its import path
                // (Confluent's default reference subject), and referenced.
                let references = match &self.proto_file {
                    Some(file) => {
                        kcodec_codecs::protobuf::register_references(
                            &*registry,
                            file.file(),
                            &kcodec_codecs::protobuf::ProtobufSerializerConfig::new(),
                        )
                        .await?
                    }
                    None => Vec::new(),
                };
                let local = Schema::new(schema_type, text).with_references(references);
                let registered = registry
                    .register(&subject, &local, false)
                    .await
                    .map_err(|e| {
                        FormatError::registry(
                            format!("registering the schema under subject '{subject}'"),
                            e,
                        )
                    })?;
                (registered.id, registered.guid, registered.schema)
            };
        if schema.schema_type != schema_type {
            return Err(FormatError::WrongSchemaType {
                id: SchemaId::Id(id),
                expected: schema_type,
                found: schema.schema_type,
            });
        }
        // The schema codecs frame with the id (prefix) or the GUID (header) they are preloaded with.
        let (id_format, writer_id) = if header_mode {
            let guid = guid.ok_or(FormatError::NoGuid(id))?;
            (SchemaIdFormat::Header, SchemaId::Guid(guid))
        } else {
            (SchemaIdFormat::Prefix, SchemaId::Id(id))
        };
        Ok(match self.spec.format {
            Format::Avro => {
                let parsed = match (&self.schema_text, self.spec.schema_id, self.spec.use_latest) {
                    (Some((_, text)), None, false) => {
                        ParsedSchema::parse(text).map_err(kcodec_codecs::Error::from)?
                    }
                    _ => parse_avro(&*registry, &schema).await?,
                };
                let config = AvroSerializerConfig::new().schema_id_format(id_format);
                let ser =
                    GenericAvroSerializer::with_config(registry.clone(), parsed.clone(), config)
                        .map_err(kcodec_codecs::Error::from)?;
                ser.preload(topic, self.spec.target, writer_id)?;
                Writer::Avro(ser, parsed)
            }
            Format::Protobuf => {
                let parsed = match (&self.proto_file, self.spec.schema_id, self.spec.use_latest) {
                    (Some(file), None, false) => file.clone(),
                    _ => parse_protobuf(&*registry, &schema).await?,
                };
                let message = pick_message(&parsed, self.spec.message.as_deref())?;
                let config = ProtobufSerializerConfig::new().schema_id_format(id_format);
                let ser = ProtobufSerializer::for_descriptor(registry.clone(), message, config)
                    .map_err(kcodec_codecs::Error::from)?;
                ser.preload(topic, self.spec.target, writer_id)?;
                Writer::Protobuf(ser)
            }
            _ => {
                let parsed = parse_json_schema(&*registry, &schema).await?;
                let config = JsonSchemaSerializerConfig::new().schema_id_format(id_format);
                let ser = JsonSchemaSerializer::with_config(registry.clone(), parsed, config)
                    .map_err(kcodec_codecs::Error::from)?;
                ser.preload(topic, self.spec.target, writer_id)?;
                Writer::JsonSchema(ser)
            }
        })
    }

    /// The GUID of registered schema `id` (found through a subject it is registered under).
    async fn guid_of(
        &self,
        registry: &dyn SchemaRegistry,
        id: u32,
        schema: &Schema,
    ) -> Result<Option<uuid::Uuid>, FormatError> {
        let subjects = registry
            .subjects_for_id(id, false)
            .await
            .map_err(|e| by_id_error(SchemaId::Id(id), e))?;
        let Some(subject) = subjects.first() else {
            return Ok(None);
        };
        let found = registry
            .lookup(subject, schema, false, true)
            .await
            .map_err(|e| FormatError::registry(format!("looking up schema id {id}"), e))?;
        Ok(found.guid)
    }
}

/// Appends `json` (valid JSON text) without insignificant whitespace, keeping key order and the
/// numbers' text.
fn write_compact(json: &str, out: &mut BytesMut) {
    let mut in_string = false;
    let mut escaped = false;
    for &b in json.as_bytes() {
        if in_string {
            out.put_u8(b);
            if escaped {
                escaped = false;
            } else if b == b'\\' {
                escaped = true;
            } else if b == b'"' {
                in_string = false;
            }
        } else if b == b'"' {
            in_string = true;
            out.put_u8(b);
        } else if !matches!(b, b' ' | b'\t' | b'\n' | b'\r') {
            out.put_u8(b);
        }
    }
}

/// The schema-format deserializers of a decoder.
struct SchemaDecoders {
    /// Avro frames.
    avro: GenericAvroDeserializer,
    /// Protobuf frames.
    protobuf: ProtobufDynamicDeserializer,
    /// JSON Schema frames.
    json: JsonSchemaDeserializer<serde_json::Value>,
    /// Where writer schemas come from (an empty in-memory one when decoding offline).
    registry: Arc<dyn SchemaRegistry>,
    /// From `--schema-file`: the writer schema of every record (offline decoding).
    offline: Option<Offline>,
    /// Ids already given to the deserializers from `offline`.
    preloaded: Mutex<std::collections::HashSet<SchemaId>>,
}

/// A `--schema-file` given to a decoder: the writer schema of every record.
enum Offline {
    /// An Avro schema.
    Avro(ParsedSchema),
    /// A `.proto` file.
    Protobuf(ProtobufSchema),
    /// The JSON Schema deserializer holds the schema itself.
    JsonSchema,
}

/// Turns key or value bytes into text.
pub struct Decoder {
    /// What to decode and how.
    spec: CodecSpec,
    /// The schema formats' deserializers (`None` for the simple formats).
    schema: Option<SchemaDecoders>,
}

impl Decoder {
    /// Prepares a decoder (schemas are fetched from the registry by id on first use). With a
    /// `schema_file`, Avro, Protobuf and JSON Schema records decode with that schema whatever
    /// their id, and need no registry.
    pub async fn new(
        spec: CodecSpec,
        registry: Option<Arc<dyn SchemaRegistry>>,
    ) -> Result<Self, FormatError> {
        if !spec.format.needs_registry() {
            return Ok(Decoder { spec, schema: None });
        }
        let mut offline = None;
        let mut json_given = None;
        if let Some(path) = &spec.schema_file {
            let path = &schema_file_path(&spec, path);
            let text = std::fs::read_to_string(path).map_err(|source| FormatError::SchemaFile {
                path: path.clone(),
                source,
            })?;
            match spec.format {
                Format::Avro => {
                    offline = Some(Offline::Avro(
                        ParsedSchema::parse(&text).map_err(kcodec_codecs::Error::from)?,
                    ))
                }
                Format::Protobuf => {
                    offline = Some(Offline::Protobuf(load_proto_file(path, &spec.proto_paths)?))
                }
                Format::JsonSchema => {
                    json_given =
                        Some(JsonSchema::parse(&text).map_err(kcodec_codecs::Error::from)?);
                    offline = Some(Offline::JsonSchema);
                }
                _ => {
                    return Err(FormatError::Unsupported(
                        "--schema-file needs --format avro, protobuf or json-schema when decoding"
                            .to_owned(),
                    ));
                }
            }
        }
        let registry = match registry {
            Some(r) => r,
            None if spec.schema_file.is_some() => Arc::new(InMemoryRegistry::new()),
            None => {
                return Err(FormatError::NoRegistry {
                    format: spec.format.name(),
                });
            }
        };
        let json = match json_given {
            Some(schema) => JsonSchemaDeserializer::with_schema(schema),
            None => JsonSchemaDeserializer::new(registry.clone()),
        };
        Ok(Decoder {
            schema: Some(SchemaDecoders {
                avro: GenericAvroDeserializer::new(registry.clone()),
                protobuf: ProtobufDynamicDeserializer::new(registry.clone()),
                json,
                registry,
                offline,
                preloaded: Mutex::new(Default::default()),
            }),
            spec,
        })
    }

    /// Decodes one key or value of `topic` to its text form.
    pub async fn decode(
        &self,
        topic: &str,
        data: &[u8],
        headers: &Headers,
    ) -> Result<Vec<u8>, FormatError> {
        let ctx = DeserializeContext::new(topic, self.spec.target, headers);
        let text = match self.spec.format {
            Format::String => {
                let s: String = builtin::StringSerde.deserialize(Some(data), &ctx)?;
                s.into_bytes()
            }
            Format::Bytes => data.to_vec(),
            Format::Json => {
                let text = std::str::from_utf8(data).map_err(kcodec_codecs::Error::Utf8)?;
                let _: serde::de::IgnoredAny = serde_json::from_str(text)?;
                let mut out = BytesMut::with_capacity(text.len());
                write_compact(text, &mut out);
                out.to_vec()
            }
            Format::Short => {
                let n: i16 = builtin::I16Serde.deserialize(Some(data), &ctx)?;
                n.to_string().into_bytes()
            }
            Format::Int => {
                let n: i32 = builtin::I32Serde.deserialize(Some(data), &ctx)?;
                n.to_string().into_bytes()
            }
            Format::Long => {
                let n: i64 = builtin::I64Serde.deserialize(Some(data), &ctx)?;
                n.to_string().into_bytes()
            }
            Format::Float => {
                let n: f32 = builtin::F32Serde.deserialize(Some(data), &ctx)?;
                n.to_string().into_bytes()
            }
            Format::Double => {
                let n: f64 = builtin::F64Serde.deserialize(Some(data), &ctx)?;
                n.to_string().into_bytes()
            }
            Format::Boolean => {
                let b: bool = builtin::BoolSerde.deserialize(Some(data), &ctx)?;
                b.to_string().into_bytes()
            }
            Format::Uuid => {
                let u: uuid::Uuid = builtin::UuidSerde.deserialize(Some(data), &ctx)?;
                u.hyphenated().to_string().into_bytes()
            }
            Format::Avro | Format::Protobuf | Format::JsonSchema | Format::Auto => {
                let Some(decoders) = &self.schema else {
                    return Err(FormatError::NoRegistry {
                        format: self.spec.format.name(),
                    });
                };
                self.decode_schema(decoders, data, &ctx).await?
            }
        };
        Ok(text)
    }

    /// Decodes a schema format's frame to its text form.
    async fn decode_schema(
        &self,
        d: &SchemaDecoders,
        data: &[u8],
        ctx: &DeserializeContext<'_>,
    ) -> Result<Vec<u8>, FormatError> {
        // The writer's id: from the header, else the prefix (bad magic, truncation: errors here).
        // Protobuf's header value also holds message indexes; `auto` tries both forms.
        let read = |indexes| wire::read(data, ctx.headers(), ctx.target(), indexes);
        let framed = match self.spec.format {
            Format::Protobuf => read(true),
            Format::Auto => read(false).or_else(|e| read(true).map_err(|_| e)),
            _ => read(false),
        }
        .map_err(kcodec_codecs::Error::from)?;
        let id = framed.schema_id;
        let format = match (self.spec.format, &d.offline) {
            // Offline: the schema file is the writer schema, whatever the id.
            (f, Some(_)) => f,
            (f, None) => {
                // Fetched once (the client caches it): an unknown id is named as such.
                let schema = fetch_schema(&*d.registry, id).await?;
                let found = match schema.schema_type {
                    SchemaType::Avro => Format::Avro,
                    SchemaType::Protobuf => Format::Protobuf,
                    SchemaType::Json => Format::JsonSchema,
                };
                if f != Format::Auto && f != found {
                    return Err(FormatError::WrongSchemaType {
                        id,
                        expected: f.schema_type().unwrap_or(schema.schema_type),
                        found: schema.schema_type,
                    });
                }
                found
            }
        };
        if let Some(offline) = &d.offline {
            let mut done = d.preloaded.lock().unwrap_or_else(|e| e.into_inner());
            if done.insert(id) {
                match offline {
                    Offline::Avro(s) => d
                        .avro
                        .preload(id, s.clone())
                        .map_err(kcodec_codecs::Error::from)?,
                    Offline::Protobuf(s) => d.protobuf.insert_schema(id, s.clone()),
                    Offline::JsonSchema => {}
                }
            }
        }
        let bytes = Bytes::copy_from_slice(data);
        match format {
            Format::Avro => {
                let value: kcodec_codecs::avro::Value =
                    kcodec_codecs::resolve::deserialize(&d.avro, Some(&bytes), ctx)
                        .await
                        .map_err(|e| codec_error(Some(id), e))?;
                // The writer schema with its references' named types (a bare schema would
                // leave them unresolved).
                let schema = d.avro.writer_parsed_schema(id).ok_or_else(|| {
                    FormatError::Unsupported(format!("{id}: writer schema not loaded"))
                })?;
                // Record fields in schema order, as Confluent's console consumer prints them.
                let mut out = Vec::new();
                schema
                    .write_value_json(&value, &mut out)
                    .map_err(kcodec_codecs::Error::from)?;
                Ok(out)
            }
            Format::Protobuf => {
                let message: DynamicMessage =
                    kcodec_codecs::resolve::deserialize(&d.protobuf, Some(&bytes), ctx)
                        .await
                        .map_err(|e| codec_error(Some(id), e))?;
                // Canonical proto3 JSON straight to text: fields in field-number order, as
                // prost-reflect writes them.
                let mut out = Vec::new();
                kcodec_codecs::protobuf::write_proto3_json(
                    &message,
                    &SerializeOptions::new(),
                    &mut out,
                )
                .map_err(|source| FormatError::ProtobufJson {
                    message: message.descriptor().full_name().to_owned(),
                    source,
                })?;
                Ok(out)
            }
            _ => {
                // The codec checks the frame and validates the document against the schema…
                let _: serde_json::Value =
                    kcodec_codecs::resolve::deserialize(&d.json, Some(&bytes), ctx)
                        .await
                        .map_err(|e| codec_error(Some(id), e))?;
                // …and the document is printed as written (key order kept), made compact.
                let mut out = BytesMut::with_capacity(framed.payload.len());
                match std::str::from_utf8(framed.payload) {
                    Ok(text) => write_compact(text, &mut out),
                    Err(_) => out.extend_from_slice(framed.payload),
                }
                Ok(out.to_vec())
            }
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn userinfo_is_taken_out_of_the_url() {
        assert_eq!(
            split_userinfo("http://u:p%40ss@host:8081/path"),
            (
                "http://host:8081/path".to_owned(),
                Some("u:p@ss".to_owned())
            )
        );
        assert_eq!(
            split_userinfo("https://host/a@b"),
            ("https://host/a@b".to_owned(), None)
        );
        assert!(parse_user_pass("nocolon").is_err());
    }

    #[test]
    fn compact_keeps_order_and_strings() {
        let mut out = BytesMut::new();
        write_compact("{ \"b\" : \"x y\\\" z\",\n \"a\": [1, 2.50] }", &mut out);
        assert_eq!(&out[..], br#"{"b":"x y\" z","a":[1,2.50]}"#);
    }
}
