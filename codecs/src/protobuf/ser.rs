//! The Protobuf serializer: schema registration with references, caching per topic, framing.

use super::ProtobufError;
use super::schema::{file_to_base64, is_known_type, message_indexes};
use crate::resolve::ResolveFuture;
use crate::subject::{self, SerializerConfig, WriterCache};
use crate::wire::{self, MessageIndexes, SchemaId};
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::{BufMut, Bytes, BytesMut};
use kcodec_registry::{Schema, SchemaReference, SchemaRegistry};
use prost_reflect::{FileDescriptor, MessageDescriptor, ReflectMessage};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// Names the subject an imported file is registered under (Confluent's
/// `reference.subject.name.strategy`); the default is the import path itself.
pub type ReferenceSubjectNameStrategy = fn(import: &str) -> String;

fn import_path_subject(import: &str) -> String {
    import.to_owned()
}

/// How a Protobuf serializer picks and frames its writer schema: the settings every schema
/// serializer shares ([`SerializerConfig`]) plus [`ProtobufOptions`].
///
/// ```
/// use kcodec_codecs::protobuf::ProtobufSerializerConfig;
/// use kcodec_codecs::subject::{SchemaIdFormat, SubjectNameStrategy};
///
/// let config = ProtobufSerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .skip_known_types(false)
///     .subject_name_strategy(SubjectNameStrategy::Record)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert!(config.check().is_ok());
/// assert!(ProtobufSerializerConfig::new().use_latest_version(true).check().is_err());
/// ```
pub type ProtobufSerializerConfig = SerializerConfig<ProtobufOptions>;

/// The Protobuf serializer's own settings (see [`ProtobufSerializerConfig`]).
#[derive(Debug, Clone)]
pub struct ProtobufOptions {
    skip_known_types: bool,
    reference_subject_name_strategy: ReferenceSubjectNameStrategy,
}

impl Default for ProtobufOptions {
    fn default() -> Self {
        ProtobufOptions {
            skip_known_types: true,
            reference_subject_name_strategy: import_path_subject,
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

    /// `reference.subject.name.strategy` (default: the import path).
    pub fn reference_subject_name_strategy(
        mut self,
        strategy: ReferenceSubjectNameStrategy,
    ) -> Self {
        self.options.reference_subject_name_strategy = strategy;
        self
    }
}

/// What a topic's key or value is framed with once resolved.
#[derive(Debug)]
struct WriterEntry {
    /// Prefix mode: magic byte, id and message indexes, written before every payload.
    head: Bytes,
    /// Header mode: the header value (`0x01`, GUID, message indexes).
    header: Option<Bytes>,
}

/// Serializes a generated prost message (one that also implements
/// [`ReflectMessage`]) with the Confluent wire format: magic byte, schema id, the message's
/// indexes, then `prost::Message::encode`. `Option<T>`'s `None` is a null record.
///
/// The message indexes are computed once from the descriptor; the schema id is resolved once
/// per topic and key/value (registering the file and its imports as references, as Confluent's
/// clients do) through [`resolve`](crate::resolve), then every record takes the sync path.
pub struct ProtobufSerializer<T> {
    core: Arc<Core>,
    _type: PhantomData<fn(&T)>,
}

struct Core {
    registry: Arc<dyn SchemaRegistry>,
    config: ProtobufSerializerConfig,
    message: MessageDescriptor,
    indexes: MessageIndexes,
    /// Built from a descriptor rather than `T`: check each value's descriptor.
    check_descriptor: bool,
    cache: WriterCache<WriterEntry>,
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
            .field("message", &self.core.message.full_name())
            .field("indexes", &self.core.indexes)
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
        config.check()?;
        Ok(ProtobufSerializer {
            core: Arc::new(Core {
                registry,
                config,
                indexes: message_indexes(&message),
                message,
                check_descriptor,
                cache: WriterCache::default(),
            }),
            _type: PhantomData,
        })
    }

    /// The message's descriptor.
    pub fn message(&self) -> &MessageDescriptor {
        &self.core.message
    }

    /// Frames `topic`'s key or value with schema `id` without asking the registry (the id must
    /// be the registered id of the message's file; in header mode, its GUID).
    pub fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), ProtobufError> {
        self.core.preload(topic, target, id)
    }

