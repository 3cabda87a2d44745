//! Avro serializers: schema selection (register, look up, latest, by id), caching per topic, and
//! framing.

use super::{AvroError, OrderedValue, ParsedSchema, Value};
use crate::resolve::ResolveFuture;
use crate::subject::{self, Format, SerializerConfig, SerializerCore};
use crate::wire::SchemaId;
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::BytesMut;
use kcodec_registry::{SchemaRegistry, SchemaType};
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

/// How an Avro serializer picks and frames its writer schema: the settings every schema
/// serializer shares ([`SerializerConfig`](crate::subject::SerializerConfig)), none of its own.
///
/// ```
/// use kcodec_codecs::avro::AvroSerializerConfig;
/// use kcodec_codecs::subject::SchemaIdFormat;
/// use kcodec_registry::strategy::RecordNameStrategy;
///
/// let config = AvroSerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .subject_name_strategy(RecordNameStrategy)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert!(config.check().is_ok());
/// // Java registers and ignores use.latest.version; Python refuses the pair:
/// assert!(AvroSerializerConfig::new().use_latest_version(true).check().is_err());
/// ```
pub type AvroSerializerConfig = SerializerConfig;

/// Avro's part of the serializer core: the local schema, and the registry's schemas parsed.
struct Avro {
    schema: ParsedSchema,
}

type Core = SerializerCore<Avro>;

impl Format for Avro {
    type Options = ();
    type Writer = ParsedSchema;

    /// A record's full name; `None` for any other schema, as Java's `AvroSchema.name()`, so the
    /// record strategies refuse it ("the message value must only be a record schema").
    fn record_name(&self) -> Option<&str> {
        matches!(self.schema.schema(), apache_avro::Schema::Record(_)).then(|| self.schema.name())
    }

    fn local_writer(&self) -> ParsedSchema {
        self.schema.clone()
    }

    async fn local_schema(
        &self,
        _: &dyn SchemaRegistry,
        _: &AvroSerializerConfig,
        _: Target,
    ) -> Result<kcodec_registry::Schema, Error> {
        Ok(kcodec_registry::Schema::avro(self.schema.text())
            .with_references(self.schema.references().to_vec()))
    }

    async fn registered_writer(
        &self,
        registry: &dyn SchemaRegistry,
        id: u32,
        schema: &kcodec_registry::Schema,
    ) -> Result<ParsedSchema, Error> {
        parse_registered(registry, SchemaId::Id(id), schema).await
    }

    fn no_guid(id: u32) -> Error {
        AvroError::NoGuid(id).into()
    }
}

fn new_core(
    registry: Arc<dyn SchemaRegistry>,
    schema: ParsedSchema,
    config: AvroSerializerConfig,
) -> Result<Core, AvroError> {
    Ok(SerializerCore::new(registry, config, Avro { schema })?)
}

/// Frames a non-null value written by `encode` with `schema` (a top-level `bytes` schema
/// written raw, with no length prefix, as Confluent's serializers do).
fn frame(
    core: &Core,
    ctx: &mut SerializeContext<'_>,
    out: &mut BytesMut,
    encode: impl FnOnce(&ParsedSchema, &mut BytesMut) -> Result<(), AvroError>,
) -> Result<Serialized, Error> {
    core.write(ctx, out, |schema, out| {
        let payload = out.len();
        encode(schema, out)?;
        if schema.is_raw_bytes() {
            strip_length_prefix(out, payload);
        }
        Ok(Serialized::Data)
    })
}

/// Encodes a serde value with the writer schema's compiled plan (the one call the typed path
/// makes). A top-level `Some(x)` is `x`, unless the schema is a union that picks a branch for it.
fn encode_typed<T: Serialize + ?Sized>(
    schema: &ParsedSchema,
    value: &T,
    out: &mut BytesMut,
) -> Result<(), AvroError> {
    super::typed::to_bytes(schema.plan(), value, out)
}

