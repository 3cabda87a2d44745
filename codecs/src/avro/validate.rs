//! A schema-driven pass over an Avro payload that checks every length, count and index against
//! the bytes that remain, without allocating, before apache-avro decodes it. It is what makes
//! decoding errors name the problem (truncated data, a length past the end, a bad union index,
//! trailing bytes) and keeps the decoder's allocations proportional to the input.

use super::AvroError;
use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, NamesRef, UuidSchema};

/// How deep values may nest (records in records, recursive types).
pub(crate) const MAX_DEPTH: usize = 128;

/// Checks that `data` is exactly one value of `schema`. `raw_bytes` is the top-level `"bytes"`
/// case, which has no length prefix and is always valid.
pub(crate) fn validate(
    schema: &Schema,
    names: &NamesRef<'_>,
    data: &[u8],
) -> Result<(), AvroError> {
    let mut cursor = Cursor {
        data,
        pos: 0,
        zero_items: 0,
        zero_limit: (data.len() as u64).saturating_mul(8).saturating_add(1024),
        names,
    };
    cursor.skip(schema, 0)?;
    if cursor.pos != data.len() {
        return Err(AvroError::TrailingBytes {
            at: cursor.pos,
            count: data.len() - cursor.pos,
        });
    }
    Ok(())
}

struct Cursor<'d, 'n, 's> {
    data: &'d [u8],
    pos: usize,
    zero_items: u64,
    zero_limit: u64,
    names: &'n NamesRef<'s>,
}

