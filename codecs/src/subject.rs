//! What the schema serializers (Avro, Protobuf, JSON Schema) share: subject naming (with the
//! strategies of [`kcodec_registry::strategy`], built in or a user's own), where the
//! schema id goes, the writer-schema settings ([`SerializerConfig`]), how a writer schema is
//! chosen from them, and the framing core every schema serializer runs on.
//!
//! Each codec's config is this one type with its own extra settings: `AvroSerializerConfig` is
//! `SerializerConfig<()>`, `ProtobufSerializerConfig` adds `skip.known.types` and the reference
//! subject strategy, `JsonSchemaSerializerConfig` adds `json.validate`.
//!
//! # Which schema is written with, and what the registry is asked
//!
//! The settings are applied as Confluent's Java serializers apply them
//! (`AbstractKafkaAvroSerializer.serializeImpl`, `AbstractKafkaProtobufSerializer.serializeImpl`,
//! `AbstractKafkaJsonSchemaSerializer.serializeImpl`: one `if … else if` chain, in this order),
//! so the same settings give the ids Java's give. The one pair Confluent's Python serializers
//! refuse, `auto.register.schemas` with `use.latest.version`, is refused by
//! [`SerializerConfig::check`] (and so by every serializer's constructor) with
//! [`ConfigError::AutoRegisterWithLatestVersion`]. `auto` is `auto_register_schemas`, `id` is
//! `use_schema_id`, `meta` is `use_latest_with_metadata`, `latest` is `use_latest_version`:
//!
//! | auto | id | meta | latest | written with | registry calls (once per topic and key/value) |
//! |---|---|---|---|---|---|
//! | on | any | any | off | the local schema | `register(subject, local, normalize)` (Java: `registerWithResponse`, checked first: `use.schema.id` and `use.latest.with.metadata` are ignored, as in Java; Python's serializers would write with the registered schema they pick) |
//! | on | any | any | on | — | refused: [`ConfigError::AutoRegisterWithLatestVersion`] (Java registers and ignores `use.latest.version`; Python refuses the pair) |
//! | off | set | any | any | the registered schema of that id | `schema_by_id(id)`; in header mode also `lookup(subject, schema, deleted)` for its GUID (Java: `lookupSchemaEntityBySubjectAndId`) |
//! | off | – | set | any | the latest version with that metadata | `latest_with_metadata(subject, metadata, deleted)` (Java: `getLatestWithMetadata`) |
//! | off | – | – | on | the subject's latest version | `latest(subject)` (Java: `lookupLatestVersion`) |
//! | off | – | – | off | the local schema | `lookup(subject, local, normalize)` (Java: `getIdWithResponse`) |
//!
//! `normalize_schemas` applies where the local schema is sent (register, look up); it has no
//! effect on the rows that write with a registered schema, as in Java. A Protobuf frame's
//! message indexes are those of the serializer's message in the schema written with, as Java's
//! `ProtobufSchema.toMessageIndexes(fullName)`: a registered file that orders its messages
//! differently from the local one gets the registered file's indexes. The Protobuf serializer
//! registers (or looks up) the files the local schema imports only on the rows that send the
//! local schema (Java resolves them on every row).
//!
//! Not applied: Java's `id.compatibility.strict` and `latest.compatibility.strict` checks of
//! the registered schema against the local one, and `use.schema.guid`.

use kcodec_registry::strategy::{SubjectNameStrategy, TopicNameStrategy};

use crate::resolve::Unresolved;
use crate::wire::{self, SchemaId};
use crate::{Error, SerializeContext, Serialized, Target};
use bytes::{BufMut, Bytes, BytesMut};
use kcodec_registry::{RegisteredSchema, Schema, SchemaRegistry};
use std::collections::{BTreeMap, HashMap};
use std::future::Future;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, OnceLock, RwLock};

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

/// Settings that exclude each other, or that the serializer's schema can't satisfy.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `auto.register.schemas` with `use.latest.version`: Confluent's Python serializers refuse
    /// the pair (Java's register the local schema and ignore `use.latest.version`).
    #[error(
        "auto.register.schemas and use.latest.version exclude each other (Confluent's Python \
         serializers refuse the pair; Java's would register the local schema and ignore \
         use.latest.version): drop use.latest.version, or turn auto.register.schemas off to \
         write with the subject's latest version"
    )]
    AutoRegisterWithLatestVersion,
    /// A subject strategy that uses the record name (Record, TopicRecord), for a schema that
    /// has none (a JSON Schema without `title`).
    #[error(
        "the subject name strategy needs the schema's record name, and the schema has none \
         (for JSON Schema: a `title`): drop subject.name.strategy or name the schema"
    )]
    StrategyNeedsName,
}

