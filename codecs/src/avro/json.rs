//! Avro's JSON encoding of values (the Avro specification's "JSON Encoding"), read and written
//! with a compiled [`Plan`]: one walk by node index each way, unions by their branches' names.

use super::AvroError;
use super::encode::{int_of, long_of};
use super::plan::{Logical, MAX_DEPTH, Node, NodeId, Plan};
use apache_avro::schema::ResolvedSchema;
use apache_avro::types::Value;
use apache_avro::{Decimal, Schema};
use serde_json::Value as Json;
use std::collections::HashMap;

/// Reads a value in Avro's JSON encoding against `schema`, giving the [`Value`] apache-avro
/// decodes for the same data, so the two compare equal.
///
/// The JSON encoding is the Avro specification's:
/// - `null`, booleans, numbers and strings as themselves; `float`/`double` may also be the
///   strings `"NaN"`, `"Infinity"`, `"-Infinity"`;
/// - `bytes` and `fixed` as strings whose code points 0–255 are the bytes (ISO-8859-1);
/// - enums as their symbol; arrays and maps as JSON arrays and objects; records as objects
///   (a missing field takes its default);
/// - a union as `null` or a one-key object `{"<branch name>": value}`, the branch name being the
///   full name of a named type or the type name (`"string"`, `"array"`) otherwise;
/// - logical types as their underlying type: `decimal` as the bytes of the two's-complement
///   unscaled value, `uuid` as its string, `date` as days, `time-*`/`timestamp-*` as integers.
///
/// ```
/// use apache_avro::{Schema, types::Value};
/// use kcodec_codecs::avro::{value_from_json, value_to_json};
///
/// let schema = Schema::parse_str(r#"{"type":"record","name":"R","fields":[
///     {"name":"id","type":"long"},{"name":"email","type":["null","string"],"default":null}]}"#).unwrap();
/// let json = serde_json::json!({"id": 7, "email": {"string": "a@b"}});
/// let value = value_from_json(&schema, &json).unwrap();
/// assert_eq!(value, Value::Record(vec![
///     ("id".into(), Value::Long(7)),
///     ("email".into(), Value::Union(1, Box::new(Value::String("a@b".into())))),
/// ]));
/// assert_eq!(value_to_json(&schema, &value).unwrap(), json);
/// ```
pub fn value_from_json(schema: &Schema, json: &Json) -> Result<Value, AvroError> {
    let resolved = ResolvedSchema::try_from(schema).map_err(AvroError::SchemaParse)?;
    let plan = Plan::compile(schema, resolved.get_names())?;
    from_json(&plan, json)
}

/// Writes `value` in Avro's JSON encoding against `schema`: the inverse of [`value_from_json`].
/// It accepts the values apache-avro decodes, and plain values where the schema has a logical
/// type (a `Long` for a `timestamp-millis`).
pub fn value_to_json(schema: &Schema, value: &Value) -> Result<Json, AvroError> {
    let resolved = ResolvedSchema::try_from(schema).map_err(AvroError::SchemaParse)?;
    let plan = Plan::compile(schema, resolved.get_names())?;
    to_json(&plan, value)
}

/// Reads a value of `plan`'s root from Avro's JSON encoding.
pub(crate) fn from_json(plan: &Plan, json: &Json) -> Result<Value, AvroError> {
    let mut path = String::from("$");
    read(plan, plan.root(), json, &mut path, 0)
}

/// Writes a value of `plan`'s root in Avro's JSON encoding.
pub(crate) fn to_json(plan: &Plan, value: &Value) -> Result<Json, AvroError> {
    let mut path = String::from("$");
    write(plan, plan.root(), value, &mut path, 0)
}

/// Writes a value of `plan`'s root as Avro JSON text, record fields in the schema's order (as
/// Confluent's console consumer prints them; a `serde_json` object sorts its keys), map entries
/// sorted by key.
pub(crate) fn write_text(plan: &Plan, value: &Value, out: &mut Vec<u8>) -> Result<(), AvroError> {
    let mut path = String::from("$");
    text(plan, plan.root(), value, &mut path, 0, out)
}

