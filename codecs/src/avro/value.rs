//! Decodes Avro binary into apache-avro's generic [`Value`] with a compiled [`Plan`]: the
//! generic deserializer's decoder (and, after `resolve` has transcoded a writer's bytes into the
//! reader schema's, the resolving one's). Every length and count is checked against the bytes
//! that remain before anything is allocated, and values nest at most [`MAX_DEPTH`](super::plan::MAX_DEPTH) levels.
//!
//! The values are the ones apache-avro's own decoder gives for the same schema (logical types
//! included: `Value::Date`, `Value::Decimal`, `Value::Uuid`…), so the two compare equal.

use super::AvroError;
use super::cursor::Cursor;
use super::plan::{Logical, Node, NodeId, Plan};
use super::validate::{block, enum_index, union_branch};
use apache_avro::types::Value;
use std::collections::HashMap;

/// Decodes `data`, exactly one value of `plan`'s root.
pub(crate) fn read_value(plan: &Plan, data: &[u8]) -> Result<Value, AvroError> {
    read_node(plan, plan.root(), data)
}

/// Decodes `data`, exactly one value of the node `id`.
pub(crate) fn read_node(plan: &Plan, id: NodeId, data: &[u8]) -> Result<Value, AvroError> {
    let mut reader = Reader {
        plan,
        bytes: Cursor::new(data),
        zero_items: 0,
    };
    let value = reader.value(id, 0)?;
    if reader.bytes.pos != data.len() {
        return Err(AvroError::TrailingBytes {
            at: reader.bytes.pos,
            count: data.len() - reader.bytes.pos,
        });
    }
    Ok(value)
}

struct Reader<'d, 'p> {
    plan: &'p Plan,
    bytes: Cursor<'d>,
    zero_items: u64,
}

impl Reader<'_, '_> {
    fn logical_error(&self, at: usize, logical: &'static str, problem: String) -> AvroError {
        AvroError::Logical {
            at,
            logical,
            problem,
        }
    }