/// Parses a schema the registry returned, refusing non-Avro ones and fetching the schemas it
/// references (and theirs), at most [`MAX_REFERENCES`] in all.
pub(crate) async fn parse_registered(
    registry: &dyn SchemaRegistry,
    id: SchemaId,
    schema: &kcodec_registry::Schema,
) -> Result<ParsedSchema, Error> {
    if schema.schema_type != SchemaType::Avro {
        return Err(AvroError::NotAvro {
            id,
            schema_type: schema.schema_type,
        }
        .into());
    }
    if schema.references.is_empty() {
        return Ok(ParsedSchema::parse(&schema.schema)?);
    }
    let mut seen = std::collections::HashSet::new();
    let mut texts = Vec::new();
    let mut queue: Vec<kcodec_registry::SchemaReference> = schema.references.clone();
    while let Some(reference) = queue.pop() {
        if !seen.insert((reference.subject.clone(), reference.version)) {
            continue;
        }
        if seen.len() > MAX_REFERENCES {
            return Err(AvroError::Config("a schema references more than 64 schemas").into());
        }
        let registered = registry
            .version(
                &reference.subject,
                kcodec_registry::Version::Number(reference.version),
                true,
            )
            .await?;
        queue.extend(registered.schema.references.iter().cloned());
        texts.push(registered.schema.schema);
    }
    let deps: Vec<&str> = texts.iter().map(String::as_str).collect();
    Ok(ParsedSchema::parse_with_references(
        &schema.schema,
        schema.references.clone(),
        &deps,
    )?)
}

/// How many schemas one schema's references may pull in, transitively.
pub const MAX_REFERENCES: usize = 64;

/// Removes the Avro length prefix of a top-level `bytes` value written at `out[start..]`.
fn strip_length_prefix(out: &mut BytesMut, start: usize) {
    let prefix = out[start..]
        .iter()
        .position(|b| b & 0x80 == 0)
        .map_or(0, |i| i + 1);
    let len = out.len();
    out.copy_within(start + prefix..len, start);
    out.truncate(len - prefix);
}

/// Serializes any serde type as Avro, framed with the Confluent wire format.
///
/// The writer schema is given explicitly; a `None` at the top level is a null record. See the
/// [module docs](super) for how the schema is chosen and when the registry is called.
pub struct AvroSerializer<T: ?Sized> {
    core: Arc<Core>,
    /// A record's generated encoder (`for_record`), used when the writer schema is the local one.
    raw: Option<RawEncode<T>>,
    _type: PhantomData<fn(&T)>,
}

/// A derived record's generated Avro encoder ([`super::raw::encode`]).
type RawEncode<T> = fn(&T, &mut BytesMut) -> Result<(), AvroError>;

impl<T: ?Sized> Clone for AvroSerializer<T> {
    fn clone(&self) -> Self {
        AvroSerializer {
            core: self.core.clone(),
            raw: self.raw,
            _type: PhantomData,
        }
    }
}

impl<T: ?Sized> std::fmt::Debug for AvroSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroSerializer")
            .field("schema", &self.core.format.schema)
            .field("config", &self.core.config)
            .finish()
    }
}

impl<T: ?Sized> AvroSerializer<T> {
    /// A serializer with Confluent's defaults (auto-register, Topic strategy, id prefix).
    pub fn new(registry: Arc<dyn SchemaRegistry>, schema: ParsedSchema) -> Self {
        Self::with_config(registry, schema, AvroSerializerConfig::default())
            .expect("the default config is valid")
    }

    /// A serializer with this configuration; fails if the settings exclude each other.
    pub fn with_config(
        registry: Arc<dyn SchemaRegistry>,
        schema: ParsedSchema,
        config: AvroSerializerConfig,
    ) -> Result<Self, AvroError> {
        Ok(AvroSerializer {
            core: Arc::new(new_core(registry, schema, config)?),
            raw: None,
            _type: PhantomData,
        })
    }

    /// Uses the local schema under `id` for `topic`'s key or value without asking the registry
    /// (the id must be the schema's registered id; in header mode, its GUID).
    pub fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), Error> {
        self.core.preload(topic, target, id)
    }

    /// The local writer schema.
    pub fn schema(&self) -> &ParsedSchema {
        &self.core.format.schema
    }
}

