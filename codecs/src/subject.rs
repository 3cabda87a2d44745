//! What the schema serializers (Avro, Protobuf, JSON Schema) share: subject naming, where the
//! schema id goes, the writer-schema settings ([`SerializerConfig`]) and how a writer schema is
//! chosen from them.
//!
//! Each codec's config is this one type with its own extra settings: `AvroSerializerConfig` is
//! `SerializerConfig<()>`, `ProtobufSerializerConfig` adds `skip.known.types` and the reference
//! subject strategy, `JsonSchemaSerializerConfig` adds `json.validate`.

pub use kcodec_registry::strategy::{SubjectKind, SubjectNameStrategy};

use crate::Error;
use crate::wire::{self, SchemaId};
use bytes::Bytes;
use kcodec_registry::{RegisteredSchema, Schema, SchemaRegistry};
use std::collections::HashMap;
use std::sync::{Arc, RwLock, RwLockReadGuard};

/// The registry's [`SubjectKind`] for a key or a value.
pub fn kind(target: crate::Target) -> SubjectKind {
    if target.is_key() {
        SubjectKind::Key
    } else {
        SubjectKind::Value
    }
}

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

/// Settings that exclude each other.
#[derive(Debug, Clone, Copy, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum ConfigError {
    /// `use.latest.version` with `auto.register.schemas`, refused as Confluent's clients do.
    #[error("cannot enable both use.latest.version and auto.register.schemas")]
    LatestWithAutoRegister,
}

/// How a schema serializer picks and frames its writer schema, in the builder style; every
/// setting names Confluent's config key. `X` holds the codec's own settings.
///
/// ```
/// use kcodec_codecs::subject::{ConfigError, SchemaIdFormat, SerializerConfig, SubjectNameStrategy};
///
/// let config: SerializerConfig = SerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .subject_name_strategy(SubjectNameStrategy::Record)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert_eq!(config.check(), Ok(()));
/// // Confluent refuses use.latest.version together with auto.register.schemas:
/// let both: SerializerConfig = SerializerConfig::new().use_latest_version(true);
/// assert_eq!(both.check(), Err(ConfigError::LatestWithAutoRegister));
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SerializerConfig<X = ()> {
    pub(crate) auto_register_schemas: bool,
    pub(crate) use_latest_version: bool,
    pub(crate) use_schema_id: Option<u32>,
    pub(crate) normalize_schemas: bool,
    pub(crate) subject_name_strategy: SubjectNameStrategy,
    pub(crate) schema_id_format: SchemaIdFormat,
    pub(crate) options: X,
}

