//! `#[serde(with = "kcodec::record::avro_bytes")]`: byte buffers as Avro `bytes`, byte arrays as
//! Avro `fixed`.
//!
//! serde writes a `Vec<u8>` as a sequence of integers and a `[u8; N]` as a tuple of `N` integers;
//! Avro's `bytes` and `fixed` need serde's *bytes* instead (`serialize_bytes`). This module writes
//! them that way, so a field of type `Vec<u8>` is encoded as Confluent's serializers encode a
//! Java `byte[]`/`ByteBuffer` (`bytes`: zigzag length, then the bytes) and a `[u8; N]` as `N` raw
//! bytes (`fixed`). `#[derive(Record)]` recognises the attribute and writes `"bytes"` or
//! `{"type": "fixed", "size": N, …}` into the schema; it refuses a `Vec<u8>` or `[u8; N]` field
//! without it (or an explicit `#[record(schema = …)]`), because serde's default sequence of ints
//! would not match. The [`serde_bytes`](https://docs.rs/serde_bytes) crate's
//! `#[serde(with = "serde_bytes")]` writes the same and is recognised too.
//!
//! Reading accepts serde bytes (Avro, bincode, …) and sequences of integers (JSON's arrays), so
//! the same struct still works with the JSON codec.
//!
//! ```
//! use kcodec_codecs::record::avro_bytes;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize)]
//! struct Blob {
//!     #[serde(with = "avro_bytes")]
//!     payload: Vec<u8>,
//!     #[serde(with = "avro_bytes")]
//!     digest: [u8; 4],
//!     #[serde(with = "avro_bytes")]
//!     thumbnail: Option<Vec<u8>>,
//! }
//! let blob = Blob { payload: vec![1, 2], digest: [9; 4], thumbnail: None };
//! let json = serde_json::to_string(&blob).unwrap();
//! assert_eq!(json, r#"{"payload":[1,2],"digest":[9,9,9,9],"thumbnail":null}"#);
//! let back: Blob = serde_json::from_str(&json).unwrap();
//! assert_eq!(back.digest, [9; 4]);
//! ```

use serde::de::{self, Deserializer, SeqAccess, Visitor};
use serde::ser::Serializer;
use std::fmt;

/// Types this module reads and writes: `Vec<u8>`, `Box<[u8]>`, [`bytes::Bytes`], `[u8; N]`, and
/// `Option` of any of them.
#[diagnostic::on_unimplemented(
    message = "`{Self}` can't be written as Avro bytes or fixed by `avro_bytes`",
    note = "avro_bytes supports Vec<u8>, Box<[u8]>, bytes::Bytes, [u8; N] and Option of them"
)]
pub trait AvroBytes: Sized {
    /// Writes the value as serde bytes (or `None`/`Some`).
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error>;
    /// Reads the value from serde bytes or a sequence of integers.
    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error>;
}

/// Writes `value` as serde bytes: Avro `bytes` or `fixed`, per the schema.
pub fn serialize<T: AvroBytes, S: Serializer>(value: &T, serializer: S) -> Result<S::Ok, S::Error> {
    value.serialize_avro(serializer)
}

/// Reads a value written by [`serialize`] (or a sequence of integers).
pub fn deserialize<'de, T: AvroBytes, D: Deserializer<'de>>(
    deserializer: D,
) -> Result<T, D::Error> {
    T::deserialize_avro(deserializer)
}

/// Up to this many bytes are reserved ahead for a sequence of unknown trust; more grows as read.
const PREALLOCATE: usize = 4096;

struct BufVisitor;

impl<'de> Visitor<'de> for BufVisitor {
    type Value = Vec<u8>;

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("bytes")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<Vec<u8>, E> {
        Ok(v.to_vec())
    }

    fn visit_byte_buf<E: de::Error>(self, v: Vec<u8>) -> Result<Vec<u8>, E> {
        Ok(v)
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<Vec<u8>, A::Error> {
        let mut out = Vec::with_capacity(seq.size_hint().unwrap_or(0).min(PREALLOCATE));
        while let Some(b) = seq.next_element::<u8>()? {
            out.push(b);
        }
        Ok(out)
    }
}

struct ArrayVisitor<const N: usize>;

impl<'de, const N: usize> Visitor<'de> for ArrayVisitor<N> {
    type Value = [u8; N];

    fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{N} bytes")
    }

    fn visit_bytes<E: de::Error>(self, v: &[u8]) -> Result<[u8; N], E> {
        v.try_into().map_err(|_| E::invalid_length(v.len(), &self))
    }

    fn visit_seq<A: SeqAccess<'de>>(self, mut seq: A) -> Result<[u8; N], A::Error> {
        let mut out = [0u8; N];
        for (i, slot) in out.iter_mut().enumerate() {
            *slot = seq
                .next_element()?
                .ok_or_else(|| de::Error::invalid_length(i, &self))?;
        }
        if seq.next_element::<de::IgnoredAny>()?.is_some() {
            return Err(de::Error::invalid_length(N + 1, &self));
        }
        Ok(out)
    }
}

impl AvroBytes for Vec<u8> {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self)
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_byte_buf(BufVisitor)
    }
}

impl AvroBytes for Box<[u8]> {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self)
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_byte_buf(BufVisitor)
            .map(Vec::into_boxed_slice)
    }
}

impl AvroBytes for bytes::Bytes {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self)
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer
            .deserialize_byte_buf(BufVisitor)
            .map(bytes::Bytes::from)
    }
}

impl<const N: usize> AvroBytes for [u8; N] {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        serializer.serialize_bytes(self)
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        deserializer.deserialize_bytes(ArrayVisitor::<N>)
    }
}

/// Writes `self` through [`AvroBytes`] (for `Some`).
struct Inner<'a, T>(&'a T);

impl<T: AvroBytes> serde::Serialize for Inner<'_, T> {
    fn serialize<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        self.0.serialize_avro(serializer)
    }
}

/// Reads `T` through [`AvroBytes`] (for `Some`).
struct InnerDe<T>(T);

impl<'de, T: AvroBytes> serde::Deserialize<'de> for InnerDe<T> {
    fn deserialize<D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        T::deserialize_avro(deserializer).map(InnerDe)
    }
}

impl<T: AvroBytes> AvroBytes for Option<T> {
    fn serialize_avro<S: Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        match self {
            Some(v) => serializer.serialize_some(&Inner(v)),
            None => serializer.serialize_none(),
        }
    }

    fn deserialize_avro<'de, D: Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        <Option<InnerDe<T>> as serde::Deserialize>::deserialize(deserializer)
            .map(|o| o.map(|InnerDe(v)| v))
    }
}

#[cfg(test)]
mod tests {

    #[derive(serde::Serialize, serde::Deserialize, Debug, PartialEq)]
    struct All {
        #[serde(with = "super")]
        vec: Vec<u8>,
        #[serde(with = "super")]
        boxed: Box<[u8]>,
        #[serde(with = "super")]
        shared: bytes::Bytes,
        #[serde(with = "super")]
        array: [u8; 3],
        #[serde(with = "super")]
        some: Option<[u8; 2]>,
        #[serde(with = "super")]
        none: Option<Vec<u8>>,
    }

    #[test]
    fn json_reads_back_what_it_wrote() {
        let v = All {
            vec: vec![0, 255],
            boxed: Box::new([7]),
            shared: bytes::Bytes::from_static(b"ab"),
            array: [1, 2, 3],
            some: Some([4, 5]),
            none: None,
        };
        let json = serde_json::to_string(&v).unwrap();
        assert_eq!(
            json,
            r#"{"vec":[0,255],"boxed":[7],"shared":[97,98],"array":[1,2,3],"some":[4,5],"none":null}"#
        );
        assert_eq!(serde_json::from_str::<All>(&json).unwrap(), v);
    }

    #[test]
    fn a_byte_array_of_the_wrong_length_is_an_error() {
        #[derive(serde::Deserialize, Debug)]
        struct A {
            #[serde(with = "super")]
            #[allow(dead_code)]
            a: [u8; 2],
        }
        let short = serde_json::from_str::<A>(r#"{"a":[1]}"#).unwrap_err();
        assert!(short.to_string().contains("2 bytes"), "{short}");
        let long = serde_json::from_str::<A>(r#"{"a":[1,2,3]}"#).unwrap_err();
        assert!(long.to_string().contains("2 bytes"), "{long}");
        let not_u8 = serde_json::from_str::<A>(r#"{"a":[1,256]}"#).unwrap_err();
        assert!(not_u8.to_string().contains("256"), "{not_u8}");
    }
}
