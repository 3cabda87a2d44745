//! Serdes byte-identical to the Kafka Java client's `org.apache.kafka.common.serialization`.
//!
//! | kcodec | Rust types | Java class | bytes |
//! |---|---|---|---|
//! | [`StringSerde`] | `str`, `String` | `StringSerializer` | UTF-8 (malformed input read as U+FFFD, as Java does; [`StrictStringSerde`] refuses it) |
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
//! Every serde but [`UnitSerde`] also takes `Option<T>`, where `None` is a null key or value (a
//! tombstone), and refuses null for a non-`Option` type with [`Error::UnexpectedNull`].
//! [`UnitSerde`] is Java's `Void`: it reads only null, and refuses data with [`Error::NotNull`].

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

/// UTF-8 strings, as Java's `StringSerializer` and `StringDeserializer` with their default
/// encoding.
///
/// Decoding behaves like Java's (`new String(bytes, UTF_8)`): valid UTF-8 is checked once and
/// copied once into the `String`; a malformed sequence becomes U+FFFD `�`, never an error,
/// with the same number of replacement characters as Java (see [`decode_utf8_like_java`]). So
/// a consumer reading a topic that some producer filled with bad bytes gets the same strings a
/// Java consumer gets. To refuse such data instead, use [`StrictStringSerde`].
///
/// ```
/// use kcodec_codecs::{builtin::StringSerde, testing};
///
/// assert_eq!(testing::encode(&StringSerde, "héllo").unwrap().unwrap(), "héllo".as_bytes());
/// let back: String = testing::decode(&StringSerde, Some("héllo".as_bytes())).unwrap();
/// assert_eq!(back, "héllo");
/// // Latin-1 "é" is not UTF-8: replaced, as Java does.
/// let lossy: String = testing::decode(&StringSerde, Some(b"caf\xe9")).unwrap();
/// assert_eq!(lossy, "caf\u{fffd}");
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StringSerde;

/// UTF-8 strings, written as [`StringSerde`] writes them, but read strictly: data that is not
/// valid UTF-8 is [`Error::Utf8`] (with the [`Utf8Error`](std::str::Utf8Error), which names the
/// offset, as its source) instead of being replaced with U+FFFD.
///
/// ```
/// use kcodec_codecs::{builtin::StrictStringSerde, testing, Error};
///
/// let back: String = testing::decode(&StrictStringSerde, Some("héllo".as_bytes())).unwrap();
/// assert_eq!(back, "héllo");
/// let err = testing::decode::<String, _>(&StrictStringSerde, Some(b"caf\xe9")).unwrap_err();
/// assert!(matches!(err, Error::Utf8(_)));
/// ```
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct StrictStringSerde;

/// Decodes `data` as Java's `new String(data, StandardCharsets.UTF_8)` does: valid UTF-8 as is
/// (one check, one copy), and each malformed or truncated sequence replaced with U+FFFD.
///
/// The number of replacement characters follows Java's decoder, which differs from
/// [`String::from_utf8_lossy`] (the Unicode "maximal subpart" practice) in two cases: an
/// encoded surrogate (`ED A0..BF xx`, or `ED A0..BF` with a bad third byte) is one U+FFFD for
/// its bytes, not one per byte; and a sequence cut short by the end of the data is one U+FFFD
/// for everything left. Checked against OpenJDK 17 and 25 on forty thousand byte strings
/// (the test vectors are in this crate's tests).
///
/// ```
/// use kcodec_codecs::builtin::decode_utf8_like_java;
///
/// assert_eq!(decode_utf8_like_java(b"ok"), "ok");
/// assert_eq!(decode_utf8_like_java(b"a\xffb"), "a\u{fffd}b");
/// // An encoded surrogate: one replacement in Java (three with from_utf8_lossy).
/// assert_eq!(decode_utf8_like_java(b"\xed\xa0\x80"), "\u{fffd}");
/// ```
pub fn decode_utf8_like_java(data: &[u8]) -> String {
    if let Ok(valid) = std::str::from_utf8(data) {
        return valid.to_owned();
    }
    let mut out = String::with_capacity(data.len() + 2);
    let mut rest = data;
    while let Some(chunk) = rest.utf8_chunks().next() {
        out.push_str(chunk.valid());
        let at = chunk.valid().len();
        if chunk.invalid().is_empty() {
            break;
        }
        let (c, used) = java_utf8_step(&rest[at..]);
        out.push(c);
        rest = &rest[at + used..];
    }
    out
}

