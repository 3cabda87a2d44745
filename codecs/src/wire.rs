//! The Confluent Schema Registry wire format.
//!
//! Facts from Confluent's documentation ("Wire format") and its official Python client
//! (`confluent_kafka.schema_registry.serde`), against which kcodec's tests check these bytes:
//!
//! - **Prefix**: magic byte `0x00`, the schema id as 4 big-endian bytes, then the payload.
//!   Magic byte `0x01` is followed by a 16-byte schema GUID instead.
//! - **Protobuf message indexes** follow the id: the path of the message in its file, as a count
//!   and then each index, all zigzag varints. The common path `[0]` is written as a single `0x00`
//!   (a count of zero).
//! - **Schema id in a header**: instead of the prefix, a header `__key_schema_id` /
//!   `__value_schema_id` holds `0x01` + the GUID (most significant half first) + the message indexes
//!   for Protobuf, and the payload has no prefix.
//! - **Reading** looks for the header first, then the prefix.
//!
//! Every reader here returns a [`WireError`] naming the problem and its byte offset on bad input,
//! and never allocates from an untrusted count.
//!
//! ```
//! use bytes::BytesMut;
//! use kcodec_codecs::wire::{self, SchemaId};
//!
//! let mut out = BytesMut::new();
//! wire::write_prefix(&mut out, SchemaId::Id(42));
//! wire::write_message_indexes(&mut out, &[1]);
//! out.extend_from_slice(b"payload");
//! assert_eq!(&out[..7], [0x00, 0, 0, 0, 42, 0x02, 0x02]);
//!
//! let framed = wire::read_prefixed(&out, true).unwrap();
//! assert_eq!(framed.schema_id, SchemaId::Id(42));
//! assert_eq!(framed.message_indexes.as_deref(), Some(&[1][..]));
//! assert_eq!(framed.payload, b"payload");
//! ```

use crate::{Headers, Target};
use bytes::{BufMut, Bytes, BytesMut};
use smallvec::SmallVec;
use uuid::Uuid;

/// Magic byte of a frame whose schema is named by its 4-byte id.
pub const MAGIC_BYTE_ID: u8 = 0x00;
/// Magic byte of a frame whose schema is named by its 16-byte GUID.
pub const MAGIC_BYTE_GUID: u8 = 0x01;
/// Header that carries the key's schema id when ids go in headers.
pub const KEY_SCHEMA_ID_HEADER: &str = "__key_schema_id";
/// Header that carries the value's schema id when ids go in headers.
pub const VALUE_SCHEMA_ID_HEADER: &str = "__value_schema_id";

/// The header name for the key's or the value's schema id.
pub fn schema_id_header(target: Target) -> &'static str {
    match target {
        Target::Key => KEY_SCHEMA_ID_HEADER,
        Target::Value => VALUE_SCHEMA_ID_HEADER,
    }
}

/// How a frame names its writer schema.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum SchemaId {
    /// The registry's global integer id (magic byte `0x00`).
    Id(u32),
    /// The registry's schema GUID (magic byte `0x01`).
    Guid(Uuid),
}

impl std::fmt::Display for SchemaId {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        match self {
            SchemaId::Id(id) => write!(f, "schema id {id}"),
            SchemaId::Guid(guid) => write!(f, "schema GUID {guid}"),
        }
    }
}

/// A Protobuf message's path in its file: `[0]` is the first top-level message, `[1, 0]` the first
/// message nested in the second. Stored inline for paths of up to four levels.
pub type MessageIndexes = SmallVec<[i32; 4]>;

/// A frame split into its parts.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Framed<'a> {
    /// The writer schema's id or GUID.
    pub schema_id: SchemaId,
    /// The message indexes, when the format has them (Protobuf).
    pub message_indexes: Option<MessageIndexes>,
    /// The encoded value that follows.
    pub payload: &'a [u8],
}

