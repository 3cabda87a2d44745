//! The JSON Schema serializer: registration, per-topic cache, validation, framing.

use super::{JsonSchema, JsonSchemaError};
use crate::resolve::ResolveFuture;
use crate::subject::{self, Origin, SerializerConfig, SubjectNameStrategy, WriterCache};
use crate::wire::{self, SchemaId};
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::{BufMut, Bytes, BytesMut};
use kcodec_registry::SchemaRegistry;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

/// How a JSON Schema serializer picks and frames its writer schema: the settings every schema
/// serializer shares ([`SerializerConfig`]) plus [`JsonSchemaOptions`].
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
pub type JsonSchemaSerializerConfig = SerializerConfig<JsonSchemaOptions>;

/// The JSON Schema serializer's own settings (see [`JsonSchemaSerializerConfig`]).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct JsonSchemaOptions {
    validate: bool,
}

impl Default for JsonSchemaOptions {
    fn default() -> Self {
        JsonSchemaOptions { validate: true }
    }
}

impl SerializerConfig<JsonSchemaOptions> {
    /// `json.fail.invalid.schema` / validation (default `true`): check every value against the
    /// schema before writing it.
    pub fn validate(mut self, on: bool) -> Self {
        self.options.validate = on;
        self
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
    cache: WriterCache<WriterEntry>,
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
                cache: WriterCache::default(),
            }),
            _type: PhantomData,
        })
    }

    /// Frames `topic`'s key or value with schema `id` and validates against the local schema,
    /// without asking the registry (the id must be the schema's registered id; in header
    /// mode, its GUID).
    pub fn preload(
        &self,
        topic: &str,
        target: Target,
        id: SchemaId,
    ) -> Result<(), JsonSchemaError> {
        let core = &self.core;
        let header = subject::preloaded_header(core.config.schema_id_format, id, None)
            .map_err(JsonSchemaError::NoGuid)?;
        let mut head = [0u8; 5];
        if let SchemaId::Id(n) = id {
            head[1..].copy_from_slice(&n.to_be_bytes());
        }
        let entry = WriterEntry {
            schema: core.schema.clone(),
            head,
            header,
        };
        core.cache.insert(topic.to_owned(), target, entry);
        Ok(())
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
        match self.cache.get(ctx.topic(), ctx.target()) {
            Some(entry) => Ok(entry),
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
        let local = async || Ok(self.schema.to_registry_schema());
        let (registered, origin) =
            subject::select_writer(registry, &subject, &self.config, local).await?;
        let schema = match origin {
            Origin::Local => self.schema.clone(),
            Origin::Registry => Arc::new(
                super::de::parse_registered(
                    registry,
                    SchemaId::Id(registered.id),
                    &registered.schema,
                )
                .await?,
            ),
        };
        let mut head = [0u8; 5];
        head[1..].copy_from_slice(&registered.id.to_be_bytes());
        let header = subject::id_header(self.config.schema_id_format, &registered, None)
            .map_err(JsonSchemaError::NoGuid)?;
        let entry = WriterEntry {
            schema,
            head,
            header,
        };
        self.cache.insert(topic.clone(), *target, entry);
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
        if core.config.options.validate {
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
