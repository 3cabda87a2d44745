//! The JSON Schema serializer: registration, per-topic cache, validation, framing.

use super::{JsonSchema, JsonSchemaError};
use crate::resolve::ResolveFuture;
use crate::subject::{SchemaIdFormat, SubjectNameStrategy};
use crate::wire::{self, SchemaId};
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::{BufMut, Bytes, BytesMut};
use kcodec_registry::{RegisteredSchema, SchemaRegistry};
use serde::Serialize;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

/// How a JSON Schema serializer picks and frames its writer schema. Every setting names
/// Confluent's config key.
///
/// ```
/// use kcodec_codecs::json_schema::{JsonSchemaSerializerConfig, SubjectNameStrategy};
///
/// let config = JsonSchemaSerializerConfig::new()
///     .validate(false)
///     .subject_name_strategy(SubjectNameStrategy::Record);
/// assert!(config.check().is_ok());
/// assert!(JsonSchemaSerializerConfig::new().use_latest_version(true).check().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSchemaSerializerConfig {
    auto_register_schemas: bool,
    use_latest_version: bool,
    use_schema_id: Option<u32>,
    normalize_schemas: bool,
    validate: bool,
    subject_name_strategy: SubjectNameStrategy,
    schema_id_format: SchemaIdFormat,
}

impl Default for JsonSchemaSerializerConfig {
    fn default() -> Self {
        JsonSchemaSerializerConfig {
            auto_register_schemas: true,
            use_latest_version: false,
            use_schema_id: None,
            normalize_schemas: false,
            validate: true,
            subject_name_strategy: SubjectNameStrategy::Topic,
            schema_id_format: SchemaIdFormat::Prefix,
        }
    }
}

impl JsonSchemaSerializerConfig {
    /// Confluent's defaults: auto-register, validate, Topic strategy, id as prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// `auto.register.schemas` (default `true`).
    pub fn auto_register_schemas(mut self, on: bool) -> Self {
        self.auto_register_schemas = on;
        self
    }

    /// `use.latest.version` (default `false`): frame with the subject's latest version's id
    /// (and validate against that schema). Needs `auto_register_schemas(false)`.
    pub fn use_latest_version(mut self, on: bool) -> Self {
        self.use_latest_version = on;
        self
    }

    /// `use.schema.id`: frame with this schema id.
    pub fn use_schema_id(mut self, id: Option<u32>) -> Self {
        self.use_schema_id = id;
        self
    }

    /// `normalize.schemas` (default `false`).
    pub fn normalize_schemas(mut self, on: bool) -> Self {
        self.normalize_schemas = on;
        self
    }

    /// `validate` (default `true`): check every value against the schema before writing it.
    pub fn validate(mut self, on: bool) -> Self {
        self.validate = on;
        self
    }

    /// `subject.name.strategy` (default Topic). Record uses the schema's `title`.
    pub fn subject_name_strategy(mut self, strategy: SubjectNameStrategy) -> Self {
        self.subject_name_strategy = strategy;
        self
    }

    /// `schema.id.serializer`: the id as prefix (default) or, as a GUID, in a header.
    pub fn schema_id_format(mut self, format: SchemaIdFormat) -> Self {
        self.schema_id_format = format;
        self
    }

    /// Refuses `use.latest.version` together with `auto.register.schemas`.
    pub fn check(&self) -> Result<(), JsonSchemaError> {
        if self.use_latest_version && self.auto_register_schemas {
            return Err(JsonSchemaError::Config(
                "cannot enable both use.latest.version and auto.register.schemas",
            ));
        }
        Ok(())
    }
}

#[derive(Debug)]
struct WriterEntry {
    /// The schema values are validated against (the local one, or the latest version's).
    schema: Arc<JsonSchema>,
    /// Prefix mode: magic byte and id.
    head: [u8; 5],
    /// Header mode: the header value.
    header: Option<Bytes>,
}

struct Core {
    registry: Arc<dyn SchemaRegistry>,
    schema: Arc<JsonSchema>,
    config: JsonSchemaSerializerConfig,
    cache: [RwLock<HashMap<String, Arc<WriterEntry>>>; 2],
}

fn slot(target: Target) -> usize {
    usize::from(!target.is_key())
}

/// Serializes any serde type as compact JSON framed with the Confluent wire format, validating
/// it against the JSON Schema first (unless turned off). A value that serializes to JSON `null`
/// (such as `None`) is a null record.
pub struct JsonSchemaSerializer<T: ?Sized> {
    core: Arc<Core>,
    _type: PhantomData<fn(&T)>,
}

