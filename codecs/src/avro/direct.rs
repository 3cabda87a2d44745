//! Decodes Avro binary straight into serde types with the writer schema's compiled [`Plan`]: no intermediate
//! `Value`, strings and bytes borrowed from the input until the target type copies them, and
//! every length and count checked against the bytes that remain before anything is allocated.
//!
//! apache-avro 0.22 has a schema-aware deserializer too, but it is not public on its own (only
//! behind readers that own their schemas), it requires the Rust struct to carry the Avro record's
//! name, and it panics when given a reader schema; this one matches records by field names only.

use super::AvroError;
use super::cursor::Cursor;
use super::plan::{Field, MAX_DEPTH, Node, NodeId, Plan};
use serde::de::{self, DeserializeSeed, Visitor};

/// The deserializer's error: an [`AvroError`], or a message from the target type.
///
/// Boxed, so that every `Result` the visitors pass back stays small (an `AvroError` is several
/// words wide, and most results carry a `String` or a small struct).
#[derive(Debug)]
pub(crate) struct DeError(Box<AvroError>);

impl std::fmt::Display for DeError {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        self.0.fmt(f)
    }
}

impl std::error::Error for DeError {}

impl de::Error for DeError {
    #[cold]
    fn custom<T: std::fmt::Display>(msg: T) -> Self {
        DeError(Box::new(AvroError::Mismatch {
            at: usize::MAX,
            message: msg.to_string(),
        }))
    }
}

impl From<AvroError> for DeError {
    #[cold]
    fn from(e: AvroError) -> Self {
        DeError(Box::new(e))
    }
}

/// Decodes `data` (exactly one value) into `T`.
pub(crate) fn from_slice<'de, T: de::Deserialize<'de>>(
    plan: &Plan,
    data: &'de [u8],
) -> Result<T, AvroError> {
    let mut reader = Reader {
        bytes: Cursor::new(data),
        plan,
        depth: 0,
        zero_items: 0,
    };
    let result = T::deserialize(De {
        r: &mut reader,
        node: plan.root(),
    });
    match result {
        Ok(v) if reader.bytes.pos == data.len() => Ok(v),
        Ok(_) => Err(AvroError::TrailingBytes {
            at: reader.bytes.pos,
            count: data.len() - reader.bytes.pos,
        }),
        Err(DeError(e)) => Err(match *e {
            AvroError::Mismatch {
                at: usize::MAX,
                message,
            } => AvroError::Mismatch {
                at: reader.bytes.pos,
                message,
            },
            e => e,
        }),
    }
}

struct Reader<'de, 's> {
    bytes: Cursor<'de>,
    plan: &'s Plan,
    depth: usize,
    zero_items: u64,
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
        match std::str::from_utf8(raw) {
            Ok(s) => Ok(s),
            Err(source) => Err(utf8(at, source)),
        }
    }

    #[inline]
    fn node(&self, id: NodeId) -> &'s Node {
        self.plan.node(id)
    }

    fn enter(&mut self) -> Result<(), AvroError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(AvroError::TooDeep {
                at: self.bytes.pos,
                limit: MAX_DEPTH,
            });
        }
        Ok(())
    }

    /// Reads a block count (and the byte size after a negative one), checked against the bytes
    /// that remain (see [`super::validate::block`]).
    fn block(&mut self, what: &'static str, item: NodeId) -> Result<usize, AvroError> {
        super::validate::block(&mut self.bytes, self.plan, what, item, &mut self.zero_items)
    }
}

#[cold]
fn utf8(at: usize, source: std::str::Utf8Error) -> AvroError {
    AvroError::Utf8 { at, source }
}

struct De<'r, 'de, 's> {
    r: &'r mut Reader<'de, 's>,
    node: NodeId,
}

impl<'r, 'de, 's> De<'r, 'de, 's> {
    /// Reads a union's branch index and gives it with the branch's node.
    #[inline]
    fn branch(&mut self, branches: &[NodeId]) -> Result<(usize, NodeId), AvroError> {
        super::validate::union_branch(&mut self.r.bytes, branches)
    }

