//! The Protobuf serializer: schema registration with references, caching per topic, framing.

use super::ProtobufError;
use super::schema::{ProtobufSchema, file_to_base64, is_known_type, message_indexes};
use crate::resolve::ResolveFuture;
use crate::subject::{Format, SerializerConfig, SerializerCore};
use crate::wire::{MessageIndexes, SchemaId};
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::BytesMut;
use kcodec_registry::strategy::{
    DefaultReferenceSubjectNameStrategy, ReferenceSubjectNameStrategy,
};
use kcodec_registry::{Schema, SchemaReference, SchemaRegistry, SchemaType};
use prost_reflect::{FileDescriptor, MessageDescriptor, ReflectMessage};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// How a Protobuf serializer picks and frames its writer schema: the settings every schema
/// serializer shares ([`SerializerConfig`]) plus [`ProtobufOptions`].
///
/// ```
/// use kcodec_codecs::protobuf::ProtobufSerializerConfig;
/// use kcodec_codecs::subject::SchemaIdFormat;
/// use kcodec_registry::strategy::RecordNameStrategy;
///
/// let config = ProtobufSerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .skip_known_types(false)
///     .subject_name_strategy(RecordNameStrategy)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert!(config.check().is_ok());
/// assert!(ProtobufSerializerConfig::new().use_latest_version(true).check().is_err());
/// ```
pub type ProtobufSerializerConfig = SerializerConfig<ProtobufOptions>;

/// The Protobuf serializer's own settings (see [`ProtobufSerializerConfig`]).
#[derive(Debug, Clone)]
pub struct ProtobufOptions {
    skip_known_types: bool,
    reference_subject_name_strategy: Arc<dyn ReferenceSubjectNameStrategy>,
}

impl Default for ProtobufOptions {
    fn default() -> Self {
        ProtobufOptions {
            skip_known_types: true,
            reference_subject_name_strategy: Arc::new(DefaultReferenceSubjectNameStrategy),
        }
    }
}

impl SerializerConfig<ProtobufOptions> {
    /// `skip.known.types` (default `true`): do not register Google's and Confluent's built-in
    /// files (see [`is_known_type`]) as references.
    pub fn skip_known_types(mut self, on: bool) -> Self {
        self.options.skip_known_types = on;
        self
    }

    /// `reference.subject.name.strategy` (default [`DefaultReferenceSubjectNameStrategy`]: the
    /// import path): a built-in strategy or one of one's own.
    pub fn reference_subject_name_strategy(
        mut self,
        strategy: impl ReferenceSubjectNameStrategy + 'static,
    ) -> Self {
        self.options.reference_subject_name_strategy = Arc::new(strategy);
        self
    }
}

/// Serializes a generated prost message (one that also implements
/// [`ReflectMessage`]) with the Confluent wire format: magic byte, schema id, the message's
/// indexes, then `prost::Message::encode`. `Option<T>`'s `None` is a null record.
///
/// The schema id is resolved once per topic and key/value (registering the file and its
/// imports as references, as Confluent's clients do) through [`resolve`](crate::resolve), then
/// every record takes the sync path. The message indexes are the message's in the schema
/// written with: the local file's, or, when the settings pick a registered schema
/// (`use_schema_id`, `use_latest_version`), the registered file's, as Java's
/// `toMessageIndexes(fullName)`.
pub struct ProtobufSerializer<T> {
    core: Arc<Core>,
    _type: PhantomData<fn(&T)>,
}

/// Protobuf's part of the serializer core: the message, and where it sits in a file.
struct Protobuf {
    message: MessageDescriptor,
    indexes: MessageIndexes,
    /// Built from a descriptor rather than `T`: check each value's descriptor.
    check_descriptor: bool,
}

type Core = SerializerCore<Protobuf>;

impl Format for Protobuf {
    type Options = ProtobufOptions;
    /// The message's indexes in the schema written with.
    type Writer = MessageIndexes;

    fn record_name(&self) -> Option<&str> {
        Some(self.message.full_name())
    }