fn json_text(out: &mut Vec<u8>, json: &impl serde::Serialize) {
    // Writing JSON to a `Vec` cannot fail.
    let _ = serde_json::to_writer(&mut *out, json);
}

/// [`write`] as text: the containers here, each leaf through [`write`].
fn text(
    plan: &Plan,
    id: NodeId,
    value: &Value,
    path: &mut String,
    depth: usize,
    out: &mut Vec<u8>,
) -> Result<(), AvroError> {
    let node = plan.node(id);
    let inner_depth = enter(plan, id, depth, path)?;
    let nested = |id: NodeId, value: &Value, step: &str, path: &mut String, out: &mut Vec<u8>| {
        let len = path.len();
        path.push_str(step);
        text(plan, id, value, path, inner_depth, out)?;
        path.truncate(len);
        Ok::<(), AvroError>(())
    };
    match (node, value) {
        (Node::Union { branches, names }, Value::Union(index, inner))
            if (*index as usize) < branches.len()
                && !matches!(plan.node(branches[*index as usize]), Node::Null) =>
        {
            let name = &names[*index as usize];
            out.push(b'{');
            json_text(out, name);
            out.push(b':');
            nested(
                branches[*index as usize],
                inner,
                &format!("<{name}>"),
                path,
                out,
            )?;
            out.push(b'}');
        }
        (Node::Array { items }, Value::Array(values)) => {
            out.push(b'[');
            for (i, item) in values.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                nested(*items, item, &format!("[{i}]"), path, out)?;
            }
            out.push(b']');
        }
        (Node::Map { values }, Value::Map(entries)) => {
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            out.push(b'{');
            for (i, k) in keys.into_iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                json_text(out, k);
                out.push(b':');
                nested(*values, &entries[k], &format!("[{k:?}]"), path, out)?;
            }
            out.push(b'}');
        }
        (Node::Record { fields, .. }, Value::Record(values)) => {
            out.push(b'{');
            for (i, field) in fields.iter().enumerate() {
                if i > 0 {
                    out.push(b',');
                }
                let v = values
                    .iter()
                    .find(|(n, _)| *n == field.name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| {
                        err(&format!("{path}.{}", field.name), "a value for this field")
                    })?;
                json_text(out, &field.name);
                out.push(b':');
                nested(field.node, v, &format!(".{}", field.name), path, out)?;
            }
            out.push(b'}');
        }
        _ => json_text(out, &write(plan, id, value, path, depth)?),
    }
    Ok(())
}

/// A field's default (JSON, for a union the value of its first branch that takes it) encoded as
/// a value of `id`; `None` if it does not fit: what [`Plan::encode_defaults`] is given.
pub(crate) fn default_bytes(plan: &Plan, id: NodeId, json: &Json) -> Option<Box<[u8]>> {
    let mut path = String::from("$");
    let value = default_value(plan, id, json, &mut path, 0).ok()?;
    let mut out = Vec::new();
    super::encode::encode(plan, id, &value, &mut out).ok()?;
    Some(out.into_boxed_slice())
}

/// [`Plan::enter`], its error naming the JSON path.
fn enter(plan: &Plan, id: NodeId, depth: usize, path: &str) -> Result<usize, AvroError> {
    plan.enter(id, depth, 0)
        .map_err(|_| err(path, format!("nesting of at most {MAX_DEPTH} levels")))
}

fn err(path: &str, expected: impl Into<String>) -> AvroError {
    AvroError::Json {
        path: path.to_owned(),
        expected: expected.into(),
    }
}

fn latin1(path: &str, json: &Json) -> Result<Vec<u8>, AvroError> {
    let s = json
        .as_str()
        .ok_or_else(|| err(path, "a string of bytes (code points 0-255)"))?;
    s.chars()
        .map(|c| u8::try_from(u32::from(c)).map_err(|_| err(path, "code points 0-255 only")))
        .collect()
}

