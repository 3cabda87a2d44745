//! kcodec's codecs as serializers and deserializers of Confluent's pure-Rust Kafka client,
//! [`confluent_kafka`] (`KafkaProducer`, `KafkaConsumer`, `MockProducer`, …).
//!
//! [`Serde`] wraps any kcodec [`Serializer`] or
//! [`Deserializer`] — the Java-identical built-ins, JSON, Avro,
//! Protobuf, JSON Schema, a closure — and implements `confluent_kafka`'s
//! [`Serializer`](confluent_kafka::common::serialization::Serializer) and
//! [`Deserializer`](confluent_kafka::common::serialization::Deserializer) for it. Whether it
//! handles the key or the value is fixed when it is built ([`Serde::key`], [`Serde::value`]),
//! because the schema codecs need it for the subject (`<topic>-key`/`<topic>-value`) and the
//! schema-id header (`__key_schema_id`/`__value_schema_id`).
//!
//! ```
//! use confluent_kafka::common::serialization::Serializer as _;
//! use kcodec_codecs::builtin::StringSerde;
//! use kcodec_confluent::Serde;
//!
//! # tokio_test(async {
//! let key = Serde::key(StringSerde);
//! let bytes = key.serialize("orders", Some("order-1")).await.unwrap();
//! assert_eq!(bytes.as_deref(), Some(&b"order-1"[..]));
//! # });
//! # fn tokio_test(f: impl std::future::Future<Output = ()>) {
//! #     tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(f)
//! # }
//! ```
//!
//! A schema codec registers (or looks up) its writer schema on first use: the wrapper awaits the
//! codec's `resolve` (see [`kcodec_codecs::resolve`]) once per schema, then every later record is
//! encoded on the codec's synchronous path.
//!
//! # Translation notes
//!
//! Where the two libraries' contracts differ, and what the wrapper does:
//!
//! - **Key or value** — Java's serdes learn it from `configure(configs, isKey)`; here it is given
//!   at construction, and `configure` with the other one is refused (a value serde configured as
//!   a key serde would write the wrong subject and header).
//! - **Null** — a `None` key or value is serialized to `None` (a null key, a tombstone) without
//!   calling the codec, as Confluent's Java serializers return `null` for `null`; a codec that
//!   reports [`Serialized::Null`] for a value gives `None` too.
//!   `confluent_kafka`'s consumer never passes a null key or value to a deserializer: the
//!   record's `key()`/`value()` is `None` and the codec is not called. So wrap the codec of `T`,
//!   not of `Option<T>`, and read a tombstone as `value() == None`; a codec that reads *only*
//!   null (Java's `Void`, kcodec's `UnitSerde`) is never called by the consumer.
//! - **Output buffer** — kcodec's serializers append to a caller-owned buffer that a producer
//!   reuses; `confluent_kafka` shares one serializer between concurrent sends and takes a
//!   `Cow<[u8]>`, so each call encodes into a fresh buffer (sized from the previous record) and
//!   returns it owned.
//! - **Headers** — the record's headers are copied into kcodec's [`Headers`] only when there are
//!   any, and written back only when the codec changed them (headers it appended are added;
//!   anything else rewrites them in the codec's order). Header values are `Vec<u8>` there and
//!   [`Bytes`] here: each present value is copied once.
//! - **`serialize` without headers** — with schema ids in headers, a codec that must write a
//!   header fails with [`Error::MissingHeaders`], as Java's `HeaderSchemaIdSerializer` throws
//!   "Missing headers" when it is given none. The producers call `serialize_with_headers`.
//! - **Three deserializer entry points** — all are overridden, so none drops the headers or
//!   the schema id they carry: `deserialize` (no headers: prefix ids only),
//!   `deserialize_with_headers` and `deserialize_with_headers_bytes` (the consumer's; it hands
//!   the codec the shared [`Bytes`], so `BytesSerde` copies nothing).
//! - **Errors** — `confluent_kafka`'s error is a closed enum whose causes must be of that enum.
//!   A failure becomes `Error::Serialization` (Java's `SerializationException`, which
//!   Confluent's serdes throw) with kcodec's message, and each cause in kcodec's chain becomes
//!   one source link carrying that cause's text (a bare `KafkaError`), so the whole message chain
//!   survives; see [`Error`].

#![warn(missing_docs)]

mod error;
#[cfg(feature = "transport")]
pub mod transport;

