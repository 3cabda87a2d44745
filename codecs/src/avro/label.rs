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
        // A logical type goes by its logical name, any other type by its own.
        Schema::Null => "null".to_owned(),
        Schema::Boolean => "boolean".to_owned(),
        Schema::Int => "int".to_owned(),
        Schema::Long => "long".to_owned(),
        Schema::Float => "float".to_owned(),
        Schema::Double => "double".to_owned(),
        Schema::Bytes => "bytes".to_owned(),
        Schema::String => "string".to_owned(),
        Schema::Array(_) => "array".to_owned(),
        Schema::Map(_) => "map".to_owned(),
        Schema::Union(_) => "union".to_owned(),
        Schema::Decimal(_) => "decimal".to_owned(),
        Schema::BigDecimal => "big-decimal".to_owned(),
        Schema::Uuid(_) => "uuid".to_owned(),
        Schema::Date => "date".to_owned(),
        Schema::TimeMillis => "time-millis".to_owned(),
        Schema::TimeMicros => "time-micros".to_owned(),
        Schema::TimestampMillis => "timestamp-millis".to_owned(),
        Schema::TimestampMicros => "timestamp-micros".to_owned(),
        Schema::TimestampNanos => "timestamp-nanos".to_owned(),
        Schema::LocalTimestampMillis => "local-timestamp-millis".to_owned(),
        Schema::LocalTimestampMicros => "local-timestamp-micros".to_owned(),
        Schema::LocalTimestampNanos => "local-timestamp-nanos".to_owned(),
        Schema::Duration(_) => "duration".to_owned(),
    }
}