impl<'s> Cursor<'_, '_, 's> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, what: &'static str, n: usize) -> Result<&[u8], AvroError> {
        if self.remaining() < n {
            return Err(AvroError::Truncated {
                what,
                at: self.pos,
                needed: n,
                available: self.remaining(),
            });
        }
        let slice = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    fn long(&mut self, what: &'static str) -> Result<i64, AvroError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&byte) = self.data.get(start + i) else {
                return Err(AvroError::Truncated {
                    what,
                    at: start,
                    needed: i + 1,
                    available: i,
                });
            };
            if i == 9 && byte > 0x01 {
                return Err(AvroError::Varint {
                    what: "long",
                    at: start,
                });
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.pos = start + i + 1;
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(AvroError::Varint {
            what: "long",
            at: start,
        })
    }

    fn int(&mut self, what: &'static str) -> Result<i64, AvroError> {
        let start = self.pos;
        let v = self.long(what)?;
        if i32::try_from(v).is_err() {
            return Err(AvroError::Varint {
                what: "int",
                at: start,
            });
        }
        Ok(v)
    }

    fn length(&mut self, what: &'static str) -> Result<usize, AvroError> {
        let at = self.pos;
        let length = self.long(what)?;
        if length < 0 {
            return Err(AvroError::NegativeLength { what, at, length });
        }
        if length as u64 > self.remaining() as u64 {
            return Err(AvroError::LengthTooLarge {
                what,
                at,
                length,
                remaining: self.remaining(),
            });
        }
        Ok(length as usize)
    }

    fn resolve<'x>(&self, schema: &'x Schema) -> Result<&'x Schema, AvroError>
    where
        's: 'x,
    {
        match schema {
            Schema::Ref { name } => self
                .names
                .get(name)
                .copied()
                .ok_or_else(|| AvroError::UndefinedName(name.fullname(None))),
            other => Ok(other),
        }
    }

    fn skip(&mut self, schema: &Schema, depth: usize) -> Result<(), AvroError> {
        if depth > MAX_DEPTH {
            return Err(AvroError::TooDeep {
                at: self.pos,
                limit: MAX_DEPTH,
            });
        }
        let schema = self.resolve(schema)?;
        match schema {
            Schema::Null => {}
            Schema::Boolean => {
                let at = self.pos;
                let byte = self.take("boolean", 1)?[0];
                if byte > 1 {
                    return Err(AvroError::Boolean { at, byte });
                }
            }
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                self.int("int")?;
            }
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => {
                self.long("long")?;
            }
            Schema::Float => {
                self.take("float", 4)?;
            }
            Schema::Double => {
                self.take("double", 8)?;
            }
            Schema::Bytes
            | Schema::BigDecimal
            | Schema::Uuid(UuidSchema::Bytes)
            | Schema::Decimal(apache_avro::schema::DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => {
                let n = self.length("bytes")?;
                self.pos += n;
            }
            Schema::String | Schema::Uuid(UuidSchema::String) => {
                let n = self.length("string")?;
                self.pos += n;
            }
            Schema::Fixed(f)
            | Schema::Duration(f)
            | Schema::Uuid(UuidSchema::Fixed(f))
            | Schema::Decimal(apache_avro::schema::DecimalSchema {
                inner: InnerDecimalSchema::Fixed(f),
                ..
            }) => {
                self.take("fixed", f.size)?;
            }
            Schema::Enum(e) => {
                let at = self.pos;
                let index = self.int("enum index")?;
                if index < 0 || index as usize >= e.symbols.len() {
                    return Err(AvroError::EnumIndex {
                        at,
                        index,
                        name: e.name.fullname(None),
                        symbols: e.symbols.len(),
                    });
                }
            }
            Schema::Union(u) => {
                let at = self.pos;
                let index = self.long("union index")?;
                let branches = u.variants();
                if index < 0 || index as usize >= branches.len() {
                    return Err(AvroError::UnionIndex {
                        at,
                        index,
                        branches: branches.len(),
                    });
                }
                self.skip(&branches[index as usize], depth + 1)?;
            }
            Schema::Record(r) => {
                for field in &r.fields {
                    self.skip(&field.schema, depth + 1)?;
                }
            }
            Schema::Array(a) => {
                self.blocks("array", |c| c.skip(&a.items, depth + 1), &a.items, depth)?
            }
            Schema::Map(m) => self.blocks(
                "map",
                |c| {
                    let n = c.length("string")?;
                    c.pos += n;
                    c.skip(&m.types, depth + 1)
                },
                &Schema::String,
                depth,
            )?,
            Schema::Ref { name } => return Err(AvroError::UndefinedName(name.fullname(None))),
        }
        Ok(())
    }

    /// Skips array or map blocks. `item` is the schema whose minimum width bounds the count.
    fn blocks(
        &mut self,
        what: &'static str,
        mut skip_item: impl FnMut(&mut Self) -> Result<(), AvroError>,
        item: &Schema,
        depth: usize,
    ) -> Result<(), AvroError> {
        let zero_width = min_width(item, self.names, 0) == 0;
        loop {
            let at = self.pos;
            let mut count = self.long("block count")?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                count = count
                    .checked_neg()
                    .ok_or(AvroError::Varint { what: "long", at })?;
                // The block's size in bytes follows a negative count.
                self.length("block")?;
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
                // Zero-width items occupy no bytes: nothing to skip.
                continue;
            }
            if count as u64 > self.remaining() as u64 {
                return Err(AvroError::ItemCount {
                    what,
                    at,
                    count,
                    remaining: self.remaining(),
                });
            }
            for _ in 0..count {
                skip_item(self)?;
            }
            let _ = depth;
        }
    }
}

/// The fewest bytes a value of `schema` can take (0 or more).
pub(crate) fn min_width(schema: &Schema, names: &NamesRef<'_>, depth: usize) -> usize {
    if depth > 32 {
        return 1;
    }
    match schema {
        Schema::Null => 0,
        Schema::Record(r) => r
            .fields
            .iter()
            .map(|f| min_width(&f.schema, names, depth + 1))
            .sum(),
        Schema::Fixed(f) => f.size,
        Schema::Ref { name } => names
            .get(name)
            .map_or(1, |s| min_width(s, names, depth + 1)),
        _ => 1,
    }
}
