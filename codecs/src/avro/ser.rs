//! Avro serializers: schema selection (register, look up, latest, by id), caching per topic, and
//! framing.

use super::{AvroError, ParsedSchema, Value};
use crate::resolve::ResolveFuture;
use crate::wire::{self, SchemaId};
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::{BufMut, Bytes, BytesMut};
use kcodec_registry::{RegisteredSchema, SchemaRegistry, SchemaType};
use serde::Serialize;
use std::collections::HashMap;
use std::marker::PhantomData;
use std::sync::{Arc, RwLock};

/// How the subject a schema is registered under is named (Confluent's `subject.name.strategy`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum SubjectNameStrategy {
    /// `<topic>-key` or `<topic>-value` (the default).
    #[default]
    Topic,
    /// The record's full name, `<namespace>.<Name>`.
    Record,
    /// `<topic>-<namespace>.<Name>`.
    TopicRecord,
}

impl SubjectNameStrategy {
    /// The subject for `topic`'s key or value whose schema has full name `record_name`
    /// (for a primitive schema, its type name).
    ///
    /// ```
    /// use kcodec_codecs::avro::SubjectNameStrategy;
    /// assert_eq!(SubjectNameStrategy::Topic.subject("orders", false, "shop.Order"), "orders-value");
    /// assert_eq!(SubjectNameStrategy::Record.subject("orders", true, "shop.Order"), "shop.Order");
    /// assert_eq!(SubjectNameStrategy::TopicRecord.subject("orders", false, "shop.Order"), "orders-shop.Order");
    /// ```
    pub fn subject(self, topic: &str, is_key: bool, record_name: &str) -> String {
        match self {
            SubjectNameStrategy::Topic => {
                format!("{topic}-{}", if is_key { "key" } else { "value" })
            }
            SubjectNameStrategy::Record => record_name.to_owned(),
            SubjectNameStrategy::TopicRecord => format!("{topic}-{record_name}"),
        }
    }
}

/// Where the writer schema's id goes (Confluent's `schema.id.serializer`).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub enum SchemaIdFormat {
    /// `0x00` + the 4-byte big-endian id before the payload (Confluent's default).
    #[default]
    Prefix,
    /// A `__key_schema_id`/`__value_schema_id` header holding `0x01` + the schema's GUID; the
    /// payload has no prefix (Confluent's header serializer).
    Header,
}

/// How an Avro serializer picks and frames its writer schema. Built in the builder style; every
/// setting names Confluent's config key.
///
/// ```
/// use kcodec_codecs::avro::{AvroSerializerConfig, SchemaIdFormat, SubjectNameStrategy};
///
/// let config = AvroSerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .subject_name_strategy(SubjectNameStrategy::Record)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert!(config.validate().is_ok());
/// // Confluent refuses use.latest.version together with auto.register.schemas:
/// assert!(AvroSerializerConfig::new().use_latest_version(true).validate().is_err());
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct AvroSerializerConfig {
    auto_register_schemas: bool,
    use_latest_version: bool,
    use_schema_id: Option<u32>,
    normalize_schemas: bool,
    subject_name_strategy: SubjectNameStrategy,
    schema_id_format: SchemaIdFormat,
}

impl Default for AvroSerializerConfig {
    fn default() -> Self {
        AvroSerializerConfig {
            auto_register_schemas: true,
            use_latest_version: false,
            use_schema_id: None,
            normalize_schemas: false,
            subject_name_strategy: SubjectNameStrategy::default(),
            schema_id_format: SchemaIdFormat::Prefix,
        }
    }
}

impl AvroSerializerConfig {
    /// Confluent's defaults: auto-register, Topic strategy, id as prefix.
    pub fn new() -> Self {
        Self::default()
    }

    /// `auto.register.schemas` (default `true`): register the writer schema under its subject;
    /// when `false`, look it up and fail if it is not registered.
    pub fn auto_register_schemas(mut self, on: bool) -> Self {
        self.auto_register_schemas = on;
        self
    }

    /// `use.latest.version` (default `false`): encode with the subject's latest registered
    /// version. Needs `auto_register_schemas(false)`.
    pub fn use_latest_version(mut self, on: bool) -> Self {
        self.use_latest_version = on;
        self
    }

    /// `use.schema.id`: encode with the registered schema of this id (looked up under the
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

    /// `subject.name.strategy` (default Topic: `<topic>-key|value`).
    pub fn subject_name_strategy(mut self, strategy: SubjectNameStrategy) -> Self {
        self.subject_name_strategy = strategy;
        self
    }

