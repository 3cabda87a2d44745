//! Decodes Avro binary straight into serde types with the writer schema: no intermediate
//! `Value`, strings and bytes borrowed from the input until the target type copies them, and
//! every length and count checked against the bytes that remain before anything is allocated.
//!
//! apache-avro 0.22 has a schema-aware deserializer too, but it is not public on its own (only
//! behind readers that own their schemas), it requires the Rust struct to carry the Avro record's
//! name, and it panics when given a reader schema; this one matches records by field names only.

use super::AvroError;
use super::cursor::Cursor;
use super::validate::MAX_ZERO_WIDTH_ITEMS;
use apache_avro::Schema;
use apache_avro::schema::{DecimalSchema, InnerDecimalSchema, NamesRef, UuidSchema};
use serde::de::{self, DeserializeSeed, Visitor};

/// The deserializer's error: an [`AvroError`], or a message from the target type.
#[derive(Debug)]
pub(crate) struct DeError(pub(crate) AvroError);

impl std::fmt::Display for DeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DeError(AvroError::Mismatch {
            at: usize::MAX,
            message: msg.to_string(),
        })
    }
}

impl From<AvroError> for DeError {
    fn from(e: AvroError) -> Self {
        DeError(e)
    }
}

/// Decodes `data` (exactly one value) into `T`.
pub(crate) fn from_slice<'de, 's, T: de::Deserialize<'de>>(
    schema: &'s Schema,
    names: &'s NamesRef<'s>,
    data: &'de [u8],
) -> Result<T, AvroError> {
    let mut reader = Reader {
        bytes: Cursor::new(data),
        names,
        depth: 0,
        zero_items: 0,
        zero_limit: MAX_ZERO_WIDTH_ITEMS,
    };
    let result = T::deserialize(De {
        r: &mut reader,
        schema,
    });
    match result {
        Ok(v) if reader.bytes.pos == data.len() => Ok(v),
        Ok(_) => Err(AvroError::TrailingBytes {
            at: reader.bytes.pos,
            count: data.len() - reader.bytes.pos,
        }),
        Err(DeError(AvroError::Mismatch {
            at: usize::MAX,
            message,
        })) => Err(AvroError::Mismatch {
            at: reader.bytes.pos,
            message,
        }),
        Err(DeError(e)) => Err(e),
    }
}

struct Reader<'de, 's> {
    bytes: Cursor<'de>,
    names: &'s NamesRef<'s>,
    depth: usize,
    zero_items: u64,
    zero_limit: u64,
}

impl<'de, 's> Reader<'de, 's> {
    #[inline]
    fn bytes(&mut self) -> Result<&'de [u8], AvroError> {
        let n = self.bytes.len("bytes")?;
        self.bytes.take("bytes", n)
    }

    #[inline]
    fn str(&mut self) -> Result<&'de str, AvroError> {
        let n = self.bytes.len("string")?;
        let at = self.bytes.pos;
        let raw = self.bytes.take("string", n)?;
        std::str::from_utf8(raw).map_err(|source| AvroError::Utf8 { at, source })
    }

    fn resolve(&self, schema: &'s Schema) -> Result<&'s Schema, AvroError> {
        match schema {
            Schema::Ref { name } => self
                .names
                .get(name)
                .copied()
                .ok_or_else(|| AvroError::UndefinedName(name.fullname(None))),
            other => Ok(other),
        }
    }

    fn enter(&mut self) -> Result<(), AvroError> {
        self.depth += 1;
        if self.depth > super::validate::MAX_DEPTH {
            return Err(AvroError::TooDeep {
                at: self.bytes.pos,
                limit: super::validate::MAX_DEPTH,
            });
        }
        Ok(())
    }

    /// Reads a block count (and the byte size after a negative one); `zero_width` items take no
    /// bytes, so their count is bounded by the input-size limit instead.
    fn block(&mut self, what: &'static str, zero_width: bool) -> Result<usize, AvroError> {
        let at = self.bytes.pos;
        let mut count = self.bytes.long("block count")?;
        if count < 0 {
            count = count
                .checked_neg()
                .ok_or(AvroError::Varint { what: "long", at })?;
            self.bytes.len("block")?;
        }
        if zero_width {
            self.zero_items = self.zero_items.saturating_add(count as u64);
            if self.zero_items > self.zero_limit {
                return Err(AvroError::TooManyItems {
                    at,
                    count: self.zero_items,
                    limit: self.zero_limit,
                });
            }
        } else if count as u64 > self.bytes.remaining() as u64 {
            return Err(AvroError::ItemCount {
                what,
                at,
                count,
                remaining: self.bytes.remaining(),
            });
        }
        Ok(count as usize)
    }
}