/// Why a frame could not be read.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[non_exhaustive]
pub enum WireError {
    /// The data is empty where a magic byte was expected.
    #[error("empty data: expected a magic byte (0x00 or 0x01)")]
    Empty,
    /// The first byte is neither `0x00` nor `0x01`.
    #[error("bad magic byte 0x{0:02x}: expected 0x00 (schema id) or 0x01 (schema GUID)")]
    BadMagic(u8),
    /// The data ends inside a fixed-size field.
    #[error("truncated {what} at byte {at}: needed {needed} bytes, {available} left")]
    Truncated {
        /// What was being read (`schema id`, `schema GUID`).
        what: &'static str,
        /// Where it starts.
        at: usize,
        /// Its size.
        needed: usize,
        /// How many bytes were left.
        available: usize,
    },
    /// The data ends inside a varint.
    #[error("truncated varint at byte {0}")]
    TruncatedVarint(usize),
    /// A varint is longer than a 32-bit value allows.
    #[error("varint at byte {0} overflows 32 bits")]
    VarintOverflow(usize),
    /// The message index count is negative or larger than the bytes that follow could hold.
    #[error("message index count {count} at byte {at} is impossible with {remaining} bytes left")]
    IndexCount {
        /// The count read.
        count: i32,
        /// Where it was read.
        at: usize,
        /// How many bytes follow it.
        remaining: usize,
    },
    /// A message index is negative.
    #[error("negative message index {index} at byte {at}")]
    NegativeIndex {
        /// The index read.
        index: i32,
        /// Where it was read.
        at: usize,
    },
    /// A schema-id header holds more bytes than its id (and indexes) need.
    #[error("schema id header '{header}' has {extra} unexpected trailing bytes")]
    HeaderTrailing {
        /// The header's name.
        header: &'static str,
        /// How many bytes were left over.
        extra: usize,
    },
}

/// Appends the magic byte and the schema id or GUID.
pub fn write_prefix(out: &mut impl BufMut, id: SchemaId) {
    match id {
        SchemaId::Id(id) => {
            out.put_u8(MAGIC_BYTE_ID);
            out.put_u32(id);
        }
        SchemaId::Guid(guid) => {
            out.put_u8(MAGIC_BYTE_GUID);
            out.put_slice(guid.as_bytes());
        }
    }
}

/// Appends Protobuf message indexes as Confluent writes them: `[0]` (and the empty path) as a
/// single `0x00`, otherwise the count then each index, as zigzag varints.
pub fn write_message_indexes(out: &mut impl BufMut, indexes: &[i32]) {
    if indexes.is_empty() || indexes == [0] {
        out.put_u8(0);
        return;
    }
    // A slice longer than i32::MAX can't exist in a frame; saturate rather than wrap.
    put_zigzag_varint(out, i32::try_from(indexes.len()).unwrap_or(i32::MAX));
    for &index in indexes {
        put_zigzag_varint(out, index);
    }
}

/// The value of a schema-id header: `0x01` + GUID (or `0x00` + id), then the message indexes
/// when given (Protobuf).
pub fn header_value(id: SchemaId, message_indexes: Option<&[i32]>) -> Bytes {
    let mut out = BytesMut::with_capacity(17 + message_indexes.map_or(0, |m| 1 + 5 * m.len()));
    write_prefix(&mut out, id);
    if let Some(indexes) = message_indexes {
        write_message_indexes(&mut out, indexes);
    }
    out.freeze()
}

fn put_zigzag_varint(out: &mut impl BufMut, value: i32) {
    let mut v = ((value << 1) ^ (value >> 31)) as u32;
    while v >= 0x80 {
        out.put_u8((v as u8 & 0x7f) | 0x80);
        v >>= 7;
    }
    out.put_u8(v as u8);
}

/// Reads a zigzag varint of at most 32 bits from `data[*pos..]`, advancing `pos`.
fn read_zigzag_varint(data: &[u8], pos: &mut usize) -> Result<i32, WireError> {
    let start = *pos;
    let mut result: u32 = 0;
    for i in 0..5 {
        let Some(&byte) = data.get(start + i) else {
            return Err(WireError::TruncatedVarint(start));
        };
        let bits = u32::from(byte & 0x7f);
        if i == 4 && bits > 0x0f {
            return Err(WireError::VarintOverflow(start));
        }
        result |= bits << (7 * i);
        if byte & 0x80 == 0 {
            *pos = start + i + 1;
            return Ok(((result >> 1) as i32) ^ -((result & 1) as i32));
        }
    }
    Err(WireError::VarintOverflow(start))
}

