//! Protobuf deserializers: typed (a generated message, no registry needed) and dynamic (any
//! message, from the writer schema alone).

use super::ProtobufError;
use super::schema::ProtobufSchema;
use crate::resolve::ResolveFuture;
use crate::subject::{self, ReaderCache};
use crate::wire::{self, MessageIndexes, SchemaId};
use crate::{DeserializeContext, Deserializer, Error, Unresolved};
use bytes::Bytes;
use kcodec_registry::{Schema, SchemaRegistry, SchemaType};
use prost_reflect::{DynamicMessage, MessageDescriptor, ReflectMessage, SerializeOptions};
use std::collections::BTreeMap;
use std::marker::PhantomData;
use std::sync::Arc;

/// How deep schema references may nest before the registry's answers are refused.
pub const MAX_REFERENCE_DEPTH: usize = subject::MAX_REFERENCE_DEPTH;

/// Deserializes a generated prost message from a Confluent frame (prefix or schema-id header,
/// then message indexes). It needs no registry: as Confluent's clients do for a specific type, it
/// skips the framing and decodes the payload as `T`. `Option<T>` accepts null records.
///
/// # What it does not check
///
/// Like Confluent's deserializers given a message type (Java's `specific.protobuf.value.type`,
/// Python's `ProtobufDeserializer(message_type)`), it checks neither the frame's schema id nor
/// its message indexes against `T`. Protobuf's encoding is permissive (unknown fields are kept,
/// missing ones default), so a frame written for another message type often decodes into a
/// wrong `T` rather than failing. When a topic may carry several types:
///
/// - [`check_message_indexes`](ProtobufDeserializer::check_message_indexes) (opt-in) refuses
///   frames whose message indexes are not `T`'s own in its `.proto` file
///   ([`ProtobufError::WrongMessageIndexes`]). It costs a comparison of a few integers, and is
///   correct when producers write with `T`'s own file (the usual case: the same generated code,
///   or a schema registered from it). A producer whose writer schema orders the file's messages
///   differently writes other indexes for the same message, and is refused too.
/// - [`ProtobufDynamicDeserializer`] resolves the writer schema and the message the indexes name.
///
/// ```
/// use kcodec_codecs::protobuf::{ProtobufDeserializer, ProtobufError};
/// use kcodec_codecs::{testing, Error};
/// # use prost_reflect::prost_types::Timestamp;
/// # fn main() {
/// // `Timestamp` is the first message of google/protobuf/timestamp.proto: indexes [0].
/// let unchecked = ProtobufDeserializer::<Timestamp>::new();
/// let checked = ProtobufDeserializer::<Timestamp>::new().check_message_indexes();
/// // Magic byte, schema id 1, message indexes [0] (one 0x00 byte), then seconds = 5.
/// let frame = [0, 0, 0, 0, 1, 0x00, 0x08, 0x05];
/// let t: Timestamp = testing::decode(&checked, Some(&frame)).unwrap();
/// assert_eq!(t.seconds, 5);
/// // The same payload framed as the second message of its file ([1]).
/// let other = [0, 0, 0, 0, 1, 0x02, 0x02, 0x08, 0x05];
/// let t: Timestamp = testing::decode(&unchecked, Some(&other)).unwrap(); // decoded anyway
/// assert_eq!(t.seconds, 5);
/// let err = testing::decode::<Timestamp, _>(&checked, Some(&other)).unwrap_err();
/// let Error::Protobuf(e) = &err else { panic!("{err:?}") };
/// assert!(matches!(**e, ProtobufError::WrongMessageIndexes { .. }), "{e}");
/// # }
/// ```
pub struct ProtobufDeserializer<T> {
    name: &'static str,
    /// With [`ProtobufDeserializer::check_message_indexes`]: `T`'s full name and indexes.
    expected: Option<Arc<(String, MessageIndexes)>>,
    _type: PhantomData<fn() -> T>,
}

impl<T> Clone for ProtobufDeserializer<T> {
    fn clone(&self) -> Self {
        ProtobufDeserializer {
            name: self.name,
            expected: self.expected.clone(),
            _type: PhantomData,
        }
    }
}

