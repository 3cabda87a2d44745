//! Apache Avro with the Confluent Schema Registry wire format and schema evolution (feature
//! `avro`), built on [`apache_avro`] 0.22.
//!
//! - [`AvroSerializer<T>`] / [`AvroDeserializer<T>`]: any serde type, encoded straight from serde
//!   to Avro binary against the writer schema and decoded straight back (no intermediate
//!   [`Value`]) when the writer and reader schemas match.
//! - [`GenericAvroSerializer`] / [`GenericAvroDeserializer`]: apache-avro's generic [`Value`].
//!
//! # Registry I/O stays off the hot path
//!
//! Encoding and decoding are synchronous and never do I/O. A serializer that has not yet
//! registered (or looked up) its schema for a topic, or a deserializer that meets a writer schema
//! id it has not fetched, returns [`Error::Unresolved`](crate::Error::Unresolved) naming what it
//! lacks. The async layer (the typed producer and consumer, or [`crate::resolve::serialize`] /
//! [`crate::resolve::deserialize`]) awaits the codec's `resolve` for it — which talks to the
//! [`SchemaRegistry`](kcodec_registry::SchemaRegistry) once, parses the schema once, and caches it — and calls the codec again.
//! Every later record with that schema takes the synchronous path. Nothing ever blocks a
//! runtime thread: caches are behind `std` locks held only for a map lookup or insert, never
//! across an `.await`. Two tasks meeting the same unseen id at once may both fetch it; the
//! registry answers both the same and the second insert is a no-op.
//!
//! # Choosing the writer schema (serializers)
//!
//! As Confluent's serializers, configured with [`AvroSerializerConfig`] (Confluent's config key
//! in brackets):
//! - `auto_register_schemas` (`auto.register.schemas`, default `true`): register the schema under
//!   the subject; when `false`, look it up and fail if it isn't registered, or write with the
//!   registered schema that `use_schema_id` (`use.schema.id`), `use_latest_with_metadata`
//!   (`use.latest.with.metadata`) or `use_latest_version` (`use.latest.version`) picks, in that
//!   order of precedence (Java's `serializeImpl`); [`crate::subject`] has the table of every
//!   combination, and the one refused (with `use_latest_version`);
//! - `normalize_schemas` (`normalize.schemas`): ask the registry to normalize before registering
//!   or looking up;
//! - `subject_name_strategy` (`subject.name.strategy`): Topic (`<topic>-key|value`, the
//!   default), Record (`<namespace.Name>`), TopicRecord (`<topic>-<namespace.Name>`) or one's
//!   own (see [`kcodec_registry::strategy`]);
//! - `schema_id_format` (`schema.id.serializer`): the id as the 5-byte prefix (the default,
//!   `0x00` + 4-byte id) or in the `__key_schema_id`/`__value_schema_id` header as `0x01` + the
//!   schema's 16-byte GUID (what Confluent's header serializer writes), with no prefix.
//!
//! A top-level `None` (an `Option<T>` that is `None`) is a null record: no magic byte, nothing
//! registered. A top-level `"bytes"` schema writes the raw bytes with no Avro length prefix, as
//! Confluent's serializers do.
//!
//! # Reading (deserializers)
//!
//! The writer schema id comes from the header when present, else from the prefix. Without a
//! reader schema ([`AvroDeserializer::new`]), values decode with the writer schema and reach
//! serde by field name, with no schema resolution (so no Avro defaults). With one
//! ([`AvroDeserializer::with_reader_schema`]), a writer schema with the same Parsing Canonical
//! Form takes the same direct path; a different one is resolved against the reader schema by
//! Avro's rules (added fields take their defaults, removed fields are skipped, `int`→`long`→
//! `float`→`double` and `string`↔`bytes` promotions, enum defaults, union branch matching); the
//! check that the two resolve runs once per writer id and is cached with the plan. Types with
//! `#[derive(Record)]` get theirs with [`AvroDeserializer::for_record`] (and
//! [`AvroSerializer::for_record`]): the constructors to use for them. A null record
//! decodes to `None` for `Option<T>`, and is [`Error::UnexpectedNull`](crate::Error::UnexpectedNull)
//! otherwise.
//!
//! # Logical types
//!
//! | Avro | serde (typed) | [`Value`] (generic) |
//! |---|---|---|
//! | `decimal` (bytes or fixed) | [`apache_avro::Decimal`] (big-endian two's-complement unscaled value; the scale is the schema's) | `Value::Decimal` |
//! | `uuid` (string) | [`uuid::Uuid`] (written as its hyphenated string) or `String` | `Value::Uuid` |
//! | `date` | `i32`, days since 1970-01-01 | `Value::Date` |
//! | `time-millis` | `i32`, milliseconds after midnight | `Value::TimeMillis` |
//! | `time-micros` | `i64`, microseconds after midnight | `Value::TimeMicros` |
//! | `timestamp-millis` / `-micros` | `i64` since the Unix epoch (UTC) | `Value::TimestampMillis` / `Micros` |
//! | `local-timestamp-millis` / `-micros` | `i64` since 1970-01-01T00:00 local time | `Value::LocalTimestampMillis` / `Micros` |
//!
//! # One walker: the compiled plan
//!
//! Each schema is compiled once, with its references, into an index-addressed plan (`plan`):
//! named types resolved to node indexes, each union's branch names, each record's field table,
//! minimum encoded sizes and zero-width flags, logical types, encoded field defaults. Compiling
//! is linear in the schema's size. The plan is the only Avro schema walker in this module; each
//! job is one walk over it, with one depth limit (128 nested records, arrays and maps) for readers
//! and writers alike:
//!
//! | job | module |
//! |---|---|
//! | serde value → binary (typed encode, unions by the variant's name) | `typed` |
//! | binary → serde value (typed decode, unions by name) | `direct` |
//! | generic [`Value`] → binary | `encode` |
//! | binary → generic [`Value`] | `value` |
//! | Avro JSON ⇄ [`Value`] (the CLI's text layer); field defaults, encoded into the plan when a schema is parsed | `json` |
//! | skipping a value (fields a reader lacks), the block-count check | `validate` |
//! | writer → reader resolution, compiled once per (writer, reader) pair | `resolve` |
//!
//! Resolution transcodes the writer's bytes into the reader schema's encoding (fields in the
//! reader's order, defaults written in, promotions applied, enum symbols and union branches
//! mapped by name), which the typed or the generic decoder then reads with the reader's plan. A
//! pair that can never be read is refused with an [`Incompatibility`] naming where and why.
//! apache-avro stays for parsing, the Parsing Canonical Form, fingerprints and its [`Value`].
//!
//! # Bad input
//!
//! Every length, count, union and enum index is checked against the bytes that remain before
//! anything is allocated; truncated data, a length larger than the input, a bad index, data
//! nested deeper than 128 levels and trailing bytes are typed [`AvroError`]s naming the offset.
//! Arrays of items that take no bytes hold at most [`MAX_ZERO_WIDTH_ITEMS`] items per message.
//! apache-avro's global allocation limit is also set to [`MAX_ALLOCATION_BYTES`] (it decodes
//! only `big-decimal` values now).
//!
//! ```
//! use std::sync::Arc;
//! use kcodec_codecs::avro::{AvroDeserializer, AvroSerializer, ParsedSchema};
//! use kcodec_codecs::{resolve, BytesMut, DeserializeContext, Headers, SerializeContext, Target};
//! use kcodec_registry::InMemoryRegistry;
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct User { name: String, id: i64 }
//!
//! # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
//! let registry = Arc::new(InMemoryRegistry::new());
//! let schema = ParsedSchema::parse(r#"{"type":"record","name":"User","fields":[
//!     {"name":"name","type":"string"},{"name":"id","type":"long"}]}"#)?;
//! let ser = AvroSerializer::<User>::new(registry.clone(), schema);
//! let de = AvroDeserializer::<User>::new(registry);
//!
//! let mut headers = Headers::new();
//! let mut out = BytesMut::new();
//! let mut ctx = SerializeContext::new("users", Target::Value, &mut headers);
//! let user = User { name: "ada".into(), id: 1 };
//! // The first call registers the schema (async, once); later ones stay synchronous.
//! resolve::serialize(&ser, &user, &mut ctx, &mut out).await?;
//! assert_eq!(&out[..5], [0, 0, 0, 0, 1]); // magic byte, schema id 1
//!
//! let ctx = DeserializeContext::new("users", Target::Value, &headers);
//! let back: User = resolve::deserialize(&de, Some(&out.freeze()), &ctx).await?;
//! assert_eq!(back, user);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! # }).unwrap();
//! ```

mod cursor;
mod de;
mod direct;
mod encode;
mod error;
mod json;
mod plan;
pub mod raw;
mod resolve;
mod schema;
mod ser;
mod typed;
mod validate;
mod value;

pub use apache_avro;
pub use apache_avro::types::Value;
pub use de::{AvroDeserializer, GenericAvroDeserializer};
pub use error::{AvroError, Incompatibility};
pub use json::{value_from_json, value_to_json};
pub use schema::{MAX_ALLOCATION_BYTES, OrderedValue, ParsedSchema};
pub use ser::{AvroSerializer, AvroSerializerConfig, GenericAvroSerializer};
pub use validate::MAX_ZERO_WIDTH_ITEMS;
