//! Serdes byte-identical to the Kafka Java client's `org.apache.kafka.common.serialization`.
//!
//! | kcodec | Rust types | Java class | bytes |
//! |---|---|---|---|
//! | [`StringSerde`] | `str`, `String` | `StringSerializer` | UTF-8 |
//! | [`BytesSerde`] | `[u8]`, `Vec<u8>`, [`Bytes`] | `ByteArraySerializer`, `BytesSerializer`, `ByteBufferSerializer` | as is |
//! | [`I16Serde`] | `i16` | `ShortSerializer` | 2 bytes, big-endian |
//! | [`I32Serde`] | `i32` | `IntegerSerializer` | 4 bytes, big-endian |
//! | [`I64Serde`] | `i64` | `LongSerializer` | 8 bytes, big-endian |
//! | [`F32Serde`] | `f32` | `FloatSerializer` | IEEE 754 bits, 4 bytes, big-endian |
//! | [`F64Serde`] | `f64` | `DoubleSerializer` | IEEE 754 bits, 8 bytes, big-endian |
//! | [`BoolSerde`] | `bool` | `BooleanSerializer` | `01` / `00` |
//! | [`UuidSerde`] | [`uuid::Uuid`] | `UUIDSerializer` | the 36-character lowercase text |
//! | [`UnitSerde`] | `()` | `VoidSerializer` | always null |
//! | [`ListSerde`] | `Vec<T>` | `ListSerializer` | see [`ListSerde`] |
//!
//! Every serde also takes `Option<T>`, where `None` is a null key or value (a tombstone), and every
//! deserializer of a non-`Option` type refuses null with [`Error::UnexpectedNull`].

mod list;

pub use list::{ListError, ListSerde, ListStrategy};

use crate::{DeserializeContext, Deserializer, Error, SerializeContext, Serialized, Serializer};
use bytes::{BufMut, Bytes, BytesMut};

/// Implements `Serializer<Option<T>>` / `Deserializer<Option<T>>` for a serde that handles `T`:
/// `None` ⇔ null.
macro_rules! nullable {
    ($serde:ty => $($t:ty),+) => {$(
        impl Serializer<Option<$t>> for $serde {
            fn serialize(
                &self,
                value: &Option<$t>,
                ctx: &mut SerializeContext<'_>,
                out: &mut BytesMut,
            ) -> Result<Serialized, Error> {
                match value {
                    Some(v) => <Self as Serializer<$t>>::serialize(self, v, ctx, out),
                    None => Ok(Serialized::Null),
                }
            }
        }

        impl Deserializer<Option<$t>> for $serde {
            fn deserialize(
                &self,
                data: Option<&[u8]>,
                ctx: &DeserializeContext<'_>,
            ) -> Result<Option<$t>, Error> {
                data.map(|d| <Self as Deserializer<$t>>::deserialize(self, Some(d), ctx))
                    .transpose()
            }

            fn deserialize_bytes(
                &self,
                data: Option<&Bytes>,
                ctx: &DeserializeContext<'_>,
            ) -> Result<Option<$t>, Error> {
                data.map(|d| <Self as Deserializer<$t>>::deserialize_bytes(self, Some(d), ctx))
                    .transpose()
            }
        }
    )+};
}

/// The data, or [`Error::UnexpectedNull`] naming the deserializer.
fn non_null<'a>(
    data: Option<&'a [u8]>,
    deserializer: &'static str,
    ctx: &DeserializeContext<'_>,
) -> Result<&'a [u8], Error> {
    data.ok_or(Error::UnexpectedNull {
        deserializer,
        target: ctx.target(),
    })
}

/// UTF-8 strings, as Java's `StringSerializer` with its default encoding.
///
/// ```
/// use kcodec_codecs::{builtin::StringSerde, testing};
///
/// assert_eq!(testing::encode(&StringSerde, "héllo").unwrap().unwrap(), "héllo".as_bytes());
/// let back: String = testing::decode(&StringSerde, Some("héllo".as_bytes())).unwrap();
/// assert_eq!(back, "héllo");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StringSerde;

impl Serializer<str> for StringSerde {
    fn serialize(
        &self,
        value: &str,
        _: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        out.extend_from_slice(value.as_bytes());
        Ok(Serialized::Data)
    }
}