/// The `confluent_kafka` crate these wrappers implement the traits of, re-exported so that its
/// version always matches.
pub use confluent_kafka;
pub use error::Error;

use bytes::{Bytes, BytesMut};
use confluent_kafka::common::Error as KafkaError;
use confluent_kafka::common::header::{Header as _, Headers as _, RecordHeaders};
use confluent_kafka::common::serialization;
use kcodec_codecs::resolve::{self, MAX_RESOLVE_ROUNDS};
use kcodec_codecs::{
    DeserializeContext, Deserializer, Header, Headers, SerializeContext, Serialized, Serializer,
    Target,
};
use std::borrow::Cow;
use std::collections::HashMap;
use std::sync::atomic::{AtomicUsize, Ordering};

/// The largest buffer a serializer reserves ahead from the previous record's size (one large
/// record must not make every later small one reserve as much).
const MAX_SIZE_HINT: usize = 64 * 1024;

/// A kcodec codec as a `confluent_kafka` serializer and/or deserializer, for a record's key or
/// its value.
///
/// It implements [`confluent_kafka::common::serialization::Serializer<T>`] when the codec is a
/// kcodec [`Serializer<T>`], and [`Deserializer<T>`](serialization::Deserializer) when the codec
/// is a kcodec [`Deserializer<T>`]. See the [crate documentation](crate) for how the two
/// contracts are reconciled.
#[derive(Debug)]
pub struct Serde<C> {
    codec: C,
    target: Target,
    /// The length of the last record encoded, to size the next one's buffer.
    size_hint: AtomicUsize,
}

impl<C> Serde<C> {
    /// Wraps `codec` for `target`.
    pub fn new(codec: C, target: Target) -> Self {
        Serde {
            codec,
            target,
            size_hint: AtomicUsize::new(0),
        }
    }

    /// Wraps `codec` for record keys (subject `<topic>-key`, header `__key_schema_id`).
    pub fn key(codec: C) -> Self {
        Self::new(codec, Target::Key)
    }

    /// Wraps `codec` for record values (subject `<topic>-value`, header `__value_schema_id`).
    pub fn value(codec: C) -> Self {
        Self::new(codec, Target::Value)
    }

    /// Whether it handles keys or values.
    pub fn target(&self) -> Target {
        self.target
    }

    /// The wrapped codec.
    pub fn codec(&self) -> &C {
        &self.codec
    }

    /// The wrapped codec, unwrapped.
    pub fn into_codec(self) -> C {
        self.codec
    }

    /// Encodes `value` with `headers` as the record's headers into a fresh buffer, on the
    /// codec's synchronous path; [`Step::Resolve`] when a schema must be registered or looked
    /// up first (see [`encode_resolving`](Self::encode_resolving)). `None` is a null.
    fn encode_now<T>(
        &self,
        topic: &str,
        headers: &mut Headers,
        value: &T,
    ) -> Result<Step<Option<Vec<u8>>>, Error>
    where
        T: ?Sized,
        C: Serializer<T>,
    {
        let mut out = BytesMut::with_capacity(self.size_hint.load(Ordering::Relaxed));
        let mut ctx = SerializeContext::new(topic, self.target, headers);
        match self.codec.serialize(value, &mut ctx, &mut out) {
            Err(kcodec_codecs::Error::Unresolved(_)) => Ok(Step::Resolve),
            done => Ok(Step::Done(self.finish(done?, out))),
        }
    }

    /// [`encode_now`](Self::encode_now) through kcodec's async resolve: the codec registers or
    /// looks up its schema (once per schema), then encodes. The callers box this future, so
    /// that the one `confluent_kafka` stores for every record stays within its inline buffer.
    async fn encode_resolving<T>(
        &self,
        topic: &str,
        headers: &mut Headers,
        value: &T,
    ) -> Result<Option<Vec<u8>>, Error>
    where
        T: ?Sized + Sync,
        C: Serializer<T> + Sync,
    {
        let mut out = BytesMut::new();
        let mut ctx = SerializeContext::new(topic, self.target, headers);
        let written = resolve::serialize(&self.codec, value, &mut ctx, &mut out).await?;
        Ok(self.finish(written, out))
    }

    /// What a serializer returns for what the codec wrote.
    fn finish(&self, written: Serialized, out: BytesMut) -> Option<Vec<u8>> {
        match written {
            Serialized::Null => None,
            Serialized::Data => {
                self.size_hint
                    .store(out.len().min(MAX_SIZE_HINT), Ordering::Relaxed);
                Some(Vec::from(out))
            }
        }
    }