impl<T> std::fmt::Debug for ProtobufDeserializer<T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ProtobufDeserializer")
            .field("type", &self.name)
            .field(
                "checked_message_indexes",
                &self.expected.as_ref().map(|e| &e.1),
            )
            .finish()
    }
}

impl<T> Default for ProtobufDeserializer<T> {
    fn default() -> Self {
        ProtobufDeserializer {
            name: std::any::type_name::<T>(),
            expected: None,
            _type: PhantomData,
        }
    }
}

impl<T: prost::Message + Default> ProtobufDeserializer<T> {
    /// A deserializer of `T` that does not check the frame's message indexes (see the
    /// [type docs](ProtobufDeserializer)).
    pub fn new() -> Self {
        Self::default()
    }

    fn decode(&self, data: &[u8], ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        let framed = wire::read(data, ctx.headers(), ctx.target(), true)?;
        if let Some(expected) = &self.expected {
            let (message, indexes) = &**expected;
            let found = framed.message_indexes.unwrap_or_default();
            if found != *indexes {
                return Err(ProtobufError::WrongMessageIndexes {
                    message: message.clone(),
                    expected: indexes.to_vec(),
                    found: found.to_vec(),
                }
                .into());
            }
        }
        T::decode(framed.payload).map_err(|source| {
            ProtobufError::Decode {
                message: self.name.to_owned(),
                source,
            }
            .into()
        })
    }
}

impl<T: prost::Message + ReflectMessage + Default> ProtobufDeserializer<T> {
    /// Also refuses frames whose message indexes are not `T`'s own in its `.proto` file (from
    /// `T`'s descriptor), with [`ProtobufError::WrongMessageIndexes`]. Correct when producers
    /// write with `T`'s own file; see the [type docs](ProtobufDeserializer).
    pub fn check_message_indexes(mut self) -> Self {
        let descriptor = T::default().descriptor();
        let indexes = super::message_indexes(&descriptor);
        self.expected = Some(Arc::new((descriptor.full_name().to_owned(), indexes)));
        self
    }
}

impl<T: prost::Message + Default> Deserializer<T> for ProtobufDeserializer<T> {
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        match data {
            Some(data) => self.decode(data, ctx),
            None => Err(Error::UnexpectedNull {
                deserializer: "Protobuf",
                target: ctx.target(),
            }),
        }
    }
}

impl<T: prost::Message + Default> Deserializer<Option<T>> for ProtobufDeserializer<T> {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Option<T>, Error> {
        data.map(|data| self.decode(data, ctx)).transpose()
    }
}

/// Decodes any Protobuf frame to a [`DynamicMessage`] (or to canonical proto3 JSON, as a
/// [`serde_json::Value`]) from the writer schema alone: the schema named by the frame is fetched
/// from the registry once (with its references), parsed once, and cached by id; the message is
/// the one the frame's indexes name. For generic consumers and the CLI.
#[derive(Clone)]
pub struct ProtobufDynamicDeserializer {
    inner: Arc<DynamicInner>,
}

struct DynamicInner {
    registry: Arc<dyn SchemaRegistry>,
    schemas: ReaderCache<ProtobufSchema>,
    json: SerializeOptions,
}

impl std::fmt::Debug for ProtobufDynamicDeserializer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let cached = self.inner.schemas.len();
        f.debug_struct("ProtobufDynamicDeserializer")
            .field("cached_schemas", &cached)
            .finish()
    }
}

impl ProtobufDynamicDeserializer {
    /// A deserializer that fetches writer schemas from `registry`. JSON output is canonical
    /// proto3 JSON (camelCase names, 64-bit integers as strings, default values left out).
    pub fn new(registry: Arc<dyn SchemaRegistry>) -> Self {
        Self::with_json_options(registry, SerializeOptions::new())
    }

    /// Like [`new`](Self::new), with other options for the JSON output.
    pub fn with_json_options(registry: Arc<dyn SchemaRegistry>, json: SerializeOptions) -> Self {
        ProtobufDynamicDeserializer {
            inner: Arc::new(DynamicInner {
                registry,
                schemas: ReaderCache::default(),
                json,
            }),
        }
    }