fn to_latin1(bytes: &[u8]) -> Json {
    Json::String(bytes.iter().map(|&b| char::from(b)).collect())
}

fn float(path: &str, json: &Json) -> Result<f64, AvroError> {
    match json {
        Json::Number(n) => n.as_f64().ok_or_else(|| err(path, "a number")),
        Json::String(s) if s == "NaN" => Ok(f64::NAN),
        Json::String(s) if s == "Infinity" => Ok(f64::INFINITY),
        Json::String(s) if s == "-Infinity" => Ok(f64::NEG_INFINITY),
        _ => Err(err(path, "a number")),
    }
}

fn float_json(v: f64) -> Json {
    if v.is_nan() {
        Json::String("NaN".into())
    } else if v.is_infinite() {
        Json::String(if v > 0.0 { "Infinity" } else { "-Infinity" }.into())
    } else {
        serde_json::Number::from_f64(v).map_or(Json::Null, Json::Number)
    }
}

fn int(path: &str, json: &Json) -> Result<i32, AvroError> {
    json.as_i64()
        .and_then(|v| i32::try_from(v).ok())
        .ok_or_else(|| err(path, "an int (32-bit integer)"))
}

fn long(path: &str, json: &Json) -> Result<i64, AvroError> {
    json.as_i64()
        .ok_or_else(|| err(path, "a long (64-bit integer)"))
}

fn fixed_bytes(path: &str, json: &Json, size: usize) -> Result<Vec<u8>, AvroError> {
    let bytes = latin1(path, json)?;
    if bytes.len() != size {
        return Err(err(
            path,
            format!("{size} bytes (fixed), got {}", bytes.len()),
        ));
    }
    Ok(bytes)
}