/// How a schema serializer picks and frames its writer schema, in the builder style; every
/// setting names Confluent's config key. `X` holds the codec's own settings. The
/// [module docs](self) have the table of what each combination registers or looks up.
///
/// ```
/// use kcodec_codecs::subject::{ConfigError, SchemaIdFormat, SerializerConfig};
/// use kcodec_registry::strategy::RecordNameStrategy;
///
/// let config: SerializerConfig = SerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .subject_name_strategy(RecordNameStrategy)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert_eq!(config.check(), Ok(()));
/// // Java registers and ignores use.latest.version; Python refuses the pair:
/// let both: SerializerConfig = SerializerConfig::new().use_latest_version(true);
/// assert_eq!(both.check(), Err(ConfigError::AutoRegisterWithLatestVersion));
/// // Java registers and ignores use.schema.id (auto.register.schemas is checked first):
/// let id: SerializerConfig = SerializerConfig::new().use_schema_id(Some(7));
/// assert_eq!(id.check(), Ok(()));
/// ```
#[derive(Debug, Clone)]
pub struct SerializerConfig<X = ()> {
    pub(crate) auto_register_schemas: bool,
    pub(crate) use_latest_version: bool,
    pub(crate) use_latest_with_metadata: Option<BTreeMap<String, String>>,
    pub(crate) use_schema_id: Option<u32>,
    pub(crate) normalize_schemas: bool,
    pub(crate) subject_name_strategy: Arc<dyn SubjectNameStrategy>,
    pub(crate) schema_id_format: SchemaIdFormat,
    #[cfg_attr(
        not(any(feature = "protobuf", feature = "json-schema")),
        allow(dead_code)
    )]
    pub(crate) options: X,
}

impl<X: Default> Default for SerializerConfig<X> {
    fn default() -> Self {
        SerializerConfig {
            auto_register_schemas: true,
            use_latest_version: false,
            use_latest_with_metadata: None,
            use_schema_id: None,
            normalize_schemas: false,
            subject_name_strategy: Arc::new(TopicNameStrategy),
            schema_id_format: SchemaIdFormat::Prefix,
            options: X::default(),
        }
    }
}

impl<X: Default> SerializerConfig<X> {
    /// Confluent's defaults: auto-register, Topic strategy, id as prefix (and the codec's own
    /// defaults).
    pub fn new() -> Self {
        Self::default()
    }
}

impl<X> SerializerConfig<X> {
    /// `auto.register.schemas` (default `true`): register the local schema under its subject;
    /// when `false`, look it up and fail if it is not registered (or write with the registered
    /// schema one of the `use_*` settings picks).
    pub fn auto_register_schemas(mut self, on: bool) -> Self {
        self.auto_register_schemas = on;
        self
    }

    /// `use.latest.version` (default `false`): write with the subject's latest registered
    /// version (Java's `lookupLatestVersion`). Needs `auto_register_schemas(false)`:
    /// [`check`](Self::check) refuses the pair, as Confluent's Python serializers do.
    pub fn use_latest_version(mut self, on: bool) -> Self {
        self.use_latest_version = on;
        self
    }

    /// `use.latest.with.metadata`: write with the subject's latest version whose metadata holds
    /// these properties (Java's `getLatestWithMetadata`). Ignored while `auto_register_schemas`
    /// is on, as in Java; takes precedence over `use_latest_version`.
    pub fn use_latest_with_metadata(mut self, metadata: Option<BTreeMap<String, String>>) -> Self {
        self.use_latest_with_metadata = metadata;
        self
    }

    /// `use.schema.id`: write with the registered schema of this id (Java's
    /// `lookupSchemaEntityBySubjectAndId`). Ignored while `auto_register_schemas` is on, as in
    /// Java; takes precedence over `use_latest_with_metadata` and `use_latest_version`.
    pub fn use_schema_id(mut self, id: Option<u32>) -> Self {
        self.use_schema_id = id;
        self
    }

    /// `normalize.schemas` (default `false`): ask the registry to normalize the local schema
    /// before registering or looking it up.
    pub fn normalize_schemas(mut self, on: bool) -> Self {
        self.normalize_schemas = on;
        self
    }

    /// `subject.name.strategy` (default [`TopicNameStrategy`]: `<topic>-key|value`): a built-in
    /// strategy or one of one's own. The record strategies use the Avro record's full name, the
    /// Protobuf message's full name or the JSON Schema's title.
    pub fn subject_name_strategy(mut self, strategy: impl SubjectNameStrategy + 'static) -> Self {
        self.subject_name_strategy = Arc::new(strategy);
        self
    }

