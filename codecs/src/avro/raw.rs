//! The runtime of the Avro code `#[derive(Record)]` generates: a [`Writer`] that appends Avro
//! binary to a `BytesMut` and a [`Reader`] that reads it back from a byte slice, called by each
//! derived type's [`AvroType::avro_encode_raw`] / [`AvroDecode::avro_decode_raw`] (the shape of
//! prost's generated `encode_raw`: one straight-line function per type, no visitor, no per-field
//! dispatch on a schema).
//!
//! That code knows only the type's own schema (the one [`Record::avro_schema`] gives), so
//! [`AvroSerializer::for_record`](super::AvroSerializer::for_record) and
//! [`AvroDeserializer::for_record`](super::AvroDeserializer::for_record) call it only when the
//! frame's writer schema is that schema (references included); any other writer schema goes
//! through the compiled plan, with resolution. [`encode`] and [`decode`] call it directly.
//!
//! Decoding borrows: a [`Reader<'a>`](Reader) hands out `&'a str` and `&'a [u8]` from its input,
//! so a derived record with lifetimes (`&'a str`, `Cow<'a, str>`, `&'a [u8]` fields) decodes with
//! no allocation ([`decode`], or
//! [`AvroDeserializer::deserialize_record`](super::AvroDeserializer::deserialize_record) on a
//! frame). Read from a shared [`Bytes`] frame ([`decode_shared`]), `bytes::Bytes` fields are
//! slices of that frame, not copies.
//!
//! The reader checks every length and count against the bytes that remain before it reserves
//! anything, caps items that take no bytes at [`MAX_ZERO_WIDTH_ITEMS`],
//! nests at most as deep as the plan's walkers (128 levels), and reports bad input as an
//! [`AvroError`] naming the byte offset: it never panics.
//!
//! ```
//! use kcodec_codecs::avro::raw;
//! use kcodec_codecs::BytesMut;
//!
//! let mut out = BytesMut::new();
//! raw::encode(&Some(vec![1i64, -2]), &mut out).unwrap();
//! assert_eq!(&out[..], [2, 4, 2, 3, 0]); // branch 1, a block of 2 longs, the end
//! let back: Option<Vec<i64>> = raw::decode(&out).unwrap();
//! assert_eq!(back, Some(vec![1, -2]));
//! assert!(raw::decode::<Option<Vec<i64>>>(&out[..3]).is_err());
//! ```
//!
//! [`AvroType::avro_encode_raw`]: crate::record::AvroType::avro_encode_raw
//! [`AvroType::avro_raw_in`]: crate::record::AvroType::avro_raw_in
//! [`AvroDecode::avro_decode_raw`]: crate::record::AvroDecode::avro_decode_raw
//! [`Record::avro_schema`]: crate::record::Record::avro_schema

pub use super::AvroError;
use super::cursor::Cursor;
use super::plan::MAX_DEPTH;
use super::validate::{MAX_ZERO_WIDTH_ITEMS, block_count};
use crate::record::{AvroDecode, AvroType};
use bytes::{BufMut, Bytes, BytesMut};
use std::borrow::Cow;

/// Encodes `value` with its type's generated code, appending to `out` (left as it was on error).
///
/// A type without generated code (see [`supported`]) is an error, not a panic.
pub fn encode<T: AvroType + ?Sized>(value: &T, out: &mut BytesMut) -> Result<(), AvroError> {
    let start = out.len();
    let mut w = Writer { out, depth: 0 };
    value.avro_encode_raw(&mut w).inspect_err(|_| {
        w.out.truncate(start);
    })
}

/// Decodes exactly one value of `T` from `data` with its type's generated code; `T` may borrow
/// from `data`.
pub fn decode<'de, T: AvroDecode<'de>>(data: &'de [u8]) -> Result<T, AvroError> {
    finish(Reader::new(data))
}

