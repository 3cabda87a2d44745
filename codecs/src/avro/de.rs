//! Avro deserializers: writer schema lookup by id or GUID, resolution against the reader schema,
//! and the direct path when the two match.

use super::error::Incompatibility;
use super::resolve::{ReadError, Resolution, transcode};
use super::ser::parse_registered;
use super::{AvroError, ParsedSchema, Value};
use crate::resolve::ResolveFuture;
use crate::subject::ReaderCache;
use crate::wire::{self, SchemaId};
use crate::{DeserializeContext, Deserializer, Error, Unresolved};
use apache_avro::Schema;
use bytes::Bytes;
use kcodec_registry::{RegistryError, SchemaRegistry};
use serde::de::DeserializeOwned;
use std::marker::PhantomData;
use std::sync::Arc;

/// How values written with one writer schema are read: the plan cached per writer id.
enum Plan {
    /// Writer and reader agree (or there is no reader schema): decode directly.
    Direct(ParsedSchema),
    /// Transcode into the reader schema's encoding with the compiled resolution, then decode
    /// that with the reader's plan.
    Resolve {
        writer: ParsedSchema,
        reader: ParsedSchema,
        resolution: Resolution,
    },
    /// The writer schema does not resolve to the reader schema; every read fails with this.
    Unresolvable {
        writer: ParsedSchema,
        reader: ParsedSchema,
        why: Incompatibility,
    },
}

struct Core {
    registry: Arc<dyn SchemaRegistry>,
    reader: Option<ParsedSchema>,
    plans: ReaderCache<Plan>,
}

impl Core {
    fn new(registry: Arc<dyn SchemaRegistry>, reader: Option<ParsedSchema>) -> Self {
        super::schema::init_limits();
        Core {
            registry,
            reader,
            plans: ReaderCache::default(),
        }
    }

    fn plan(&self, id: SchemaId) -> Result<Arc<Plan>, Error> {
        self.plans.get(id)
    }

    /// Splits the frame and finds the plan for its writer id.
    /// Deframes `data` and calls `f` with the writer's id, plan and the payload (for the first
    /// writer schema fetched: no lock, no hash, no reference count).
    #[inline]
    fn locate<'d, R>(
        &self,
        data: &'d [u8],
        ctx: &DeserializeContext<'_>,
        f: impl FnOnce(SchemaId, &Plan, &'d [u8]) -> Result<R, Error>,
    ) -> Result<R, Error> {
        let framed = wire::read(data, ctx.headers(), ctx.target(), false)?;
        let id = framed.schema_id;
        self.plans.with(id, |plan| f(id, plan, framed.payload))?
    }

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::Schema(id) = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let id = *id;
        let text = match crate::subject::fetch_schema(&*self.registry, id).await {
            Ok(text) => text,
            Err(source @ RegistryError::SchemaNotFound(_)) => {
                return Err(AvroError::UnknownSchema { id, source }.into());
            }
            Err(other) => return Err(other.into()),
        };
        let writer = parse_registered(&*self.registry, id, &text).await?;
        Ok(self.preload(id, writer)?)
    }

    fn preload(&self, id: SchemaId, writer: ParsedSchema) -> Result<(), AvroError> {
        let plan = self.make_plan(writer)?;
        self.plans.insert(id, plan);
        Ok(())
    }

    fn make_plan(&self, writer: ParsedSchema) -> Result<Plan, AvroError> {
        let Some(reader) = &self.reader else {
            return Ok(Plan::Direct(writer));
        };
        if writer == *reader {
            return Ok(Plan::Direct(writer));
        }
        Ok(match Resolution::compile(writer.plan(), reader.plan()) {
            Ok(resolution) => Plan::Resolve {
                writer,
                reader: reader.clone(),
                resolution,
            },
            Err(why) => Plan::Unresolvable {
                writer,
                reader: reader.clone(),
                why,
            },
        })
    }
}

