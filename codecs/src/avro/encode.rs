//! Encodes apache-avro's generic [`Value`] against a schema, checking that it fits as it goes.
//! Map entries are written in key order, so a value always encodes to the same bytes
//! (apache-avro's own encoder follows its `HashMap`'s iteration order, which varies), unless a
//! [`KeyOrder`] (the key order of the JSON document the value was read from) gives their order.

use super::AvroError;
use super::label::schema_label;
use apache_avro::Schema;
use apache_avro::schema::{DecimalSchema, InnerDecimalSchema, NamesRef, UuidSchema};
use apache_avro::types::Value;
use bytes::BufMut;

const MAX_DEPTH: usize = 256;

pub(crate) fn encode(
    schema: &Schema,
    names: &NamesRef<'_>,
    value: &Value,
    out: &mut impl BufMut,
) -> Result<(), AvroError> {
    encode_in_order(schema, names, value, None, out)
}

/// [`encode`], writing each map's entries in the order `order` lists its keys (where it lists
/// exactly the map's keys; sorted by key otherwise).
pub(crate) fn encode_in_order(
    schema: &Schema,
    names: &NamesRef<'_>,
    value: &Value,
    order: Option<&KeyOrder>,
    out: &mut impl BufMut,
) -> Result<(), AvroError> {
    let mut path = String::from("$");
    write(schema, names, value, order, out, &mut path, 0)
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

fn zigzag(out: &mut impl BufMut, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    while n >= 0x80 {
        out.put_u8((n as u8 & 0x7f) | 0x80);
        n >>= 7;
    }
    out.put_u8(n as u8);
}

fn bytes(out: &mut impl BufMut, b: &[u8]) {
    zigzag(out, b.len() as i64);
    out.put_slice(b);
}

fn mismatch(path: &str, schema: &Schema, value: &Value) -> AvroError {
    AvroError::ValueMismatch {
        path: path.to_owned(),
        schema: schema_label(schema),
        value: format!("{value:?}").chars().take(120).collect(),
    }
}

fn fixed(
    out: &mut impl BufMut,
    path: &str,
    schema: &Schema,
    value: &Value,
    size: usize,
    b: &[u8],
) -> Result<(), AvroError> {
    if b.len() != size {
        return Err(mismatch(path, schema, value));
    }
    out.put_slice(b);
    Ok(())
}

fn decimal_bytes(
    path: &str,
    schema: &Schema,
    value: &Value,
    d: &apache_avro::Decimal,
    size: Option<usize>,
) -> Result<Vec<u8>, AvroError> {
    let raw = Vec::<u8>::try_from(d).map_err(|_| mismatch(path, schema, value))?;
    let Some(size) = size else { return Ok(raw) };
    if raw.len() > size {
        return Err(mismatch(path, schema, value));
    }
    let sign = if raw.first().is_some_and(|b| b & 0x80 != 0) {
        0xff
    } else {
        0
    };
    let mut padded = vec![sign; size - raw.len()];
    padded.extend_from_slice(&raw);
    Ok(padded)
}

fn write(
    schema: &Schema,
    names: &NamesRef<'_>,
    value: &Value,
    order: Option<&KeyOrder>,
    out: &mut impl BufMut,
    path: &mut String,
    depth: usize,
) -> Result<(), AvroError> {
    if depth > MAX_DEPTH {
        return Err(AvroError::TooDeep {
            at: 0,
            limit: MAX_DEPTH,
        });
    }
    let schema = match schema {
        Schema::Ref { name } => *names
            .get(name)
            .ok_or_else(|| AvroError::UndefinedName(name.fullname(None)))?,
        other => other,
    };
    match (schema, value) {
        (Schema::Union(u), Value::Union(index, inner)) => {
            let branch = u
                .variants()
                .get(*index as usize)
                .ok_or_else(|| mismatch(path, schema, value))?;
            zigzag(out, i64::from(*index));
            // A null branch is JSON's null; any other, `{"<branch>": value}`.
            let inner_order = order.and_then(KeyOrder::branch);
            write(branch, names, inner, inner_order, out, path, depth + 1)?;
        }
        (Schema::Null, Value::Null) => {}
        (Schema::Boolean, Value::Boolean(b)) => out.put_u8(u8::from(*b)),
        (
            Schema::Int | Schema::Date | Schema::TimeMillis,
            Value::Int(v) | Value::Date(v) | Value::TimeMillis(v),
        ) => zigzag(out, i64::from(*v)),
        (
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos,
            Value::Long(v)
            | Value::TimeMicros(v)
            | Value::TimestampMillis(v)
            | Value::TimestampMicros(v)
            | Value::TimestampNanos(v)
            | Value::LocalTimestampMillis(v)
            | Value::LocalTimestampMicros(v)
            | Value::LocalTimestampNanos(v),
        ) => zigzag(out, *v),
        (Schema::Long, Value::Int(v)) => zigzag(out, i64::from(*v)),
        (Schema::Float, Value::Float(v)) => out.put_f32_le(*v),
        (Schema::Double, Value::Double(v)) => out.put_f64_le(*v),
        (Schema::Double, Value::Float(v)) => out.put_f64_le(f64::from(*v)),
        (Schema::Bytes, Value::Bytes(b)) => bytes(out, b),
        (Schema::String, Value::String(s)) => bytes(out, s.as_bytes()),
        (Schema::Fixed(f), Value::Fixed(_, b)) => fixed(out, path, schema, value, f.size, b)?,
        (Schema::Duration(f), Value::Fixed(_, b)) => fixed(out, path, schema, value, f.size, b)?,
        (Schema::Duration(_), Value::Duration(d)) => out.put_slice(&<[u8; 12]>::from(*d)),
        (Schema::Enum(e), Value::Enum(index, symbol)) => {
            let i = e
                .symbols
                .iter()
                .position(|s| s == symbol)
                .ok_or_else(|| mismatch(path, schema, value))?;
            let _ = index;
            zigzag(out, i as i64);
        }
        (Schema::Enum(e), Value::String(symbol)) => {
            let i = e
                .symbols
                .iter()
                .position(|s| s == symbol)
                .ok_or_else(|| mismatch(path, schema, value))?;
            zigzag(out, i as i64);
        }
        (Schema::Array(a), Value::Array(items)) => {
            if !items.is_empty() {
                zigzag(out, items.len() as i64);
                for (i, item) in items.iter().enumerate() {
                    let len = path.len();
                    path.push_str(&format!("[{i}]"));
                    let item_order = order.and_then(|o| o.item(i));
                    write(&a.items, names, item, item_order, out, path, depth + 1)?;
                    path.truncate(len);
                }
            }
            out.put_u8(0);
        }
        (Schema::Map(m), Value::Map(entries)) => {
            if !entries.is_empty() {
                zigzag(out, entries.len() as i64);
                let keys = match order.and_then(|o| o.keys_of(entries)) {
                    Some(keys) => keys,
                    None => {
                        let mut keys: Vec<&String> = entries.keys().collect();
                        keys.sort_unstable();
                        keys
                    }
                };
                for k in keys {
                    bytes(out, k.as_bytes());
                    let len = path.len();
                    path.push_str(&format!("[{k:?}]"));
                    let entry_order = order.and_then(|o| o.member(k));
                    write(
                        &m.types,
                        names,
                        &entries[k],
                        entry_order,
                        out,
                        path,
                        depth + 1,
                    )?;
                    path.truncate(len);
                }
            }
            out.put_u8(0);
        }
        (Schema::Record(r), Value::Record(fields)) => {
            for (i, field) in r.fields.iter().enumerate() {
                // Usually in schema order; otherwise found by name.
                let v = match fields.get(i) {
                    Some((n, v)) if *n == field.name => v,
                    _ => fields
                        .iter()
                        .find(|(n, _)| *n == field.name)
                        .map(|(_, v)| v)
                        .ok_or_else(|| AvroError::ValueMismatch {
                            path: format!("{path}.{}", field.name),
                            schema: schema_label(&field.schema),
                            value: "no value for this field".into(),
                        })?,
                };
                let len = path.len();
                path.push('.');
                path.push_str(&field.name);
                let field_order = order.and_then(|o| o.member(&field.name));
                write(&field.schema, names, v, field_order, out, path, depth + 1)?;
                path.truncate(len);
            }
        }
        (Schema::Decimal(d), Value::Decimal(dec)) => match &d.inner {
            InnerDecimalSchema::Bytes => {
                bytes(out, &decimal_bytes(path, schema, value, dec, None)?)
            }
            InnerDecimalSchema::Fixed(f) => {
                out.put_slice(&decimal_bytes(path, schema, value, dec, Some(f.size))?)
            }
        },
        (
            Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }),
            Value::Bytes(b),
        ) => bytes(out, b),
        (
            Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(f),
                ..
            }),
            Value::Fixed(_, b),
        ) => fixed(out, path, schema, value, f.size, b)?,
        (Schema::Uuid(UuidSchema::String), Value::Uuid(u)) => bytes(
            out,
            u.hyphenated()
                .encode_lower(&mut uuid::Uuid::encode_buffer())
                .as_bytes(),
        ),
        (Schema::Uuid(UuidSchema::String), Value::String(s)) => bytes(out, s.as_bytes()),
        (Schema::Uuid(UuidSchema::Fixed(_)), Value::Uuid(u)) => out.put_slice(u.as_bytes()),
        (Schema::Uuid(UuidSchema::Bytes), Value::Uuid(u)) => bytes(out, u.as_bytes()),
        (Schema::Uuid(UuidSchema::Fixed(f)), Value::Fixed(_, b)) => {
            fixed(out, path, schema, value, f.size, b)?
        }
        _ => return Err(mismatch(path, schema, value)),
    }
    Ok(())
}