impl Serializer<String> for StringSerde {
    fn serialize(
        &self,
        value: &String,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        <Self as Serializer<str>>::serialize(self, value, ctx, out)
    }
}

impl Deserializer<String> for StringSerde {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<String, Error> {
        let data = non_null(data, "string", ctx)?;
        std::str::from_utf8(data)
            .map(str::to_owned)
            .map_err(Error::Utf8)
    }
}

nullable!(StringSerde => String);

/// Raw bytes, as Java's `ByteArraySerializer`, `BytesSerializer` and `ByteBufferSerializer`:
/// written and read as they are. Deserializing into [`Bytes`] from a shared buffer does not copy.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BytesSerde;

impl Serializer<[u8]> for BytesSerde {
    fn serialize(
        &self,
        value: &[u8],
        _: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        out.extend_from_slice(value);
        Ok(Serialized::Data)
    }
}

impl Serializer<Vec<u8>> for BytesSerde {
    fn serialize(
        &self,
        value: &Vec<u8>,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        <Self as Serializer<[u8]>>::serialize(self, value, ctx, out)
    }
}

impl Serializer<Bytes> for BytesSerde {
    fn serialize(
        &self,
        value: &Bytes,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        <Self as Serializer<[u8]>>::serialize(self, value, ctx, out)
    }
}

impl Deserializer<Vec<u8>> for BytesSerde {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Vec<u8>, Error> {
        non_null(data, "bytes", ctx).map(<[u8]>::to_vec)
    }
}

impl Deserializer<Bytes> for BytesSerde {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Bytes, Error> {
        non_null(data, "bytes", ctx).map(Bytes::copy_from_slice)
    }

