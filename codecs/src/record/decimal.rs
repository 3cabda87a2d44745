//! [`Decimal`]: an Avro `decimal` on `bytes` with its precision and scale in the type, so a
//! derived record's schema has them and its generated Avro code writes it.

use super::{AvroDecode, AvroType, Names, avro_raw};
use serde_json::{Value, json};

/// A decimal number `unscaled × 10^-SCALE` of at most `PRECISION` digits: Avro's
/// `{"type": "bytes", "logicalType": "decimal", "precision": PRECISION, "scale": SCALE}`, written
/// as Java's `Conversions.DecimalConversion` writes a `BigDecimal` (the unscaled value's
/// shortest big-endian two's-complement bytes). serde sees those bytes, so the type works with
/// the compiled plan (and reads what Confluent's serializers write) as well as with the code
/// `#[derive(Record)]` generates. Writing a value with more than `PRECISION` digits fails, as
/// Java's conversion refuses it.
///
/// ```
/// use kcodec_codecs::record::{Decimal, avro_raw};
/// use kcodec_codecs::BytesMut;
///
/// let price = Decimal::<10, 2>::new(-12_345); // -123.45
/// let mut out = BytesMut::new();
/// avro_raw::encode(&price, &mut out).unwrap();
/// assert_eq!(&out[..], [4, 0xcf, 0xc7]);
/// assert_eq!(avro_raw::decode::<Decimal<10, 2>>(&out).unwrap(), price);
/// assert!(avro_raw::encode(&Decimal::<2, 0>::new(100), &mut BytesMut::new()).is_err());
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, PartialOrd, Ord, Default)]
pub struct Decimal<const PRECISION: u32, const SCALE: u32> {
    /// The unscaled value.
    pub unscaled: i128,
}

impl<const PRECISION: u32, const SCALE: u32> Decimal<PRECISION, SCALE> {
    /// `unscaled × 10^-SCALE`.
    pub const fn new(unscaled: i128) -> Self {
        Decimal { unscaled }
    }

    /// The shortest big-endian two's-complement bytes of the unscaled value, in a 16-byte
    /// buffer (the slice `buf[start..]`); an error message if it has more than `PRECISION`
    /// digits.
    fn to_bytes(self) -> Result<([u8; 16], usize), String> {
        if PRECISION < 39 && self.unscaled.unsigned_abs() >= 10u128.pow(PRECISION) {
            return Err(format!(
                "{} has more than the {PRECISION} digits of decimal({PRECISION}, {SCALE})",
                self.unscaled
            ));
        }
        let buf = self.unscaled.to_be_bytes();
        let mut start = 0;
        while start < 15 {
            let (b, next) = (buf[start], buf[start + 1]);
            if (b == 0 && next & 0x80 == 0) || (b == 0xff && next & 0x80 != 0) {
                start += 1;
            } else {
                break;
            }
        }
        Ok((buf, start))
    }

    /// Reads big-endian two's-complement bytes (at most 16).
    fn from_bytes(v: &[u8]) -> Option<Self> {
        if v.len() > 16 {
            return None;
        }
        let fill = if v.first().is_some_and(|b| b & 0x80 != 0) {
            0xff
        } else {
            0
        };
        let mut buf = [fill; 16];
        buf[16 - v.len()..].copy_from_slice(v);
        Some(Decimal::new(i128::from_be_bytes(buf)))
    }
}

impl<const PRECISION: u32, const SCALE: u32> std::fmt::Display for Decimal<PRECISION, SCALE> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let scale = 10u128.pow(SCALE.min(38));
        let abs = self.unscaled.unsigned_abs();
        let sign = if self.unscaled < 0 { "-" } else { "" };
        if SCALE == 0 {
            write!(f, "{sign}{abs}")
        } else {
            write!(
                f,
                "{sign}{}.{:0width$}",
                abs / scale,
                abs % scale,
                width = SCALE as usize
            )
        }
    }
}

impl<const PRECISION: u32, const SCALE: u32> serde::Serialize for Decimal<PRECISION, SCALE> {
    fn serialize<S: serde::Serializer>(&self, serializer: S) -> Result<S::Ok, S::Error> {
        let (buf, start) = self.to_bytes().map_err(serde::ser::Error::custom)?;
        serializer.serialize_bytes(&buf[start..])
    }
}

impl<'de, const PRECISION: u32, const SCALE: u32> serde::Deserialize<'de>
    for Decimal<PRECISION, SCALE>
{
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visit<const P: u32, const S: u32>;
        impl<const P: u32, const S: u32> serde::de::Visitor<'_> for Visit<P, S> {
            type Value = Decimal<P, S>;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a decimal's unscaled value: at most 16 big-endian bytes")
            }
            fn visit_bytes<E: serde::de::Error>(self, v: &[u8]) -> Result<Self::Value, E> {
                Decimal::from_bytes(v).ok_or_else(|| E::invalid_length(v.len(), &self))
            }
        }
        deserializer.deserialize_bytes(Visit::<PRECISION, SCALE>)
    }
}

impl<const PRECISION: u32, const SCALE: u32> AvroType for Decimal<PRECISION, SCALE> {
    const AVRO_BRANCH: &'static str = "bytes";

    fn avro_raw_in(_: &mut avro_raw::Seen) -> bool {
        true
    }

    #[inline]
    fn avro_encode_raw(&self, w: &mut avro_raw::Writer<'_>) -> Result<(), avro_raw::AvroError> {
        let (buf, start) = self
            .to_bytes()
            .map_err(|problem| avro_raw::AvroError::Encode {
                path: "$".to_owned(),
                schema: format!("decimal({PRECISION}, {SCALE})"),
                problem,
            })?;
        w.bytes(&buf[start..]);
        Ok(())
    }

    fn avro_schema_in(_: &mut Names) -> Value {
        json!({"type": "bytes", "logicalType": "decimal", "precision": PRECISION, "scale": SCALE})
    }
}

impl<const PRECISION: u32, const SCALE: u32> AvroDecode<'_> for Decimal<PRECISION, SCALE> {
    #[inline]
    fn avro_decode_raw(r: &mut avro_raw::Reader<'_>) -> Result<Self, avro_raw::AvroError> {
        let at = r.position();
        let v = r.bytes()?;
        Decimal::from_bytes(v).ok_or_else(|| {
            r.mismatch(
                at,
                format!("a decimal of {} bytes does not fit an i128", v.len()),
            )
        })
    }
}
