//! JSON with serde_json: compact output, no framing (Kafka Connect's and Confluent's plain
//! `KafkaJsonSerializer` write the same).
//!
//! A value that serializes to JSON `null` (such as `None` or `()`) becomes a null record — a
//! tombstone — as Confluent's JSON serializers return null for null; a null record deserializes as
//! JSON `null`, so it reads back as `None` into an `Option` (and as `()`, `serde_json::Value::Null`
//! or a unit struct, which JSON `null` also builds), and is an [`Error::UnexpectedNull`] for types
//! JSON `null` can't build.
//!
//! ```
//! use kcodec_codecs::{json::JsonSerde, testing};
//! use serde::{Deserialize, Serialize};
//!
//! #[derive(Serialize, Deserialize, Debug, PartialEq)]
//! struct Order { id: String, amount_cents: i64 }
//!
//! let order = Order { id: "o-1".into(), amount_cents: 1250 };
//! let bytes = testing::encode(&JsonSerde, &order).unwrap().unwrap();
//! assert_eq!(bytes, &br#"{"id":"o-1","amount_cents":1250}"#[..]);
//! let back: Order = testing::decode(&JsonSerde, Some(&bytes)).unwrap();
//! assert_eq!(back, order);
//!
//! assert_eq!(testing::encode(&JsonSerde, &None::<Order>).unwrap(), None);
//! let tombstone: Option<Order> = testing::decode(&JsonSerde, None).unwrap();
//! assert_eq!(tombstone, None);
//! ```

use crate::builtin::ListLayout;
use crate::{DeserializeContext, Deserializer, Error, SerializeContext, Serialized, Serializer};
use bytes::{BufMut, BytesMut};
use serde::{Serialize, de::DeserializeOwned};

/// Any `Serialize`/`DeserializeOwned` type as compact JSON.
#[derive(Debug, Clone, Copy, Default, PartialEq, Eq)]
pub struct JsonSerde;

impl<T: Serialize + ?Sized> Serializer<T> for JsonSerde {
    fn serialize(
        &self,
        value: &T,
        _: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        let start = out.len();
        serde_json::to_writer(out.writer(), value)?;
        if &out[start..] == b"null" {
            out.truncate(start);
            return Ok(Serialized::Null);
        }
        Ok(Serialized::Data)
    }
}

impl<T: DeserializeOwned> Deserializer<T> for JsonSerde {
    fn deserialize(&self, data: Option<&[u8]>, ctx: &DeserializeContext<'_>) -> Result<T, Error> {
        match data {
            Some(data) => Ok(serde_json::from_slice(data)?),
            None => serde_json::from_slice(b"null").map_err(|_| Error::UnexpectedNull {
                deserializer: "JSON",
                target: ctx.target(),
            }),
        }
    }
}

impl ListLayout for JsonSerde {
    const FIXED_SIZE: Option<usize> = None;
}