    fn deserialize_bytes(
        &self,
        data: Option<&Bytes>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Bytes, Error> {
        data.cloned().ok_or(Error::UnexpectedNull {
            deserializer: "bytes",
            target: ctx.target(),
        })
    }
}

nullable!(BytesSerde => Vec<u8>, Bytes);

macro_rules! big_endian {
    ($(#[$doc:meta])* $serde:ident, $t:ty, $name:literal, $put:ident) => {
        $(#[$doc])*
        #[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
        pub struct $serde;

        impl Serializer<$t> for $serde {
            fn serialize(
                &self,
                value: &$t,
                _: &mut SerializeContext<'_>,
                out: &mut BytesMut,
            ) -> Result<Serialized, Error> {
                out.$put(*value);
                Ok(Serialized::Data)
            }
        }

        impl Deserializer<$t> for $serde {
            fn deserialize(
                &self,
                data: Option<&[u8]>,
                ctx: &DeserializeContext<'_>,
            ) -> Result<$t, Error> {
                const SIZE: usize = std::mem::size_of::<$t>();
                let data = non_null(data, $name, ctx)?;
                let bytes: [u8; SIZE] = data.try_into().map_err(|_| Error::Size {
                    deserializer: $name,
                    expected: SIZE,
                    actual: data.len(),
                })?;
                Ok(<$t>::from_be_bytes(bytes))
            }
        }

        impl ListLayout for $serde {
            const FIXED_SIZE: Option<usize> = Some(std::mem::size_of::<$t>());
        }

        nullable!($serde => $t);
    };
}

/// How Java's `ListSerializer` lays out a list of this serde's values: constant size for
/// `Short`, `Integer`, `Long`, `Float`, `Double` and `UUID`, variable size for everything else.
/// [`ListSerde::new`] reads it.
pub trait ListLayout {
    /// The size of every non-null encoding, for serdes Java writes with the constant-size layout.
    const FIXED_SIZE: Option<usize>;
}

impl ListLayout for StringSerde {
    const FIXED_SIZE: Option<usize> = None;
}

impl ListLayout for BytesSerde {
    const FIXED_SIZE: Option<usize> = None;
}

impl ListLayout for BoolSerde {
    const FIXED_SIZE: Option<usize> = None;
}

big_endian!(
    /// `i16` as 2 big-endian bytes, as Java's `ShortSerializer`.
    I16Serde, i16, "i16", put_i16
);
big_endian!(
    /// `i32` as 4 big-endian bytes, as Java's `IntegerSerializer`.
    ///
    /// ```
    /// use kcodec_codecs::{builtin::I32Serde, testing, Error};
    ///
    /// assert_eq!(testing::encode(&I32Serde, &-2).unwrap().unwrap()[..], [0xff, 0xff, 0xff, 0xfe]);
    /// let err = testing::decode::<i32, _>(&I32Serde, Some(&[1, 2, 3])).unwrap_err();
    /// assert!(err.to_string().starts_with("size of data received by i32 deserializer is not 4"));
    /// ```
    I32Serde, i32, "i32", put_i32
);
big_endian!(
    /// `i64` as 8 big-endian bytes, as Java's `LongSerializer`.
    I64Serde, i64, "i64", put_i64
);
big_endian!(
    /// `f32` as its IEEE 754 bits in 4 big-endian bytes, as Java's `FloatSerializer`
    /// (`floatToRawIntBits`: NaN payloads are kept).
    F32Serde, f32, "f32", put_f32
);
big_endian!(
    /// `f64` as its IEEE 754 bits in 8 big-endian bytes, as Java's `DoubleSerializer`
    /// (`doubleToRawLongBits`: NaN payloads are kept).
    F64Serde, f64, "f64", put_f64
);

/// `bool` as one byte, `01` or `00`, as Java's `BooleanSerializer`; any other byte is refused.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct BoolSerde;

impl Serializer<bool> for BoolSerde {
    fn serialize(
        &self,
        value: &bool,
        _: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        out.put_u8(u8::from(*value));
        Ok(Serialized::Data)
    }
}

impl Deserializer<bool> for BoolSerde {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<bool, Error> {
        match non_null(data, "bool", ctx)? {
            [0] => Ok(false),
            [1] => Ok(true),
            [other] => Err(Error::InvalidBool(*other)),
            data => Err(Error::Size {
                deserializer: "bool",
                expected: 1,
                actual: data.len(),
            }),
        }
    }
}

nullable!(BoolSerde => bool);

/// [`uuid::Uuid`] as its 36-character lowercase hyphenated text (not 16 raw bytes), as Java's
/// `UUIDSerializer`.
///
/// ```
/// use kcodec_codecs::{builtin::UuidSerde, testing};
///
/// let id = uuid::Uuid::from_u128(0x0123_4567_89ab_cdef_0123_4567_89ab_cdef);
/// let bytes = testing::encode(&UuidSerde, &id).unwrap().unwrap();
/// assert_eq!(bytes, "01234567-89ab-cdef-0123-456789abcdef".as_bytes());
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UuidSerde;

impl Serializer<uuid::Uuid> for UuidSerde {
    fn serialize(
        &self,
        value: &uuid::Uuid,
        _: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        let mut text = [0u8; uuid::fmt::Hyphenated::LENGTH];
        out.extend_from_slice(value.hyphenated().encode_lower(&mut text).as_bytes());
        Ok(Serialized::Data)
    }
}

impl Deserializer<uuid::Uuid> for UuidSerde {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<uuid::Uuid, Error> {
        let data = non_null(data, "uuid", ctx)?;
        if data.len() != uuid::fmt::Hyphenated::LENGTH {
            return Err(Error::Size {
                deserializer: "uuid",
                expected: uuid::fmt::Hyphenated::LENGTH,
                actual: data.len(),
            });
        }
        uuid::Uuid::try_parse_ascii(data).map_err(Error::Uuid)
    }
}

impl ListLayout for UuidSerde {
    const FIXED_SIZE: Option<usize> = Some(uuid::fmt::Hyphenated::LENGTH);
}

nullable!(UuidSerde => uuid::Uuid);

/// `()` as Java's `VoidSerializer`: always a null key or value; deserializing accepts only null.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct UnitSerde;

impl Serializer<()> for UnitSerde {
    fn serialize(
        &self,
        _: &(),
        _: &mut SerializeContext<'_>,
        _: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        Ok(Serialized::Null)
    }
}

impl Deserializer<()> for UnitSerde {
    fn deserialize(&self, data: Option<&[u8]>, _: &DeserializeContext<'_>) -> Result<(), Error> {
        match data {
            None => Ok(()),
            Some(d) => Err(Error::NotNull(d.len())),
        }
    }
}