/// The writer's payload in the reader schema's encoding.
fn resolved(
    id: SchemaId,
    writer: &ParsedSchema,
    reader: &ParsedSchema,
    resolution: &Resolution,
    payload: &[u8],
) -> Result<Vec<u8>, AvroError> {
    // A top-level `bytes` is written raw: give it its length prefix back.
    let prefixed;
    let data = if writer.is_raw_bytes() {
        let mut p = Vec::with_capacity(payload.len() + 10);
        super::encode::long(&mut p, payload.len() as i64);
        p.extend_from_slice(payload);
        prefixed = p;
        &prefixed[..]
    } else {
        payload
    };
    let mut out = Vec::with_capacity(data.len() + 16);
    match transcode(resolution, writer.plan(), data, &mut out) {
        Ok(_) => Ok(out),
        Err(ReadError::Data(e)) => Err(e),
        Err(ReadError::Resolve { at, source }) => Err(AvroError::Resolve {
            writer: id,
            reader: reader.name().to_owned(),
            at,
            source,
        }),
    }
}

/// Decodes a payload into a generic value with `plan`.
fn read_value(id: SchemaId, plan: &Plan, payload: &[u8]) -> Result<Value, AvroError> {
    match plan {
        Plan::Direct(schema) => {
            if schema.is_raw_bytes() {
                return Ok(Value::Bytes(payload.to_vec()));
            }
            super::value::read_value(schema.plan(), payload)
        }
        Plan::Resolve {
            writer,
            reader,
            resolution,
        } => {
            let data = resolved(id, writer, reader, resolution, payload)?;
            super::value::read_value(reader.plan(), &data)
        }
        Plan::Unresolvable { reader, why, .. } => Err(unresolvable(id, reader, why)),
    }
}

fn unresolvable(id: SchemaId, reader: &ParsedSchema, why: &Incompatibility) -> AvroError {
    AvroError::Unresolvable {
        writer: id,
        reader: reader.name().to_owned(),
        source: why.clone(),
    }
}

fn typed<T: DeserializeOwned>(id: SchemaId, plan: &Plan, payload: &[u8]) -> Result<T, AvroError> {
    match plan {
        Plan::Direct(schema) if !schema.is_raw_bytes() => schema.read_de(payload),
        Plan::Resolve {
            writer,
            reader,
            resolution,
        } if !reader.is_raw_bytes() => {
            let data = resolved(id, writer, reader, resolution, payload)?;
            reader.read_de(&data)
        }
        Plan::Unresolvable { reader, why, .. } => Err(unresolvable(id, reader, why)),
        Plan::Direct(schema) | Plan::Resolve { reader: schema, .. } => {
            // A raw `bytes` value: through a `Value`, as serde's byte sequences expect.
            let value = read_value(id, plan, payload)?;
            apache_avro::from_value(&value).map_err(|source| AvroError::Decode {
                schema: schema.name().to_owned(),
                source,
            })
        }
    }
}

/// Decodes a null record into `T`: `None` for `Option<_>`, an error otherwise.
fn null<T: DeserializeOwned>(ctx: &DeserializeContext<'_>) -> Result<T, Error> {
    T::deserialize(serde::de::value::UnitDeserializer::<serde::de::value::Error>::new()).map_err(
        |_| Error::UnexpectedNull {
            deserializer: "Avro",
            target: ctx.target(),
        },
    )
}

