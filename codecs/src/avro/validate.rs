//! A pass over an Avro payload, driven by the compiled [`Plan`], that skips a value checking every
//! length, count and index against the bytes that remain, without allocating: how schema
//! resolution (`resolve`) passes over the fields a reader lacks and copies values that need no
//! change. Its errors name the problem (truncated data, a length past the end, a bad union index,
//! trailing bytes). Also the array and map block check every decoder shares ([`block`], over
//! [`block_count`], which the derived records' reader in `raw` uses too).

use super::AvroError;
use super::cursor::Cursor;
use super::plan::{Node, NodeId, Plan};

/// How many items of zero width (such as `null`s or empty records, which take no bytes) the
/// arrays of one message may hold in all, an item counted as many times as the values it is made
/// of (a record of two `null`s: 3): the one count not bounded by the input's size. A fixed cap,
/// so whatever decodes also decodes after re-encoding.
pub const MAX_ZERO_WIDTH_ITEMS: u64 = 65_536;

/// Skips one value of `id` at `bytes`, `depth` containers deep; answers how many values it
/// visited (its work).
pub(crate) fn skip(
    plan: &Plan,
    bytes: &mut Cursor<'_>,
    zero_items: &mut u64,
    id: NodeId,
    depth: usize,
) -> Result<u64, AvroError> {
    let mut walker = Walker {
        plan,
        bytes: Cursor {
            data: bytes.data,
            pos: bytes.pos,
        },
        zero_items: *zero_items,
        steps: 0,
    };
    let done = walker.skip(id, depth);
    bytes.pos = walker.bytes.pos;
    *zero_items = walker.zero_items;
    done.map(|()| walker.steps)
}

/// Checks that `data` is exactly one value of `plan`'s root, answering how many values it
/// visited: its work.
#[cfg(test)]
fn walk(plan: &Plan, data: &[u8]) -> Result<u64, AvroError> {
    let mut walker = Walker {
        plan,
        bytes: Cursor::new(data),
        zero_items: 0,
        steps: 0,
    };
    walker.skip(plan.root(), 0)?;
    if walker.bytes.pos != data.len() {
        return Err(AvroError::TrailingBytes {
            at: walker.bytes.pos,
            count: data.len() - walker.bytes.pos,
        });
    }
    Ok(walker.steps)
}

struct Walker<'d, 'p> {
    plan: &'p Plan,
    bytes: Cursor<'d>,
    zero_items: u64,
    steps: u64,
}

impl Walker<'_, '_> {
    /// Skips a value of `id`; `depth` counts the records, arrays and maps around it, as every
    /// walker of the plan does.
    fn skip(&mut self, id: NodeId, depth: usize) -> Result<(), AvroError> {
        self.steps += 1;
        let plan = self.plan;
        let depth = plan.enter(id, depth, self.bytes.pos)?;
        match plan.node(id) {
            Node::Null => {}
            Node::Boolean => {
                let at = self.bytes.pos;
                let byte = self.bytes.take("boolean", 1)?[0];
                if byte > 1 {
                    return Err(AvroError::Boolean { at, byte });
                }
            }
            Node::Int => {
                self.bytes.int("int")?;
            }
            Node::Long => {
                self.bytes.long("long")?;
            }
            Node::Float => {
                self.bytes.take("float", 4)?;
            }
            Node::Double => {
                self.bytes.take("double", 8)?;
            }
            Node::Bytes => {
                let n = self.bytes.len("bytes")?;
                self.bytes.pos += n;
            }
            Node::String => {
                let n = self.bytes.len("string")?;
                self.bytes.pos += n;
            }
            Node::Fixed { size, .. } => {
                self.bytes.take("fixed", *size)?;
            }
            Node::Enum { name, symbols } => {
                enum_index(&mut self.bytes, name, symbols)?;
            }
            Node::Union { branches, .. } => {
                let (_, branch) = union_branch(&mut self.bytes, branches)?;
                self.skip(branch, depth)?;
            }
            Node::Record { fields, .. } => {
                for field in fields {
                    self.skip(field.node, depth)?;
                }
            }
            Node::Array { items } => loop {
                let count = block(&mut self.bytes, plan, "array", *items, &mut self.zero_items)?;
                if count == 0 {
                    break;
                }
                if plan.zero_width(*items) {
                    // Zero-width items occupy no bytes: there is nothing to skip, but a record
                    // of zero width may still nest too deep.
                    self.skip(*items, depth)?;
                    continue;
                }
                for _ in 0..count {
                    self.skip(*items, depth)?;
                }
            },
            Node::Map { values } => loop {
                let count = block(&mut self.bytes, plan, "map", *values, &mut self.zero_items)?;
                if count == 0 {
                    break;
                }
                for _ in 0..count {
                    let n = self.bytes.len("string")?;
                    self.bytes.pos += n;
                    self.skip(*values, depth)?;
                }
            },
        }
        Ok(())
    }
}