    /// The message's indexes in its file.
    pub fn message_indexes(&self) -> &[i32] {
        &self.core.indexes
    }
}

impl Core {
    fn subject(&self, topic: &str, target: Target) -> Result<String, Error> {
        Ok(self.config.subject_name_strategy.subject(
            topic,
            crate::subject::kind(target),
            Some(self.message.full_name()),
        )?)
    }

    /// For serializers built from a descriptor: refuses a value of another message type.
    fn check<T: ReflectMessage>(&self, value: &T) -> Result<(), ProtobufError> {
        if self.check_descriptor {
            let found = value.descriptor();
            if found != self.message {
                return Err(ProtobufError::WrongMessage {
                    expected: self.message.full_name().to_owned(),
                    found: found.full_name().to_owned(),
                });
            }
        }
        Ok(())
    }

    fn unresolved(&self, ctx: &SerializeContext<'_>) -> Error {
        match self.subject(ctx.topic(), ctx.target()) {
            Ok(subject) => Error::Unresolved(Unresolved::WriterSchema {
                topic: ctx.topic().to_owned(),
                target: ctx.target(),
                subject: Some(subject),
            }),
            Err(e) => e,
        }
    }

    fn serialize(
        &self,
        value: &dyn EncodeInto,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        // The hot path: one uncontended read lock and a map lookup, no allocation, no refcount.
        let cache = self.cache.read(ctx.target());
        let Some(entry) = cache.get(ctx.topic()) else {
            drop(cache);
            return Err(self.unresolved(ctx));
        };
        match &entry.header {
            None => out.put_slice(&entry.head),
            Some(header) => {
                let header = header.clone();
                let name = wire::schema_id_header(ctx.target());
                ctx.headers_mut().set(name, header);
            }
        }
        value.encode_into(out);
        Ok(Serialized::Data)
    }

    /// The framing for schema `id`: in prefix mode written before every payload, in header
    /// mode the `header` value.
    fn writer_entry(&self, id: SchemaId, header: Option<Bytes>) -> WriterEntry {
        let head = if header.is_none() {
            let mut head = BytesMut::with_capacity(6 + self.indexes.len() * 5);
            wire::write_prefix(&mut head, id);
            wire::write_message_indexes(&mut head, &self.indexes);
            head.freeze()
        } else {
            Bytes::new()
        };
        WriterEntry { head, header }
    }

    fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), ProtobufError> {
        let header =
            subject::preloaded_header(self.config.schema_id_format, id, Some(&self.indexes))
                .map_err(ProtobufError::NoGuid)?;
        let entry = self.writer_entry(id, header);
        self.cache.insert(topic.to_owned(), target, entry);
        Ok(())
    }

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::WriterSchema { topic, target, .. } = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let subject = self.subject(topic, *target)?;
        let local = async || {
            let file = self.message.parent_file();
            let references = register_references(&*self.registry, &file, &self.config).await?;
            Ok(Schema::protobuf(schema_string(&file)).with_references(references))
        };
        let (registered, _) =
            subject::select_writer(&*self.registry, &subject, &self.config, local).await?;
        let header = subject::id_header(
            self.config.schema_id_format,
            &registered,
            Some(&self.indexes),
        )
        .map_err(ProtobufError::NoGuid)?;
        let entry = self.writer_entry(SchemaId::Id(registered.id), header);
        self.cache.insert(topic.clone(), *target, entry);
        Ok(())
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
        let subject = (config.options.reference_subject_name_strategy)(current.name());
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

/// Object-safe encoding, so the core is not generic.
trait EncodeInto {
    fn encode_into(&self, out: &mut BytesMut);
}

impl<T: prost::Message> EncodeInto for T {
    fn encode_into(&self, out: &mut BytesMut) {
        out.reserve(self.encoded_len());
        self.encode_raw(out);
    }
}

impl<T: prost::Message + ReflectMessage> Serializer<T> for ProtobufSerializer<T> {
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        self.core.check(value)?;
        self.core.serialize(value, ctx, out)
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
            Some(value) => {
                self.core.check(value)?;
                self.core.serialize(value, ctx, out)
            }
            None => Ok(Serialized::Null),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}