impl<X: Default> Default for SerializerConfig<X> {
    fn default() -> Self {
        SerializerConfig {
            auto_register_schemas: true,
            use_latest_version: false,
            use_schema_id: None,
            normalize_schemas: false,
            subject_name_strategy: SubjectNameStrategy::Topic,
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
    /// `auto.register.schemas` (default `true`): register the writer schema under its subject;
    /// when `false`, look it up and fail if it is not registered.
    pub fn auto_register_schemas(mut self, on: bool) -> Self {
        self.auto_register_schemas = on;
        self
    }

    /// `use.latest.version` (default `false`): write with the subject's latest registered
    /// version. Needs `auto_register_schemas(false)`.
    pub fn use_latest_version(mut self, on: bool) -> Self {
        self.use_latest_version = on;
        self
    }

    /// `use.schema.id`: write with the registered schema of this id (looked up under the
    /// subject). Takes precedence over the other choices.
    pub fn use_schema_id(mut self, id: Option<u32>) -> Self {
        self.use_schema_id = id;
        self
    }

    /// `normalize.schemas` (default `false`): ask the registry to normalize the schema before
    /// registering or looking it up.
    pub fn normalize_schemas(mut self, on: bool) -> Self {
        self.normalize_schemas = on;
        self
    }

    /// `subject.name.strategy` (default Topic: `<topic>-key|value`). The record strategies use
    /// the Avro record's full name, the Protobuf message's full name or the JSON Schema's title.
    pub fn subject_name_strategy(mut self, strategy: SubjectNameStrategy) -> Self {
        self.subject_name_strategy = strategy;
        self
    }

    /// `schema.id.serializer`: the id as prefix (default) or, as the schema's GUID, in a header.
    pub fn schema_id_format(mut self, format: SchemaIdFormat) -> Self {
        self.schema_id_format = format;
        self
    }

    /// Refuses settings that exclude each other (`use.latest.version` with
    /// `auto.register.schemas`), as Confluent's clients do.
    pub fn check(&self) -> Result<(), ConfigError> {
        if self.use_latest_version && self.auto_register_schemas {
            return Err(ConfigError::LatestWithAutoRegister);
        }
        Ok(())
    }
}

/// Where the chosen writer schema came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Origin {
    /// The serializer's own schema, registered (or looked up) under the subject.
    Local,
    /// The registry's schema (`use.schema.id` or `use.latest.version`): parse
    /// `RegisteredSchema::schema` to write with it.
    Registry,
}

/// Chooses the writer schema for `subject` as Confluent's serializers do: `use.schema.id`
/// first, then `use.latest.version`, else the local schema (built by `local`, which may
/// register references first), registered or looked up.
pub(crate) async fn select_writer<X>(
    registry: &dyn SchemaRegistry,
    subject: &str,
    config: &SerializerConfig<X>,
    local: impl AsyncFnOnce() -> Result<Schema, Error>,
) -> Result<(RegisteredSchema, Origin), Error> {
    if let Some(id) = config.use_schema_id {
        let schema = registry.schema_by_id(id).await?;
        let registered = registry.lookup(subject, &schema, false, true).await?;
        return Ok((registered, Origin::Registry));
    }
    if config.use_latest_version {
        return Ok((registry.latest(subject).await?, Origin::Registry));
    }
    let schema = local().await?;
    let normalize = config.normalize_schemas;
    let registered = if config.auto_register_schemas {
        registry.register(subject, &schema, normalize).await?
    } else {
        registry.lookup(subject, &schema, normalize, false).await?
    };
    Ok((registered, Origin::Local))
}

/// The schema-id header value for `registered` in header mode (`None` in prefix mode), with
/// the Protobuf message `indexes` if any; `Err(id)` when the registry gave no GUID.
pub(crate) fn id_header(
    format: SchemaIdFormat,
    registered: &RegisteredSchema,
    indexes: Option<&[i32]>,
) -> Result<Option<Bytes>, u32> {
    match format {
        SchemaIdFormat::Prefix => Ok(None),
        SchemaIdFormat::Header => {
            let guid = registered.guid.ok_or(registered.id)?;
            Ok(Some(wire::header_value(SchemaId::Guid(guid), indexes)))
        }
    }
}

/// The schema-id header value for a writer preloaded under `id` (header mode needs a GUID);
/// `Err(id)` when header mode is given a numeric id.
pub(crate) fn preloaded_header(
    format: SchemaIdFormat,
    id: SchemaId,
    indexes: Option<&[i32]>,
) -> Result<Option<Bytes>, u32> {
    match (format, id) {
        (SchemaIdFormat::Prefix, _) => Ok(None),
        (SchemaIdFormat::Header, SchemaId::Guid(_)) => Ok(Some(wire::header_value(id, indexes))),
        (SchemaIdFormat::Header, SchemaId::Id(n)) => Err(n),
    }
}

/// Resolved writers per (key/value, topic): filled by the async `resolve`, read on every record.
pub(crate) struct WriterCache<E> {
    /// Index 0: keys, 1: values.
    slots: [RwLock<HashMap<String, Arc<E>>>; 2],
}

impl<E> Default for WriterCache<E> {
    fn default() -> Self {
        WriterCache {
            slots: Default::default(),
        }
    }
}

impl<E> WriterCache<E> {
    fn slot(target: crate::Target) -> usize {
        usize::from(!target.is_key())
    }

    /// The map for keys or values, read-locked (lock poisoning is ignored: entries are
    /// inserted whole).
    pub(crate) fn read(
        &self,
        target: crate::Target,
    ) -> RwLockReadGuard<'_, HashMap<String, Arc<E>>> {
        self.slots[Self::slot(target)]
            .read()
            .unwrap_or_else(|e| e.into_inner())
    }

    /// The writer for `topic`'s key or value, if resolved.
    #[cfg(any(feature = "avro", feature = "json-schema"))]
    pub(crate) fn get(&self, topic: &str, target: crate::Target) -> Option<Arc<E>> {
        self.read(target).get(topic).cloned()
    }

    /// Stores the writer for `topic`'s key or value.
    pub(crate) fn insert(&self, topic: String, target: crate::Target, entry: E) {
        self.slots[Self::slot(target)]
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic, Arc::new(entry));
    }
}
