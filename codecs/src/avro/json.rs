//! Avro's JSON encoding of values (the Avro specification's "JSON Encoding"), read and written
//! against a schema.

use super::AvroError;
use super::label::schema_label;
use apache_avro::schema::{
    DecimalSchema, InnerDecimalSchema, NamesRef, ResolvedSchema, UnionSchema, UuidSchema,
};
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
    let mut path = String::from("$");
    from_json(schema, resolved.get_names(), json, &mut path, 0)
}

/// Writes `value` in Avro's JSON encoding against `schema`: the inverse of [`value_from_json`].
/// It accepts the values apache-avro decodes, and plain values where the schema has a logical
/// type (a `Long` for a `timestamp-millis`).
pub fn value_to_json(schema: &Schema, value: &Value) -> Result<Json, AvroError> {
    let resolved = ResolvedSchema::try_from(schema).map_err(AvroError::SchemaParse)?;
    let mut path = String::from("$");
    to_json(schema, resolved.get_names(), value, &mut path, 0)
}

pub(crate) fn from_json_with_names(
    schema: &Schema,
    names: &NamesRef<'_>,
    json: &Json,
) -> Result<Value, AvroError> {
    let mut path = String::from("$");
    from_json(schema, names, json, &mut path, 0)
}

pub(crate) fn to_json_with_names(
    schema: &Schema,
    names: &NamesRef<'_>,
    value: &Value,
) -> Result<Json, AvroError> {
    let mut path = String::from("$");
    to_json(schema, names, value, &mut path, 0)
}

const MAX_DEPTH: usize = 256;

fn err(path: &str, expected: impl Into<String>) -> AvroError {
    AvroError::Json {
        path: path.to_owned(),
        expected: expected.into(),
    }
}

fn deref<'a>(schema: &'a Schema, names: &'a NamesRef<'_>) -> Result<&'a Schema, AvroError> {
    match schema {
        Schema::Ref { name } => names
            .get(name)
            .copied()
            .ok_or_else(|| AvroError::UndefinedName(name.fullname(None))),
        other => Ok(other),
    }
}

/// The name a union branch goes by in the JSON encoding.
pub(crate) fn branch_name(schema: &Schema) -> String {
    match schema {
        Schema::Record(r) => r.name.fullname(None),
        Schema::Enum(e) => e.name.fullname(None),
        Schema::Fixed(f)
        | Schema::Duration(f)
        | Schema::Uuid(UuidSchema::Fixed(f))
        | Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Fixed(f),
            ..
        }) => f.name.fullname(None),
        Schema::Ref { name } => name.fullname(None),
        Schema::Null => "null".into(),
        Schema::Boolean => "boolean".into(),
        Schema::Int | Schema::Date | Schema::TimeMillis => "int".into(),
        Schema::Long
        | Schema::TimeMicros
        | Schema::TimestampMillis
        | Schema::TimestampMicros
        | Schema::TimestampNanos
        | Schema::LocalTimestampMillis
        | Schema::LocalTimestampMicros
        | Schema::LocalTimestampNanos => "long".into(),
        Schema::Float => "float".into(),
        Schema::Double => "double".into(),
        Schema::Bytes
        | Schema::BigDecimal
        | Schema::Uuid(UuidSchema::Bytes)
        | Schema::Decimal(DecimalSchema {
            inner: InnerDecimalSchema::Bytes,
            ..
        }) => "bytes".into(),
        Schema::String | Schema::Uuid(UuidSchema::String) => "string".into(),
        Schema::Array(_) => "array".into(),
        Schema::Map(_) => "map".into(),
        Schema::Union(_) => "union".into(),
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