fn zero_width(schema: &Schema, names: &NamesRef<'_>) -> bool {
    super::validate::min_width(schema, names, 0) == 0
}

struct De<'r, 'de, 's> {
    r: &'r mut Reader<'de, 's>,
    schema: &'s Schema,
}

impl<'r, 'de, 's> De<'r, 'de, 's> {
    /// Reads a union's branch index and gives its schema.
    fn branch(
        &mut self,
        union: &'s apache_avro::schema::UnionSchema,
    ) -> Result<&'s Schema, AvroError> {
        let at = self.r.bytes.pos;
        let index = self.r.bytes.long("union index")?;
        let variants = union.variants();
        if index < 0 || index as usize >= variants.len() {
            return Err(AvroError::UnionIndex {
                at,
                index,
                branches: variants.len(),
            });
        }
        self.r.resolve(&variants[index as usize])
    }

    fn any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        let schema = self.r.resolve(self.schema)?;
        match schema {
            Schema::Null => visitor.visit_unit(),
            Schema::Boolean => {
                let at = self.r.bytes.pos;
                match self.r.bytes.take("boolean", 1)?[0] {
                    0 => visitor.visit_bool(false),
                    1 => visitor.visit_bool(true),
                    byte => Err(AvroError::Boolean { at, byte }.into()),
                }
            }
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                visitor.visit_i32(self.r.bytes.int("int")?)
            }
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => visitor.visit_i64(self.r.bytes.long("long")?),
            Schema::Float => {
                let b = self.r.bytes.take("float", 4)?;
                visitor.visit_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            Schema::Double => {
                let b = self.r.bytes.take("double", 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                visitor.visit_f64(f64::from_le_bytes(a))
            }
            Schema::Bytes
            | Schema::BigDecimal
            | Schema::Uuid(UuidSchema::Bytes)
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => visitor.visit_borrowed_bytes(self.r.bytes()?),
            Schema::String | Schema::Uuid(UuidSchema::String) => {
                visitor.visit_borrowed_str(self.r.str()?)
            }
            Schema::Fixed(f)
            | Schema::Duration(f)
            | Schema::Uuid(UuidSchema::Fixed(f))
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(f),
                ..
            }) => visitor.visit_borrowed_bytes(self.r.bytes.take("fixed", f.size)?),
            Schema::Enum(e) => {
                let symbol = enum_symbol(self.r, e)?;
                visitor.visit_str(symbol)
            }
            Schema::Union(u) => {
                let branch = self.branch(u)?;
                De {
                    r: self.r,
                    schema: branch,
                }
                .any(visitor)
            }
            Schema::Array(a) => {
                self.r.enter()?;
                let zero = zero_width(&a.items, self.r.names);
                let left = self.r.block("array", zero)?;
                let v = visitor.visit_seq(Seq {
                    r: self.r,
                    items: &a.items,
                    left,
                    done: left == 0,
                    zero,
                })?;
                self.r.depth -= 1;
                Ok(v)
            }
            Schema::Map(m) => {
                self.r.enter()?;
                let left = self.r.block("map", false)?;
                let v = visitor.visit_map(Map {
                    r: self.r,
                    values: &m.types,
                    left,
                    done: left == 0,
                })?;
                self.r.depth -= 1;
                Ok(v)
            }
            Schema::Record(rec) => {
                self.r.enter()?;
                let v = visitor.visit_map(Record {
                    r: self.r,
                    fields: &rec.fields,
                    next: 0,
                })?;
                self.r.depth -= 1;
                Ok(v)
            }
            Schema::Ref { name } => Err(AvroError::UndefinedName(name.fullname(None)).into()),
        }
    }
}