/// Reads a union's branch index at `bytes` and gives it with its branch (of `branches`).
pub(crate) fn union_branch<T: Copy>(
    bytes: &mut Cursor<'_>,
    branches: &[T],
) -> Result<(usize, T), AvroError> {
    let at = bytes.pos;
    let index = bytes.long("union index")?;
    usize::try_from(index)
        .ok()
        .and_then(|i| Some((i, *branches.get(i)?)))
        .ok_or(AvroError::UnionIndex {
            at,
            index,
            branches: branches.len(),
        })
}

/// Reads an enum's symbol index at `bytes`, checked against its `symbols`.
pub(crate) fn enum_index(
    bytes: &mut Cursor<'_>,
    name: &str,
    symbols: &[String],
) -> Result<usize, AvroError> {
    let at = bytes.pos;
    let index = i64::from(bytes.int("enum index")?);
    usize::try_from(index)
        .ok()
        .filter(|&i| i < symbols.len())
        .ok_or_else(|| AvroError::EnumIndex {
            at,
            index,
            name: name.to_owned(),
            symbols: symbols.len(),
        })
}

/// Reads an array or map block's count (and the byte size after a negative one), checked: items
/// that take bytes can't outnumber what the bytes that remain could hold; zero-width items (an
/// array's) count towards [`MAX_ZERO_WIDTH_ITEMS`]. A map's entries always take a key.
pub(crate) fn block(
    bytes: &mut Cursor<'_>,
    plan: &Plan,
    what: &'static str,
    item: NodeId,
    zero_items: &mut u64,
) -> Result<usize, AvroError> {
    let at = bytes.pos;
    let count = block_count(bytes)?;
    let width = if what == "map" {
        u64::from(plan.min_size(item)) + 1
    } else {
        u64::from(plan.min_size(item))
    };
    if width == 0 {
        // Each item costs its expanse to walk.
        let weight = u64::from(plan.expanse(item));
        *zero_items = zero_items.saturating_add((count as u64).saturating_mul(weight));
        if *zero_items > MAX_ZERO_WIDTH_ITEMS {
            return Err(AvroError::TooManyItems {
                at,
                count: *zero_items,
                limit: MAX_ZERO_WIDTH_ITEMS,
            });
        }
    } else if (count as u64).saturating_mul(width) > bytes.remaining() as u64 {
        return Err(AvroError::ItemCount {
            what,
            at,
            count,
            remaining: bytes.remaining(),
        });
    }
    Ok(count as usize)
}