impl<T: ?Sized> Clone for JsonSchemaSerializer<T> {
    fn clone(&self) -> Self {
        JsonSchemaSerializer {
            core: self.core.clone(),
            _type: PhantomData,
        }
    }
}

impl<T: ?Sized> std::fmt::Debug for JsonSchemaSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("JsonSchemaSerializer")
            .field("title", &self.core.schema.title())
            .field("config", &self.core.config)
            .finish()
    }
}

impl<T: ?Sized> JsonSchemaSerializer<T> {
    /// A serializer with Confluent's defaults.
    pub fn new(
        registry: Arc<dyn SchemaRegistry>,
        schema: JsonSchema,
    ) -> Result<Self, JsonSchemaError> {
        Self::with_config(registry, schema, JsonSchemaSerializerConfig::default())
    }

    /// A serializer with this configuration. Fails if settings exclude each other, or if a
    /// Record strategy is asked for and the schema has no `title`.
    pub fn with_config(
        registry: Arc<dyn SchemaRegistry>,
        schema: JsonSchema,
        config: JsonSchemaSerializerConfig,
    ) -> Result<Self, JsonSchemaError> {
        config.check()?;
        if config.subject_name_strategy != SubjectNameStrategy::Topic && schema.title().is_none() {
            return Err(JsonSchemaError::Config(
                "the Record and TopicRecord subject strategies need the schema's title",
            ));
        }
        Ok(JsonSchemaSerializer {
            core: Arc::new(Core {
                registry,
                schema: Arc::new(schema),
                config,
                cache: Default::default(),
            }),
            _type: PhantomData,
        })
    }

    /// The local schema.
    pub fn schema(&self) -> &JsonSchema {
        &self.core.schema
    }
}

impl Core {
    fn subject(&self, topic: &str, target: Target) -> Result<String, Error> {
        Ok(self.config.subject_name_strategy.subject(
            topic,
            crate::subject::kind(target),
            self.schema.title(),
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

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::WriterSchema { topic, target, .. } = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let subject = self.subject(topic, *target)?;
        let registry = &*self.registry;
        let normalize = self.config.normalize_schemas;
        let (registered, schema): (RegisteredSchema, Arc<JsonSchema>) = if let Some(id) =
            self.config.use_schema_id
        {
            let schema = registry.schema_by_id(id).await?;
            let registered = registry.lookup(&subject, &schema, false, true).await?;
            let parsed = super::de::parse_registered(registry, SchemaId::Id(id), &schema).await?;
            (registered, Arc::new(parsed))
        } else if self.config.use_latest_version {
            let registered = registry.latest(&subject).await?;
            let parsed = super::de::parse_registered(
                registry,
                SchemaId::Id(registered.id),
                &registered.schema,
            )
            .await?;
            (registered, Arc::new(parsed))
        } else {
            let local = self.schema.to_registry_schema();
            let registered = if self.config.auto_register_schemas {
                registry.register(&subject, &local, normalize).await?
            } else {
                registry.lookup(&subject, &local, normalize, false).await?
            };
            (registered, self.schema.clone())
        };
        let mut head = [0u8; 5];
        head[1..].copy_from_slice(&registered.id.to_be_bytes());
        let header = match self.config.schema_id_format {
            SchemaIdFormat::Prefix => None,
            SchemaIdFormat::Header => {
                let guid = registered
                    .guid
                    .ok_or(JsonSchemaError::NoGuid(registered.id))?;
                Some(wire::header_value(SchemaId::Guid(guid), None))
            }
        };
        self.cache[slot(*target)]
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(
                topic.clone(),
                Arc::new(WriterEntry {
                    schema,
                    head,
                    header,
                }),
            );
        Ok(())
    }
}

impl<T: Serialize + ?Sized> Serializer<T> for JsonSchemaSerializer<T> {
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        let core = &self.core;
        let entry = core.entry(ctx)?;
        if core.config.validate {
            let json = serde_json::to_value(value).map_err(JsonSchemaError::Json)?;
            if json.is_null() {
                return Ok(Serialized::Null);
            }
            entry.schema.validate(&json)?;
        }
        let start = out.len();
        if entry.header.is_none() {
            out.put_slice(&entry.head);
        }
        let payload = out.len();
        if let Err(e) = serde_json::to_writer(out.writer(), value) {
            out.truncate(start);
            return Err(JsonSchemaError::Json(e).into());
        }
        if &out[payload..] == b"null" {
            out.truncate(start);
            return Ok(Serialized::Null);
        }
        if let Some(header) = &entry.header {
            let name = wire::schema_id_header(ctx.target());
            ctx.headers_mut().set(name, header.clone());
        }
        Ok(Serialized::Data)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}
