//! Small facts about schemas that the encoder, the decoders and the JSON conversion share
//! (a leaf module: it uses no other module of `avro`).

use apache_avro::Schema;

/// What serde's `is_human_readable` answers: `true`, so that `uuid::Uuid` writes and reads the
/// string form the Avro `uuid` logical type (on `string`) holds.
pub(crate) const HUMAN_READABLE: bool = true;

/// A schema's full name, or its type for unnamed schemas.
pub(crate) fn schema_label(schema: &Schema) -> String {
    match schema {
        Schema::Record(r) => r.name.fullname(None),
        Schema::Enum(e) => e.name.fullname(None),
        Schema::Fixed(f) => f.name.fullname(None),
        Schema::Ref { name } => name.fullname(None),
        other => {
            let json = serde_json::to_value(other).unwrap_or_default();
            match json {
                serde_json::Value::String(s) => s,
                serde_json::Value::Object(map) => match map.get("logicalType") {
                    Some(serde_json::Value::String(l)) => l.clone(),
                    _ => map
                        .get("type")
                        .and_then(|t| t.as_str())
                        .unwrap_or("schema")
                        .to_owned(),
                },
                serde_json::Value::Array(_) => "union".to_owned(),
                _ => "schema".to_owned(),
            }
        }
    }
}