    /// `schema.id.serializer`: the id as prefix (default) or in a header.
    pub fn schema_id_format(mut self, format: SchemaIdFormat) -> Self {
        self.schema_id_format = format;
        self
    }

    /// Refuses `use.latest.version` together with `auto.register.schemas`, as Confluent's Python
    /// client does.
    pub fn validate(&self) -> Result<(), AvroError> {
        if self.use_latest_version && self.auto_register_schemas {
            return Err(AvroError::Config(
                "cannot enable both use.latest.version and auto.register.schemas",
            ));
        }
        Ok(())
    }
}

/// The writer schema resolved for one topic's key or value.
struct WriterEntry {
    schema: ParsedSchema,
    id: SchemaId,
    /// The header value, in header mode.
    header: Option<Bytes>,
}

/// What typed and generic serializers share: the registry, the local schema, the config and the
/// per-(topic, key/value) cache.
struct Core {
    registry: Arc<dyn SchemaRegistry>,
    schema: ParsedSchema,
    config: AvroSerializerConfig,
    /// Index 0: keys, 1: values; then by topic.
    cache: [RwLock<HashMap<String, Arc<WriterEntry>>>; 2],
}

fn slot(target: Target) -> usize {
    usize::from(!target.is_key())
}

impl Core {
    fn new(
        registry: Arc<dyn SchemaRegistry>,
        schema: ParsedSchema,
        config: AvroSerializerConfig,
    ) -> Result<Self, AvroError> {
        config.validate()?;
        Ok(Core {
            registry,
            schema,
            config,
            cache: Default::default(),
        })
    }

    fn subject(&self, topic: &str, target: Target) -> String {
        self.config
            .subject_name_strategy
            .subject(topic, target.is_key(), self.schema.name())
    }

    /// The cached writer for this topic, or what must be resolved first.
    fn entry(&self, ctx: &SerializeContext<'_>) -> Result<Arc<WriterEntry>, Error> {
        let cache = self.cache[slot(ctx.target())]
            .read()
            .unwrap_or_else(|e| e.into_inner());
        match cache.get(ctx.topic()) {
            Some(entry) => Ok(entry.clone()),
            None => Err(Error::Unresolved(Unresolved::WriterSchema {
                topic: ctx.topic().to_owned(),
                target: ctx.target(),
                subject: Some(self.subject(ctx.topic(), ctx.target())),
            })),
        }
    }

    /// Writes the framing, then `write` the payload; on error the buffer is left as it was.
    fn frame(
        &self,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
        write: impl FnOnce(&ParsedSchema, &mut BytesMut) -> Result<(), AvroError>,
    ) -> Result<Serialized, Error> {
        let entry = self.entry(ctx)?;
        let start = out.len();
        if entry.header.is_none() {
            wire::write_prefix(out, entry.id);
        }
        let payload = out.len();
        if let Err(e) = write(&entry.schema, out) {
            out.truncate(start);
            return Err(e.into());
        }
        if entry.schema.is_raw_bytes() {
            strip_length_prefix(out, payload);
        }
        if let Some(header) = &entry.header {
            let name = wire::schema_id_header(ctx.target());
            ctx.headers_mut().set(name, header.clone());
        }
        Ok(Serialized::Data)
    }

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::WriterSchema { topic, target, .. } = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let subject = self.subject(topic, *target);
        let registry = &*self.registry;
        let normalize = self.config.normalize_schemas;
        let (registered, schema): (RegisteredSchema, ParsedSchema) =
            if let Some(id) = self.config.use_schema_id {
                let text = registry.schema_by_id(id).await?;
                let registered = registry.lookup(&subject, &text, false, true).await?;
                let parsed = parse_registered(SchemaId::Id(id), &registered.schema)?;
                (registered, parsed)
            } else if self.config.use_latest_version {
                let registered = registry.latest(&subject).await?;
                let parsed = parse_registered(SchemaId::Id(registered.id), &registered.schema)?;
                (registered, parsed)
            } else {
                let local = kcodec_registry::Schema::avro(self.schema.text());
                let registered = if self.config.auto_register_schemas {
                    registry.register(&subject, &local, normalize).await?
                } else {
                    registry.lookup(&subject, &local, normalize, false).await?
                };
                (registered, self.schema.clone())
            };
        let (id, header) = match self.config.schema_id_format {
            SchemaIdFormat::Prefix => (SchemaId::Id(registered.id), None),
            SchemaIdFormat::Header => {
                let guid = registered.guid.ok_or(AvroError::NoGuid(registered.id))?;
                let id = SchemaId::Guid(guid);
                (id, Some(wire::header_value(id, None)))
            }
        };
        let entry = Arc::new(WriterEntry { schema, id, header });
        self.cache[slot(*target)]
            .write()
            .unwrap_or_else(|e| e.into_inner())
            .insert(topic.clone(), entry);
        Ok(())
    }
}