    fn local_writer(&self) -> MessageIndexes {
        self.indexes.clone()
    }

    async fn local_schema(
        &self,
        registry: &dyn SchemaRegistry,
        config: &ProtobufSerializerConfig,
        target: Target,
    ) -> Result<Schema, Error> {
        let file = self.message.parent_file();
        let references = references(registry, &file, config, target.is_key()).await?;
        Ok(Schema::protobuf(schema_string(&file)).with_references(references))
    }

    async fn registered_writer(
        &self,
        registry: &dyn SchemaRegistry,
        id: u32,
        schema: &Schema,
    ) -> Result<MessageIndexes, Error> {
        let id = SchemaId::Id(id);
        if schema.schema_type != SchemaType::Protobuf {
            return Err(ProtobufError::NotProtobuf {
                id,
                schema_type: schema.schema_type,
            }
            .into());
        }
        let found = super::de::fetch_references(registry, schema).await?;
        let file = ProtobufSchema::parse(&schema.schema, &found)?;
        let name = self.message.full_name();
        match file.file().parent_pool().get_message_by_name(name) {
            Some(m) if m.parent_file() == *file.file() => Ok(message_indexes(&m)),
            _ => Err(ProtobufError::MessageNotInSchema {
                message: name.to_owned(),
                id,
            }
            .into()),
        }
    }

    fn message_indexes(writer: &MessageIndexes) -> Option<&[i32]> {
        Some(writer)
    }

    fn no_guid(id: u32) -> Error {
        ProtobufError::NoGuid(id).into()
    }
}

impl<T> Clone for ProtobufSerializer<T> {
    fn clone(&self) -> Self {
        ProtobufSerializer {
            core: self.core.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for ProtobufSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtobufSerializer")
            .field("message", &self.core.format.message.full_name())
            .field("indexes", &self.core.format.indexes)
            .field("config", &self.core.config)
            .finish()
    }
}

impl<T: ReflectMessage + Default> ProtobufSerializer<T> {
    /// A serializer with Confluent's defaults (auto-register, Topic strategy, id prefix).
    pub fn new(registry: Arc<dyn SchemaRegistry>) -> Self {
        Self::with_config(registry, ProtobufSerializerConfig::default())
            .expect("the default config is valid")
    }

    /// A serializer with this configuration; fails if the settings exclude each other.
    pub fn with_config(
        registry: Arc<dyn SchemaRegistry>,
        config: ProtobufSerializerConfig,
    ) -> Result<Self, ProtobufError> {
        Self::build(registry, T::default().descriptor(), config, false)
    }
}

impl ProtobufSerializer<prost_reflect::DynamicMessage> {
    /// A serializer of dynamic messages of type `message` (a descriptor from a runtime-compiled
    /// schema, e.g. [`ProtobufSchema::parse_text`](super::ProtobufSchema::parse_text)). A value
    /// of another message type is refused with [`ProtobufError::WrongMessage`].
    pub fn for_descriptor(
        registry: Arc<dyn SchemaRegistry>,
        message: MessageDescriptor,
        config: ProtobufSerializerConfig,
    ) -> Result<Self, ProtobufError> {
        Self::build(registry, message, config, true)
    }
}

impl<T> ProtobufSerializer<T> {
    fn build(
        registry: Arc<dyn SchemaRegistry>,
        message: MessageDescriptor,
        config: ProtobufSerializerConfig,
        check_descriptor: bool,
    ) -> Result<Self, ProtobufError> {
        let format = Protobuf {
            indexes: message_indexes(&message),
            message,
            check_descriptor,
        };
        Ok(ProtobufSerializer {
            core: Arc::new(SerializerCore::new(registry, config, format)?),
            _type: PhantomData,
        })
    }

    /// The message's descriptor.
    pub fn message(&self) -> &MessageDescriptor {
        &self.core.format.message
    }