    /// Adds a writer schema to the cache, as if fetched for `id` (for tests and offline tools).
    pub fn insert_schema(&self, id: SchemaId, schema: ProtobufSchema) {
        self.inner.schemas.insert(id, schema);
    }

    /// The message a frame names, and its payload; or what must be fetched first.
    fn locate<'a>(
        &self,
        data: &'a [u8],
        ctx: &DeserializeContext<'_>,
    ) -> Result<(MessageDescriptor, &'a [u8]), Error> {
        let framed = wire::read(data, ctx.headers(), ctx.target(), true)?;
        let schema = self.inner.schemas.get(framed.schema_id)?;
        let indexes = framed.message_indexes.as_deref().unwrap_or(&[0]);
        Ok((schema.message_at(indexes)?, framed.payload))
    }

    fn decode(&self, data: &[u8], ctx: &DeserializeContext<'_>) -> Result<DynamicMessage, Error> {
        let (message, payload) = self.locate(data, ctx)?;
        let name = message.full_name().to_owned();
        DynamicMessage::decode(message, payload).map_err(|source| {
            ProtobufError::Decode {
                message: name,
                source,
            }
            .into()
        })
    }

    fn to_json(&self, message: &DynamicMessage) -> Result<serde_json::Value, Error> {
        let err = |source| {
            Error::from(ProtobufError::Json {
                message: message.descriptor().full_name().to_owned(),
                source,
            })
        };
        // Through text: `serde_json::Value` widens an f32 to f64 (`0.1f32` would read
        // 0.10000000149011612); written as text it keeps its shortest form, as proto3 JSON wants.
        let mut text = Vec::new();
        super::write_proto3_json(message, &self.inner.json, &mut text).map_err(err)?;
        serde_json::from_slice(&text).map_err(err)
    }

    async fn resolve(&self, need: &Unresolved) -> Result<(), Error> {
        let Unresolved::Schema(id) = need else {
            return Err(Error::CannotResolve(need.clone()));
        };
        let registry = &*self.inner.registry;
        let schema = subject::fetch_schema(registry, *id).await?;
        if schema.schema_type != SchemaType::Protobuf {
            return Err(ProtobufError::NotProtobuf {
                id: *id,
                schema_type: schema.schema_type,
            }
            .into());
        }
        let references = fetch_references(registry, &schema).await?;
        let parsed = ProtobufSchema::parse(&schema.schema, &references)?;
        self.insert_schema(*id, parsed);
        Ok(())
    }
}

/// Fetches `schema`'s references, transitively, keyed by reference name (import path).
pub async fn fetch_references(
    registry: &dyn SchemaRegistry,
    schema: &Schema,
) -> Result<BTreeMap<String, Schema>, Error> {
    subject::fetch_references(registry, schema, |n| {
        ProtobufError::ReferenceDepth(n).into()
    })
    .await
}

impl Deserializer<DynamicMessage> for ProtobufDynamicDeserializer {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<DynamicMessage, Error> {
        match data {
            Some(data) => self.decode(data, ctx),
            None => Err(Error::UnexpectedNull {
                deserializer: "Protobuf",
                target: ctx.target(),
            }),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(ProtobufDynamicDeserializer::resolve(self, need))
    }
}

impl Deserializer<Option<DynamicMessage>> for ProtobufDynamicDeserializer {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Option<DynamicMessage>, Error> {
        data.map(|data| self.decode(data, ctx)).transpose()
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(ProtobufDynamicDeserializer::resolve(self, need))
    }
}

/// Canonical proto3 JSON; a null record is JSON `null`.
impl Deserializer<serde_json::Value> for ProtobufDynamicDeserializer {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<serde_json::Value, Error> {
        match data {
            Some(data) => self.to_json(&self.decode(data, ctx)?),
            None => Ok(serde_json::Value::Null),
        }
    }

    fn deserialize_bytes(
        &self,
        data: Option<&Bytes>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<serde_json::Value, Error> {
        Deserializer::<serde_json::Value>::deserialize(self, data.map(|b| &b[..]), ctx)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        Box::pin(ProtobufDynamicDeserializer::resolve(self, need))
    }
}