fn from_json(
    schema: &Schema,
    names: &NamesRef<'_>,
    json: &Json,
    path: &mut String,
    depth: usize,
) -> Result<Value, AvroError> {
    if depth > MAX_DEPTH {
        return Err(err(path, format!("nesting of at most {MAX_DEPTH} levels")));
    }
    let schema = deref(schema, names)?;
    Ok(match schema {
        Schema::Null => match json {
            Json::Null => Value::Null,
            _ => return Err(err(path, "null")),
        },
        Schema::Boolean => Value::Boolean(json.as_bool().ok_or_else(|| err(path, "a boolean"))?),
        Schema::Int => Value::Int(int(path, json)?),
        Schema::Long => Value::Long(long(path, json)?),
        Schema::Float => Value::Float(float(path, json)? as f32),
        Schema::Double => Value::Double(float(path, json)?),
        Schema::Bytes => Value::Bytes(latin1(path, json)?),
        Schema::String => Value::String(
            json.as_str()
                .ok_or_else(|| err(path, "a string"))?
                .to_owned(),
        ),
        Schema::Fixed(f) => Value::Fixed(f.size, fixed_bytes(path, json, f.size)?),
        Schema::Enum(e) => {
            let symbol = json.as_str().ok_or_else(|| err(path, "an enum symbol"))?;
            let index = e.symbols.iter().position(|s| s == symbol).ok_or_else(|| {
                err(
                    path,
                    format!("a symbol of enum '{}'", e.name.fullname(None)),
                )
            })?;
            Value::Enum(index as u32, symbol.to_owned())
        }
        Schema::Union(u) => union_from_json(u, names, json, path, depth)?,
        Schema::Array(a) => {
            let items = json.as_array().ok_or_else(|| err(path, "an array"))?;
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(from_json(&a.items, names, item, path, depth + 1)?);
                path.truncate(len);
            }
            Value::Array(out)
        }
        Schema::Map(m) => {
            let obj = json
                .as_object()
                .ok_or_else(|| err(path, "an object (map)"))?;
            let mut out = HashMap::with_capacity(obj.len());
            for (k, v) in obj {
                let len = path.len();
                path.push_str(&format!("[{k:?}]"));
                out.insert(k.clone(), from_json(&m.types, names, v, path, depth + 1)?);
                path.truncate(len);
            }
            Value::Map(out)
        }
        Schema::Record(r) => {
            let obj = json.as_object().ok_or_else(|| {
                err(
                    path,
                    format!("an object (record '{}')", r.name.fullname(None)),
                )
            })?;
            let mut out = Vec::with_capacity(r.fields.len());
            for field in &r.fields {
                let len = path.len();
                path.push('.');
                path.push_str(&field.name);
                let value = match (obj.get(&field.name), &field.default) {
                    (Some(v), _) => from_json(&field.schema, names, v, path, depth + 1)?,
                    (None, Some(default)) => {
                        default_value(&field.schema, names, default, path, depth)?
                    }
                    (None, None) => return Err(err(path, "a value (the field has no default)")),
                };
                path.truncate(len);
                out.push((field.name.clone(), value));
            }
            Value::Record(out)
        }
        Schema::Decimal(d) => {
            let bytes = match &d.inner {
                InnerDecimalSchema::Bytes => latin1(path, json)?,
                InnerDecimalSchema::Fixed(f) => fixed_bytes(path, json, f.size)?,
            };
            Value::Decimal(Decimal::from(bytes))
        }
        Schema::BigDecimal => {
            return Err(err(path, "no JSON form for big-decimal (not supported)"));
        }
        Schema::Uuid(inner) => {
            let uuid = match inner {
                UuidSchema::String => {
                    let s = json.as_str().ok_or_else(|| err(path, "a UUID string"))?;
                    uuid::Uuid::parse_str(s).map_err(|_| err(path, "a UUID string"))?
                }
                UuidSchema::Fixed(f) => {
                    let b = fixed_bytes(path, json, f.size)?;
                    uuid::Uuid::from_slice(&b).map_err(|_| err(path, "16 bytes"))?
                }
                UuidSchema::Bytes => {
                    let b = latin1(path, json)?;
                    uuid::Uuid::from_slice(&b).map_err(|_| err(path, "16 bytes"))?
                }
            };
            Value::Uuid(uuid)
        }
        Schema::Date => Value::Date(int(path, json)?),
        Schema::TimeMillis => Value::TimeMillis(int(path, json)?),
        Schema::TimeMicros => Value::TimeMicros(long(path, json)?),
        Schema::TimestampMillis => Value::TimestampMillis(long(path, json)?),
        Schema::TimestampMicros => Value::TimestampMicros(long(path, json)?),
        Schema::TimestampNanos => Value::TimestampNanos(long(path, json)?),
        Schema::LocalTimestampMillis => Value::LocalTimestampMillis(long(path, json)?),
        Schema::LocalTimestampMicros => Value::LocalTimestampMicros(long(path, json)?),
        Schema::LocalTimestampNanos => Value::LocalTimestampNanos(long(path, json)?),
        Schema::Duration(f) => {
            let b = fixed_bytes(path, json, f.size)?;
            let arr: [u8; 12] = b.try_into().map_err(|_| err(path, "12 bytes (duration)"))?;
            Value::Duration(apache_avro::Duration::from(arr))
        }
        Schema::Ref { name } => return Err(AvroError::UndefinedName(name.fullname(None))),
    })
}