/// Decodes exactly one value of `T` from `payload`, a part of `frame` (a Kafka record's value):
/// as [`decode`], and `bytes::Bytes` values in `T` are slices of `frame` rather than copies. A
/// `payload` outside `frame` is read as [`decode`] reads it.
///
/// ```
/// use kcodec_codecs::avro::raw;
/// use kcodec_codecs::Bytes;
///
/// let frame = Bytes::from_static(&[0, 0, 0, 0, 1, 4, 0xCA, 0xFE]);
/// let payload: Bytes = raw::decode_shared(&frame, &frame[5..]).unwrap();
/// assert_eq!(&payload[..], [0xCA, 0xFE]);
/// assert_eq!(payload.as_ptr(), frame[6..].as_ptr()); // no copy
/// ```
pub fn decode_shared<'de, T: AvroDecode<'de>>(
    frame: &'de Bytes,
    payload: &'de [u8],
) -> Result<T, AvroError> {
    let mut r = Reader::new(payload);
    // Where `payload` starts in `frame`, if it lies within it.
    let offset = (payload.as_ptr() as usize).wrapping_sub(frame.as_ptr() as usize);
    if offset <= frame.len() && payload.len() <= frame.len() - offset {
        r.shared = Some((frame, offset));
    }
    finish(r)
}

fn finish<'de, T: AvroDecode<'de>>(mut r: Reader<'de>) -> Result<T, AvroError> {
    let value = T::avro_decode_raw(&mut r)?;
    r.finish()?;
    Ok(value)
}

/// Whether `T` and every type in it have generated Avro code
/// ([`AvroType::avro_raw_in`]): what `for_record` asks, once, at construction.
pub fn supported<T: AvroType + ?Sized>() -> bool {
    T::avro_raw_in(&mut Seen::default())
}

/// The types [`AvroType::avro_raw_in`] has met on its way down: a recursive type met again
/// answers for itself (it is being checked already).
#[derive(Debug, Default)]
pub struct Seen(Vec<std::any::TypeId>);

impl Seen {
    /// Marks `T` as met; `false` if it was met before.
    pub fn first<T: ?Sized + 'static>(&mut self) -> bool {
        let id = std::any::TypeId::of::<T>();
        if self.0.contains(&id) {
            return false;
        }
        self.0.push(id);
        true
    }
}

/// The error of a type that has no generated Avro code.
pub fn unsupported(type_name: &'static str) -> AvroError {
    AvroError::Mismatch {
        at: 0,
        message: format!("{type_name} has no generated Avro code (AvroType::avro_raw_in)"),
    }
}

/// Appends Avro binary to a `BytesMut`.
#[derive(Debug)]
pub struct Writer<'o> {
    out: &'o mut BytesMut,
    depth: usize,
}

impl<'o> Writer<'o> {
    /// A writer appending to `out`.
    pub fn new(out: &'o mut BytesMut) -> Self {
        Writer { out, depth: 0 }
    }

    /// A `long` (or an `int`, a union index, an enum index, a count): zigzag varint.
    #[inline]
    pub fn long(&mut self, v: i64) {
        put_long(self.out, v);
    }

    /// A `boolean`.
    #[inline]
    pub fn boolean(&mut self, v: bool) {
        self.out.put_u8(u8::from(v));
    }

    /// A `float`.
    #[inline]
    pub fn float(&mut self, v: f32) {
        self.out.put_slice(&v.to_le_bytes());
    }

    /// A `double`.
    #[inline]
    pub fn double(&mut self, v: f64) {
        self.out.put_slice(&v.to_le_bytes());
    }

    /// `bytes` (or a `string`'s bytes): the length, then the bytes.
    #[inline]
    pub fn bytes(&mut self, v: &[u8]) {
        self.long(v.len() as i64);
        self.out.put_slice(v);
    }

    /// A `string`.
    #[inline]
    pub fn str(&mut self, v: &str) {
        self.bytes(v.as_bytes());
    }

    /// Enters a record, array or map: fails past the depth every Avro walker shares.
    #[inline]
    pub fn enter(&mut self) -> Result<(), AvroError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(AvroError::TooDeep {
                at: self.out.len(),
                limit: MAX_DEPTH,
            });
        }
        Ok(())
    }

    /// Leaves what [`enter`](Self::enter) entered.
    #[inline]
    pub fn leave(&mut self) {
        self.depth -= 1;
    }
}