/// Deserializes Confluent-framed Avro into any serde type.
///
/// Which constructor decides whether schema evolution applies:
///
/// - [`for_record`](AvroDeserializer::for_record) (types with `#[derive(Record)]`) and
///   [`with_reader_schema`](AvroDeserializer::with_reader_schema) have a reader schema. A
///   frame written with another schema is resolved into it by Avro's rules: fields the writer
///   lacks take the reader schema's defaults, fields the reader lacks are skipped, promotions
///   and enum defaults apply. This is what Confluent's deserializer does with
///   `specific.avro.reader=true` (or a configured reader schema). **Use `for_record` for derived
///   types.**
/// - [`new`](AvroDeserializer::new) has no reader schema: each value is decoded with the
///   writer schema its frame names, and its fields are handed to `T`'s serde `Deserialize` by
///   name. No resolution takes place, so Avro defaults are not applied: a field of `T` the
///   writer lacks is an error (`missing field`) unless serde itself fills it
///   (`#[serde(default)]`), and fields `T` lacks are ignored as serde ignores unknown fields.
///   This is Confluent's generic reading (the writer schema only), mapped onto `T`.
///
/// See the [module docs](super).
pub struct AvroDeserializer<T> {
    core: Arc<Core>,
    /// A record's generated decoder (`for_record`), used when the writer schema is the reader's.
    raw: Option<RawDecode<T>>,
    _type: PhantomData<fn() -> T>,
}

/// A derived record's generated Avro decoder ([`super::raw::decode_shared`]): from a payload,
/// part of a shared frame when there is one.
type RawDecode<T> = fn(&Bytes, &[u8]) -> Result<T, AvroError>;

impl<T> Clone for AvroDeserializer<T> {
    fn clone(&self) -> Self {
        AvroDeserializer {
            core: self.core.clone(),
            raw: self.raw,
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for AvroDeserializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("AvroDeserializer")
            .field("reader", &self.core.reader)
            .finish()
    }
}

impl<T> AvroDeserializer<T> {
    /// Decodes with each frame's writer schema, with no reader schema and so no schema
    /// resolution: Avro defaults are not applied (see the [type docs](AvroDeserializer)). For a
    /// type with `#[derive(Record)]`, use [`for_record`](AvroDeserializer::for_record).
    pub fn new(registry: Arc<dyn SchemaRegistry>) -> Self {
        AvroDeserializer {
            core: Arc::new(Core::new(registry, None)),
            raw: None,
            _type: PhantomData,
        }
    }

    /// Decodes into `reader`, resolving other writer schemas into it (fields the writer lacks
    /// take `reader`'s defaults). `reader` should describe `T`.
    pub fn with_reader_schema(registry: Arc<dyn SchemaRegistry>, reader: ParsedSchema) -> Self {
        AvroDeserializer {
            core: Arc::new(Core::new(registry, Some(reader))),
            raw: None,
            _type: PhantomData,
        }
    }

    /// The reader schema, if any.
    pub fn reader_schema(&self) -> Option<&ParsedSchema> {
        self.core.reader.as_ref()
    }

    /// Makes the writer schema of `id` known without asking the registry (for schemas read from
    /// files, or to warm the cache synchronously); the resolution plan is made now.
    pub fn preload(&self, id: SchemaId, writer: ParsedSchema) -> Result<(), AvroError> {
        self.core.preload(id, writer)
    }

