//! A schema-driven pass over an Avro payload that checks every length, count and index against
//! the bytes that remain, without allocating, before apache-avro decodes it. It is what makes
//! decoding errors name the problem (truncated data, a length past the end, a bad union index,
//! trailing bytes) and keeps the decoder's allocations proportional to the input.

use super::AvroError;
use super::cursor::Cursor;
use apache_avro::Schema;
use apache_avro::schema::{InnerDecimalSchema, NamesRef, UuidSchema};

/// How many items of zero width (such as `null`s or empty records, which take no bytes) the
/// arrays of one message may hold in all: the one count not bounded by the input's size. A fixed
/// cap, so whatever decodes also decodes after re-encoding.
pub const MAX_ZERO_WIDTH_ITEMS: u64 = 65_536;

/// How deep values may nest (records in records, recursive types).
pub(crate) const MAX_DEPTH: usize = 128;

/// Checks that `data` is exactly one value of `schema`. `raw_bytes` is the top-level `"bytes"`
/// case, which has no length prefix and is always valid.
pub(crate) fn validate(
    schema: &Schema,
    names: &NamesRef<'_>,
    data: &[u8],
) -> Result<(), AvroError> {
    let mut cursor = Walker {
        bytes: Cursor::new(data),
        zero_items: 0,
        zero_limit: MAX_ZERO_WIDTH_ITEMS,
        names,
    };
    cursor.skip(schema, 0)?;
    if cursor.bytes.pos != data.len() {
        return Err(AvroError::TrailingBytes {
            at: cursor.bytes.pos,
            count: data.len() - cursor.bytes.pos,
        });
    }
    Ok(())
}

struct Walker<'d, 'n, 's> {
    bytes: Cursor<'d>,
    zero_items: u64,
    zero_limit: u64,
    names: &'n NamesRef<'s>,
}

impl<'s> Walker<'_, '_, 's> {
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
                at: self.bytes.pos,
                limit: MAX_DEPTH,
            });
        }
        let schema = self.resolve(schema)?;
        match schema {
            Schema::Null => {}
            Schema::Boolean => {
                let at = self.bytes.pos;
                let byte = self.bytes.take("boolean", 1)?[0];
                if byte > 1 {
                    return Err(AvroError::Boolean { at, byte });
                }
            }
            Schema::Int | Schema::Date | Schema::TimeMillis => {
                self.bytes.int("int")?;
            }
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => {
                self.bytes.long("long")?;
            }
            Schema::Float => {
                self.bytes.take("float", 4)?;
            }
            Schema::Double => {
                self.bytes.take("double", 8)?;
            }
            Schema::Bytes
            | Schema::BigDecimal
            | Schema::Uuid(UuidSchema::Bytes)
            | Schema::Decimal(apache_avro::schema::DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => {
                let n = self.bytes.len("bytes")?;
                self.bytes.pos += n;
            }
            Schema::String | Schema::Uuid(UuidSchema::String) => {
                let n = self.bytes.len("string")?;
                self.bytes.pos += n;
            }
            Schema::Fixed(f)
            | Schema::Duration(f)
            | Schema::Uuid(UuidSchema::Fixed(f))
            | Schema::Decimal(apache_avro::schema::DecimalSchema {
                inner: InnerDecimalSchema::Fixed(f),
                ..
            }) => {
                self.bytes.take("fixed", f.size)?;
            }
            Schema::Enum(e) => {
                let at = self.bytes.pos;
                let index = i64::from(self.bytes.int("enum index")?);
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
                let at = self.bytes.pos;
                let index = self.bytes.long("union index")?;
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
                    let n = c.bytes.len("string")?;
                    c.bytes.pos += n;
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
            let at = self.bytes.pos;
            let mut count = self.bytes.long("block count")?;
            if count == 0 {
                return Ok(());
            }
            if count < 0 {
                count = count
                    .checked_neg()
                    .ok_or(AvroError::Varint { what: "long", at })?;
                // The block's size in bytes follows a negative count.
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
                // Zero-width items occupy no bytes: nothing to skip.
                continue;
            }
            if count as u64 > self.bytes.remaining() as u64 {
                return Err(AvroError::ItemCount {
                    what,
                    at,
                    count,
                    remaining: self.bytes.remaining(),
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