    /// Frames `topic`'s key or value with schema `id` and the local file's message indexes,
    /// without asking the registry (the id must be the registered id of the message's file; in
    /// header mode, its GUID).
    pub fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), Error> {
        self.core.preload(topic, target, id)
    }

    /// The message's indexes in its local file.
    pub fn message_indexes(&self) -> &[i32] {
        &self.core.format.indexes
    }

    fn write(
        &self,
        value: &impl ReflectMessage,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        let format = &self.core.format;
        if format.check_descriptor {
            let found = value.descriptor();
            if found != format.message {
                return Err(ProtobufError::WrongMessage {
                    expected: format.message.full_name().to_owned(),
                    found: found.full_name().to_owned(),
                }
                .into());
            }
        }
        self.core.write(ctx, out, |_, out| {
            out.reserve(value.encoded_len());
            value.encode_raw(out);
            Ok(Serialized::Data)
        })
    }
}

/// Registers (or, without `auto.register.schemas`, looks up) the files `file` imports under
/// their own subjects (the config's reference subject strategy; Google's and Confluent's
/// known types skipped unless configured otherwise), depth first, and answers `file`'s
/// references to them — what Confluent's serializers do before registering `file` itself.
pub async fn register_references(
    registry: &dyn SchemaRegistry,
    file: &FileDescriptor,
    config: &ProtobufSerializerConfig,
) -> Result<Vec<SchemaReference>, Error> {
    references(registry, file, config, false).await
}

/// [`register_references`] for a key's (`is_key`) or a value's schema.
async fn references(
    registry: &dyn SchemaRegistry,
    file: &FileDescriptor,
    config: &ProtobufSerializerConfig,
    is_key: bool,
) -> Result<Vec<SchemaReference>, Error> {
    // An explicit stack instead of recursion in an async fn; each file is handled once.
    let mut done: HashMap<String, SchemaReference> = HashMap::new();
    let mut stack: Vec<(FileDescriptor, bool)> = vec![(file.clone(), false)];
    while let Some((current, expanded)) = stack.pop() {
        let deps: Vec<FileDescriptor> = current
            .dependencies()
            .filter(|d| !(config.options.skip_known_types && is_known_type(d.name())))
            .collect();
        if !expanded {
            stack.push((current.clone(), true));
            for dep in deps {
                if !done.contains_key(dep.name()) {
                    stack.push((dep, false));
                }
            }
            continue;
        }
        if current.name() == file.name() {
            return Ok(deps
                .iter()
                .filter_map(|d| done.get(d.name()).cloned())
                .collect());
        }
        if done.contains_key(current.name()) {
            continue;
        }
        let refs: Vec<SchemaReference> = deps
            .iter()
            .filter_map(|d| done.get(d.name()).cloned())
            .collect();
        let subject = config
            .options
            .reference_subject_name_strategy
            .subject(current.name(), is_key);
        let schema = Schema::protobuf(schema_string(&current)).with_references(refs);
        let normalize = config.normalize_schemas;
        let found = if config.auto_register_schemas {
            registry.register(&subject, &schema, normalize).await?
        } else {
            registry.lookup(&subject, &schema, normalize, false).await?
        };
        done.insert(
            current.name().to_owned(),
            SchemaReference {
                name: current.name().to_owned(),
                subject,
                version: found.version,
            },
        );
    }
    Ok(Vec::new())
}

/// The schema string registered for `file`: a known type by its name alone (as the Python
/// client does when it does not skip them), else the base64 serialized descriptor.
fn schema_string(file: &FileDescriptor) -> String {
    if is_known_type(file.name()) {
        file.name().to_owned()
    } else {
        file_to_base64(file)
    }
}

impl<T: prost::Message + ReflectMessage> Serializer<T> for ProtobufSerializer<T> {
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        self.write(value, ctx, out)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}

impl<T: prost::Message + ReflectMessage> Serializer<Option<T>> for ProtobufSerializer<T> {
    fn serialize(
        &self,
        value: &Option<T>,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        match value {
            Some(value) => self.write(value, ctx, out),
            None => Ok(Serialized::Null),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}