/// Appends `v` as a zigzag varint: one byte written directly, a longer one built on the stack
/// and appended with one capacity check.
#[inline]
pub(crate) fn put_long(out: &mut BytesMut, v: i64) {
    let mut n = ((v << 1) ^ (v >> 63)) as u64;
    if n < 0x80 {
        out.put_u8(n as u8);
        return;
    }
    let mut buf = [0u8; 10];
    let mut i = 0;
    while n >= 0x80 {
        buf[i] = (n as u8 & 0x7f) | 0x80;
        n >>= 7;
        i += 1;
    }
    buf[i] = n as u8;
    out.extend_from_slice(&buf[..=i]);
}

/// Reads Avro binary from a byte slice, every bound checked; strings and bytes borrow from it.
pub struct Reader<'a> {
    cur: Cursor<'a>,
    depth: usize,
    zero_items: u64,
    /// The shared buffer the input is part of, and the input's offset in it
    /// ([`decode_shared`]): `Bytes` values are sliced from it.
    shared: Option<(&'a Bytes, usize)>,
}

impl std::fmt::Debug for Reader<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Reader")
            .field("position", &self.cur.pos)
            .field("len", &self.cur.data.len())
            .finish()
    }
}

impl<'a> Reader<'a> {
    /// A reader at the start of `data`.
    pub fn new(data: &'a [u8]) -> Self {
        Reader {
            cur: Cursor::new(data),
            depth: 0,
            zero_items: 0,
            shared: None,
        }
    }

    /// The offset of the next byte.
    #[inline]
    pub fn position(&self) -> usize {
        self.cur.pos
    }

    /// How many bytes are left.
    #[inline]
    pub fn remaining(&self) -> usize {
        self.cur.remaining()
    }

    /// Fails if bytes are left after the value.
    pub fn finish(self) -> Result<(), AvroError> {
        match self.cur.remaining() {
            0 => Ok(()),
            count => Err(AvroError::TrailingBytes {
                at: self.cur.pos,
                count,
            }),
        }
    }

    /// A `long`.
    #[inline]
    pub fn long(&mut self) -> Result<i64, AvroError> {
        self.cur.long("long")
    }

    /// An `int`.
    #[inline]
    pub fn int(&mut self) -> Result<i32, AvroError> {
        self.cur.int("int")
    }

    /// An `int` into a narrower Rust integer (`i8`, `u8`, `i16`, `u16`), range checked.
    #[inline]
    pub fn int_as<T: TryFrom<i32>>(&mut self, rust: &'static str) -> Result<T, AvroError> {
        let at = self.cur.pos;
        let v = self.int()?;
        T::try_from(v).map_err(|_| out_of_range(at, v.into(), rust))
    }

    /// A `long` into another Rust integer (`u32`), range checked.
    #[inline]
    pub fn long_as<T: TryFrom<i64>>(&mut self, rust: &'static str) -> Result<T, AvroError> {
        let at = self.cur.pos;
        let v = self.long()?;
        T::try_from(v).map_err(|_| out_of_range(at, v, rust))
    }

    /// A `boolean`.
    #[inline]
    pub fn boolean(&mut self) -> Result<bool, AvroError> {
        let at = self.cur.pos;
        match self.cur.take("boolean", 1)?[0] {
            0 => Ok(false),
            1 => Ok(true),
            byte => Err(AvroError::Boolean { at, byte }),
        }
    }

    /// A `float`.
    #[inline]
    pub fn float(&mut self) -> Result<f32, AvroError> {
        let b = self.cur.take("float", 4)?;
        Ok(f32::from_le_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A `double`.
    #[inline]
    pub fn double(&mut self) -> Result<f64, AvroError> {
        let b = self.cur.take("double", 8)?;
        let mut a = [0u8; 8];
        a.copy_from_slice(b);
        Ok(f64::from_le_bytes(a))
    }

    /// `bytes`, borrowed from the input.
    #[inline]
    pub fn bytes(&mut self) -> Result<&'a [u8], AvroError> {
        let n = self.cur.len("bytes")?;
        self.cur.take("bytes", n)
    }

    /// `bytes` as a [`Bytes`]: a slice of the shared frame when reading one
    /// ([`decode_shared`]), else a copy.
    #[inline]
    pub fn shared_bytes(&mut self) -> Result<Bytes, AvroError> {
        let v = self.bytes()?;
        Ok(match self.shared {
            Some((frame, offset)) => {
                let end = offset + self.cur.pos;
                frame.slice(end - v.len()..end)
            }
            None => Bytes::copy_from_slice(v),
        })
    }

    /// A `fixed` of `size` bytes, borrowed from the input.
    #[inline]
    pub fn fixed(&mut self, size: usize) -> Result<&'a [u8], AvroError> {
        self.cur.take("fixed", size)
    }