    /// Decodes a frame into `B`, which may borrow its `&str` and `&[u8]` fields (with
    /// `#[serde(borrow)]` for `&[u8]` and `Cow`s) from `data`: no allocation for a struct of
    /// borrowed fields. `B` is usually `T`'s borrowing twin (`Order<'a>` for an owned `Order`).
    /// For a record with `#[derive(Record)]`,
    /// [`deserialize_record`](AvroDeserializer::deserialize_record) runs its generated code
    /// instead of serde (about 1.7× faster on the benchmark's `Order`).
    ///
    /// Only a frame whose writer schema needs no resolution can be borrowed from (no reader
    /// schema, or the writer's equals it); another is
    /// [`AvroError::Mismatch`]. A null record is `None` for an `Option<B>`, else
    /// [`Error::UnexpectedNull`](crate::Error::UnexpectedNull).
    ///
    /// ```
    /// use std::sync::Arc;
    /// use kcodec_codecs::avro::{AvroDeserializer, ParsedSchema};
    /// use kcodec_codecs::wire::SchemaId;
    /// use kcodec_codecs::{DeserializeContext, Headers, Target};
    /// use kcodec_registry::InMemoryRegistry;
    ///
    /// #[derive(serde::Deserialize)]
    /// struct User<'a> { name: &'a str, id: i64 }
    ///
    /// let de = AvroDeserializer::<()>::new(Arc::new(InMemoryRegistry::new()));
    /// de.preload(SchemaId::Id(7), ParsedSchema::parse(r#"{"type":"record","name":"User","fields":[
    ///     {"name":"name","type":"string"},{"name":"id","type":"long"}]}"#)?)?;
    /// let frame = [0, 0, 0, 0, 7, 6, b'a', b'd', b'a', 2];
    /// let headers = Headers::new();
    /// let ctx = DeserializeContext::new("users", Target::Value, &headers);
    /// let user: User<'_> = de.deserialize_borrowed(Some(&frame), &ctx)?;
    /// assert_eq!((user.name, user.id), ("ada", 1));
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize_borrowed<'a, B: serde::Deserialize<'a>>(
        &self,
        data: Option<&'a [u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<B, Error> {
        let Some(data) = data else {
            return B::deserialize(
                serde::de::value::UnitDeserializer::<serde::de::value::Error>::new(),
            )
            .map_err(|_| Error::UnexpectedNull {
                deserializer: "Avro",
                target: ctx.target(),
            });
        };
        self.core.locate(data, ctx, |_, plan, payload| match plan {
            Plan::Direct(schema) if !schema.is_raw_bytes() => {
                Ok(super::direct::from_slice(schema.plan(), payload)?)
            }
            _ => Err(AvroError::Mismatch {
                at: 0,
                message: "a borrowed decode needs the writer schema to be the reader's (this \
                          frame's needs resolution): decode into an owned type"
                    .to_owned(),
            }
            .into()),
        })
    }
}

impl<T: crate::record::Record + crate::record::AvroDecodeOwned> AvroDeserializer<T> {
    /// A deserializer that resolves every writer schema into the record's own
    /// ([`Record::avro_schema`](crate::record::Record::avro_schema)), as Confluent's specific
    /// reader does: values written with an older or newer version of the record read into
    /// this one, fields it added taking their `#[record(default = ...)]`.
    ///
    /// A frame written with the record's own schema (references included) is read by the code
    /// `#[derive(Record)]` generated for it, its `bytes::Bytes` fields sliced from the frame
    /// (no copy) when the frame is a `Bytes` ([`Deserializer::deserialize_bytes`], what the
    /// typed consumers call); any other goes through the compiled plan, with resolution.
    ///
    /// An invalid record schema (from a hand-written [`AvroType`](crate::record::AvroType)
    /// impl) is [`AvroError::RecordSchema`].
    pub fn for_record(registry: Arc<dyn SchemaRegistry>) -> Result<Self, AvroError> {
        let own = T::try_avro_schema()?;
        let mut de = Self::with_reader_schema(registry, own.parsed().clone());
        if own.has_raw() {
            de.raw = Some(|frame, payload| super::raw::decode_shared(frame, payload));
        }
        Ok(de)
    }
}

impl<T> AvroDeserializer<T> {
    /// Decodes a frame into the derived record `B` with the code `#[derive(Record)]` generated
    /// for it, `B` borrowing its `&str`, `&[u8]` and `Cow` fields from `data`: no allocation for a
    /// record of borrowed fields. Any `AvroDeserializer` does (the frame's writer schema decides,
    /// not the deserializer's reader schema).
    ///
    /// The frame's writer schema must be `B`'s own (references included): another one would
    /// need resolution, which can't be borrowed from, and is
    /// [`AvroError::NeedsResolution`] (decode those into an owned record with
    /// [`for_record`](AvroDeserializer::for_record)). A record without generated code (a field
    /// with a `with` module other than the bytes ones) is [`AvroError::Mismatch`]; a null
    /// record is [`Error::UnexpectedNull`](crate::Error::UnexpectedNull).
    ///
    /// ```
    /// use std::borrow::Cow;
    /// use std::sync::Arc;
    /// use kcodec_codecs::avro::AvroDeserializer;
    /// use kcodec_codecs::record::Record;
    /// use kcodec_codecs::wire::SchemaId;
    /// use kcodec_codecs::{DeserializeContext, Headers, Target};
    /// use kcodec_derive::Record;
    /// use kcodec_registry::InMemoryRegistry;
    ///
    /// #[derive(Record)]
    /// #[record(crate = "kcodec_codecs")]
    /// struct User<'a> {
    ///     name: &'a str,
    ///     nick: Option<Cow<'a, str>>,
    ///     id: i64,
    /// }
    ///
    /// let de = AvroDeserializer::<()>::new(Arc::new(InMemoryRegistry::new()));
    /// de.preload(SchemaId::Id(7), User::avro_schema().parsed().clone())?;
    /// let frame = [0, 0, 0, 0, 7, 6, b'a', b'd', b'a', 0, 2];
    /// let headers = Headers::new();
    /// let ctx = DeserializeContext::new("users", Target::Value, &headers);
    /// let user: User<'_> = de.deserialize_record(Some(&frame), &ctx)?;
    /// assert_eq!((user.name, user.nick, user.id), ("ada", None, 1));
    /// assert_eq!(user.name.as_ptr(), frame[6..].as_ptr()); // borrowed from the frame
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn deserialize_record<'a, B>(
        &self,
        data: Option<&'a [u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<B, Error>
    where
        B: crate::record::Record + crate::record::AvroDecode<'a>,
    {
        let Some(data) = data else {
            return Err(Error::UnexpectedNull {
                deserializer: "Avro",
                target: ctx.target(),
            });
        };
        let own = B::try_avro_schema()?;
        self.core.locate(data, ctx, |id, plan, payload| {
            let writer = match plan {
                Plan::Direct(writer)
                | Plan::Resolve { writer, .. }
                | Plan::Unresolvable { writer, .. } => writer,
            };
            if !writer.is(own.parsed()) {
                return Err(AvroError::NeedsResolution {
                    record: B::FULL_NAME,
                    writer: id,
                }
                .into());
            }
            if !own.has_raw() {
                return Err(super::raw::unsupported(std::any::type_name::<B>()).into());
            }
            Ok(super::raw::decode(payload)?)
        })
    }
}

impl<T: DeserializeOwned> AvroDeserializer<T> {
    /// Decodes a non-null frame; `shared` is the frame as a `Bytes`, when it is one.
    #[inline]
    fn decode(
        &self,
        data: &[u8],
        shared: Option<&Bytes>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<T, Error> {
        self.core.locate(data, ctx, |id, plan, payload| {
            self.typed(id, plan, payload, shared)
        })
    }

    /// Decodes a payload written with `plan`'s writer schema into `T`.
    #[inline]
    fn typed(
        &self,
        id: SchemaId,
        plan: &Plan,
        payload: &[u8],
        shared: Option<&Bytes>,
    ) -> Result<T, Error> {
        if let (Some(raw), Plan::Direct(_)) = (self.raw, plan) {
            // `for_record` has a reader schema: `Direct` means the writer's is the record's own.
            // Without a shared frame, `payload` lies in none and `Bytes` fields are copies.
            return Ok(raw(shared.unwrap_or(&Bytes::new()), payload)?);
        }
        typed(id, plan, payload).map_err(|e| match e {
            // Without a reader schema, a field the writer lacks can't take a default: say how
            // to get one.
            AvroError::Mismatch { at, message }
                if self.core.reader.is_none() && message.starts_with("missing field") =>
            {
                AvroError::Mismatch {
                    at,
                    message: format!(
                        "{message} (the writer schema lacks it; to fill it from a default, build \
                         the deserializer with a reader schema: `for_record` or \
                         `with_reader_schema`)"
                    ),
                }
                .into()
            }
            e => e.into(),
        })
    }
}

impl<T: DeserializeOwned> Deserializer<T> for AvroDeserializer<T> {
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        match data {
            None => null(ctx),
            Some(data) => self.decode(data, None, ctx),
        }
    }