    /// An array of `items`, read as a sequence.
    #[inline]
    fn array<V: Visitor<'de>>(self, items: NodeId, visitor: V) -> Result<V::Value, DeError> {
        self.r.enter()?;
        let left = self.r.block("array", items)?;
        let v = visitor.visit_seq(Seq {
            r: self.r,
            items,
            left,
            done: left == 0,
        })?;
        self.r.depth -= 1;
        Ok(v)
    }

    /// A record of `fields`, read as a map of its field names.
    #[inline]
    fn record<V: Visitor<'de>>(self, fields: &'s [Field], visitor: V) -> Result<V::Value, DeError> {
        self.r.enter()?;
        let v = visitor.visit_map(Record {
            r: self.r,
            fields,
            next: 0,
        })?;
        self.r.depth -= 1;
        Ok(v)
    }

    fn any<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        match self.r.node(self.node) {
            Node::Null => visitor.visit_unit(),
            Node::Boolean => {
                let at = self.r.bytes.pos;
                match self.r.bytes.take("boolean", 1)?[0] {
                    0 => visitor.visit_bool(false),
                    1 => visitor.visit_bool(true),
                    byte => Err(AvroError::Boolean { at, byte }.into()),
                }
            }
            Node::Int => visitor.visit_i32(self.r.bytes.int("int")?),
            Node::Long => visitor.visit_i64(self.r.bytes.long("long")?),
            Node::Float => {
                let b = self.r.bytes.take("float", 4)?;
                visitor.visit_f32(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            Node::Double => {
                let b = self.r.bytes.take("double", 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                visitor.visit_f64(f64::from_le_bytes(a))
            }
            Node::Bytes => visitor.visit_borrowed_bytes(self.r.bytes()?),
            Node::String => visitor.visit_borrowed_str(self.r.str()?),
            Node::Fixed { size, .. } => {
                visitor.visit_borrowed_bytes(self.r.bytes.take("fixed", *size)?)
            }
            Node::Enum { name, symbols } => {
                let symbol = enum_symbol(self.r, name, symbols)?;
                visitor.visit_str(symbol)
            }
            Node::Union { branches, .. } => {
                let (_, branch) = self.branch(branches)?;
                De {
                    r: self.r,
                    node: branch,
                }
                .any(visitor)
            }
            Node::Array { items } => self.array(*items, visitor),
            Node::Map { values } => {
                self.r.enter()?;
                let left = self.r.block("map", *values)?;
                let v = visitor.visit_map(Map {
                    r: self.r,
                    values: *values,
                    left,
                    done: left == 0,
                })?;
                self.r.depth -= 1;
                Ok(v)
            }
            Node::Record { fields, .. } => self.record(fields, visitor),
        }
    }
}

fn enum_symbol<'s>(
    r: &mut Reader<'_, '_>,
    name: &str,
    symbols: &'s [String],
) -> Result<&'s str, AvroError> {
    let index = super::validate::enum_index(&mut r.bytes, name, symbols)?;
    Ok(&symbols[index])
}

/// Which variant of a Rust enum (`variants`, in declaration order) a union's branch `index`
/// (named `names[index]`: a named type's full name, else its type) stands for: the variant named
/// as the branch (its full or unqualified name, then the unqualified name in any case, so that
/// `Null` and `Long` stand for `null` and `long`); a branch no variant is named as takes the
/// variant at its own index, unless another branch's name claims that one (then it names none,
/// and the visitor reports the unknown variant). So `enum E { A(i32), B(String) }` keeps
/// matching by position, and record branches find their variants whatever the union's order.
fn union_variant(index: usize, names: &[String], variants: &[&str]) -> u32 {
    let none = u32::try_from(variants.len()).unwrap_or(u32::MAX);
    let by_name = |name: &str| -> Option<usize> {
        let short = name.rsplit('.').next().unwrap_or(name);
        variants
            .iter()
            .position(|v| *v == name || *v == short)
            .or_else(|| variants.iter().position(|v| v.eq_ignore_ascii_case(short)))
    };
    if let Some(v) = by_name(&names[index]) {
        return u32::try_from(v).unwrap_or(none);
    }
    let claimed = names
        .iter()
        .enumerate()
        .any(|(i, n)| i != index && by_name(n) == Some(index));
    if index < variants.len() && !claimed {
        u32::try_from(index).unwrap_or(none)
    } else {
        none
    }
}

