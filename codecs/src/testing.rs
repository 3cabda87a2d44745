//! One-shot helpers for tests, examples and scripts: encode or decode a single value with a
//! throwaway context (topic `test`, the record's value, no headers).
//!
//! A producer or consumer should call [`Serializer`]/[`Deserializer`] directly with a reused
//! buffer and the record's real context instead.

use crate::{
    DeserializeContext, Deserializer, Error, Headers, SerializeContext, Serialized, Serializer,
    Target,
};
use bytes::{Bytes, BytesMut};

/// The topic the helpers use.
pub const TOPIC: &str = "test";

/// Encodes `value` as a record value of topic [`TOPIC`]; `None` for a null value.
pub fn encode<T: ?Sized, S: Serializer<T> + ?Sized>(
    serde: &S,
    value: &T,
) -> Result<Option<Bytes>, Error> {
    let mut headers = Headers::new();
    let mut out = BytesMut::new();
    let mut ctx = SerializeContext::new(TOPIC, Target::Value, &mut headers);
    Ok(match serde.serialize(value, &mut ctx, &mut out)? {
        Serialized::Data => Some(out.freeze()),
        Serialized::Null => None,
    })
}

/// Decodes a record value of topic [`TOPIC`] with no headers (`None` for a null value).
pub fn decode<T, S: Deserializer<T> + ?Sized>(serde: &S, data: Option<&[u8]>) -> Result<T, Error> {
    let headers = Headers::new();
    serde.deserialize(
        data,
        &DeserializeContext::new(TOPIC, Target::Value, &headers),
    )
}
