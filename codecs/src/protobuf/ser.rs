//! The Protobuf serializer: schema registration with references, caching per topic, framing.

use super::ProtobufError;
use super::schema::{file_to_base64, is_known_type, message_indexes};
use crate::resolve::ResolveFuture;
use crate::subject::{SchemaIdFormat, SubjectNameStrategy};
use crate::wire::{self, MessageIndexes, SchemaId};
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::{BufMut, Bytes, BytesMut};
use kcodec_registry::{RegisteredSchema, Schema, SchemaReference, SchemaRegistry};
use prost_reflect::{FileDescriptor, MessageDescriptor, ReflectMessage};
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

/// Names the subject an imported file is registered under (Confluent's
/// `reference.subject.name.strategy`); the default is the import path itself.
pub type ReferenceSubjectNameStrategy = fn(import: &str) -> String;

fn import_path_subject(import: &str) -> String {
    import.to_owned()
}

/// How a Protobuf serializer picks and frames its writer schema. Every setting names Confluent's
/// config key.
///
/// ```
/// use kcodec_codecs::protobuf::ProtobufSerializerConfig;
/// use kcodec_codecs::subject::{SchemaIdFormat, SubjectNameStrategy};
///
/// let config = ProtobufSerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .subject_name_strategy(SubjectNameStrategy::Record)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert!(config.validate().is_ok());
/// assert!(ProtobufSerializerConfig::new().use_latest_version(true).validate().is_err());
/// ```
#[derive(Debug, Clone)]
pub struct ProtobufSerializerConfig {
    auto_register_schemas: bool,
    use_latest_version: bool,
    use_schema_id: Option<u32>,
    normalize_schemas: bool,
    skip_known_types: bool,
    subject_name_strategy: SubjectNameStrategy,
    reference_subject_name_strategy: ReferenceSubjectNameStrategy,
    schema_id_format: SchemaIdFormat,
}

impl Default for ProtobufSerializerConfig {
    fn default() -> Self {
        ProtobufSerializerConfig {
            auto_register_schemas: true,
            use_latest_version: false,
            use_schema_id: None,
            normalize_schemas: false,
            skip_known_types: true,
            subject_name_strategy: SubjectNameStrategy::Topic,
            reference_subject_name_strategy: import_path_subject,
            schema_id_format: SchemaIdFormat::Prefix,
        }
    }
}

impl ProtobufSerializerConfig {
    /// Confluent's defaults: auto-register, skip known types, Topic strategy, id as prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// `auto.register.schemas` (default `true`): register the message's file (and its imports)
    /// under their subjects; when `false`, look them up and fail if they are not registered.
    pub fn auto_register_schemas(mut self, on: bool) -> Self {
        self.auto_register_schemas = on;
        self
    }

    /// `use.latest.version` (default `false`): frame with the subject's latest version's id.
    /// Needs `auto_register_schemas(false)`.
    pub fn use_latest_version(mut self, on: bool) -> Self {
        self.use_latest_version = on;
        self
    }

    /// `use.schema.id`: frame with this schema id. Takes precedence over the other choices.
    pub fn use_schema_id(mut self, id: Option<u32>) -> Self {
        self.use_schema_id = id;
        self
    }

    /// `normalize.schemas` (default `false`).
    pub fn normalize_schemas(mut self, on: bool) -> Self {
        self.normalize_schemas = on;
        self
    }

    /// `skip.known.types` (default `true`): do not register Google's and Confluent's built-in
    /// files (see [`is_known_type`](super::is_known_type)) as references.
    pub fn skip_known_types(mut self, on: bool) -> Self {
        self.skip_known_types = on;
        self
    }

    /// `subject.name.strategy` (default Topic). Record names the message's `package.Message`.
    pub fn subject_name_strategy(mut self, strategy: SubjectNameStrategy) -> Self {
        self.subject_name_strategy = strategy;
        self
    }

    /// `reference.subject.name.strategy` (default: the import path).
    pub fn reference_subject_name_strategy(
        mut self,
        strategy: ReferenceSubjectNameStrategy,
    ) -> Self {
        self.reference_subject_name_strategy = strategy;
        self
    }

    /// `schema.id.serializer`: the id as prefix (default) or, with the GUID and message indexes,
    /// in a header.
    pub fn schema_id_format(mut self, format: SchemaIdFormat) -> Self {
        self.schema_id_format = format;
        self
    }