/// One step of Java's UTF-8 decoder with replacement, at the start of `b` (not empty): the
/// character it yields and how many bytes it takes. A sequence cut short by the end of the data
/// takes all that is left (Java stops there).
fn java_utf8_step(b: &[u8]) -> (char, usize) {
    const REPLACEMENT: char = char::REPLACEMENT_CHARACTER;
    let n = b.len();
    let b1 = b[0];
    let cont = |i: usize| b.get(i).is_some_and(|x| x & 0xc0 == 0x80);
    let bits = |i: usize, mask: u8| u32::from(b[i] & mask);
    match b1 {
        0x00..=0x7f => (char::from(b1), 1),
        0xc2..=0xdf => match (n, cont(1)) {
            (1, _) => (REPLACEMENT, 1),
            (_, false) => (REPLACEMENT, 1),
            (_, true) => {
                let c = (bits(0, 0x1f) << 6) | bits(1, 0x3f);
                (char::from_u32(c).unwrap_or(REPLACEMENT), 2)
            }
        },
        0xe0..=0xef => {
            // The second byte can't continue this lead (an overlong E0 80..9F, or no
            // continuation byte at all): the lead alone is replaced.
            let bad_second = |x: u8| (b1 == 0xe0 && x & 0xe0 == 0x80) || x & 0xc0 != 0x80;
            if n >= 3 {
                if bad_second(b[1]) {
                    (REPLACEMENT, 1)
                } else if !cont(2) {
                    (REPLACEMENT, 2)
                } else {
                    let c = (bits(0, 0x0f) << 12) | (bits(1, 0x3f) << 6) | bits(2, 0x3f);
                    // A surrogate (ED A0..BF xx) is not a char: one replacement for all three.
                    (char::from_u32(c).unwrap_or(REPLACEMENT), 3)
                }
            } else if n == 2 && bad_second(b[1]) {
                (REPLACEMENT, 1)
            } else {
                (REPLACEMENT, n)
            }
        }
        0xf0..=0xf7 => {
            let bad_second = |x: u8| {
                b1 > 0xf4
                    || (b1 == 0xf0 && !(0x90..=0xbf).contains(&x))
                    || (b1 == 0xf4 && x & 0xf0 != 0x80)
                    || x & 0xc0 != 0x80
            };
            if n >= 4 {
                let c = (bits(0, 0x07) << 18)
                    | (bits(1, 0x3f) << 12)
                    | (bits(2, 0x3f) << 6)
                    | bits(3, 0x3f);
                if cont(1) && cont(2) && cont(3) && (0x1_0000..=0x10_ffff).contains(&c) {
                    (char::from_u32(c).unwrap_or(REPLACEMENT), 4)
                } else if bad_second(b[1]) {
                    (REPLACEMENT, 1)
                } else if !cont(2) {
                    (REPLACEMENT, 2)
                } else {
                    (REPLACEMENT, 3)
                }
            } else if b1 > 0xf4 || (n >= 2 && bad_second(b[1])) {
                (REPLACEMENT, 1)
            } else if n == 3 && !cont(2) {
                (REPLACEMENT, 2)
            } else {
                (REPLACEMENT, n)
            }
        }
        // Continuation bytes, C0/C1 (always overlong) and F8..FF.
        _ => (REPLACEMENT, 1),
    }
}

macro_rules! string_serde {
    ($($serde:ty => $decode:expr),+) => {$(
        impl Serializer<str> for $serde {
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

        impl Serializer<String> for $serde {
            fn serialize(
                &self,
                value: &String,
                ctx: &mut SerializeContext<'_>,
                out: &mut BytesMut,
            ) -> Result<Serialized, Error> {
                <Self as Serializer<str>>::serialize(self, value, ctx, out)
            }
        }

        impl Deserializer<String> for $serde {
            fn deserialize(
                &self,
                data: Option<&[u8]>,
                ctx: &DeserializeContext<'_>,
            ) -> Result<String, Error> {
                let decode: fn(&[u8]) -> Result<String, Error> = $decode;
                decode(non_null(data, "string", ctx)?)
            }
        }

        nullable!($serde => String);
    )+};
}

string_serde!(
    StringSerde => |data| Ok(decode_utf8_like_java(data)),
    StrictStringSerde => |data| std::str::from_utf8(data)
        .map(str::to_owned)
        .map_err(Error::Utf8)
);

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

impl ListLayout for StrictStringSerde {
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