    /// A `string`, borrowed from the input.
    #[inline]
    pub fn str(&mut self) -> Result<&'a str, AvroError> {
        let n = self.cur.len("string")?;
        let at = self.cur.pos;
        let raw = self.cur.take("string", n)?;
        std::str::from_utf8(raw).map_err(|source| AvroError::Utf8 { at, source })
    }

    /// A union's branch index, checked against its `branches`.
    #[inline]
    pub fn branch(&mut self, branches: usize) -> Result<usize, AvroError> {
        let at = self.cur.pos;
        let index = self.cur.long("union index")?;
        match usize::try_from(index) {
            Ok(i) if i < branches => Ok(i),
            _ => Err(AvroError::UnionIndex {
                at,
                index,
                branches,
            }),
        }
    }

    /// An enum's symbol index, checked against its `symbols`.
    #[inline]
    pub fn symbol(&mut self, name: &'static str, symbols: usize) -> Result<usize, AvroError> {
        let at = self.cur.pos;
        let index = self.cur.long("enum index")?;
        match usize::try_from(index) {
            Ok(i) if i < symbols => Ok(i),
            _ => Err(AvroError::EnumIndex {
                at,
                index,
                name: name.to_owned(),
                symbols,
            }),
        }
    }

    /// An array or map block's item count (0 ends the array or map); a negative count's byte
    /// size is read and checked. The count is not trusted: callers reserve at most
    /// [`remaining`](Self::remaining) items and call [`item_read`](Self::item_read) after each.
    #[inline]
    pub fn block(&mut self) -> Result<usize, AvroError> {
        Ok(block_count(&mut self.cur)? as usize)
    }

    /// After an array or map item that started at `start`: an item that took no bytes counts
    /// towards [`MAX_ZERO_WIDTH_ITEMS`] (every other item takes a
    /// byte, so a block's count can't make the reader loop past its input).
    #[inline]
    pub fn item_read(&mut self, start: usize) -> Result<(), AvroError> {
        if self.cur.pos == start {
            self.zero_items += 1;
            if self.zero_items > MAX_ZERO_WIDTH_ITEMS {
                return Err(AvroError::TooManyItems {
                    at: start,
                    count: self.zero_items,
                    limit: MAX_ZERO_WIDTH_ITEMS,
                });
            }
        }
        Ok(())
    }

    /// Enters a record, array or map: fails past the depth every Avro walker shares.
    #[inline]
    pub fn enter(&mut self) -> Result<(), AvroError> {
        self.depth += 1;
        if self.depth > MAX_DEPTH {
            return Err(AvroError::TooDeep {
                at: self.cur.pos,
                limit: MAX_DEPTH,
            });
        }
        Ok(())
    }

    /// Leaves what [`enter`](Self::enter) entered.
    #[inline]
    pub fn leave(&mut self) {
        self.depth -= 1;
    }

    /// A value that does not fit its Rust type, at `at`.
    pub fn mismatch(&self, at: usize, message: impl Into<String>) -> AvroError {
        AvroError::Mismatch {
            at,
            message: message.into(),
        }
    }
}

fn out_of_range(at: usize, v: i64, rust: &'static str) -> AvroError {
    AvroError::Mismatch {
        at,
        message: format!("{v} is out of range for {rust}"),
    }
}

/// Decodes an array's items with `item`: blocks until the 0 count, at most the remaining bytes
/// reserved.
#[inline]
pub fn array<'a, T>(
    r: &mut Reader<'a>,
    mut item: impl FnMut(&mut Reader<'a>) -> Result<T, AvroError>,
) -> Result<Vec<T>, AvroError> {
    r.enter()?;
    let mut v = Vec::new();
    loop {
        let n = r.block()?;
        if n == 0 {
            break;
        }
        v.reserve(n.min(r.remaining()));
        for _ in 0..n {
            let start = r.position();
            v.push(item(r)?);
            r.item_read(start)?;
        }
    }
    r.leave();
    Ok(v)
}

