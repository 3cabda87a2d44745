//! The Avro type an apache-avro [`Schema`] node is encoded as, logical types folded into the
//! type they annotate (`date` is an `int`, `timestamp-millis` a `long`, a `decimal` on `fixed`
//! that `fixed`…): the one place that knows it, used by the compatibility checks
//! ([`compat::avro`](crate::compat::avro): promotions and messages compare base types) and by
//! kcodec-codecs' Avro plan (a union branch's name in Avro's JSON encoding).
//!
//! ```
//! use apache_avro::Schema;
//! use kcodec_registry::avro_type::BaseType;
//!
//! let schema = Schema::parse_str(r#"{"type":"long","logicalType":"timestamp-millis"}"#).unwrap();
//! assert_eq!(BaseType::of(&schema).type_name(), "long");
//! let schema = Schema::parse_str(r#"{"type":"fixed","name":"Id","namespace":"a","size":16,
//!     "logicalType":"uuid"}"#).unwrap();
//! let base = BaseType::of(&schema);
//! assert_eq!((base.type_name(), base.name().map(|n| n.fullname(None))), ("fixed", Some("a.Id".into())));
//! ```

use apache_avro::Schema;
use apache_avro::schema::{
    DecimalSchema, EnumSchema, FixedSchema, InnerDecimalSchema, Name, RecordSchema, UuidSchema,
};

/// The underlying type of a schema node: what its values are encoded as, logical types replaced
/// by the types they annotate. Named types keep their definitions; a reference to a named type
/// defined elsewhere stays a [`Ref`](BaseType::Ref) (look it up among the schema's names).
#[derive(Debug, Clone, Copy)]
pub enum BaseType<'a> {
    /// `null`.
    Null,
    /// `boolean`.
    Boolean,
    /// `int`, and `date`, `time-millis`.
    Int,
    /// `long`, and `time-micros`, the `timestamp-*` and `local-timestamp-*` types.
    Long,
    /// `float`.
    Float,
    /// `double`.
    Double,
    /// `bytes`, and `decimal`, `big-decimal` and `uuid` on `bytes`.
    Bytes,
    /// `string`, and `uuid` on `string`.
    String,
    /// An array, with its items' schema.
    Array(&'a Schema),
    /// A map, with its values' schema.
    Map(&'a Schema),
    /// A union.
    Union,
    /// A record.
    Record(&'a RecordSchema),
    /// An enum.
    Enum(&'a EnumSchema),
    /// A `fixed`, and `duration`, `uuid` and `decimal` on `fixed`.
    Fixed(&'a FixedSchema),
    /// A reference by name to a named type defined elsewhere.
    Ref(&'a Name),
}

impl<'a> BaseType<'a> {
    /// The base type of `schema`.
    pub fn of(schema: &'a Schema) -> Self {
        match schema {
            Schema::Null => BaseType::Null,
            Schema::Boolean => BaseType::Boolean,
            Schema::Int | Schema::Date | Schema::TimeMillis => BaseType::Int,
            Schema::Long
            | Schema::TimeMicros
            | Schema::TimestampMillis
            | Schema::TimestampMicros
            | Schema::TimestampNanos
            | Schema::LocalTimestampMillis
            | Schema::LocalTimestampMicros
            | Schema::LocalTimestampNanos => BaseType::Long,
            Schema::Float => BaseType::Float,
            Schema::Double => BaseType::Double,
            Schema::Bytes
            | Schema::BigDecimal
            | Schema::Uuid(UuidSchema::Bytes)
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Bytes,
                ..
            }) => BaseType::Bytes,
            Schema::String | Schema::Uuid(UuidSchema::String) => BaseType::String,
            Schema::Array(a) => BaseType::Array(&a.items),
            Schema::Map(m) => BaseType::Map(&m.types),
            Schema::Union(_) => BaseType::Union,
            Schema::Record(r) => BaseType::Record(r),
            Schema::Enum(e) => BaseType::Enum(e),
            Schema::Fixed(f)
            | Schema::Duration(f)
            | Schema::Uuid(UuidSchema::Fixed(f))
            | Schema::Decimal(DecimalSchema {
                inner: InnerDecimalSchema::Fixed(f),
                ..
            }) => BaseType::Fixed(f),
            Schema::Ref { name } => BaseType::Ref(name),
        }
    }

    /// The type's name as Avro schemas write it: `null` … `string`, `array`, `map`, `union`,
    /// `record`, `enum`, `fixed`; `reference` for a [`Ref`](BaseType::Ref).
    pub fn type_name(&self) -> &'static str {
        match self {
            BaseType::Null => "null",
            BaseType::Boolean => "boolean",
            BaseType::Int => "int",
            BaseType::Long => "long",
            BaseType::Float => "float",
            BaseType::Double => "double",
            BaseType::Bytes => "bytes",
            BaseType::String => "string",
            BaseType::Array(_) => "array",
            BaseType::Map(_) => "map",
            BaseType::Union => "union",
            BaseType::Record(_) => "record",
            BaseType::Enum(_) => "enum",
            BaseType::Fixed(_) => "fixed",
            BaseType::Ref(_) => "reference",
        }
    }

    /// The name of a named type this node defines (a record, enum or fixed); `None` for the
    /// others, a [`Ref`](BaseType::Ref) included.
    pub fn name(&self) -> Option<&'a Name> {
        match self {
            BaseType::Record(r) => Some(&r.name),
            BaseType::Enum(e) => Some(&e.name),
            BaseType::Fixed(f) => Some(&f.name),
            _ => None,
        }
    }
}