fn read(
    plan: &Plan,
    id: NodeId,
    json: &Json,
    path: &mut String,
    depth: usize,
) -> Result<Value, AvroError> {
    let node = plan.node(id);
    let depth = enter(plan, id, depth, path)?;
    let logical = plan.logical(id);
    let uuid = |b: &[u8]| uuid::Uuid::from_slice(b).map_err(|_| err(path, "16 bytes"));
    Ok(match node {
        Node::Null => match json {
            Json::Null => Value::Null,
            _ => return Err(err(path, "null")),
        },
        Node::Boolean => Value::Boolean(json.as_bool().ok_or_else(|| err(path, "a boolean"))?),
        Node::Int => logical.int_value(int(path, json)?),
        Node::Long => logical.long_value(long(path, json)?),
        Node::Float => Value::Float(float(path, json)? as f32),
        Node::Double => Value::Double(float(path, json)?),
        Node::Bytes => match logical {
            Logical::Decimal => Value::Decimal(Decimal::from(latin1(path, json)?)),
            Logical::Uuid => Value::Uuid(uuid(&latin1(path, json)?)?),
            Logical::BigDecimal => {
                return Err(err(path, "no JSON form for big-decimal (not supported)"));
            }
            _ => Value::Bytes(latin1(path, json)?),
        },
        Node::String => {
            let s = json.as_str();
            match logical {
                Logical::Uuid => {
                    let s = s.ok_or_else(|| err(path, "a UUID string"))?;
                    Value::Uuid(uuid::Uuid::parse_str(s).map_err(|_| err(path, "a UUID string"))?)
                }
                _ => Value::String(s.ok_or_else(|| err(path, "a string"))?.to_owned()),
            }
        }
        Node::Fixed { size, .. } => {
            let b = fixed_bytes(path, json, *size)?;
            match logical {
                Logical::Decimal => Value::Decimal(Decimal::from(b)),
                Logical::Uuid => Value::Uuid(uuid(&b)?),
                Logical::Duration => {
                    let arr: [u8; 12] =
                        b.try_into().map_err(|_| err(path, "12 bytes (duration)"))?;
                    Value::Duration(apache_avro::Duration::from(arr))
                }
                _ => Value::Fixed(*size, b),
            }
        }
        Node::Enum { name, symbols } => {
            let symbol = json.as_str().ok_or_else(|| err(path, "an enum symbol"))?;
            let index = symbols
                .iter()
                .position(|s| s == symbol)
                .ok_or_else(|| err(path, format!("a symbol of enum '{name}'")))?;
            Value::Enum(index as u32, symbol.to_owned())
        }
        Node::Union { branches, names } => {
            if json.is_null() {
                let index = branches
                    .iter()
                    .position(|&b| matches!(plan.node(b), Node::Null))
                    .ok_or_else(|| {
                        err(
                            path,
                            "a one-key object naming a branch (the union has no null)",
                        )
                    })?;
                return Ok(Value::Union(index as u32, Box::new(Value::Null)));
            }
            let obj = json.as_object().filter(|o| o.len() == 1).ok_or_else(|| {
                err(
                    path,
                    "null or a one-key object {\"<branch>\": value} (union)",
                )
            })?;
            let Some((name, inner)) = obj.iter().next() else {
                return Err(err(path, "a one-key object"));
            };
            let index = names
                .iter()
                .position(|n| n == name)
                .ok_or_else(|| err(path, format!("a branch of the union, not '{name}'")))?;
            let len = path.len();
            path.push_str(&format!("<{name}>"));
            let value = read(plan, branches[index], inner, path, depth)?;
            path.truncate(len);
            Value::Union(index as u32, Box::new(value))
        }
        Node::Array { items } => {
            let values = json.as_array().ok_or_else(|| err(path, "an array"))?;
            let mut out = Vec::with_capacity(values.len());
            for (i, item) in values.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(read(plan, *items, item, path, depth)?);
                path.truncate(len);
            }
            Value::Array(out)
        }
        Node::Map { values } => {
            let obj = json
                .as_object()
                .ok_or_else(|| err(path, "an object (map)"))?;
            let mut out = HashMap::with_capacity(obj.len());
            for (k, v) in obj {
                let len = path.len();
                path.push_str(&format!("[{k:?}]"));
                out.insert(k.clone(), read(plan, *values, v, path, depth)?);
                path.truncate(len);
            }
            Value::Map(out)
        }
        Node::Record { name, fields, .. } => {
            let obj = json
                .as_object()
                .ok_or_else(|| err(path, format!("an object (record '{name}')")))?;
            let mut out = Vec::with_capacity(fields.len());
            for field in fields {
                let len = path.len();
                path.push('.');
                path.push_str(&field.name);
                let value = match (obj.get(&field.name), &field.json_default) {
                    (Some(v), _) => read(plan, field.node, v, path, depth)?,
                    (None, Some(default)) => default_value(plan, field.node, default, path, depth)?,
                    (None, None) => return Err(err(path, "a value (the field has no default)")),
                };
                path.truncate(len);
                out.push((field.name.clone(), value));
            }
            Value::Record(out)
        }
    })
}

/// A field default is written in a union's branch's form (not as `{"branch": v}`): the first
/// branch's, or else the first other branch that takes it.
fn default_value(
    plan: &Plan,
    id: NodeId,
    default: &Json,
    path: &mut String,
    depth: usize,
) -> Result<Value, AvroError> {
    match plan.node(id) {
        Node::Union { branches, .. } => {
            let mut first = None;
            for (i, &b) in branches.iter().enumerate() {
                match read(plan, b, default, path, depth) {
                    Ok(v) => return Ok(Value::Union(i as u32, Box::new(v))),
                    Err(e) => {
                        first.get_or_insert(e);
                    }
                }
            }
            Err(first.unwrap_or_else(|| err(path, "a union with branches")))
        }
        _ => read(plan, id, default, path, depth),
    }
}

fn decimal_json(path: &str, d: &Decimal, size: Option<usize>) -> Result<Json, AvroError> {
    super::encode::decimal_bytes(d, size)
        .map(|b| to_latin1(&b))
        .ok_or_else(|| match size {
            Some(size) => err(path, format!("a decimal that fits {size} bytes")),
            None => err(path, "a decimal"),
        })
}