impl<T: crate::record::Record> AvroSerializer<T> {
    /// A serializer whose writer schema is the record's own ([`Record::avro_schema`](crate::record::Record::avro_schema)),
    /// with Confluent's defaults.
    pub fn for_record(registry: Arc<dyn SchemaRegistry>) -> Result<Self, AvroError> {
        Self::for_record_with_config(registry, AvroSerializerConfig::default())
    }

    /// A serializer for the record's own schema with this configuration.
    ///
    /// While the writer schema is the record's own (references included), records are written
    /// by the code `#[derive(Record)]` generated for it
    /// ([`AvroType::avro_encode_raw`](crate::record::AvroType::avro_encode_raw)); a writer schema
    /// picked from the registry that differs (`use_latest_version`, `use_schema_id`…) is
    /// written through its compiled plan.
    pub fn for_record_with_config(
        registry: Arc<dyn SchemaRegistry>,
        config: AvroSerializerConfig,
    ) -> Result<Self, AvroError> {
        let own = T::try_avro_schema()?;
        let mut ser = Self::with_config(registry, own.parsed().clone(), config)?;
        if own.has_raw() {
            ser.raw = Some(super::raw::encode::<T>);
        }
        Ok(ser)
    }
}

impl<T: Serialize + ?Sized> Serializer<T> for AvroSerializer<T> {
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        if subject::is_null(value, false) {
            return Ok(Serialized::Null);
        }
        let own = &self.core.format.schema;
        frame(&self.core, ctx, out, |schema, out| match self.raw {
            Some(raw) if schema.is(own) => raw(value, out),
            _ => encode_typed(schema, value, out),
        })
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}

/// Serializes apache-avro's generic [`Value`] against the given writer schema (validated first),
/// framed with the Confluent wire format. `Option<Value>`'s `None` is a null record.
#[derive(Clone)]
pub struct GenericAvroSerializer {
    core: Arc<Core>,
}

impl std::fmt::Debug for GenericAvroSerializer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenericAvroSerializer")
            .field("schema", &self.core.format.schema)
            .field("config", &self.core.config)
            .finish()
    }
}

impl GenericAvroSerializer {
    /// A serializer with Confluent's defaults.
    pub fn new(registry: Arc<dyn SchemaRegistry>, schema: ParsedSchema) -> Self {
        Self::with_config(registry, schema, AvroSerializerConfig::default())
            .expect("the default config is valid")
    }

    /// A serializer with this configuration; fails if the settings exclude each other.
    pub fn with_config(
        registry: Arc<dyn SchemaRegistry>,
        schema: ParsedSchema,
        config: AvroSerializerConfig,
    ) -> Result<Self, AvroError> {
        Ok(GenericAvroSerializer {
            core: Arc::new(new_core(registry, schema, config)?),
        })
    }

    /// Uses the local schema under `id` for `topic`'s key or value without asking the registry
    /// (the id must be the schema's registered id; in header mode, its GUID).
    pub fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), Error> {
        self.core.preload(topic, target, id)
    }

    /// The local writer schema.
    pub fn schema(&self) -> &ParsedSchema {
        &self.core.format.schema
    }
}

impl Serializer<Value> for GenericAvroSerializer {
    fn serialize(
        &self,
        value: &Value,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        frame(&self.core, ctx, out, |schema, out| {
            schema.write_value(out, value)
        })
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}

/// A value read from JSON text ([`ParsedSchema::value_from_json_text`]): its maps' entries are
/// written in the document's key order.
impl Serializer<OrderedValue> for GenericAvroSerializer {
    fn serialize(
        &self,
        value: &OrderedValue,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        frame(&self.core, ctx, out, |schema, out| {
            schema.write_ordered_value(out, value)
        })
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}

impl Serializer<Option<Value>> for GenericAvroSerializer {
    fn serialize(
        &self,
        value: &Option<Value>,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        match value {
            None => Ok(Serialized::Null),
            Some(v) => Serializer::<Value>::serialize(self, v, ctx, out),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}
