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
//! which reports that it cannot help.

use crate::{
    DeserializeContext, Deserializer, Error, SerializeContext, Serialized, Serializer, Target,
    wire::SchemaId,
};
use bytes::{Bytes, BytesMut};
use std::future::Future;
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