    /// As [`deserialize`](Deserializer::deserialize); a record's generated code
    /// ([`for_record`](AvroDeserializer::for_record)) makes its `bytes::Bytes` fields slices of
    /// `data` instead of copies.
    fn deserialize_bytes(
        &self,
        data: Option<&Bytes>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<T, Error> {
        match data {
            None => null(ctx),
            Some(data) => self.decode(data, Some(data), ctx),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}

/// Deserializes Confluent-framed Avro into apache-avro's generic [`Value`] (or
/// `Option<Value>`, `None` for a null record).
#[derive(Clone)]
pub struct GenericAvroDeserializer {
    core: Arc<Core>,
}

impl std::fmt::Debug for GenericAvroDeserializer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("GenericAvroDeserializer")
            .field("reader", &self.core.reader)
            .finish()
    }
}

impl GenericAvroDeserializer {
    /// Decodes with each frame's writer schema.
    pub fn new(registry: Arc<dyn SchemaRegistry>) -> Self {
        GenericAvroDeserializer {
            core: Arc::new(Core::new(registry, None)),
        }
    }

    /// Decodes into `reader`, resolving other writer schemas into it.
    pub fn with_reader_schema(registry: Arc<dyn SchemaRegistry>, reader: ParsedSchema) -> Self {
        GenericAvroDeserializer {
            core: Arc::new(Core::new(registry, Some(reader))),
        }
    }