    /// Refuses `use.latest.version` together with `auto.register.schemas`, as Confluent's
    /// clients do.
    pub fn validate(&self) -> Result<(), ProtobufError> {
        if self.use_latest_version && self.auto_register_schemas {
            return Err(ProtobufError::Config(
                "cannot enable both use.latest.version and auto.register.schemas",
            ));
        }
        Ok(())
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

fn slot(target: Target) -> usize {
    usize::from(!target.is_key())
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
    /// Index 0: keys, 1: values; then by topic.
    cache: [RwLock<HashMap<String, Arc<WriterEntry>>>; 2],
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
        config.validate()?;
        let message = T::default().descriptor();
        Ok(ProtobufSerializer {
            core: Arc::new(Core {
                registry,
                config,
                indexes: message_indexes(&message),
                message,
                cache: Default::default(),
            }),
            _type: PhantomData,
        })
    }
}

impl<T> ProtobufSerializer<T> {
    /// The message's descriptor.
    pub fn message(&self) -> &MessageDescriptor {
        &self.core.message
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

    fn entry(&self, ctx: &SerializeContext<'_>) -> Result<Arc<WriterEntry>, Error> {
        let cache = self.cache[slot(ctx.target())]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        match cache.get(ctx.topic()) {
            Some(entry) => Ok(entry.clone()),
            None => Err(Error::Unresolved(Unresolved::WriterSchema {
                topic: ctx.topic().to_owned(),
                target: ctx.target(),
                subject: Some(self.subject(ctx.topic(), ctx.target())?),
            })),
        }
    }

    fn serialize(
        &self,
        value: &dyn EncodeInto,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        // The hot path: one uncontended read lock and a map lookup, no allocation, no refcount.
        let cache = self.cache[slot(ctx.target())]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        let Some(entry) = cache.get(ctx.topic()) else {
            drop(cache);
            return Err(self.entry(ctx).err().unwrap_or_else(|| {
                Error::Unresolved(Unresolved::WriterSchema {
                    topic: ctx.topic().to_owned(),
                    target: ctx.target(),
                    subject: None,
                })
            }));
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

    /// Registers (or looks up) `file`'s imports under their own subjects, depth first, and
    /// answers the references to them.
    async fn references(&self, file: &FileDescriptor) -> Result<Vec<SchemaReference>, Error> {
        // An explicit stack instead of recursion in an async fn; each file is handled once.
        let mut done: HashMap<String, SchemaReference> = HashMap::new();
        let mut stack: Vec<(FileDescriptor, bool)> = vec![(file.clone(), false)];
        while let Some((current, expanded)) = stack.pop() {
            let deps: Vec<FileDescriptor> = current
                .dependencies()
                .filter(|d| !(self.config.skip_known_types && is_known_type(d.name())))
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
            let subject = (self.config.reference_subject_name_strategy)(current.name());
            let schema = Schema::protobuf(schema_string(&current)).with_references(refs);
            let registry = &*self.registry;
            let normalize = self.config.normalize_schemas;
            let found = if self.config.auto_register_schemas {
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

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::WriterSchema { topic, target, .. } = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let subject = self.subject(topic, *target)?;
        let registry = &*self.registry;
        let normalize = self.config.normalize_schemas;
        let registered: RegisteredSchema = if let Some(id) = self.config.use_schema_id {
            let schema = registry.schema_by_id(id).await?;
            registry.lookup(&subject, &schema, false, true).await?
        } else if self.config.use_latest_version {
            registry.latest(&subject).await?
        } else {
            let file = self.message.parent_file();
            let references = self.references(&file).await?;
            let schema = Schema::protobuf(schema_string(&file)).with_references(references);
            if self.config.auto_register_schemas {
                registry.register(&subject, &schema, normalize).await?
            } else {
                registry.lookup(&subject, &schema, normalize, false).await?
            }
        };
        let entry = match self.config.schema_id_format {
            SchemaIdFormat::Prefix => {
                let mut head = BytesMut::with_capacity(6 + self.indexes.len() * 5);
                wire::write_prefix(&mut head, SchemaId::Id(registered.id));
                wire::write_message_indexes(&mut head, &self.indexes);
                WriterEntry {
                    head: head.freeze(),
                    header: None,
                }
            }
            SchemaIdFormat::Header => {
                let guid = registered
                    .guid
                    .ok_or(ProtobufError::NoGuid(registered.id))?;
                WriterEntry {
                    head: Bytes::new(),
                    header: Some(wire::header_value(
                        SchemaId::Guid(guid),
                        Some(&self.indexes),
                    )),
                }
            }
        };
        self.cache[slot(*target)]
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.clone(), Arc::new(entry));
        Ok(())
    }
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

impl<T: prost::Message + ReflectMessage + Default> Serializer<T> for ProtobufSerializer<T> {
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        self.core.serialize(value, ctx, out)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}

impl<T: prost::Message + ReflectMessage + Default> Serializer<Option<T>> for ProtobufSerializer<T> {
    fn serialize(
        &self,
        value: &Option<T>,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        match value {
            Some(value) => self.core.serialize(value, ctx, out),
            None => Ok(Serialized::Null),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}