/// Reads message indexes at `data[*pos..]`, advancing `pos`. `base` is added to offsets in errors.
fn read_message_indexes(
    data: &[u8],
    pos: &mut usize,
    base: usize,
) -> Result<MessageIndexes, WireError> {
    let at = *pos;
    let count = read_zigzag_varint(data, pos).map_err(|e| shift(e, base))?;
    if count == 0 {
        return Ok(smallvec::smallvec![0]);
    }
    let remaining = data.len() - *pos;
    // Every index takes at least one byte, so the count can't exceed what is left.
    if count < 0 || count as usize > remaining {
        return Err(WireError::IndexCount {
            count,
            at: base + at,
            remaining,
        });
    }
    let mut indexes = MessageIndexes::with_capacity(count as usize);
    for _ in 0..count {
        let at = *pos;
        let index = read_zigzag_varint(data, pos).map_err(|e| shift(e, base))?;
        if index < 0 {
            return Err(WireError::NegativeIndex {
                index,
                at: base + at,
            });
        }
        indexes.push(index);
    }
    Ok(indexes)
}

fn shift(e: WireError, base: usize) -> WireError {
    match e {
        WireError::TruncatedVarint(at) => WireError::TruncatedVarint(base + at),
        WireError::VarintOverflow(at) => WireError::VarintOverflow(base + at),
        other => other,
    }
}

/// Reads the magic byte and the id or GUID at the start of `data`; returns it and the offset after it.
fn read_id(data: &[u8]) -> Result<(SchemaId, usize), WireError> {
    let (&magic, rest) = data.split_first().ok_or(WireError::Empty)?;
    let (what, needed) = match magic {
        MAGIC_BYTE_ID => ("schema id", 4),
        MAGIC_BYTE_GUID => ("schema GUID", 16),
        other => return Err(WireError::BadMagic(other)),
    };
    let Some(field) = rest.get(..needed) else {
        return Err(WireError::Truncated {
            what,
            at: 1,
            needed,
            available: rest.len(),
        });
    };
    let id = if magic == MAGIC_BYTE_ID {
        SchemaId::Id(u32::from_be_bytes([field[0], field[1], field[2], field[3]]))
    } else {
        let mut guid = [0u8; 16];
        guid.copy_from_slice(field);
        SchemaId::Guid(Uuid::from_bytes(guid))
    };
    Ok((id, 1 + needed))
}

/// Splits a frame that starts with the prefix: magic byte, id or GUID, then (when
/// `with_indexes`, for Protobuf) the message indexes, then the payload.
pub fn read_prefixed(data: &[u8], with_indexes: bool) -> Result<Framed<'_>, WireError> {
    let (schema_id, mut pos) = read_id(data)?;
    let message_indexes = if with_indexes {
        Some(read_message_indexes(data, &mut pos, 0)?)
    } else {
        None
    };
    Ok(Framed {
        schema_id,
        message_indexes,
        payload: &data[pos..],
    })
}

/// Reads a schema-id header's value: the id or GUID and, when `with_indexes`, the message indexes.
pub fn read_header_value(
    header: &'static str,
    value: &[u8],
    with_indexes: bool,
) -> Result<(SchemaId, Option<MessageIndexes>), WireError> {
    let framed = read_prefixed(value, with_indexes)?;
    if !framed.payload.is_empty() {
        return Err(WireError::HeaderTrailing {
            header,
            extra: framed.payload.len(),
        });
    }
    Ok((framed.schema_id, framed.message_indexes))
}

/// Splits a record's key or value as Confluent's deserializers do: if the record has the
/// `__key_schema_id`/`__value_schema_id` header, the id comes from there and all of `data` is the
/// payload; otherwise `data` starts with the prefix.
pub fn read<'a>(
    data: &'a [u8],
    headers: &Headers,
    target: Target,
    with_indexes: bool,
) -> Result<Framed<'a>, WireError> {
    let header = schema_id_header(target);
    match headers.last(header) {
        Some(value) => {
            let (schema_id, message_indexes) = read_header_value(header, value, with_indexes)?;
            Ok(Framed {
                schema_id,
                message_indexes,
                payload: data,
            })
        }
        None => read_prefixed(data, with_indexes),
    }
}