    /// Makes the writer schema of `id` known without asking the registry (for schemas read from
    /// files, or to warm the cache synchronously); the resolution plan is made now.
    pub fn preload(&self, id: SchemaId, writer: ParsedSchema) -> Result<(), AvroError> {
        self.core.preload(id, writer)
    }

    /// The writer schema of a frame, once resolved (for tools that print values with it).
    ///
    /// Only the schema itself: named types it takes from its references appear as
    /// `Schema::Ref`s. Use [`writer_parsed_schema`](Self::writer_parsed_schema) to read or write
    /// values of a schema with references.
    pub fn writer_schema(&self, id: SchemaId) -> Option<Schema> {
        self.writer_parsed_schema(id).map(|s| s.schema().clone())
    }

    /// The writer schema of a frame with the schemas it references, once resolved. Without a
    /// reader schema, the values read from such frames are of this schema: its
    /// [`value_to_json`](ParsedSchema::value_to_json) prints them.
    pub fn writer_parsed_schema(&self, id: SchemaId) -> Option<ParsedSchema> {
        match &*self.core.plan(id).ok()? {
            Plan::Direct(s) => Some(s.clone()),
            Plan::Resolve { writer, .. } => Some(writer.clone()),
            Plan::Unresolvable { writer, .. } => Some(writer.clone()),
        }
    }
}

impl Deserializer<Value> for GenericAvroDeserializer {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Value, Error> {
        let Some(data) = data else {
            return Err(Error::UnexpectedNull {
                deserializer: "Avro",
                target: ctx.target(),
            });
        };
        self.core.locate(data, ctx, |id, plan, payload| {
            Ok(read_value(id, plan, payload)?)
        })
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}

impl Deserializer<Option<Value>> for GenericAvroDeserializer {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Option<Value>, Error> {
        match data {
            None => Ok(None),
            Some(_) => Deserializer::<Value>::deserialize(self, data, ctx).map(Some),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(self.core.resolve(need))
    }
}