/// Parses a schema the registry returned, refusing non-Avro ones.
pub(crate) fn parse_registered(
    id: SchemaId,
    schema: &kcodec_registry::Schema,
) -> Result<ParsedSchema, AvroError> {
    if schema.schema_type != SchemaType::Avro {
        return Err(AvroError::NotAvro {
            id,
            schema_type: schema.schema_type,
        });
    }
    ParsedSchema::parse(&schema.schema)
}

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
    _type: PhantomData<fn(&T)>,
}

impl<T: ?Sized> Clone for AvroSerializer<T> {
    fn clone(&self) -> Self {
        AvroSerializer {
            core: self.core.clone(),
            _type: PhantomData,
        }
    }
}

impl<T: ?Sized> std::fmt::Debug for AvroSerializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroSerializer")
            .field("schema", &self.core.schema)
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
            core: Arc::new(Core::new(registry, schema, config)?),
            _type: PhantomData,
        })
    }

    /// The local writer schema.
    pub fn schema(&self) -> &ParsedSchema {
        &self.core.schema
    }
}

impl<T: Serialize + ?Sized> Serializer<T> for AvroSerializer<T> {
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        if is_none(value) {
            return Ok(Serialized::Null);
        }
        self.core.frame(ctx, out, |schema, out| {
            let mut writer = out.writer();
            if matches!(schema.schema(), apache_avro::Schema::Union(_)) {
                schema.write_ser(&mut writer, value)
            } else {
                // A top-level `Some(x)` is `x` unless the schema itself is a union.
                schema.write_ser(&mut writer, &UnwrapSome(value))
            }
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
            .field("schema", &self.core.schema)
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
            core: Arc::new(Core::new(registry, schema, config)?),
        })
    }

    /// The local writer schema.
    pub fn schema(&self) -> &ParsedSchema {
        &self.core.schema
    }
}

impl Serializer<Value> for GenericAvroSerializer {
    fn serialize(
        &self,
        value: &Value,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        self.core.frame(ctx, out, |schema, out| {
            let mut writer = out.writer();
            schema.write_value(&mut writer, value)
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

/// Whether `value` serializes as a top-level `None` (a null record). Stops at the first serde
/// call: no allocation, no traversal.
fn is_none<T: Serialize + ?Sized>(value: &T) -> bool {
    matches!(value.serialize(NoneProbe), Ok(true))
}

#[derive(Debug)]
struct NotNone;

impl std::fmt::Display for NotNone {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("not none")
    }
}

impl std::error::Error for NotNone {}

impl serde::ser::Error for NotNone {
    fn custom<M: std::fmt::Display>(_: M) -> Self {
        NotNone
    }
}

struct NoneProbe;

macro_rules! not_none {
    ($($name:ident($($arg:ty),*)),* $(,)?) => {$(
        fn $name(self, $(_: $arg),*) -> Result<bool, NotNone> { Ok(false) }
    )*};
}

impl serde::Serializer for NoneProbe {
    type Ok = bool;
    type Error = NotNone;
    type SerializeSeq = serde::ser::Impossible<bool, NotNone>;
    type SerializeTuple = serde::ser::Impossible<bool, NotNone>;
    type SerializeTupleStruct = serde::ser::Impossible<bool, NotNone>;
    type SerializeTupleVariant = serde::ser::Impossible<bool, NotNone>;
    type SerializeMap = serde::ser::Impossible<bool, NotNone>;
    type SerializeStruct = serde::ser::Impossible<bool, NotNone>;
    type SerializeStructVariant = serde::ser::Impossible<bool, NotNone>;

    not_none!(
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
        serialize_unit(),
        serialize_unit_struct(&'static str),
        serialize_unit_variant(&'static str, u32, &'static str),
    );

    fn serialize_none(self) -> Result<bool, NotNone> {
        Ok(true)
    }
    fn serialize_some<V: Serialize + ?Sized>(self, _: &V) -> Result<bool, NotNone> {
        Ok(false)
    }
    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: &V,
    ) -> Result<bool, NotNone> {
        Ok(false)
    }
    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: &V,
    ) -> Result<bool, NotNone> {
        Ok(false)
    }
    fn serialize_seq(self, _: Option<usize>) -> Result<Self::SerializeSeq, NotNone> {
        Err(NotNone)
    }
    fn serialize_tuple(self, _: usize) -> Result<Self::SerializeTuple, NotNone> {
        Err(NotNone)
    }
    fn serialize_tuple_struct(
        self,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleStruct, NotNone> {
        Err(NotNone)
    }
    fn serialize_tuple_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeTupleVariant, NotNone> {
        Err(NotNone)
    }
    fn serialize_map(self, _: Option<usize>) -> Result<Self::SerializeMap, NotNone> {
        Err(NotNone)
    }
    fn serialize_struct(self, _: &'static str, _: usize) -> Result<Self::SerializeStruct, NotNone> {
        Err(NotNone)
    }
    fn serialize_struct_variant(
        self,
        _: &'static str,
        _: u32,
        _: &'static str,
        _: usize,
    ) -> Result<Self::SerializeStructVariant, NotNone> {
        Err(NotNone)
    }
    fn collect_str<V: std::fmt::Display + ?Sized>(self, _: &V) -> Result<bool, NotNone> {
        Ok(false)
    }
}

/// Serializes its value with a top-level `Some(x)` replaced by `x`.
struct UnwrapSome<'a, T: ?Sized>(&'a T);

impl<T: Serialize + ?Sized> Serialize for UnwrapSome<'_, T> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize(SomeUnwrapper(serializer))
    }
}

