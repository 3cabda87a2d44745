//! Encodes apache-avro's generic [`Value`] with a compiled [`Plan`], checking that it fits as it
//! goes: one walk by node index. A union's branch is the one the `Value::Union` names; the value
//! inside must be of that branch's type. Map entries are written in key order, so a value always
//! encodes to the same bytes (apache-avro's own encoder follows its `HashMap`'s iteration order,
//! which varies), unless a [`KeyOrder`] (the key order of the JSON document the value was read
//! from) gives their order.

use super::AvroError;
use super::plan::{Logical, Node, NodeId, Plan};
use apache_avro::types::Value;
use bytes::BufMut;

/// Encodes `value`, a value of the node `id`.
pub(crate) fn encode(
    plan: &Plan,
    id: NodeId,
    value: &Value,
    out: &mut impl BufMut,
) -> Result<(), AvroError> {
    encode_in_order(plan, id, value, None, out)
}

/// [`encode`], writing each map's entries in the order `order` lists its keys (where it lists
/// exactly the map's keys; sorted by key otherwise).
pub(crate) fn encode_in_order(
    plan: &Plan,
    id: NodeId,
    value: &Value,
    order: Option<&KeyOrder>,
    out: &mut impl BufMut,
) -> Result<(), AvroError> {
    let mut w = Writer {
        plan,
        out,
        path: String::from("$"),
    };
    w.write(id, value, order, 0)
}

/// The shape of a JSON document with its objects' keys in the order written (`serde_json`'s
/// `Map` sorts them): where a value read from the document came from, to write its maps'
/// entries in that order.
#[derive(Debug, Clone, Default, PartialEq)]
pub(crate) enum KeyOrder {
    /// A string, number, boolean or null.
    #[default]
    Scalar,
    /// An array's items.
    Array(Vec<KeyOrder>),
    /// An object's members, as written.
    Object(Vec<(String, KeyOrder)>),
}

impl KeyOrder {
    /// The member `name` of an object (the last one, as `serde_json` keeps for a repeated key).
    fn member(&self, name: &str) -> Option<&KeyOrder> {
        match self {
            KeyOrder::Object(members) => {
                members.iter().rev().find(|(k, _)| k == name).map(|m| &m.1)
            }
            _ => None,
        }
    }

    /// The inside of a union's `{"<branch>": value}`.
    fn branch(&self) -> Option<&KeyOrder> {
        match self {
            KeyOrder::Object(members) if members.len() == 1 => Some(&members[0].1),
            _ => None,
        }
    }

    /// Item `i` of an array.
    fn item(&self, i: usize) -> Option<&KeyOrder> {
        match self {
            KeyOrder::Array(items) => items.get(i),
            _ => None,
        }
    }

    /// The keys of an object, in order, when they are exactly `entries`' keys.
    fn keys_of<'a, V>(
        &'a self,
        entries: &std::collections::HashMap<String, V>,
    ) -> Option<Vec<&'a String>> {
        let KeyOrder::Object(members) = self else {
            return None;
        };
        if members.len() != entries.len() {
            return None;
        }
        let keys: Vec<&String> = members.iter().map(|(k, _)| k).collect();
        // Equal counts and every key present: the same set unless a key repeats, which
        // leaves one of the map's keys out.
        let distinct: std::collections::HashSet<&String> = keys.iter().copied().collect();
        (distinct.len() == keys.len() && keys.iter().all(|k| entries.contains_key(*k)))
            .then_some(keys)
    }
}

impl<'de> serde::Deserialize<'de> for KeyOrder {
    fn deserialize<D: serde::Deserializer<'de>>(deserializer: D) -> Result<Self, D::Error> {
        struct Visitor;
        impl<'de> serde::de::Visitor<'de> for Visitor {
            type Value = KeyOrder;
            fn expecting(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
                f.write_str("a JSON value")
            }
            fn visit_bool<E>(self, _: bool) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_i64<E>(self, _: i64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_u64<E>(self, _: u64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_f64<E>(self, _: f64) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_str<E>(self, _: &str) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_unit<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_none<E>(self) -> Result<KeyOrder, E> {
                Ok(KeyOrder::Scalar)
            }
            fn visit_seq<A: serde::de::SeqAccess<'de>>(
                self,
                mut seq: A,
            ) -> Result<KeyOrder, A::Error> {
                let mut items = Vec::new();
                while let Some(item) = seq.next_element()? {
                    items.push(item);
                }
                Ok(KeyOrder::Array(items))
            }
            fn visit_map<A: serde::de::MapAccess<'de>>(
                self,
                mut map: A,
            ) -> Result<KeyOrder, A::Error> {
                let mut members = Vec::new();
                while let Some((key, value)) = map.next_entry::<String, KeyOrder>()? {
                    members.push((key, value));
                }
                Ok(KeyOrder::Object(members))
            }
        }
        deserializer.deserialize_any(Visitor)
    }
}