/// A field default is written in the first branch's form for a union (not as `{"branch": v}`).
fn default_value(
    schema: &Schema,
    names: &NamesRef<'_>,
    default: &Json,
    path: &mut String,
    depth: usize,
) -> Result<Value, AvroError> {
    match deref(schema, names)? {
        Schema::Union(u) => {
            let first = u
                .variants()
                .first()
                .ok_or_else(|| err(path, "a union with branches"))?;
            let inner = from_json(first, names, default, path, depth + 1)?;
            Ok(Value::Union(0, Box::new(inner)))
        }
        other => from_json(other, names, default, path, depth + 1),
    }
}

fn union_from_json(
    u: &UnionSchema,
    names: &NamesRef<'_>,
    json: &Json,
    path: &mut String,
    depth: usize,
) -> Result<Value, AvroError> {
    if json.is_null() {
        let index = u
            .variants()
            .iter()
            .position(|b| matches!(b, Schema::Null))
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
    let (name, inner) = obj.iter().next().expect("one key");
    for (index, branch) in u.variants().iter().enumerate() {
        let resolved = deref(branch, names)?;
        if branch_name(resolved) == *name || branch_name(branch) == *name {
            let len = path.len();
            path.push_str(&format!("<{name}>"));
            let value = from_json(resolved, names, inner, path, depth + 1)?;
            path.truncate(len);
            return Ok(Value::Union(index as u32, Box::new(value)));
        }
    }
    Err(err(path, format!("a branch of the union, not '{name}'")))
}

fn decimal_json(path: &str, d: &Decimal, size: Option<usize>) -> Result<Json, AvroError> {
    let mut bytes = Vec::<u8>::try_from(d).map_err(|_| err(path, "a decimal"))?;
    if let Some(size) = size {
        if bytes.len() > size {
            return Err(err(path, format!("a decimal that fits {size} bytes")));
        }
        let sign = if bytes.first().is_some_and(|b| b & 0x80 != 0) {
            0xff
        } else {
            0
        };
        let mut padded = vec![sign; size - bytes.len()];
        padded.extend_from_slice(&bytes);
        bytes = padded;
    }
    Ok(to_latin1(&bytes))
}

fn to_json(
    schema: &Schema,
    names: &NamesRef<'_>,
    value: &Value,
    path: &mut String,
    depth: usize,
) -> Result<Json, AvroError> {
    if depth > MAX_DEPTH {
        return Err(err(path, format!("nesting of at most {MAX_DEPTH} levels")));
    }
    let schema = deref(schema, names)?;
    let mismatch = |path: &str| {
        err(
            path,
            format!(
                "a value of schema '{}', got {value:?}",
                schema_label(schema)
            ),
        )
    };
    Ok(match (schema, value) {
        (Schema::Union(u), Value::Union(index, inner)) => {
            let branch = u.variants().get(*index as usize).ok_or_else(|| {
                err(
                    path,
                    format!("a union branch index below {}", u.variants().len()),
                )
            })?;
            let branch = deref(branch, names)?;
            if matches!(branch, Schema::Null) {
                Json::Null
            } else {
                let name = branch_name(branch);
                let len = path.len();
                path.push_str(&format!("<{name}>"));
                let inner = to_json(branch, names, inner, path, depth + 1)?;
                path.truncate(len);
                let mut obj = serde_json::Map::new();
                obj.insert(name, inner);
                Json::Object(obj)
            }
        }
        (Schema::Null, Value::Null) => Json::Null,
        (Schema::Boolean, Value::Boolean(b)) => Json::Bool(*b),
        (
            Schema::Int | Schema::Date | Schema::TimeMillis,
            Value::Int(v) | Value::Date(v) | Value::TimeMillis(v),
        ) => Json::from(*v),
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
        ) => Json::from(*v),
        (Schema::Float, Value::Float(v)) => float_json(f64::from(*v)),
        (Schema::Double, Value::Double(v)) => float_json(*v),
        (Schema::Bytes, Value::Bytes(b)) => to_latin1(b),
        (Schema::String, Value::String(s)) => Json::String(s.clone()),
        (Schema::Fixed(_) | Schema::Duration(_), Value::Fixed(_, b)) => to_latin1(b),
        (Schema::Duration(_), Value::Duration(d)) => to_latin1(&<[u8; 12]>::from(*d)),
        (Schema::Enum(_), Value::Enum(_, symbol)) => Json::String(symbol.clone()),
        (Schema::Array(a), Value::Array(items)) => {
            let mut out = Vec::with_capacity(items.len());
            for (i, item) in items.iter().enumerate() {
                let len = path.len();
                path.push_str(&format!("[{i}]"));
                out.push(to_json(&a.items, names, item, path, depth + 1)?);
                path.truncate(len);
            }
            Json::Array(out)
        }
        (Schema::Map(m), Value::Map(entries)) => {
            let mut keys: Vec<&String> = entries.keys().collect();
            keys.sort();
            let mut out = serde_json::Map::new();
            for k in keys {
                let len = path.len();
                path.push_str(&format!("[{k:?}]"));
                out.insert(
                    k.clone(),
                    to_json(&m.types, names, &entries[k], path, depth + 1)?,
                );
                path.truncate(len);
            }
            Json::Object(out)
        }
        (Schema::Record(r), Value::Record(fields)) => {
            let mut out = serde_json::Map::new();
            for field in &r.fields {
                let len = path.len();
                path.push('.');
                path.push_str(&field.name);
                let v = fields
                    .iter()
                    .find(|(n, _)| *n == field.name)
                    .map(|(_, v)| v)
                    .ok_or_else(|| err(path, "a value for this field"))?;
                out.insert(
                    field.name.clone(),
                    to_json(&field.schema, names, v, path, depth + 1)?,
                );
                path.truncate(len);
            }
            Json::Object(out)
        }
        (Schema::Decimal(d), Value::Decimal(dec)) => match &d.inner {
            InnerDecimalSchema::Bytes => decimal_json(path, dec, None)?,
            InnerDecimalSchema::Fixed(f) => decimal_json(path, dec, Some(f.size))?,
        },
        (Schema::Decimal(_), Value::Bytes(b) | Value::Fixed(_, b)) => to_latin1(b),
        (Schema::Uuid(UuidSchema::String), Value::Uuid(u)) => Json::String(u.to_string()),
        (Schema::Uuid(UuidSchema::String), Value::String(s)) => Json::String(s.clone()),
        (Schema::Uuid(_), Value::Uuid(u)) => to_latin1(u.as_bytes()),
        (Schema::Uuid(_), Value::Fixed(_, b) | Value::Bytes(b)) => to_latin1(b),
        _ => return Err(mismatch(path)),
    })
}