/// Forwards every call to the inner serializer, except `serialize_some`, which serializes the
/// inner value directly.
struct SomeUnwrapper<S>(S);

macro_rules! forward {
    ($($name:ident($($arg:ident: $ty:ty),*) -> $ret:ty;)*) => {$(
        fn $name(self, $($arg: $ty),*) -> Result<$ret, S::Error> { self.0.$name($($arg),*) }
    )*};
}

impl<S: serde::Serializer> serde::Serializer for SomeUnwrapper<S> {
    type Ok = S::Ok;
    type Error = S::Error;
    type SerializeSeq = S::SerializeSeq;
    type SerializeTuple = S::SerializeTuple;
    type SerializeTupleStruct = S::SerializeTupleStruct;
    type SerializeTupleVariant = S::SerializeTupleVariant;
    type SerializeMap = S::SerializeMap;
    type SerializeStruct = S::SerializeStruct;
    type SerializeStructVariant = S::SerializeStructVariant;

    forward! {
        serialize_bool(v: bool) -> S::Ok;
        serialize_i8(v: i8) -> S::Ok;
        serialize_i16(v: i16) -> S::Ok;
        serialize_i32(v: i32) -> S::Ok;
        serialize_i64(v: i64) -> S::Ok;
        serialize_i128(v: i128) -> S::Ok;
        serialize_u8(v: u8) -> S::Ok;
        serialize_u16(v: u16) -> S::Ok;
        serialize_u32(v: u32) -> S::Ok;
        serialize_u64(v: u64) -> S::Ok;
        serialize_u128(v: u128) -> S::Ok;
        serialize_f32(v: f32) -> S::Ok;
        serialize_f64(v: f64) -> S::Ok;
        serialize_char(v: char) -> S::Ok;
        serialize_str(v: &str) -> S::Ok;
        serialize_bytes(v: &[u8]) -> S::Ok;
        serialize_none() -> S::Ok;
        serialize_unit() -> S::Ok;
        serialize_unit_struct(name: &'static str) -> S::Ok;
        serialize_unit_variant(name: &'static str, index: u32, variant: &'static str) -> S::Ok;
        serialize_seq(len: Option<usize>) -> S::SerializeSeq;
        serialize_tuple(len: usize) -> S::SerializeTuple;
        serialize_tuple_struct(name: &'static str, len: usize) -> S::SerializeTupleStruct;
        serialize_tuple_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> S::SerializeTupleVariant;
        serialize_map(len: Option<usize>) -> S::SerializeMap;
        serialize_struct(name: &'static str, len: usize) -> S::SerializeStruct;
        serialize_struct_variant(name: &'static str, index: u32, variant: &'static str, len: usize) -> S::SerializeStructVariant;
    }

    fn serialize_some<V: Serialize + ?Sized>(self, value: &V) -> Result<S::Ok, S::Error> {
        value.serialize(self.0)
    }

    fn serialize_newtype_struct<V: Serialize + ?Sized>(
        self,
        name: &'static str,
        value: &V,
    ) -> Result<S::Ok, S::Error> {
        self.0.serialize_newtype_struct(name, value)
    }

    fn serialize_newtype_variant<V: Serialize + ?Sized>(
        self,
        name: &'static str,
        index: u32,
        variant: &'static str,
        value: &V,
    ) -> Result<S::Ok, S::Error> {
        self.0
            .serialize_newtype_variant(name, index, variant, value)
    }

    fn is_human_readable(&self) -> bool {
        self.0.is_human_readable()
    }
}