    /// `schema.id.serializer`: the id as prefix (default) or, as the schema's GUID, in a header.
    pub fn schema_id_format(mut self, format: SchemaIdFormat) -> Self {
        self.schema_id_format = format;
        self
    }

    /// Refuses `auto.register.schemas` together with `use.latest.version`, the pair Confluent's
    /// Python serializers refuse (`AvroSerializer.__init__`: "cannot enable both
    /// use.latest.version and auto.register.schemas"). Every other combination is applied as
    /// Java's `serializeImpl` applies it: `autoRegisterSchema` is checked first, so
    /// `use.schema.id` and `use.latest.with.metadata` are ignored while it is on.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.auto_register_schemas && self.use_latest_version {
            return Err(ConfigError::AutoRegisterWithLatestVersion);
        }
        Ok(())
    }
}

/// What the registry answered for a subject: the schema to write with (`None`: the local one)
/// and its registration.
pub(crate) struct Selected {
    pub(crate) registered: RegisteredSchema,
    /// The registry's schema when it is not the local one.
    pub(crate) schema: Option<Schema>,
}

/// Chooses the writer schema for `subject` following the table in the [module docs](self)
/// (Java's `serializeImpl` chain, after [`SerializerConfig::check`] refused the pair Python
/// refuses). `local` builds the local schema (it may register references first).
pub(crate) async fn select_writer<X>(
    registry: &dyn SchemaRegistry,
    subject: &str,
    config: &SerializerConfig<X>,
    local: impl Future<Output = Result<Schema, Error>>,
) -> Result<Selected, Error> {
    let normalize = config.normalize_schemas;
    if config.auto_register_schemas {
        // Java: `registerWithResponse(subject, schema, normalizeSchema, ...)`.
        let registered = registry.register(subject, &local.await?, normalize).await?;
        return Ok(Selected {
            registered,
            schema: None,
        });
    }
    let registered = if let Some(id) = config.use_schema_id {
        // Java: `lookupSchemaEntityBySubjectAndId(subject, useSchemaId, ...)` fetches the
        // schema by id; only header mode needs what a lookup under the subject adds, the GUID.
        let schema = registry.schema_by_id(id).await?;
        match config.schema_id_format {
            SchemaIdFormat::Prefix => RegisteredSchema {
                id,
                guid: None,
                subject: subject.to_owned(),
                version: 0,
                schema: (*schema).clone(),
            },
            SchemaIdFormat::Header => registry.lookup(subject, &schema, false, true).await?,
        }
    } else if let Some(metadata) = &config.use_latest_with_metadata {
        // Java: `getLatestWithMetadata(subject)`, deleted versions included.
        registry
            .latest_with_metadata(subject, metadata, true)
            .await?
    } else if config.use_latest_version {
        // Java: `lookupLatestVersion(subject, schema, latestCompatStrict)`.
        registry.latest(subject).await?
    } else {
        // Java: `getIdWithResponse(subject, schema, normalizeSchema)`.
        let registered = registry
            .lookup(subject, &local.await?, normalize, false)
            .await?;
        return Ok(Selected {
            registered,
            schema: None,
        });
    };
    Ok(Selected {
        schema: Some(registered.schema.clone()),
        registered,
    })
}

/// What a schema codec's format brings to the shared serializer core: its writer schema, how
/// the local one is sent to the registry, and how a registered one is read.
pub(crate) trait Format: Send + Sync + 'static {
    /// The codec's own settings (`X` of [`SerializerConfig`]).
    type Options: Send + Sync + 'static;
    /// What a writer entry holds to write with (the parsed writer schema; for Protobuf, the
    /// message indexes in it).
    type Writer: Send + Sync + 'static;

    /// The local schema's record name, for the record strategies.
    fn record_name(&self) -> Option<&str>;

    /// The local writer.
    fn local_writer(&self) -> Self::Writer;

    /// The local schema as the registry takes it (registering its references first, if any).
    fn local_schema<'a>(
        &'a self,
        registry: &'a dyn SchemaRegistry,
        config: &'a SerializerConfig<Self::Options>,
        target: Target,
    ) -> impl Future<Output = Result<Schema, Error>> + Send + 'a;

    /// Reads a schema the registry chose (`use.schema.id`, `use.latest.version`...).
    fn registered_writer<'a>(
        &'a self,
        registry: &'a dyn SchemaRegistry,
        id: u32,
        schema: &'a Schema,
    ) -> impl Future<Output = Result<Self::Writer, Error>> + Send + 'a;

    /// The Protobuf message indexes the frame carries after the id, for `writer`.
    fn message_indexes(_writer: &Self::Writer) -> Option<&[i32]> {
        None
    }

    /// The codec's error for a registry that gave no GUID for `id` in header mode.
    fn no_guid(id: u32) -> Error;
}