/// Encodes an `Option` as the union `["null", T]`: branch 0, or branch 1 and the value
/// written by `some`.
#[inline]
pub fn write_option<T>(
    w: &mut Writer<'_>,
    value: &Option<T>,
    some: impl FnOnce(&T, &mut Writer<'_>) -> Result<(), AvroError>,
) -> Result<(), AvroError> {
    match value {
        None => {
            w.long(0);
            Ok(())
        }
        Some(v) => {
            w.long(1);
            some(v, w)
        }
    }
}

/// Decodes the union `["null", T]` into an `Option`, the value read by `some`.
#[inline]
pub fn option<'a, T>(
    r: &mut Reader<'a>,
    some: impl FnOnce(&mut Reader<'a>) -> Result<T, AvroError>,
) -> Result<Option<T>, AvroError> {
    match r.branch(2)? {
        0 => Ok(None),
        _ => some(r).map(Some),
    }
}

/// Encodes an array: one block of `len` items written by `items`, then the 0 count (what the
/// plan's typed encoder writes for a sequence of known length).
#[inline]
pub fn write_array<'i, T: 'i>(
    w: &mut Writer<'_>,
    items: impl ExactSizeIterator<Item = &'i T>,
    mut item: impl FnMut(&mut Writer<'_>, &'i T) -> Result<(), AvroError>,
) -> Result<(), AvroError> {
    w.enter()?;
    if items.len() > 0 {
        w.long(items.len() as i64);
        for i in items {
            item(w, i)?;
        }
    }
    w.long(0);
    w.leave();
    Ok(())
}

/// A field `#[derive(Record)]` writes as Avro `bytes` (or `fixed`, for `[u8; N]`) because of its
/// `#[serde(with = "kcodec::record::avro_bytes")]` (or `serde_bytes`): the generated code reads and
/// writes it through this trait. `&'de [u8]` and `Cow<'de, [u8]>` borrow from the input,
/// `Bytes` slices a shared frame ([`decode_shared`]).
pub trait BytesField<'de>: Sized {
    /// Writes the value.
    fn encode_bytes(&self, w: &mut Writer<'_>) -> Result<(), AvroError>;
    /// Reads a value.
    fn decode_bytes(r: &mut Reader<'de>) -> Result<Self, AvroError>;
}

macro_rules! bytes_field {
    ($($(#[$m:meta])* [$($g:tt)*] $t:ty => |$r:ident| $dec:expr;)+) => {$(
        $(#[$m])*
        impl<$($g)*> BytesField<'de> for $t {
            #[inline]
            fn encode_bytes(&self, w: &mut Writer<'_>) -> Result<(), AvroError> {
                w.bytes(self);
                Ok(())
            }

            #[inline]
            fn decode_bytes($r: &mut Reader<'de>) -> Result<Self, AvroError> {
                $dec
            }
        }
    )+};
}

bytes_field!(
    ['de] Vec<u8> => |r| r.bytes().map(<[u8]>::to_vec);
    ['de] Box<[u8]> => |r| r.bytes().map(Box::from);
    ['de] Bytes => |r| r.shared_bytes();
    ['de: 'a, 'a] &'a [u8] => |r| r.bytes();
    ['de: 'a, 'a] Cow<'a, [u8]> => |r| r.bytes().map(Cow::Borrowed);
);

/// `fixed` (size `N`).
impl<'de, const N: usize> BytesField<'de> for [u8; N] {
    #[inline]
    fn encode_bytes(&self, w: &mut Writer<'_>) -> Result<(), AvroError> {
        w.out.put_slice(self);
        Ok(())
    }

    #[inline]
    fn decode_bytes(r: &mut Reader<'de>) -> Result<Self, AvroError> {
        let mut a = [0u8; N];
        a.copy_from_slice(r.fixed(N)?);
        Ok(a)
    }
}

/// `["null", bytes]`.
impl<'de, T: BytesField<'de>> BytesField<'de> for Option<T> {
    #[inline]
    fn encode_bytes(&self, w: &mut Writer<'_>) -> Result<(), AvroError> {
        write_option(w, self, T::encode_bytes)
    }

    #[inline]
    fn decode_bytes(r: &mut Reader<'de>) -> Result<Self, AvroError> {
        option(r, T::decode_bytes)
    }
}