fn enum_symbol<'s>(
    r: &mut Reader<'_, 's>,
    e: &'s apache_avro::schema::EnumSchema,
) -> Result<&'s str, AvroError> {
    let at = r.bytes.pos;
    let index = r.bytes.long("enum index")?;
    e.symbols
        .get(usize::try_from(index).unwrap_or(usize::MAX))
        .map(String::as_str)
        .ok_or_else(|| AvroError::EnumIndex {
            at,
            index,
            name: e.name.fullname(None),
            symbols: e.symbols.len(),
        })
}

impl<'de> de::Deserializer<'de> for De<'_, 'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        match self.r.resolve(self.schema)? {
            Schema::Union(u) => {
                let branch = self.branch(u)?;
                if matches!(branch, Schema::Null) {
                    visitor.visit_none()
                } else {
                    visitor.visit_some(De {
                        r: self.r,
                        schema: branch,
                    })
                }
            }
            Schema::Null => visitor.visit_none(),
            _ => visitor.visit_some(self),
        }
    }

    fn deserialize_newtype_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        visitor.visit_newtype_struct(self)
    }

    fn deserialize_tuple<V: Visitor<'de>>(
        self,
        len: usize,
        visitor: V,
    ) -> Result<V::Value, DeError> {
        // A fixed read into a byte array (`[u8; N]`).
        match self.r.resolve(self.schema)? {
            Schema::Fixed(f) | Schema::Duration(f) | Schema::Uuid(UuidSchema::Fixed(f))
                if f.size == len =>
            {
                let bytes = self.r.bytes.take("fixed", f.size)?;
                visitor
                    .visit_seq(de::value::SeqDeserializer::new(bytes.iter().copied()))
                    .map_err(|e: de::value::Error| {
                        DeError(AvroError::Mismatch {
                            at: usize::MAX,
                            message: e.to_string(),
                        })
                    })
            }
            _ => self.any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.r.resolve(self.schema)? {
            Schema::Enum(e) => {
                let symbol = enum_symbol(self.r, e)?;
                visitor.visit_enum(UnitVariant(symbol))
            }
            Schema::String => {
                let s = self.r.str()?;
                visitor.visit_enum(UnitVariant(s))
            }
            Schema::Union(u) => {
                // A Rust enum over a union: the variant index is the branch index.
                let at = self.r.bytes.pos;
                let index = self.r.bytes.long("union index")?;
                let variants = u.variants();
                if index < 0 || index as usize >= variants.len() {
                    return Err(AvroError::UnionIndex {
                        at,
                        index,
                        branches: variants.len(),
                    }
                    .into());
                }
                let branch = self.r.resolve(&variants[index as usize])?;
                visitor.visit_enum(UnionVariant {
                    index: index as u32,
                    de: De {
                        r: self.r,
                        schema: branch,
                    },
                })
            }
            _ => self.any(visitor),
        }
    }

    fn is_human_readable(&self) -> bool {
        super::label::HUMAN_READABLE
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i32 i64 i128 u8 u16 u32 u64 u128 f32 f64 char str string
        bytes byte_buf unit unit_struct seq tuple_struct map struct identifier ignored_any
    }
}

struct Seq<'r, 'de, 's> {
    r: &'r mut Reader<'de, 's>,
    items: &'s Schema,
    left: usize,
    /// The terminating zero count has been read.
    done: bool,
    zero: bool,
}

impl<'de> de::SeqAccess<'de> for Seq<'_, 'de, '_> {
    type Error = DeError;

    fn next_element_seed<T: DeserializeSeed<'de>>(
        &mut self,
        seed: T,
    ) -> Result<Option<T::Value>, DeError> {
        if self.done {
            return Ok(None);
        }
        if self.left == 0 {
            self.left = self.r.block("array", self.zero)?;
            if self.left == 0 {
                self.done = true;
                return Ok(None);
            }
        }
        self.left -= 1;
        seed.deserialize(De {
            r: self.r,
            schema: self.items,
        })
        .map(Some)
    }

    fn size_hint(&self) -> Option<usize> {
        // Bounded by the input (zero-width items excepted), so a pre-allocation stays small.
        Some(self.left.min(self.r.bytes.remaining()))
    }
}