    /// Decodes `data` with `headers` as the record's headers, on the codec's synchronous path,
    /// or through its `resolve` (fetching a writer schema, once per schema) in a boxed future.
    async fn decode<T>(&self, topic: &str, headers: &Headers, data: Data<'_>) -> Result<T, Error>
    where
        C: Deserializer<T> + Sync,
    {
        let ctx = DeserializeContext::new(topic, self.target, headers);
        match data.decode(&self.codec, &ctx) {
            Err(kcodec_codecs::Error::Unresolved(_)) => {}
            done => return Ok(done?),
        }
        Ok(Box::pin(async move {
            for _ in 0..MAX_RESOLVE_ROUNDS {
                match data.decode(&self.codec, &ctx) {
                    Err(kcodec_codecs::Error::Unresolved(need)) => {
                        self.codec.resolve(&need).await?
                    }
                    done => return done,
                }
            }
            data.decode(&self.codec, &ctx)
        })
        .await?)
    }

    /// Refuses a `configure` for the other target.
    fn check_target(&self, is_key: bool) -> Result<(), Error> {
        if is_key == self.target.is_key() {
            Ok(())
        } else {
            Err(Error::TargetMismatch {
                built_for: self.target,
            })
        }
    }
}

/// The outcome of a codec's synchronous path.
enum Step<T> {
    /// Done.
    Done(T),
    /// A schema must be resolved first (kcodec's `Error::Unresolved`).
    Resolve,
}

/// A record's key or value as `confluent_kafka` hands it over: a slice, or the fetched
/// [`Bytes`] (which codecs such as `BytesSerde` keep without copying).
#[derive(Clone, Copy)]
enum Data<'a> {
    Slice(&'a [u8]),
    Shared(&'a Bytes),
}

impl Data<'_> {
    fn decode<T, D: Deserializer<T>>(
        self,
        codec: &D,
        ctx: &DeserializeContext<'_>,
    ) -> Result<T, kcodec_codecs::Error> {
        match self {
            Data::Slice(data) => codec.deserialize(Some(data), ctx),
            Data::Shared(data) => codec.deserialize_bytes(Some(data), ctx),
        }
    }
}

/// kcodec's copy of a record's headers: nothing allocated when there are none.
fn copy_headers(headers: &RecordHeaders) -> Headers {
    headers
        .iter()
        .map(|h| Header {
            key: h.key().to_owned(),
            value: h.value().map(Bytes::copy_from_slice),
        })
        .collect::<Vec<_>>()
        .into()
}

fn same_header(theirs: &confluent_kafka::common::header::RecordHeader, ours: &Header) -> bool {
    theirs.key() == ours.key && theirs.value() == ours.value.as_deref()
}

/// Makes `theirs` equal to `ours`, touching nothing when they already are: headers the codec
/// appended are added; any other change rewrites them in `ours`' order.
fn write_back(theirs: &mut RecordHeaders, ours: &Headers) -> Result<(), KafkaError> {
    let old = theirs.to_array();
    let kept = old.len() <= ours.len() && old.iter().zip(ours).all(|(t, o)| same_header(t, o));
    let start = if kept {
        old.len()
    } else {
        let keys: Vec<String> = old.iter().map(|h| h.key().to_owned()).collect();
        for key in &keys {
            theirs.remove(key).map_err(KafkaError::LocalIllegalState)?;
        }
        0
    };
    for header in ours.iter().skip(start) {
        theirs
            .add_with_key_value(&header.key, header.value.as_deref())
            .map_err(KafkaError::LocalIllegalState)?;
    }
    Ok(())
}

impl<T, C> serialization::Serializer<T> for Serde<C>
where
    T: ?Sized + Sync,
    C: Serializer<T> + Send + Sync,
{
    /// Serializes without the record's headers: fails with [`Error::MissingHeaders`] if the
    /// codec writes one (a schema id in a header).
    async fn serialize<'a>(
        &'a self,
        topic: &'a str,
        data: Option<&'a T>,
    ) -> Result<Option<Cow<'a, [u8]>>, KafkaError> {
        let Some(value) = data else { return Ok(None) };
        let mut headers = Headers::new();
        let bytes = match self.encode_now(topic, &mut headers, value)? {
            Step::Done(bytes) => bytes,
            Step::Resolve => Box::pin(self.encode_resolving(topic, &mut headers, value)).await?,
        };
        if !headers.is_empty() {
            return Err(Error::MissingHeaders {
                target: self.target,
            }
            .into());
        }
        Ok(bytes.map(Cow::Owned))
    }

    async fn serialize_with_headers<'a, 'h>(
        &'a self,
        topic: &'a str,
        headers: &'h mut RecordHeaders,
        data: Option<&'a T>,
    ) -> Result<Option<Cow<'a, [u8]>>, KafkaError>
    where
        'a: 'h,
    {
        let Some(value) = data else { return Ok(None) };
        let mut ours = copy_headers(headers);
        let bytes = match self.encode_now(topic, &mut ours, value)? {
            Step::Done(bytes) => bytes,
            Step::Resolve => Box::pin(self.encode_resolving(topic, &mut ours, value)).await?,
        };
        if ours.len() != headers.to_array().len()
            || !headers.iter().zip(&ours).all(|(t, o)| same_header(t, o))
        {
            write_back(headers, &ours).map_err(|source| Error::Headers {
                target: self.target,
                source,
            })?;
        }
        Ok(bytes.map(Cow::Owned))
    }

    // A ready future: `T` (which may borrow) is not captured.
    #[allow(refining_impl_trait)]
    fn configure<'a>(
        &'a mut self,
        _configs: &'a HashMap<String, String>,
        is_key: bool,
    ) -> std::future::Ready<Result<(), KafkaError>> {
        std::future::ready(self.check_target(is_key).map_err(KafkaError::from))
    }
}