impl<'de> de::Deserializer<'de> for De<'_, 'de, '_> {
    type Error = DeError;

    fn deserialize_any<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.any(visitor)
    }

    // The common leaves, read without the dispatch over every node type.
    #[inline]
    fn deserialize_string<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Node::String = self.r.node(self.node) {
            return visitor.visit_borrowed_str(self.r.str()?);
        }
        self.any(visitor)
    }

    #[inline]
    fn deserialize_str<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        self.deserialize_string(visitor)
    }

    #[inline]
    fn deserialize_i64<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Node::Long = self.r.node(self.node) {
            return visitor.visit_i64(self.r.bytes.long("long")?);
        }
        self.any(visitor)
    }

    #[inline]
    fn deserialize_i32<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Node::Int = self.r.node(self.node) {
            return visitor.visit_i32(self.r.bytes.int("int")?);
        }
        self.any(visitor)
    }

    #[inline]
    fn deserialize_struct<V: Visitor<'de>>(
        self,
        _: &'static str,
        _: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        if let Node::Record { fields, .. } = self.r.node(self.node) {
            return self.record(fields, visitor);
        }
        self.any(visitor)
    }

    #[inline]
    fn deserialize_seq<V: Visitor<'de>>(self, visitor: V) -> Result<V::Value, DeError> {
        if let Node::Array { items } = self.r.node(self.node) {
            return self.array(*items, visitor);
        }
        self.any(visitor)
    }

    fn deserialize_option<V: Visitor<'de>>(mut self, visitor: V) -> Result<V::Value, DeError> {
        match self.r.node(self.node) {
            Node::Union { branches, .. } => {
                let (_, branch) = self.branch(branches)?;
                if matches!(self.r.node(branch), Node::Null) {
                    visitor.visit_none()
                } else {
                    visitor.visit_some(De {
                        r: self.r,
                        node: branch,
                    })
                }
            }
            Node::Null => visitor.visit_none(),
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
        match self.r.node(self.node) {
            Node::Fixed {
                size,
                decimal: false,
            } if *size == len => {
                let bytes = self.r.bytes.take("fixed", *size)?;
                visitor
                    .visit_seq(de::value::SeqDeserializer::new(bytes.iter().copied()))
                    .map_err(|e: de::value::Error| {
                        DeError::from(AvroError::Mismatch {
                            at: usize::MAX,
                            message: e.to_string(),
                        })
                    })
            }
            _ => self.any(visitor),
        }
    }

    fn deserialize_enum<V: Visitor<'de>>(
        mut self,
        _: &'static str,
        variants: &'static [&'static str],
        visitor: V,
    ) -> Result<V::Value, DeError> {
        match self.r.node(self.node) {
            Node::Enum { name, symbols } => {
                let symbol = enum_symbol(self.r, name, symbols)?;
                visitor.visit_enum(UnitVariant(symbol))
            }
            Node::String => {
                let s = self.r.str()?;
                visitor.visit_enum(UnitVariant(s))
            }
            Node::Union { branches, names } => {
                // A Rust enum over a union: the branch is chosen by name (see `union_variant`).
                let (index, branch) = self.branch(branches)?;
                visitor.visit_enum(UnionVariant {
                    index: union_variant(index, names, variants),
                    de: De {
                        r: self.r,
                        node: branch,
                    },
                })
            }
            _ => self.any(visitor),
        }
    }

    fn is_human_readable(&self) -> bool {
        super::plan::HUMAN_READABLE
    }

    serde::forward_to_deserialize_any! {
        bool i8 i16 i128 u8 u16 u32 u64 u128 f32 f64 char
        bytes byte_buf unit unit_struct tuple_struct map identifier ignored_any
    }
}

struct Seq<'r, 'de, 's> {
    r: &'r mut Reader<'de, 's>,
    items: NodeId,
    left: usize,
    /// The terminating zero count has been read.
    done: bool,
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
            self.left = self.r.block("array", self.items)?;
            if self.left == 0 {
                self.done = true;
                return Ok(None);
            }
        }
        self.left -= 1;
        seed.deserialize(De {
            r: self.r,
            node: self.items,
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
    values: NodeId,
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
            self.left = self.r.block("map", self.values)?;
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
            node: self.values,
        })
    }

    fn size_hint(&self) -> Option<usize> {
        Some(self.left.min(self.r.bytes.remaining()))
    }
}

struct Record<'r, 'de, 's> {
    r: &'r mut Reader<'de, 's>,
    fields: &'s [Field],
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
            node: field.node,
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