    /// A value that holds no other: kept out of [`value`](Self::value) so that the recursion's
    /// frames stay small.
    #[inline(never)]
    fn leaf(&mut self, id: NodeId) -> Result<Value, AvroError> {
        let plan = self.plan;
        let logical = plan.logical(id);
        let at = self.bytes.pos;
        Ok(match plan.node(id) {
            Node::Null => Value::Null,
            Node::Boolean => match self.bytes.take("boolean", 1)?[0] {
                0 => Value::Boolean(false),
                1 => Value::Boolean(true),
                byte => return Err(AvroError::Boolean { at, byte }),
            },
            Node::Int => logical.int_value(self.bytes.int("int")?),
            Node::Long => logical.long_value(self.bytes.long("long")?),
            Node::Float => {
                let b = self.bytes.take("float", 4)?;
                Value::Float(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
            }
            Node::Double => {
                let b = self.bytes.take("double", 8)?;
                let mut a = [0u8; 8];
                a.copy_from_slice(b);
                Value::Double(f64::from_le_bytes(a))
            }
            Node::Bytes => {
                let n = self.bytes.len("bytes")?;
                let b = self.bytes.take("bytes", n)?;
                match logical {
                    // Java's `Conversions.DecimalConversion.fromBytes` builds a `BigInteger`,
                    // which refuses zero bytes ("Zero length BigInteger").
                    Logical::Decimal if b.is_empty() => {
                        return Err(self.logical_error(
                            at,
                            "decimal",
                            "a zero-length unscaled value".to_owned(),
                        ));
                    }
                    Logical::Decimal => Value::Decimal(apache_avro::Decimal::from(b)),
                    Logical::Uuid => Value::Uuid(
                        uuid::Uuid::from_slice(b)
                            .map_err(|e| self.logical_error(at, "uuid", e.to_string()))?,
                    ),
                    Logical::BigDecimal => {
                        // Rare enough to leave to apache-avro (its big-decimal reader is private).
                        let mut raw = &self.bytes.data[at..self.bytes.pos];
                        apache_avro::reader::datum::GenericDatumReader::builder(
                            &apache_avro::Schema::BigDecimal,
                        )
                        .build()
                        .and_then(|r| r.read_value(&mut raw))
                        .map_err(|e| self.logical_error(at, "big-decimal", e.to_string()))?
                    }
                    _ => Value::Bytes(b.to_vec()),
                }
            }
            Node::String => {
                let n = self.bytes.len("string")?;
                let start = self.bytes.pos;
                let raw = self.bytes.take("string", n)?;
                let s = std::str::from_utf8(raw)
                    .map_err(|source| AvroError::Utf8 { at: start, source })?;
                match logical {
                    Logical::Uuid => Value::Uuid(
                        uuid::Uuid::parse_str(s)
                            .map_err(|e| self.logical_error(at, "uuid", e.to_string()))?,
                    ),
                    _ => Value::String(s.to_owned()),
                }
            }
            Node::Fixed { size, .. } => {
                let b = self.bytes.take("fixed", *size)?;
                match logical {
                    Logical::Decimal => Value::Decimal(apache_avro::Decimal::from(b)),
                    Logical::Duration => {
                        let b: [u8; 12] = b.try_into().map_err(|_| {
                            self.logical_error(
                                at,
                                "duration",
                                format!("fixed of {size} bytes, not 12"),
                            )
                        })?;
                        Value::Duration(apache_avro::Duration::from(b))
                    }
                    Logical::Uuid => Value::Uuid(
                        uuid::Uuid::from_slice(b)
                            .map_err(|e| self.logical_error(at, "uuid", e.to_string()))?,
                    ),
                    _ => Value::Fixed(*size, b.to_vec()),
                }
            }
            Node::Enum { name, symbols } => {
                let i = enum_index(&mut self.bytes, name, symbols)?;
                Value::Enum(i as u32, symbols[i].clone())
            }
            _ => return Err(AvroError::Config("not a leaf")),
        })
    }

    fn value(&mut self, id: NodeId, depth: usize) -> Result<Value, AvroError> {
        let plan = self.plan;
        let depth = plan.enter(id, depth, self.bytes.pos)?;
        Ok(match plan.node(id) {
            Node::Union { branches, .. } => {
                let (i, branch) = union_branch(&mut self.bytes, branches)?;
                Value::Union(i as u32, Box::new(self.value(branch, depth)?))
            }
            Node::Array { items } => {
                let mut out = Vec::new();
                loop {
                    let count =
                        block(&mut self.bytes, plan, "array", *items, &mut self.zero_items)?;
                    if count == 0 {
                        break;
                    }
                    out.reserve(count);
                    for _ in 0..count {
                        out.push(self.value(*items, depth)?);
                    }
                }
                Value::Array(out)
            }
            Node::Map { values } => {
                let mut out = HashMap::new();
                loop {
                    let count = block(&mut self.bytes, plan, "map", *values, &mut self.zero_items)?;
                    if count == 0 {
                        break;
                    }
                    out.reserve(count);
                    for _ in 0..count {
                        let key = self.key()?;
                        let value = self.value(*values, depth)?;
                        out.insert(key, value);
                    }
                }
                Value::Map(out)
            }
            Node::Record { fields, .. } => {
                let mut out = Vec::with_capacity(fields.len());
                for f in fields {
                    out.push((f.name.clone(), self.value(f.node, depth)?));
                }
                Value::Record(out)
            }
            _ => self.leaf(id)?,
        })
    }

    #[inline(never)]
    fn key(&mut self) -> Result<String, AvroError> {
        let n = self.bytes.len("string")?;
        let at = self.bytes.pos;
        let raw = self.bytes.take("string", n)?;
        std::str::from_utf8(raw)
            .map(str::to_owned)
            .map_err(|source| AvroError::Utf8 { at, source })
    }
}
