//! Codec traits, Java-identical built-in serdes, JSON, the Confluent wire format, and the schema
//! codecs (Avro, Protobuf, JSON Schema) with what they share (`subject`) and the record traits
//! of derived types (`record`), each behind its cargo feature.
//!
//! A [`Serializer`] appends a key's or value's bytes to a caller-owned [`BytesMut`], so a producer
//! can reuse one buffer for every record; a [`Deserializer`] reads from a byte slice, or from a
//! shared [`Bytes`] without copying where the codec allows. Both see the topic, whether they handle
//! the key or the value ([`Target`]), and the record's [`Headers`].
//!
//! A null key or value (a tombstone) is `None`: serializers of `Option<T>` report
//! [`Serialized::Null`] for it, deserializers receive `None` as data and give `None` back for
//! `Option<T>`, or [`Error::UnexpectedNull`] for a type that can't be built from null (Java's
//! `Void` — `UnitSerde`, `()` — reads only null).
//!
//! ```
//! use bytes::BytesMut;
//! use kcodec_codecs::{builtin::StringSerde, Headers, SerializeContext, Serialized, Serializer, Target};
//!
//! let mut headers = Headers::new();
//! let mut buf = BytesMut::new();
//! let mut ctx = SerializeContext::new("orders", Target::Key, &mut headers);
//! let written = StringSerde.serialize("order-1", &mut ctx, &mut buf).unwrap();
//! assert_eq!(written, Serialized::Data);
//! assert_eq!(&buf[..], b"order-1");
//! ```
//!
//! A closure is a serializer (or a deserializer) too:
//!
//! ```
//! use bytes::{BufMut, BytesMut};
//! use kcodec_codecs::{testing, Error, SerializeContext, Serialized};
//!
//! let upper = |v: &str, _: &mut SerializeContext<'_>, out: &mut BytesMut| -> Result<Serialized, Error> {
//!     out.put_slice(v.to_uppercase().as_bytes());
//!     Ok(Serialized::Data)
//! };
//! assert_eq!(testing::encode(&upper, "abc").unwrap().unwrap(), &b"ABC"[..]);
//! ```

#![warn(missing_docs)]

#[cfg(feature = "avro")]
pub mod avro;
pub mod builtin;
mod context;
mod error;
#[cfg(feature = "json")]
pub mod json;
#[cfg(feature = "json-schema")]
pub mod json_schema;
#[cfg(feature = "protobuf")]
pub mod protobuf;
#[cfg(feature = "avro")]
pub mod record;
pub mod resolve;
#[cfg(any(feature = "avro", feature = "protobuf", feature = "json-schema"))]
pub mod subject;
pub mod testing;
pub mod wire;

pub use bytes::{Bytes, BytesMut};
pub use context::{DeserializeContext, Header, Headers, SerializeContext, Target};
pub use error::Error;
pub use resolve::{ResolveFuture, Unresolved};

/// What a serializer produced.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
#[must_use]
pub enum Serialized {
    /// The bytes appended to the output buffer are the key or value.
    Data,
    /// The key or value is null (a tombstone, for a value); nothing was appended.
    Null,
}

/// Turns a `T` into the bytes of a record's key or value.
///
/// Implementations append to `out` (never clear it: the caller owns it and may reuse it) and
/// return [`Serialized::Null`] to write a null key or value. They may add headers through the
/// context. The trait is object-safe: `Box<dyn Serializer<T> + Send + Sync>` works.
pub trait Serializer<T: ?Sized> {
    /// Appends `value`'s encoding to `out`.
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error>;

    /// Loads what [`serialize`](Serializer::serialize) reported missing with
    /// [`Error::Unresolved`] (registers or looks up a schema), so that the next call succeeds.
    /// Async layers call it; see [`resolve`]. The default has nothing to load.
    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        resolve::nothing_to_resolve(need)
    }
}

/// Turns the bytes of a record's key or value back into a `T`.
///
/// `data` is `None` for a null key or value. The trait is object-safe.
pub trait Deserializer<T> {
    /// Decodes `data`.
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<T, Error>;

    /// Decodes `data` held in a shared buffer. Codecs whose values can point into the buffer
    /// (such as [`Bytes`]) override this to avoid a copy; the default calls
    /// [`deserialize`](Deserializer::deserialize).
    fn deserialize_bytes(
        &self,
        data: Option<&Bytes>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<T, Error> {
        self.deserialize(data.map(|b| &b[..]), ctx)
    }

    /// Loads what [`deserialize`](Deserializer::deserialize) reported missing with
    /// [`Error::Unresolved`] (fetches a writer schema), so that the next call succeeds.
    /// Async layers call it; see [`resolve`]. The default has nothing to load.
    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        resolve::nothing_to_resolve(need)
    }
}

impl<T: ?Sized, F> Serializer<T> for F
where
    F: Fn(&T, &mut SerializeContext<'_>, &mut BytesMut) -> Result<Serialized, Error>,
{
    fn serialize(
        &self,
        value: &T,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        self(value, ctx, out)
    }
}

impl<T, F> Deserializer<T> for F
where
    F: Fn(Option<&[u8]>, &DeserializeContext<'_>) -> Result<T, Error>,
{
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        self(data, ctx)
    }
}

/// Re-exports for code generated by `#[derive(Record)]`; not part of the public API.
#[doc(hidden)]
#[cfg(feature = "avro")]
pub mod __private {
    pub use serde_json;
}