/// The writer resolved for one topic's key or value.
pub(crate) struct WriterEntry<W> {
    writer: W,
    /// Prefix mode: magic byte, id (or GUID) and message indexes, written before every payload;
    /// empty in header mode.
    head: Bytes,
    /// Header mode: the schema-id header value (`0x01`, GUID, message indexes).
    header: Option<Bytes>,
}

/// The framing core every schema serializer runs on: subject naming, the per-topic writer
/// entries, `preload` and `resolve`.
pub(crate) struct SerializerCore<F: Format> {
    pub(crate) registry: Arc<dyn SchemaRegistry>,
    pub(crate) config: SerializerConfig<F::Options>,
    pub(crate) format: F,
    cache: WriterCache<WriterEntry<F::Writer>>,
}

impl<F: Format> SerializerCore<F> {
    /// Checks the settings ([`SerializerConfig::check`], and that a strategy using the record
    /// name has one).
    pub(crate) fn new(
        registry: Arc<dyn SchemaRegistry>,
        config: SerializerConfig<F::Options>,
        format: F,
    ) -> Result<Self, ConfigError> {
        config.check()?;
        if config.subject_name_strategy.uses_schema()
            && format.record_name().is_none_or(str::is_empty)
        {
            return Err(ConfigError::StrategyNeedsName);
        }
        Ok(SerializerCore {
            registry,
            config,
            format,
            cache: WriterCache::default(),
        })
    }

    /// The subject for `topic`'s key or value.
    pub(crate) fn subject(&self, topic: &str, target: Target) -> Result<String, Error> {
        Ok(self.config.subject_name_strategy.subject(
            topic,
            target.is_key(),
            self.format.record_name(),
        )?)
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

    /// Frames one non-null value: the prefix (or the header), then `payload` writes the value
    /// with the writer. The caller has handled null before: a null record never needs the
    /// writer, so it never asks for registry I/O. `payload` may answer [`Serialized::Null`]
    /// (nothing framed). On error, or null, `out` is left as it was.
    pub(crate) fn write(
        &self,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
        payload: impl FnOnce(&F::Writer, &mut BytesMut) -> Result<Serialized, Error>,
    ) -> Result<Serialized, Error> {
        // The first topic resolved: a string compare, no lock, no hash; others: a read lock
        // and a map lookup. No allocation, no refcount either way.
        let topic = ctx.topic();
        self.cache.with(ctx.target(), topic, |entry| {
            let Some(entry) = entry else {
                return Err(self.unresolved(ctx));
            };
            let start = out.len();
            out.put_slice(&entry.head);
            match payload(&entry.writer, out) {
                Ok(Serialized::Data) => {}
                done => {
                    out.truncate(start);
                    return done;
                }
            }
            if let Some(header) = &entry.header {
                let name = wire::schema_id_header(ctx.target());
                ctx.headers_mut().set(name, header.clone());
            }
            Ok(Serialized::Data)
        })
    }

    /// Writes `topic`'s key or value with the local schema under `id`, without asking the
    /// registry (header mode needs a GUID).
    pub(crate) fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), Error> {
        let writer = self.format.local_writer();
        let header = match (self.config.schema_id_format, id) {
            (SchemaIdFormat::Header, SchemaId::Id(n)) => return Err(F::no_guid(n)),
            (SchemaIdFormat::Header, SchemaId::Guid(_)) => true,
            (SchemaIdFormat::Prefix, _) => false,
        };
        self.insert(topic, target, writer, id, header, true);
        Ok(())
    }

    /// Stores the entry; `replace: false` keeps an entry already there (another `resolve` of the
    /// same topic finished first: the registry gave both the same answer).
    fn insert(
        &self,
        topic: &str,
        target: Target,
        writer: F::Writer,
        id: SchemaId,
        header: bool,
        replace: bool,
    ) {
        let indexes = F::message_indexes(&writer);
        let (head, header) = if header {
            (Bytes::new(), Some(wire::header_value(id, indexes)))
        } else {
            let mut head = BytesMut::with_capacity(17 + indexes.map_or(0, |i| 1 + i.len() * 5));
            wire::write_prefix(&mut head, id);
            if let Some(indexes) = indexes {
                wire::write_message_indexes(&mut head, indexes);
            }
            (head.freeze(), None)
        };
        let entry = WriterEntry {
            writer,
            head,
            header,
        };
        self.cache.insert(topic.to_owned(), target, entry, replace);
    }

