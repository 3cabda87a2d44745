//! # kcodec
//!
//! Typed Kafka keys and values: turn your Rust types into the bytes Kafka stores and back, the
//! same bytes the Kafka Java client and Confluent's serializers write.
//!
//! This facade re-exports the workspace's crates behind one cargo feature each:
//!
//! | feature | what it adds |
//! |---|---|
//! | `json` (default) | [`json::JsonSerde`]: any serde type as compact JSON |
//! | `avro` (default) | [`avro`]: Avro with the Confluent wire format, and the [`registry`] |
//! | `derive` (default) | `#[derive(Record)]` and the [`record`] traits: a type's Avro schema, name, key and topic |
//! | `clients` (default) | [`clients`]: typed producers and consumers; the in-memory [`broker`] |
//! | `rdkafka` | the clients' rdkafka transport (`clients::kafka`; builds librdkafka) |
//! | `protobuf` | `protobuf`: prost messages with the Confluent wire format (message indexes, references), and the `registry` |
//! | `json-schema` | `json_schema`: serde types as JSON Schema-validated JSON with the Confluent wire format, and the `registry` |
//! | `schemars` | `json_schema::JsonSchema::for_type`: a type's JSON Schema generated with schemars (implies `json-schema`) |
//! | `registry-http` | `registry::http`: the HTTP client for Confluent-compatible schema registries |
//! | `registry-server` | `registry::server`: the Confluent-compatible dev registry server, to run in-process |
//! | `confluent-kafka` | `confluent::Serde`: any codec as a serializer/deserializer of Confluent's pure-Rust client (`confluent-kafka`) |
//! | `chrono`, `time` | dates and times of those crates in derived records, as Avro logical types (`record::avro_time`) |
//!
//! Always present: the codec traits ([`Serializer`], [`Deserializer`]), the Java-identical
//! built-in serdes ([`builtin`]) and the Confluent wire format ([`wire`]).
//!
//! ```
//! use kcodec::prelude::*;
//!
//! let mut headers = Headers::new();
//! let mut buf = BytesMut::new();
//! let mut ctx = SerializeContext::new("orders", Target::Value, &mut headers);
//! I64Serde.serialize(&1250, &mut ctx, &mut buf).unwrap();
//! assert_eq!(&buf[..], [0, 0, 0, 0, 0, 0, 0x04, 0xe2]);
//! ```

#![warn(missing_docs)]

pub use kcodec_codecs::{
    Bytes, BytesMut, DeserializeContext, Deserializer, Error, Header, Headers, SerializeContext,
    Serialized, Serializer, Target, Unresolved, builtin, resolve, wire,
};

#[cfg(feature = "json")]
pub use kcodec_codecs::json;
#[cfg(feature = "json-schema")]
pub use kcodec_codecs::json_schema;
#[cfg(feature = "protobuf")]
pub use kcodec_codecs::protobuf;
/// Subject naming, schema-id placement and the settings the schema serializers share (see
/// [`kcodec_codecs::subject`]).
#[cfg(any(feature = "avro", feature = "protobuf", feature = "json-schema"))]
pub use kcodec_codecs::subject;

#[cfg(feature = "avro")]
pub mod avro {
    //! Avro with the Confluent wire format and schema evolution.
    //!
    //! - [`AvroSerializer`] / [`AvroDeserializer`]: serde types. For a type with
    //!   `#[derive(Record)]`, build them with `for_record`, which resolves every writer schema
    //!   into the type's own (added fields take their defaults); `AvroDeserializer::new` decodes
    //!   with each frame's writer schema and no resolution.
    //! - [`GenericAvroSerializer`] / [`GenericAvroDeserializer`]: apache-avro's generic [`Value`],
    //!   re-exported here with the [`apache_avro`] crate itself, so the version always matches.
    //!
    //! The [`kcodec_codecs::avro`] module documents the wire format, settings and logical types.

    pub use kcodec_codecs::avro::{
        AvroDeserializer, AvroError, AvroSerializer, AvroSerializerConfig, GenericAvroDeserializer,
        GenericAvroSerializer, MAX_ALLOCATION_BYTES, MAX_ZERO_WIDTH_ITEMS, ParsedSchema, Value,
        apache_avro, raw, value_from_json, value_to_json,
    };
}
/// The schema registry: the `SchemaRegistry` trait the schema codecs take, the in-memory
/// registry, subject strategies and compatibility checks (see [`kcodec_registry`]). Present with
/// any schema codec (`avro`, `protobuf`, `json-schema`) and with `registry-http` (adds the
/// `http` client) or `registry-server` (adds the dev `server`).
#[cfg(any(
    feature = "avro",
    feature = "protobuf",
    feature = "json-schema",
    feature = "registry-http",
    feature = "registry-server"
))]
pub use kcodec_registry as registry;

/// Typed producers and consumers over the in-memory broker or rdkafka (see [`kcodec_clients`]).
#[cfg(feature = "clients")]
pub use kcodec_clients as clients;
/// The in-memory Kafka-like broker (the `kcodec-broker` crate).
#[cfg(feature = "clients")]
pub use kcodec_clients::memory::broker;
/// kcodec's codecs in Confluent's pure-Rust Kafka client (see [`kcodec_confluent`]).
#[cfg(feature = "confluent-kafka")]
pub use kcodec_confluent as confluent;
/// The in-memory broker over Kafka's wire protocol (see [`kcodec_kafka_server`]):
/// `kafka_server::serve(&cluster, "127.0.0.1:0")` lets any Kafka client use a [`broker`] cluster.
#[cfg(feature = "kafka-server")]
pub use kcodec_kafka_server as kafka_server;

#[cfg(feature = "derive")]
pub use kcodec_codecs::record::{self, Keyed, Record};
/// `#[derive(Record)]`: see [`kcodec_derive`].
#[cfg(feature = "derive")]
pub use kcodec_derive::Record;

#[doc(hidden)]
#[cfg(feature = "derive")]
pub use kcodec_codecs::__private;

/// The names most programs need: `use kcodec::prelude::*;`.
pub mod prelude {
    #[cfg(feature = "clients")]
    pub use kcodec_clients::memory::broker::{
        Cluster, ConsumerConfig, NewTopic, OffsetReset, ProducerConfig,
    };
    #[cfg(feature = "clients")]
    pub use kcodec_clients::memory::{MemoryConsumer, MemoryProducer};
    #[cfg(feature = "clients")]
    pub use kcodec_clients::{
        ClientError, Consumer, ConsumerRecord, OnDeserializeError, Producer, ProducerRecord,
        TopicPartition,
    };
    #[cfg(feature = "avro")]
    pub use kcodec_codecs::avro::{AvroDeserializer, AvroSerializer};
    pub use kcodec_codecs::builtin::{
        BoolSerde, BytesSerde, F32Serde, F64Serde, I16Serde, I32Serde, I64Serde, ListSerde,
        StrictStringSerde, StringSerde, UnitSerde, UuidSerde,
    };
    #[cfg(feature = "json")]
    pub use kcodec_codecs::json::JsonSerde;
    #[cfg(feature = "derive")]
    pub use kcodec_codecs::record::{Keyed, Record};
    pub use kcodec_codecs::{
        Bytes, BytesMut, DeserializeContext, Deserializer, Headers, SerializeContext, Serialized,
        Serializer, Target,
    };
    #[cfg(feature = "derive")]
    pub use kcodec_derive::Record;
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
