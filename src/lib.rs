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
//! | `protobuf` | `protobuf`: prost messages with the Confluent wire format (message indexes, references) |
//! | `json-schema` | `json_schema`: serde types as JSON Schema-validated JSON with the Confluent wire format |
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
    Serialized, Serializer, Target, builtin, testing, wire,
};

#[cfg(feature = "json")]
pub use kcodec_codecs::json;
#[cfg(feature = "json-schema")]
pub use kcodec_codecs::json_schema;
#[cfg(feature = "protobuf")]
pub use kcodec_codecs::protobuf;

/// The names most programs need: `use kcodec::prelude::*;`.
pub mod prelude {
    pub use kcodec_codecs::builtin::{
        BoolSerde, BytesSerde, F32Serde, F64Serde, I16Serde, I32Serde, I64Serde, ListSerde,
        StringSerde, UnitSerde, UuidSerde,
    };
    #[cfg(feature = "json")]
    pub use kcodec_codecs::json::JsonSerde;
    pub use kcodec_codecs::{
        Bytes, BytesMut, DeserializeContext, Deserializer, Headers, SerializeContext, Serialized,
        Serializer, Target,
    };
}

/// The README's example, compiled and run as a doctest.
#[doc = include_str!("../README.md")]
#[cfg(doctest)]
pub struct ReadmeDoctests;