    /// Registers or looks up the writer schema for what [`write`](Self::write) reported
    /// missing, following the settings (see the [module docs](self)).
    pub(crate) async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::WriterSchema { topic, target, .. } = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        if self.cache.with(*target, topic, |entry| entry.is_some()) {
            // Another record's `resolve` for the same topic finished first.
            return Ok(());
        }
        let subject = self.subject(topic, *target)?;
        let registry = &*self.registry;
        let local = self.format.local_schema(registry, &self.config, *target);
        let selected = select_writer(registry, &subject, &self.config, local).await?;
        let registered = selected.registered;
        let writer = match &selected.schema {
            None => self.format.local_writer(),
            Some(schema) => {
                self.format
                    .registered_writer(registry, registered.id, schema)
                    .await?
            }
        };
        let (id, header) = match self.config.schema_id_format {
            SchemaIdFormat::Prefix => (SchemaId::Id(registered.id), false),
            SchemaIdFormat::Header => {
                let guid = registered.guid.ok_or_else(|| F::no_guid(registered.id))?;
                (SchemaId::Guid(guid), true)
            }
        };
        self.insert(topic, *target, writer, id, header, false);
        Ok(())
    }
}

/// Resolved writers per (key/value, topic): filled by the async `resolve`, read on every record.
///
/// Most serializers serve one topic: the first topic stored for keys (values) is read without a
/// lock or a hash; later topics go to a locked map. An entry stored again for the first topic
/// (a `preload` after `resolve`) goes to the map too, and from then on the map is the one read.
pub(crate) struct WriterCache<E> {
    /// Index 0: keys, 1: values.
    slots: [Slot<E>; 2],
}

struct Slot<E> {
    first: OnceLock<(String, E)>,
    /// Set once `first`'s topic has a newer entry in `rest`.
    first_replaced: AtomicBool,
    rest: RwLock<HashMap<String, E>>,
}

impl<E> Default for Slot<E> {
    fn default() -> Self {
        Slot {
            first: OnceLock::new(),
            first_replaced: AtomicBool::new(false),
            rest: RwLock::default(),
        }
    }
}

impl<E> Default for WriterCache<E> {
    fn default() -> Self {
        WriterCache {
            slots: Default::default(),
        }
    }
}

impl<E> WriterCache<E> {
    fn slot(&self, target: Target) -> &Slot<E> {
        &self.slots[usize::from(!target.is_key())]
    }

    /// Calls `f` with the writer for `topic`'s key or value, if stored (lock poisoning is
    /// ignored: entries are inserted whole).
    pub(crate) fn with<R>(
        &self,
        target: Target,
        topic: &str,
        f: impl FnOnce(Option<&E>) -> R,
    ) -> R {
        let slot = self.slot(target);
        if let Some((first, entry)) = slot.first.get()
            && first == topic
            && !slot.first_replaced.load(Ordering::Acquire)
        {
            return f(Some(entry));
        }
        let rest = slot.rest.read().unwrap_or_else(|e| e.into_inner());
        f(rest.get(topic))
    }

    /// Stores the writer for `topic`'s key or value; one already stored is replaced only if
    /// `replace` (a `preload`), not by a `resolve` that raced another one for the same topic
    /// (which would also move the first topic off its lock-free path).
    pub(crate) fn insert(&self, topic: String, target: Target, entry: E, replace: bool) {
        let slot = self.slot(target);
        let (topic, entry) = match slot.first.set((topic, entry)) {
            Ok(()) => return,
            Err(taken) => taken,
        };
        let is_first = slot.first.get().is_some_and(|(first, _)| *first == topic);
        let mut rest = slot.rest.write().unwrap_or_else(|e| e.into_inner());
        if !replace && (is_first || rest.contains_key(&topic)) {
            return;
        }
        rest.insert(topic, entry);
        drop(rest);
        if is_first {
            slot.first_replaced.store(true, Ordering::Release);
        }
    }
}

/// The writer schemas a schema deserializer has fetched (parsed into `W`), by the id or GUID
/// frames name them with: filled by the async `resolve`, read on every record.
///
/// The first schema stored is found without a lock, a hash or a reference count (most topics
/// are written with one schema); the others through a read lock and a map lookup.
pub(crate) struct ReaderCache<W> {
    first: OnceLock<(SchemaId, Arc<W>)>,
    /// Set when the first id was stored again: the map then holds its current writer.
    first_replaced: AtomicBool,
    map: RwLock<HashMap<SchemaId, Arc<W>>>,
}