impl<T, C> serialization::Deserializer<T> for Serde<C>
where
    T: Send + 'static,
    C: Deserializer<T> + Send + Sync + 'static,
{
    /// Deserializes without headers: a schema id can only come from the payload's prefix.
    async fn deserialize<'a>(&'a self, topic: &'a str, data: &'a [u8]) -> Result<T, KafkaError> {
        Ok(self
            .decode(topic, &Headers::new(), Data::Slice(data))
            .await?)
    }

    async fn deserialize_with_headers<'a>(
        &'a self,
        topic: &'a str,
        headers: &'a mut RecordHeaders,
        data: &'a [u8],
    ) -> Result<T, KafkaError> {
        let ours = copy_headers(headers);
        Ok(self.decode(topic, &ours, Data::Slice(data)).await?)
    }

    async fn deserialize_with_headers_bytes<'a>(
        &'a self,
        topic: &'a str,
        headers: &'a mut RecordHeaders,
        data: &'a Bytes,
    ) -> Result<T, KafkaError> {
        let ours = copy_headers(headers);
        Ok(self.decode(topic, &ours, Data::Shared(data)).await?)
    }

    async fn configure<'a>(
        &'a mut self,
        _configs: &'a HashMap<String, String>,
        is_key: bool,
    ) -> Result<(), KafkaError> {
        Ok(self.check_target(is_key)?)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use confluent_kafka::common::serialization::{Deserializer as De, Serializer as Ser};
    use kcodec_codecs::builtin::StringSerde;

    /// The size of `confluent_kafka`'s `InlineFuture` buffer (`CAPACITY`, private there): a
    /// serde future that does not fit is boxed, an allocation per record.
    const INLINE: usize = 256;

    /// Every entry point's future fits that buffer: the synchronous path holds little across
    /// its one await, and resolving a schema is boxed on its own.
    #[test]
    fn futures_fit_confluents_inline_buffer() {
        let serde = Serde::value(StringSerde);
        let value = String::from("v");
        let data = Bytes::from_static(b"v");
        let sizes = [
            size_of_val(&Ser::serialize(&serde, "t", Some(&value))),
            size_of_val(&Ser::serialize_with_headers(
                &serde,
                "t",
                &mut RecordHeaders::new(),
                Some(&value),
            )),
            size_of_val(&De::<String>::deserialize(&serde, "t", &data)),
            size_of_val(&De::<String>::deserialize_with_headers(
                &serde,
                "t",
                &mut RecordHeaders::new(),
                &data,
            )),
            size_of_val(&De::<String>::deserialize_with_headers_bytes(
                &serde,
                "t",
                &mut RecordHeaders::new(),
                &data,
            )),
        ];
        assert!(sizes.iter().all(|&n| n <= INLINE), "{sizes:?}");
    }
}