/// An `int`'s value, plain or of a logical type on `int`.
pub(crate) fn int_of(value: &Value) -> Option<i32> {
    match value {
        Value::Int(v) | Value::Date(v) | Value::TimeMillis(v) => Some(*v),
        _ => None,
    }
}

/// A `long`'s value, plain or of a logical type on `long`.
pub(crate) fn long_of(value: &Value) -> Option<i64> {
    match value {
        Value::Long(v)
        | Value::TimeMicros(v)
        | Value::TimestampMillis(v)
        | Value::TimestampMicros(v)
        | Value::TimestampNanos(v)
        | Value::LocalTimestampMillis(v)
        | Value::LocalTimestampMicros(v)
        | Value::LocalTimestampNanos(v) => Some(*v),
        _ => None,
    }
}

/// Writes `v` as Avro's zig-zag varint.
pub(crate) fn long(out: &mut impl BufMut, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.put_u8((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

fn bytes(out: &mut impl BufMut, b: &[u8]) {
    long(out, b.len() as i64);
    out.put_slice(b);
}

/// A decimal's unscaled value, sign-extended to `size` bytes for a `fixed`.
pub(crate) fn decimal_bytes(d: &apache_avro::Decimal, size: Option<usize>) -> Option<Vec<u8>> {
    let raw = Vec::<u8>::try_from(d).ok()?;
    let Some(size) = size else { return Some(raw) };
    if raw.len() > size {
        return None;
    }
    let sign = if raw.first().is_some_and(|b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut padded = vec![sign; size - raw.len()];
    padded.extend_from_slice(&raw);
    Some(padded)
}

struct Writer<'p, 'o, O> {
    plan: &'p Plan,
    out: &'o mut O,
    path: String,
}

impl<O: BufMut> Writer<'_, '_, O> {
    fn mismatch(&self, id: NodeId, value: &Value) -> AvroError {
        AvroError::ValueMismatch {
            path: self.path.clone(),
            schema: self.plan.label(id),
            value: format!("{value:?}").chars().take(120).collect(),
        }
    }

    fn write(
        &mut self,
        id: NodeId,
        value: &Value,
        order: Option<&KeyOrder>,
        depth: usize,
    ) -> Result<(), AvroError> {
        let plan = self.plan;
        let node = plan.node(id);
        let depth = plan.enter(id, depth, 0)?;
        let logical = plan.logical(id);
        match (node, int_of(value), long_of(value)) {
            (Node::Int, Some(v), _) => {
                long(self.out, i64::from(v));
                return Ok(());
            }
            (Node::Long, _, Some(v)) => {
                long(self.out, v);
                return Ok(());
            }
            _ => {}
        }
        match (node, value) {
            (Node::Union { branches, .. }, Value::Union(index, inner)) => {
                let branch = *branches
                    .get(*index as usize)
                    .ok_or_else(|| self.mismatch(id, value))?;
                long(self.out, i64::from(*index));
                // A null branch is JSON's null; any other, `{"<branch>": value}`.
                let inner_order = order.and_then(KeyOrder::branch);
                self.write(branch, inner, inner_order, depth)?;
            }
            (Node::Null, Value::Null) => {}
            (Node::Boolean, Value::Boolean(b)) => self.out.put_u8(u8::from(*b)),
            (Node::Long, Value::Int(v)) if logical == Logical::None => {
                long(self.out, i64::from(*v))
            }
            (Node::Float, Value::Float(v)) => self.out.put_f32_le(*v),
            (Node::Double, Value::Double(v)) => self.out.put_f64_le(*v),
            (Node::Double, Value::Float(v)) => self.out.put_f64_le(f64::from(*v)),
            (Node::Bytes, Value::Bytes(b))
                if matches!(logical, Logical::None | Logical::Decimal) =>
            {
                bytes(self.out, b)
            }
            (Node::Bytes, Value::Decimal(d)) if logical == Logical::Decimal => {
                let raw = decimal_bytes(d, None).ok_or_else(|| self.mismatch(id, value))?;
                bytes(self.out, &raw)
            }
            (Node::Bytes, Value::Uuid(u)) if logical == Logical::Uuid => {
                bytes(self.out, u.as_bytes())
            }
            (Node::String, Value::String(s)) => bytes(self.out, s.as_bytes()),
            (Node::String, Value::Uuid(u)) if logical == Logical::Uuid => bytes(
                self.out,
                u.hyphenated()
                    .encode_lower(&mut uuid::Uuid::encode_buffer())
                    .as_bytes(),
            ),
            (Node::Fixed { size, .. }, Value::Fixed(_, b)) => {
                if b.len() != *size {
                    return Err(self.mismatch(id, value));
                }
                self.out.put_slice(b)
            }
            (Node::Fixed { .. }, Value::Duration(d)) if logical == Logical::Duration => {
                self.out.put_slice(&<[u8; 12]>::from(*d))
            }
            (Node::Fixed { size, .. }, Value::Decimal(d)) if logical == Logical::Decimal => {
                let raw = decimal_bytes(d, Some(*size)).ok_or_else(|| self.mismatch(id, value))?;
                self.out.put_slice(&raw)
            }
            (Node::Fixed { .. }, Value::Uuid(u)) if logical == Logical::Uuid => {
                self.out.put_slice(u.as_bytes())
            }
            (Node::Enum { symbols, .. }, Value::Enum(_, symbol) | Value::String(symbol)) => {
                let i = symbols
                    .iter()
                    .position(|s| s == symbol)
                    .ok_or_else(|| self.mismatch(id, value))?;
                long(self.out, i as i64);
            }
            (Node::Array { items }, Value::Array(values)) => {
                if !values.is_empty() {
                    long(self.out, values.len() as i64);
                    for (i, item) in values.iter().enumerate() {
                        let len = self.path.len();
                        self.path.push_str(&format!("[{i}]"));
                        let item_order = order.and_then(|o| o.item(i));
                        self.write(*items, item, item_order, depth)?;
                        self.path.truncate(len);
                    }
                }
                self.out.put_u8(0);
            }
            (Node::Map { values }, Value::Map(entries)) => {
                if !entries.is_empty() {
                    long(self.out, entries.len() as i64);
                    let keys = match order.and_then(|o| o.keys_of(entries)) {
                        Some(keys) => keys,
                        None => {
                            let mut keys: Vec<&String> = entries.keys().collect();
                            keys.sort_unstable();
                            keys
                        }
                    };
                    for k in keys {
                        bytes(self.out, k.as_bytes());
                        let len = self.path.len();
                        self.path.push_str(&format!("[{k:?}]"));
                        let entry_order = order.and_then(|o| o.member(k));
                        self.write(*values, &entries[k], entry_order, depth)?;
                        self.path.truncate(len);
                    }
                }
                self.out.put_u8(0);
            }
            (Node::Record { fields, .. }, Value::Record(values)) => {
                for (i, field) in fields.iter().enumerate() {
                    // Usually in schema order; otherwise found by name.
                    let v = match values.get(i) {
                        Some((n, v)) if *n == field.name => v,
                        _ => values
                            .iter()
                            .find(|(n, _)| *n == field.name)
                            .map(|(_, v)| v)
                            .ok_or_else(|| AvroError::ValueMismatch {
                                path: format!("{}.{}", self.path, field.name),
                                schema: plan.label(field.node),
                                value: "no value for this field".into(),
                            })?,
                    };
                    let len = self.path.len();
                    self.path.push('.');
                    self.path.push_str(&field.name);
                    let field_order = order.and_then(|o| o.member(&field.name));
                    self.write(field.node, v, field_order, depth)?;
                    self.path.truncate(len);
                }
            }
            _ => return Err(self.mismatch(id, value)),
        }
        Ok(())
    }
}