impl<W> Default for ReaderCache<W> {
    fn default() -> Self {
        ReaderCache {
            first: OnceLock::new(),
            first_replaced: AtomicBool::new(false),
            map: RwLock::default(),
        }
    }
}

impl<W> ReaderCache<W> {
    /// The first writer stored, while it is `id`'s.
    #[inline]
    fn first(&self, id: SchemaId) -> Option<&Arc<W>> {
        match self.first.get() {
            Some((first, writer))
                if *first == id && !self.first_replaced.load(Ordering::Acquire) =>
            {
                Some(writer)
            }
            _ => None,
        }
    }

    /// The writer for `id`, or [`Unresolved::Schema`] for the async layer to fetch it.
    pub(crate) fn get(&self, id: SchemaId) -> Result<Arc<W>, Error> {
        if let Some(writer) = self.first(id) {
            return Ok(writer.clone());
        }
        self.map
            .read()
            .unwrap_or_else(|e| e.into_inner())
            .get(&id)
            .cloned()
            .ok_or(Error::Unresolved(Unresolved::Schema(id)))
    }

    /// Calls `f` with the writer for `id` (for the first writer stored: no lock, no hash, no
    /// reference count), or answers [`Unresolved::Schema`] for the async layer to fetch it.
    /// (The Avro deserializers use it; the others take their writers by value.)
    #[cfg_attr(not(feature = "avro"), allow(dead_code))]
    #[inline]
    pub(crate) fn with<R>(&self, id: SchemaId, f: impl FnOnce(&W) -> R) -> Result<R, Error> {
        match self.first(id) {
            Some(writer) => Ok(f(writer)),
            None => Ok(f(&*self.get(id)?)),
        }
    }

    /// Stores the writer for `id` (entries are inserted whole, so lock poisoning is ignored).
    pub(crate) fn insert(&self, id: SchemaId, writer: W) {
        let writer = Arc::new(writer);
        let writer = match self.first.set((id, writer)) {
            Ok(()) => return,
            Err((_, writer)) => writer,
        };
        let is_first = self.first.get().is_some_and(|(first, _)| *first == id);
        self.map
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(id, writer);
        if is_first {
            self.first_replaced.store(true, Ordering::Release);
        }
    }

    /// How many writers are cached.
    #[cfg(feature = "protobuf")]
    pub(crate) fn len(&self) -> usize {
        let first = usize::from(self.first.get().is_some());
        let replaced = usize::from(self.first_replaced.load(Ordering::Acquire));
        self.map.read().map_or(0, |m| m.len()) + first - replaced
    }
}

/// The schema a frame names, by id or GUID.
pub(crate) async fn fetch_schema(
    registry: &dyn SchemaRegistry,
    id: SchemaId,
) -> Result<Arc<Schema>, kcodec_registry::RegistryError> {
    match id {
        SchemaId::Id(n) => registry.schema_by_id(n).await,
        SchemaId::Guid(guid) => registry.schema_by_guid(guid).await,
    }
}

/// How deep schema references may nest before the registry's answers are refused.
#[cfg(any(feature = "protobuf", feature = "json-schema"))]
pub(crate) const MAX_REFERENCE_DEPTH: usize = 64;

/// Fetches `schema`'s references, transitively, keyed by reference name (a Protobuf import
/// path, a JSON Schema `$ref`); nesting deeper than [`MAX_REFERENCE_DEPTH`] (or a cycle) is
/// the codec's `too_deep` error.
#[cfg(any(feature = "protobuf", feature = "json-schema"))]
pub(crate) async fn fetch_references(
    registry: &dyn SchemaRegistry,
    schema: &Schema,
    too_deep: fn(usize) -> Error,
) -> Result<BTreeMap<String, Schema>, Error> {
    let mut found: BTreeMap<String, Schema> = BTreeMap::new();
    let mut pending: Vec<(kcodec_registry::SchemaReference, usize)> =
        schema.references.iter().map(|r| (r.clone(), 1)).collect();
    while let Some((reference, depth)) = pending.pop() {
        if found.contains_key(&reference.name) {
            continue;
        }
        if depth > MAX_REFERENCE_DEPTH {
            return Err(too_deep(MAX_REFERENCE_DEPTH));
        }
        let registered = registry
            .version(
                &reference.subject,
                kcodec_registry::Version::Number(reference.version),
                false,
            )
            .await?;
        pending.extend(
            registered
                .schema
                .references
                .iter()
                .map(|r| (r.clone(), depth + 1)),
        );
        found.insert(reference.name, registered.schema);
    }
    Ok(found)
}