fn write(
    plan: &Plan,
    id: NodeId,
    value: &Value,
    path: &mut String,
    depth: usize,
) -> Result<Json, AvroError> {
    let node = plan.node(id);
    let depth = enter(plan, id, depth, path)?;
    let logical = plan.logical(id);
    let mismatch = |path: &str| {
        err(
            path,
            format!("a value of schema '{}', got {value:?}", plan.label(id)),
        )
    };
    match (node, int_of(value), long_of(value)) {
        (Node::Int, Some(v), _) => return Ok(Json::from(v)),
        (Node::Long, _, Some(v)) => return Ok(Json::from(v)),
        _ => {}
    }
    Ok(match (node, value) {
        (Node::Union { branches, names }, Value::Union(index, inner)) => {
            let branch = *branches.get(*index as usize).ok_or_else(|| {
                err(
                    path,
                    format!("a union branch index below {}", branches.len()),
                )
            })?;
            if matches!(plan.node(branch), Node::Null) {
                Json::Null
            } else {
                let name = &names[*index as usize];
                let len = path.len();
                path.push_str(&format!("<{name}>"));
                let inner = write(plan, branch, inner, path, depth)?;
                path.truncate(len);
                let mut obj = serde_json::Map::new();
                obj.insert(name.clone(), inner);
                Json::Object(obj)
            }
        }
        (Node::Null, Value::Null) => Json::Null,
        (Node::Boolean, Value::Boolean(b)) => Json::Bool(*b),
        (Node::Float, Value::Float(v)) => float_json(f64::from(*v)),
        (Node::Double, Value::Double(v)) => float_json(*v),
        (Node::Bytes, Value::Bytes(b)) | (Node::Fixed { .. }, Value::Fixed(_, b)) => to_latin1(b),
        (Node::Bytes | Node::Fixed { .. }, Value::Bytes(b) | Value::Fixed(_, b))
            if matches!(logical, Logical::Decimal | Logical::Uuid) =>
        {
            to_latin1(b)
        }
        (Node::String, Value::String(s)) => Json::String(s.clone()),
        (Node::Fixed { .. }, Value::Duration(d)) if logical == Logical::Duration => {
            to_latin1(&<[u8; 12]>::from(*d))
        }
        (Node::Enum { .. }, Value::Enum(_, symbol)) => Json::String(symbol.clone()),
        (Node::Array { items }, Value::Array(values)) => {
            let mut out = Vec::with_capacity(values.len());
            for (i, item) in values.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(write(plan, *items, item, path, depth)?);
                path.truncate(len);
            }
            Json::Array(out)
        }
        (Node::Map { values }, Value::Map(entries)) => {
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                let len = path.len();
                path.push_str(&format!("[{k:?}]"));
                out.insert(k.clone(), write(plan, *values, &entries[k], path, depth)?);
                path.truncate(len);
            }
            Json::Object(out)
        }
        (Node::Record { fields, .. }, Value::Record(values)) => {
            let mut out = serde_json::Map::new();
            for field in fields {
                let len = path.len();
                path.push('.');
                path.push_str(&field.name);
                let v = values
                    .iter()
                    .find(|(n, _)| *n == field.name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| err(path, "a value for this field"))?;
                out.insert(field.name.clone(), write(plan, field.node, v, path, depth)?);
                path.truncate(len);
            }
            Json::Object(out)
        }
        (Node::Bytes, Value::Decimal(dec)) if logical == Logical::Decimal => {
            decimal_json(path, dec, None)?
        }
        (Node::Fixed { size, .. }, Value::Decimal(dec)) if logical == Logical::Decimal => {
            decimal_json(path, dec, Some(*size))?
        }
        (Node::String, Value::Uuid(u)) if logical == Logical::Uuid => Json::String(u.to_string()),
        (Node::Bytes | Node::Fixed { .. }, Value::Uuid(u)) if logical == Logical::Uuid => {
            to_latin1(u.as_bytes())
        }
        _ => return Err(mismatch(path)),
    })
}
