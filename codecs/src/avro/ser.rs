//! Avro serializers: schema selection (register, look up, latest, by id), caching per topic, and
//! framing.

use super::{AvroError, OrderedValue, ParsedSchema, Value};
use crate::resolve::ResolveFuture;
use crate::subject::{self, Origin, SerializerConfig, WriterCache};
use crate::wire::{self, SchemaId};
use crate::{Error, SerializeContext, Serialized, Serializer, Target, Unresolved};
use bytes::{BufMut, Bytes, BytesMut};
use kcodec_registry::{SchemaRegistry, SchemaType};
use serde::Serialize;
use std::marker::PhantomData;
use std::sync::Arc;

/// How an Avro serializer picks and frames its writer schema: the settings every schema
/// serializer shares ([`SerializerConfig`](crate::subject::SerializerConfig)), none of its own.
///
/// ```
/// use kcodec_codecs::avro::{AvroSerializerConfig, SchemaIdFormat, SubjectNameStrategy};
///
/// let config = AvroSerializerConfig::new()
///     .auto_register_schemas(false)
///     .use_latest_version(true)
///     .subject_name_strategy(SubjectNameStrategy::Record)
///     .schema_id_format(SchemaIdFormat::Header);
/// assert!(config.check().is_ok());
/// // Confluent refuses use.latest.version together with auto.register.schemas:
/// assert!(AvroSerializerConfig::new().use_latest_version(true).check().is_err());
/// ```
pub type AvroSerializerConfig = SerializerConfig;

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
    cache: WriterCache<WriterEntry>,
}

impl Core {
    fn new(
        registry: Arc<dyn SchemaRegistry>,
        schema: ParsedSchema,
        config: AvroSerializerConfig,
    ) -> Result<Self, AvroError> {
        config.check()?;
        Ok(Core {
            registry,
            schema,
            config,
            cache: WriterCache::default(),
        })
    }

    fn subject(&self, topic: &str, target: Target) -> Result<String, Error> {
        Ok(self.config.subject_name_strategy.subject(
            topic,
            subject::kind(target),
            Some(self.schema.name()),
        )?)
    }

    /// The cached writer for this topic, or what must be resolved first.
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

    fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), AvroError> {
        let header = subject::preloaded_header(self.config.schema_id_format, id, None)
            .map_err(AvroError::NoGuid)?;
        let entry = WriterEntry {
            schema: self.schema.clone(),
            id,
            header,
        };
        self.cache.insert(topic.to_owned(), target, entry);
        Ok(())
    }

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::WriterSchema { topic, target, .. } = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let subject = self.subject(topic, *target)?;
        let registry = &*self.registry;
        let local = async || {
            Ok(kcodec_registry::Schema::avro(self.schema.text())
                .with_references(self.schema.references().to_vec()))
        };
        let (registered, origin) =
            subject::select_writer(registry, &subject, &self.config, local).await?;
        let schema = match origin {
            Origin::Local => self.schema.clone(),
            Origin::Registry => {
                parse_registered(registry, SchemaId::Id(registered.id), &registered.schema).await?
            }
        };
        let header = subject::id_header(self.config.schema_id_format, &registered, None)
            .map_err(AvroError::NoGuid)?;
        let id = match (&header, registered.guid) {
            (Some(_), Some(guid)) => SchemaId::Guid(guid),
            _ => SchemaId::Id(registered.id),
        };
        let entry = WriterEntry { schema, id, header };
        self.cache.insert(topic.clone(), *target, entry);
        Ok(())
    }
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

    /// Uses the local schema under `id` for `topic`'s key or value without asking the registry
    /// (the id must be the schema's registered id; in header mode, its GUID).
    pub fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), AvroError> {
        self.core.preload(topic, target, id)
    }

    /// The local writer schema.
    pub fn schema(&self) -> &ParsedSchema {
        &self.core.schema
    }
}

impl<T: crate::record::Record> AvroSerializer<T> {
    /// A serializer whose writer schema is the record's own ([`Record::avro_schema`](crate::record::Record::avro_schema)),
    /// with Confluent's defaults.
    pub fn for_record(registry: Arc<dyn SchemaRegistry>) -> Result<Self, AvroError> {
        Self::for_record_with_config(registry, AvroSerializerConfig::default())
    }

    /// A serializer for the record's own schema with this configuration.
    pub fn for_record_with_config(
        registry: Arc<dyn SchemaRegistry>,
        config: AvroSerializerConfig,
    ) -> Result<Self, AvroError> {
        let schema = ParsedSchema::parse(T::avro_schema().json())?;
        Self::with_config(registry, schema, config)
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

    /// Uses the local schema under `id` for `topic`'s key or value without asking the registry
    /// (the id must be the schema's registered id; in header mode, its GUID).
    pub fn preload(&self, topic: &str, target: Target, id: SchemaId) -> Result<(), AvroError> {
        self.core.preload(topic, target, id)
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
        self.core
            .frame(ctx, out, |schema, out| schema.write_value(out, value))
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
        self.core.frame(ctx, out, |schema, out| {
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