/// Reads an array or map block's item count at `bytes` (0 ends the array or map), never negative:
/// a negative count is followed by the block's size in bytes, which is read and checked against
/// the bytes that remain. The count itself is not checked: [`block`] checks it against the
/// items' sizes, `raw`'s reader against the bytes each item takes.
#[inline]
pub(crate) fn block_count(bytes: &mut Cursor<'_>) -> Result<i64, AvroError> {
    let at = bytes.pos;
    let count = bytes.long("block count")?;
    if count >= 0 {
        return Ok(count);
    }
    let count = count
        .checked_neg()
        .ok_or(AvroError::Varint { what: "long", at })?;
    bytes.len("block")?;
    Ok(count)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::avro::ParsedSchema;
    use crate::avro::plan::MAX_DEPTH;

    /// The schema from the issue: a record of four fields that all refer to the record, inside
    /// an array. It used to cost billions of calls per array, even an empty one.
    const SELF_REF: &str = r#"{"type":"array","items":{"type":"record","name":"R","fields":[
        {"name":"a","type":"R"},{"name":"b","type":"R"},
        {"name":"c","type":"R"},{"name":"d","type":"R"}]}}"#;

    /// The same shape where a value can end: each field is an optional `R`.
    const SELF_REF_OPTIONAL: &str = r#"{"type":"array","items":{"type":"record","name":"R",
        "fields":[{"name":"a","type":["null","R"]},{"name":"b","type":["null","R"]},
        {"name":"c","type":["null","R"]},{"name":"d","type":["null","R"]}]}}"#;

    fn array_of(count: u8, item: &[u8]) -> Vec<u8> {
        let mut data = Vec::new();
        if count > 0 {
            // A negative count with its block size, then the items, then the end.
            data.extend(zigzag(-i64::from(count)));
            data.extend(zigzag(i64::from(count) * item.len() as i64));
            for _ in 0..count {
                data.extend_from_slice(item);
            }
        }
        data.push(0);
        data
    }

    fn zigzag(v: i64) -> Vec<u8> {
        let mut z = ((v << 1) ^ (v >> 63)) as u64;
        let mut out = Vec::new();
        loop {
            let b = (z & 0x7f) as u8;
            z >>= 7;
            if z == 0 {
                out.push(b);
                return out;
            }
            out.push(b | 0x80);
        }
    }

    #[test]
    fn self_referential_array_work_is_bounded() {
        let schema = ParsedSchema::parse(SELF_REF).unwrap();
        assert_eq!(schema.plan().len(), 2);
        // Empty: one step for the array.
        assert_eq!(walk(schema.plan(), &[0]).unwrap(), 1);
        // 1 000 items (blocks of 200, as no value exists they take no bytes): the first item
        // stops at the depth limit after MAX_DEPTH steps.
        let mut data = Vec::new();
        for _ in 0..5 {
            data.extend(zigzag(200));
        }
        data.push(0);
        let mut walker = Walker {
            plan: schema.plan(),
            bytes: Cursor::new(&data),
            zero_items: 0,
            steps: 0,
        };
        assert!(matches!(
            walker.skip(schema.plan().root(), 0),
            Err(AvroError::TooDeep { .. })
        ));
        assert!(
            walker.steps <= MAX_DEPTH as u64 + 2,
            "{} steps",
            walker.steps
        );
    }

    #[test]
    fn self_referential_optional_array_decodes_with_linear_work() {
        let schema = ParsedSchema::parse(SELF_REF_OPTIONAL).unwrap();
        // The array, the record, `null` and the four unions.
        assert_eq!(schema.plan().len(), 7);
        assert_eq!(walk(schema.plan(), &[0]).unwrap(), 1);
        // 1 000 items, each four null branches: 1 + 1000 × (record + 4 unions + 4 nulls).
        let mut data = Vec::new();
        for _ in 0..5 {
            let block = array_of(200, &[0, 0, 0, 0]);
            data.extend_from_slice(&block[..block.len() - 1]);
        }
        data.push(0);
        assert_eq!(walk(schema.plan(), &data).unwrap(), 1 + 1000 * 9);
        // An item count the bytes can't hold is refused before any item is read: each item
        // takes at least four bytes.
        let mut data = zigzag(300);
        data.extend_from_slice(&[0; 1000]);
        assert!(matches!(
            walk(schema.plan(), &data),
            Err(AvroError::ItemCount { count: 300, .. })
        ));
    }
}
