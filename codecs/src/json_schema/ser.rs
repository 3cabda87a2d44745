//! The JSON Schema serializer: registration, per-topic cache, validation, framing.

use super::{JsonSchema, JsonSchemaError};
use crate::resolve::ResolveFuture;
use crate::subject::{self, Format, SerializerConfig, SerializerCore};
use crate::wire::SchemaId;
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::{BufMut, BytesMut};
use kcodec_registry::SchemaRegistry;
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

/// How a JSON Schema serializer picks and frames its writer schema: the settings every schema
/// serializer shares ([`SerializerConfig`]) plus [`JsonSchemaOptions`].
///
/// ```
/// use kcodec_codecs::json_schema::JsonSchemaSerializerConfig;
/// use kcodec_registry::strategy::RecordNameStrategy;
///
/// let config = JsonSchemaSerializerConfig::new()
///     .validate(false)
///     .subject_name_strategy(RecordNameStrategy);
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

/// JSON Schema's part of the serializer core: the local schema, and the registry's parsed.
struct Json {
    schema: Arc<JsonSchema>,
}

type Core = SerializerCore<Json>;

impl Format for Json {
    type Options = JsonSchemaOptions;
    /// The schema values are validated against (the local one, or the registry's).
    type Writer = Arc<JsonSchema>;

    fn record_name(&self) -> Option<&str> {
        self.schema.title()
    }

    fn local_writer(&self) -> Arc<JsonSchema> {
        self.schema.clone()
    }

    async fn local_schema(
        &self,
        _: &dyn SchemaRegistry,
        _: &JsonSchemaSerializerConfig,
        _: Target,
    ) -> Result<kcodec_registry::Schema, Error> {
        Ok(self.schema.to_registry_schema())
    }

    async fn registered_writer(
        &self,
        registry: &dyn SchemaRegistry,
        id: u32,
        schema: &kcodec_registry::Schema,
    ) -> Result<Arc<JsonSchema>, Error> {
        let parsed = super::de::parse_registered(registry, SchemaId::Id(id), schema).await?;
        Ok(Arc::new(parsed))
    }

    fn no_guid(id: u32) -> Error {
        JsonSchemaError::NoGuid(id).into()
    }
}

/// Serializes any serde type as compact JSON framed with the Confluent wire format, validating
/// it against the JSON Schema first (unless turned off). A value that serializes to JSON `null`
/// (such as `None`) is a null record, and needs no registry.
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
            .field("title", &self.core.format.schema.title())
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
    /// strategy that uses the record name (Record, TopicRecord) is asked for and the schema has
    /// no `title`.
    pub fn with_config(
        registry: Arc<dyn SchemaRegistry>,
        schema: JsonSchema,
        config: JsonSchemaSerializerConfig,
    ) -> Result<Self, JsonSchemaError> {
        let format = Json {
            schema: Arc::new(schema),
        };
        Ok(JsonSchemaSerializer {
            core: Arc::new(SerializerCore::new(registry, config, format)?),
            _type: PhantomData,
        })
    }

    /// Frames `topic`'s key or value with schema `id` and validates against the local schema,
    /// without asking the registry (the id must be the schema's registered id; in header
    /// mode, its GUID).
    pub fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), Error> {
        self.core.preload(topic, target, id)
    }

    /// The local schema.
    pub fn schema(&self) -> &JsonSchema {
        &self.core.format.schema
    }
}

impl<T: Serialize + ?Sized> Serializer<T> for JsonSchemaSerializer<T> {
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        let validated = if self.core.config.options.validate {
            let json = serde_json::to_value(value).map_err(JsonSchemaError::Json)?;
            if json.is_null() {
                return Ok(Serialized::Null);
            }
            Some(json)
        } else if subject::is_null(value, true) {
            return Ok(Serialized::Null);
        } else {
            None
        };
        self.core.write(ctx, out, |schema, out| {
            if let Some(json) = &validated {
                schema.validate(json)?;
            }
            let payload = out.len();
            serde_json::to_writer(out.writer(), value).map_err(JsonSchemaError::Json)?;
            // A `Serialize` impl the probe could not see through may still write `null`.
            Ok(if &out[payload..] == b"null" {
                Serialized::Null
            } else {
                Serialized::Data
            })
        })
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}