struct Map<'r, 'de, 's> {
    r: &'r mut Reader<'de, 's>,
    values: &'s Schema,
    left: usize,
    /// The terminating zero count has been read.
    done: bool,
}

impl<'de> de::MapAccess<'de> for Map<'_, 'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        if self.done {
            return Ok(None);
        }
        if self.left == 0 {
            self.left = self.r.block("map", false)?;
            if self.left == 0 {
                self.done = true;
                return Ok(None);
            }
        }
        self.left -= 1;
        let key = self.r.str()?;
        seed.deserialize(de::value::BorrowedStrDeserializer::<DeError>::new(key))
            .map(Some)
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        seed.deserialize(De {
            r: self.r,
            schema: self.values,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left.min(self.r.bytes.remaining()))
    }
}

struct Record<'r, 'de, 's> {
    r: &'r mut Reader<'de, 's>,
    fields: &'s [apache_avro::schema::RecordField],
    next: usize,
}

impl<'de> de::MapAccess<'de> for Record<'_, 'de, '_> {
    type Error = DeError;

    fn next_key_seed<K: DeserializeSeed<'de>>(
        &mut self,
        seed: K,
    ) -> Result<Option<K::Value>, DeError> {
        match self.fields.get(self.next) {
            None => Ok(None),
            Some(field) => seed
                .deserialize(de::value::StrDeserializer::<DeError>::new(&field.name))
                .map(Some),
        }
    }

    fn next_value_seed<V: DeserializeSeed<'de>>(&mut self, seed: V) -> Result<V::Value, DeError> {
        let field = &self.fields[self.next];
        self.next += 1;
        seed.deserialize(De {
            r: self.r,
            schema: &field.schema,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.fields.len() - self.next)
    }
}

/// An enum symbol as a unit variant.
struct UnitVariant<'a>(&'a str);

impl<'de> de::EnumAccess<'de> for UnitVariant<'_> {
    type Error = DeError;
    type Variant = UnitOnly;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let v = seed.deserialize(de::value::StrDeserializer::<DeError>::new(self.0))?;
        Ok((v, UnitOnly))
    }
}

/// The payload of an enum symbol: nothing.
struct UnitOnly;

impl<'de> de::VariantAccess<'de> for UnitOnly {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        Ok(())
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, _: T) -> Result<T::Value, DeError> {
        Err(de::Error::custom(
            "an Avro enum symbol has no payload (expected a unit variant)",
        ))
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, _: V) -> Result<V::Value, DeError> {
        Err(de::Error::custom(
            "an Avro enum symbol has no payload (expected a unit variant)",
        ))
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        _: V,
    ) -> Result<V::Value, DeError> {
        Err(de::Error::custom(
            "an Avro enum symbol has no payload (expected a unit variant)",
        ))
    }
}

struct UnionVariant<'r, 'de, 's> {
    index: u32,
    de: De<'r, 'de, 's>,
}

impl<'r, 'de, 's> de::EnumAccess<'de> for UnionVariant<'r, 'de, 's> {
    type Error = DeError;
    type Variant = De<'r, 'de, 's>;

    fn variant_seed<V: DeserializeSeed<'de>>(
        self,
        seed: V,
    ) -> Result<(V::Value, Self::Variant), DeError> {
        let v = seed.deserialize(de::value::U32Deserializer::<DeError>::new(self.index))?;
        Ok((v, self.de))
    }
}

impl<'de> de::VariantAccess<'de> for De<'_, 'de, '_> {
    type Error = DeError;

    fn unit_variant(self) -> Result<(), DeError> {
        de::Deserialize::deserialize(self)
    }

    fn newtype_variant_seed<T: DeserializeSeed<'de>>(self, seed: T) -> Result<T::Value, DeError> {
        seed.deserialize(self)
    }

    fn tuple_variant<V: Visitor<'de>>(self, _: usize, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }

    fn struct_variant<V: Visitor<'de>>(
        self,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        self.any(visitor)
    }
}