#[cfg(any(feature = "avro", feature = "json-schema"))]
pub(crate) use null::is_null;

#[cfg(any(feature = "avro", feature = "json-schema"))]
mod null {
    /// Whether `value` is a null record for a schema serializer, decided from its first serde call
    /// (no allocation, no traversal): a top-level `None` for Avro (`json: false`); for JSON Schema
    /// (`json: true`) anything serde_json writes as `null` at the top (`None`, `()`, unit structs,
    /// `Value::Null`, `Some`/newtypes around those).
    pub(crate) fn is_null<T: serde::Serialize + ?Sized>(value: &T, json: bool) -> bool {
        matches!(value.serialize(NullProbe { json }), Ok(true))
    }

    #[derive(Debug)]
    struct NotNull;

    impl std::fmt::Display for NotNull {
        fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
            f.write_str("not null")
        }
    }

    impl std::error::Error for NotNull {}

    impl serde::ser::Error for NotNull {
        fn custom<M: std::fmt::Display>(_: M) -> Self {
            NotNull
        }
    }

    struct NullProbe {
        json: bool,
    }

    macro_rules! not_null {
        ($($name:ident($($arg:ty),*)),* $(,)?) => {$(
            fn $name(self, $(_: $arg),*) -> Result<bool, NotNull> { Ok(false) }
        )*};
    }

    macro_rules! compound_not_null {
        ($($name:ident($($arg:ty),*) -> $ty:ident),* $(,)?) => {$(
            fn $name(self, $(_: $arg),*) -> Result<Self::$ty, NotNull> { Err(NotNull) }
        )*};
    }

    impl serde::Serializer for NullProbe {
        type Ok = bool;
        type Error = NotNull;
        type SerializeSeq = serde::ser::Impossible<bool, NotNull>;
        type SerializeTuple = serde::ser::Impossible<bool, NotNull>;
        type SerializeTupleStruct = serde::ser::Impossible<bool, NotNull>;
        type SerializeTupleVariant = serde::ser::Impossible<bool, NotNull>;
        type SerializeMap = serde::ser::Impossible<bool, NotNull>;
        type SerializeStruct = serde::ser::Impossible<bool, NotNull>;
        type SerializeStructVariant = serde::ser::Impossible<bool, NotNull>;

        not_null!(
            serialize_bool(bool),
            serialize_i8(i8),
            serialize_i16(i16),
            serialize_i32(i32),
            serialize_i64(i64),
            serialize_i128(i128),
            serialize_u8(u8),
            serialize_u16(u16),
            serialize_u32(u32),
            serialize_u64(u64),
            serialize_u128(u128),
            serialize_f32(f32),
            serialize_f64(f64),
            serialize_char(char),
            serialize_str(&str),
            serialize_bytes(&[u8]),
            serialize_unit_variant(&'static str, u32, &'static str),
        );

        compound_not_null!(
            serialize_seq(Option<usize>) -> SerializeSeq,
            serialize_tuple(usize) -> SerializeTuple,
            serialize_tuple_struct(&'static str, usize) -> SerializeTupleStruct,
            serialize_tuple_variant(&'static str, u32, &'static str, usize) -> SerializeTupleVariant,
            serialize_map(Option<usize>) -> SerializeMap,
            serialize_struct(&'static str, usize) -> SerializeStruct,
            serialize_struct_variant(&'static str, u32, &'static str, usize) -> SerializeStructVariant,
        );

        fn serialize_none(self) -> Result<bool, NotNull> {
            Ok(true)
        }
        fn serialize_unit(self) -> Result<bool, NotNull> {
            Ok(self.json)
        }
        fn serialize_unit_struct(self, _: &'static str) -> Result<bool, NotNull> {
            Ok(self.json)
        }
        fn serialize_some<V: serde::Serialize + ?Sized>(self, v: &V) -> Result<bool, NotNull> {
            if self.json {
                v.serialize(self)
            } else {
                Ok(false)
            }
        }
        fn serialize_newtype_struct<V: serde::Serialize + ?Sized>(
            self,
            _: &'static str,
            v: &V,
        ) -> Result<bool, NotNull> {
            if self.json {
                v.serialize(self)
            } else {
                Ok(false)
            }
        }
        fn serialize_newtype_variant<V: serde::Serialize + ?Sized>(
            self,
            _: &'static str,
            _: u32,
            _: &'static str,
            _: &V,
        ) -> Result<bool, NotNull> {
            Ok(false)
        }
        fn collect_str<V: std::fmt::Display + ?Sized>(self, _: &V) -> Result<bool, NotNull> {
            Ok(false)
        }
    }
}

#[cfg(all(test, feature = "avro", feature = "json-schema"))]
mod tests {
    use super::*;

    #[test]
    fn null_probe() {
        #[derive(serde::Serialize)]
        struct Unit;
        #[derive(serde::Serialize)]
        struct New(Option<u8>);
        assert!(is_null(&None::<u8>, false));
        assert!(is_null(&None::<u8>, true));
        assert!(!is_null(&Some(1u8), false));
        assert!(!is_null(&Some(None::<u8>), false));
        assert!(is_null(&Some(None::<u8>), true));
        assert!(!is_null(&(), false));
        assert!(is_null(&(), true));
        assert!(is_null(&Unit, true));
        assert!(is_null(&New(None), true));
        assert!(!is_null(&New(Some(1)), true));
        assert!(!is_null(&vec![1u8], true));
        assert!(!is_null("null", true));
    }
}

#[cfg(test)]
mod cache_tests {
    use super::WriterCache;
    use crate::Target;
    use std::sync::atomic::Ordering;

    fn get(cache: &WriterCache<u32>, target: Target, topic: &str) -> Option<u32> {
        cache.with(target, topic, |e| e.copied())
    }

    #[test]
    fn first_topic_later_topics_and_replacement() {
        let cache = WriterCache::default();
        assert_eq!(get(&cache, Target::Value, "a"), None);
        cache.insert("a".into(), Target::Value, 1, false);
        cache.insert("b".into(), Target::Value, 2, false);
        cache.insert("a".into(), Target::Key, 3, false);
        assert_eq!(get(&cache, Target::Value, "a"), Some(1));
        assert_eq!(get(&cache, Target::Value, "b"), Some(2));
        assert_eq!(get(&cache, Target::Key, "a"), Some(3));
        assert_eq!(get(&cache, Target::Key, "b"), None);
        // A resolve that raced another one keeps what is stored, first topic or not.
        cache.insert("a".into(), Target::Value, 6, false);
        cache.insert("b".into(), Target::Value, 7, false);
        assert_eq!(get(&cache, Target::Value, "a"), Some(1));
        assert_eq!(get(&cache, Target::Value, "b"), Some(2));
        assert!(
            !cache
                .slot(Target::Value)
                .first_replaced
                .load(Ordering::Relaxed)
        );
        // A preload replaces, for every topic.
        cache.insert("a".into(), Target::Value, 4, true);
        cache.insert("b".into(), Target::Value, 5, true);
        assert_eq!(get(&cache, Target::Value, "a"), Some(4));
        assert_eq!(get(&cache, Target::Value, "b"), Some(5));
        assert_eq!(get(&cache, Target::Key, "a"), Some(3));
        // ... and again: the latest preload wins.
        cache.insert("a".into(), Target::Value, 8, true);
        assert_eq!(get(&cache, Target::Value, "a"), Some(8));
    }
}

#[cfg(test)]
mod reader_cache_tests {
    use super::ReaderCache;
    use crate::wire::SchemaId;
    use crate::{Error, Unresolved};

    fn get(cache: &ReaderCache<u32>, id: u32) -> Option<u32> {
        match cache.with(SchemaId::Id(id), |w| *w) {
            Ok(w) => {
                assert_eq!(cache.get(SchemaId::Id(id)).ok().as_deref(), Some(&w));
                Some(w)
            }
            Err(Error::Unresolved(Unresolved::Schema(SchemaId::Id(n)))) if n == id => None,
            Err(e) => panic!("{e}"),
        }
    }

    #[test]
    fn first_id_later_ids_and_replacement() {
        let cache = ReaderCache::default();
        assert_eq!(get(&cache, 1), None);
        cache.insert(SchemaId::Id(1), 10);
        cache.insert(SchemaId::Id(2), 20);
        assert_eq!(get(&cache, 1), Some(10));
        assert_eq!(get(&cache, 2), Some(20));
        assert_eq!(get(&cache, 3), None);
        // Storing an id again replaces its writer, the first id's too (off its lock-free path).
        cache.insert(SchemaId::Id(2), 21);
        cache.insert(SchemaId::Id(1), 11);
        assert_eq!(get(&cache, 1), Some(11));
        assert_eq!(get(&cache, 2), Some(21));
        cache.insert(SchemaId::Id(1), 12);
        assert_eq!(get(&cache, 1), Some(12));
        #[cfg(feature = "protobuf")]
        assert_eq!(cache.len(), 2);
    }
}
