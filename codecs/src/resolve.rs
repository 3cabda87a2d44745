//! How a codec that needs a schema registry stays synchronous.
//!
//! Encoding and decoding never do I/O. When a schema codec meets something it has not loaded yet —
//! the writer schema id for a subject it hasn't registered, or a writer schema id it hasn't fetched
//! — its `serialize`/`deserialize` returns [`Error::Unresolved`] naming what is missing. An async
//! layer (the typed producer and consumer, or [`serialize`]/[`deserialize`] here) then awaits the
//! codec's `resolve` for that [`Unresolved`], which does the registry I/O once and caches the
//! result, and calls the codec again. Every later record with the same schema takes the sync path.
//!
//! Codecs with nothing to resolve (every built-in, JSON, closures) keep the default `resolve`,
//! which reports that it cannot help. Wrappers pass [`Error::Unresolved`] through unchanged and
//! forward `resolve` to the codec they wrap (`ListSerde` does, and each schema codec's
//! `Option<T>` impl); a closure that calls a schema codec says which codec resolves for it with
//! [`resolving`].

use crate::{
    DeserializeContext, Deserializer, Error, SerializeContext, Serialized, Serializer, Target,
    wire::SchemaId,
};
use bytes::{Bytes, BytesMut};
use std::future::Future;
use std::marker::PhantomData;
use std::pin::Pin;

/// The future a codec's `resolve` returns.
pub type ResolveFuture<'a> = Pin<Box<dyn Future<Output = Result<(), Error>> + Send + 'a>>;

/// What a schema codec must load before it can go on.
#[derive(Debug, Clone, PartialEq, Eq, Hash)]
#[non_exhaustive]
pub enum Unresolved {
    /// The writer schema for this topic's key or value: register it or look it up.
    WriterSchema {
        /// The record's topic.
        topic: String,
        /// Key or value.
        target: Target,
        /// The subject it goes under, when the codec knows it.
        subject: Option<String>,
    },
    /// A schema named by a frame (the writer's): fetch it from the registry.
    Schema(SchemaId),
}

impl std::fmt::Display for Unresolved {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            Unresolved::WriterSchema {
                topic,
                target,
                subject: Some(subject),
            } => write!(
                f,
                "the {target} schema for topic '{topic}' (subject '{subject}') is not resolved yet"
            ),
            Unresolved::WriterSchema { topic, target, .. } => {
                write!(
                    f,
                    "the {target} schema for topic '{topic}' is not resolved yet"
                )
            }
            Unresolved::Schema(id) => write!(f, "{id} is not loaded yet"),
        }
    }
}

/// The default `resolve`: a codec that never returns [`Error::Unresolved`] has nothing to load.
pub(crate) fn nothing_to_resolve(need: &Unresolved) -> ResolveFuture<'static> {
    let err = Error::CannotResolve(need.clone());
    Box::pin(async move { Err(err) })
}

/// How many times the helpers below resolve and retry before giving up (a codec that keeps asking
/// for more would otherwise loop forever).
pub const MAX_RESOLVE_ROUNDS: usize = 4;

/// Serializes `value`, resolving what the codec asks for along the way.
pub async fn serialize<T, S>(
    serde: &S,
    value: &T,
    ctx: &mut SerializeContext<'_>,
    out: &mut BytesMut,
) -> Result<Serialized, Error>
where
    T: ?Sized,
    S: Serializer<T> + ?Sized,
{
    let start = out.len();
    for _ in 0..MAX_RESOLVE_ROUNDS {
        match serde.serialize(value, ctx, out) {
            Err(Error::Unresolved(need)) => {
                out.truncate(start);
                serde.resolve(&need).await?;
            }
            done => return done,
        }
    }
    serde.serialize(value, ctx, out)
}

/// Deserializes `data` from a shared buffer, resolving what the codec asks for along the way.
pub async fn deserialize<T, D>(
    serde: &D,
    data: Option<&Bytes>,
    ctx: &DeserializeContext<'_>,
) -> Result<T, Error>
where
    D: Deserializer<T> + ?Sized,
{
    for _ in 0..MAX_RESOLVE_ROUNDS {
        match serde.deserialize_bytes(data, ctx) {
            Err(Error::Unresolved(need)) => serde.resolve(&need).await?,
            done => return done,
        }
    }
    serde.deserialize_bytes(data, ctx)
}

/// A closure that calls a schema codec, with that codec's `resolve` (a closure alone has the
/// default one, so the schema it needs could never be registered or fetched). The closure must
/// return the codec's [`Error::Unresolved`] as it is, as `?` does.
///
/// ```
/// use kcodec_codecs::avro::{AvroSerializer, ParsedSchema};
/// use kcodec_codecs::{resolve, BytesMut, Error, Headers, SerializeContext, Serialized, Serializer, Target};
/// use kcodec_registry::InMemoryRegistry;
/// use std::sync::Arc;
///
/// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
/// let registry = Arc::new(InMemoryRegistry::new());
/// let avro = AvroSerializer::<String>::new(registry, ParsedSchema::parse(r#""string""#)?);
/// let inner = avro.clone();
/// // Trims before encoding; `resolving` gives the closure the Avro serializer's `resolve`.
/// let trimmed = resolve::resolving(
///     move |v: &str, ctx: &mut SerializeContext<'_>, out: &mut BytesMut| {
///         inner.serialize(&v.trim().to_owned(), ctx, out)
///     },
///     avro,
/// );
/// let mut headers = Headers::new();
/// let mut out = BytesMut::new();
/// let mut ctx = SerializeContext::new("t", Target::Value, &mut headers);
/// resolve::serialize(&trimmed, " hi ", &mut ctx, &mut out).await?;
/// assert_eq!(&out[..], [0, 0, 0, 0, 1, 0x04, b'h', b'i']);
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// # }).unwrap();
/// ```
pub fn resolving<F, C, U: ?Sized>(codec_fn: F, codec: C) -> Resolving<F, C, U> {
    Resolving {
        codec_fn,
        codec,
        _codec_type: PhantomData,
    }
}

/// A closure with the `resolve` of the codec it calls: see [`resolving`]. A serializer when the
/// closure is one and `C: Serializer<U>`, a deserializer when the closure is one and
/// `C: Deserializer<U>`.
pub struct Resolving<F, C, U: ?Sized> {
    codec_fn: F,
    codec: C,
    _codec_type: PhantomData<fn(&U)>,
}

impl<F, C: std::fmt::Debug, U: ?Sized> std::fmt::Debug for Resolving<F, C, U> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Resolving")
            .field("codec", &self.codec)
            .finish_non_exhaustive()
    }
}

impl<T: ?Sized, U: ?Sized, F, C> Serializer<T> for Resolving<F, C, U>
where
    F: Fn(&T, &mut SerializeContext<'_>, &mut BytesMut) -> Result<Serialized, Error>,
    C: Serializer<U>,
{
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        (self.codec_fn)(value, ctx, out)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        self.codec.resolve(need)
    }
}

impl<T, U, F, C> Deserializer<T> for Resolving<F, C, U>
where
    F: Fn(Option<&[u8]>, &DeserializeContext<'_>) -> Result<T, Error>,
    C: Deserializer<U>,
{
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        (self.codec_fn)(data, ctx)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        self.codec.resolve(need)
    }
}
