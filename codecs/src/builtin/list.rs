//! Java's `ListSerializer` / `ListDeserializer` layouts.

use super::ListLayout;
use crate::{
    DeserializeContext, Deserializer, Error, ResolveFuture, SerializeContext, Serialized,
    Serializer, Unresolved,
};
use bytes::{BufMut, Bytes, BytesMut};
use std::num::NonZeroUsize;
use std::ops::Range;

/// Java's `Serdes.ListSerde.NULL_ENTRY_VALUE`: the length written for a null entry in the
/// variable-size layout.
const NULL_ENTRY: i32 = -1;

/// Which of Java's two list layouts to write (the first byte of every encoded list).
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum ListStrategy {
    /// Byte `0x00`: a null-index list (count, then each index), the size, then each non-null
    /// entry's bytes with no length; every entry has this many bytes.
    ConstantSize(NonZeroUsize),
    /// Byte `0x01`: the size, then each entry as a 4-byte length (−1 for null) and its bytes.
    VariableSize,
}

/// Why a Java list layout could not be read or written.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ListError {
    /// The data ends before a field that should be there.
    #[error(
        "list data truncated at byte {at}: needed {needed} bytes for the {what}, {available} left"
    )]
    Truncated {
        /// What was being read.
        what: &'static str,
        /// Its offset.
        at: usize,
        /// Its size.
        needed: usize,
        /// How many bytes were left.
        available: usize,
    },
    /// The first byte is not a known layout.
    #[error(
        "unknown list serialization strategy byte 0x{0:02x} (expected 0x00 constant size or 0x01 variable size)"
    )]
    UnknownStrategy(u8),
    /// The data uses the constant-size layout but this serde has no fixed element size.
    #[error("list uses the constant-size layout but the element serde has no fixed size")]
    NoFixedSize,
    /// A count or size is negative, or larger than the remaining bytes could hold.
    #[error("list {what} {value} at byte {at} is impossible with {remaining} bytes left")]
    BadCount {
        /// `size` or `null index count`.
        what: &'static str,
        /// The value read.
        value: i32,
        /// Where it was read.
        at: usize,
        /// The bytes left after it.
        remaining: usize,
    },
    /// An entry's length is negative (and not −1, the null marker).
    #[error("list entry {index} has invalid length {length}")]
    BadLength {
        /// The entry's position.
        index: usize,
        /// The length read.
        length: i32,
    },
    /// A null index points outside the list.
    #[error("list null index {index} is out of range for a list of {size} entries")]
    NullIndexOutOfRange {
        /// The index read.
        index: i32,
        /// The list size.
        size: usize,
    },
    /// Bytes are left after the last entry.
    #[error("{0} unexpected trailing bytes after the list")]
    TrailingBytes(usize),
    /// With the constant-size layout, an entry's encoding did not have the fixed size.
    #[error(
        "list entry {index} encoded to {actual} bytes, the constant-size layout needs {expected}"
    )]
    EntrySize {
        /// The entry's position.
        index: usize,
        /// The fixed size.
        expected: usize,
        /// What the element serde wrote.
        actual: usize,
    },
    /// The element serde failed on one entry (its error is the source).
    #[error("list entry {index} failed")]
    Entry {
        /// The entry's position.
        index: usize,
        /// What the element serde said.
        #[source]
        source: Box<Error>,
    },
}

/// Lists as Java's `ListSerializer`/`ListDeserializer`, with an element serde for the entries.
///
/// A null entry is an element whose serde writes null: use `Vec<Option<T>>` for lists with nulls.
/// Deserializing reads the layout from the data's first byte, as Java does.
///
/// ```
/// use kcodec_codecs::{builtin::{I32Serde, ListSerde}, testing};
///
/// // Java: List<Integer> [1, null, 3] with Serdes.ListSerde(ArrayList.class, Serdes.Integer())
/// let list = ListSerde::new(I32Serde);
/// let bytes = testing::encode(&list, &vec![Some(1), None, Some(3)]).unwrap().unwrap();
/// assert_eq!(bytes[..], [0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 3, 0, 0, 0, 1, 0, 0, 0, 3]);
/// let back: Vec<Option<i32>> = testing::decode(&list, Some(&bytes)).unwrap();
/// assert_eq!(back, [Some(1), None, Some(3)]);
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct ListSerde<S> {
    inner: S,
    strategy: ListStrategy,
}

impl<S: ListLayout> ListSerde<S> {
    /// A list serde with the layout Java picks for this element serde.
    pub fn new(inner: S) -> Self {
        let strategy = match S::FIXED_SIZE.and_then(NonZeroUsize::new) {
            Some(size) => ListStrategy::ConstantSize(size),
            None => ListStrategy::VariableSize,
        };
        ListSerde { inner, strategy }
    }
}

impl<S> ListSerde<S> {
    /// A list serde writing the variable-size layout, for any element serde.
    pub fn variable(inner: S) -> Self {
        ListSerde {
            inner,
            strategy: ListStrategy::VariableSize,
        }
    }

    /// A list serde with an explicit layout.
    pub fn with_strategy(inner: S, strategy: ListStrategy) -> Self {
        ListSerde { inner, strategy }
    }

    /// The layout it writes.
    pub fn strategy(&self) -> ListStrategy {
        self.strategy
    }

    fn write<T>(
        &self,
        items: &[T],
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error>
    where
        S: Serializer<T>,
    {
        let start = out.len();
        let size = i32::try_from(items.len()).map_err(|_| ListError::BadCount {
            what: "size",
            value: i32::MAX,
            at: 0,
            remaining: 0,
        })?;
        match self.strategy {
            ListStrategy::VariableSize => {
                out.put_u8(1);
                out.put_i32(size);
                for (index, item) in items.iter().enumerate() {
                    let len_at = out.len();
                    out.put_i32(0);
                    let written = self
                        .inner
                        .serialize(item, ctx, out)
                        .map_err(|e| entry(index, e))?;
                    let len = match written {
                        Serialized::Null => {
                            out.truncate(len_at + 4);
                            NULL_ENTRY
                        }
                        Serialized::Data => {
                            let n = out.len() - len_at - 4;
                            i32::try_from(n).map_err(|_| ListError::BadLength {
                                index,
                                length: i32::MAX,
                            })?
                        }
                    };
                    out[len_at..len_at + 4].copy_from_slice(&len.to_be_bytes());
                }
            }
            ListStrategy::ConstantSize(fixed) => {
                // Java writes the null-index list before the entries, but which entries are null is
                // known only once they are serialized: write the entries, then slide them right
                // and put the header in front.
                let mut nulls: Vec<i32> = Vec::new();
                for (index, item) in items.iter().enumerate() {
                    let before = out.len();
                    match self
                        .inner
                        .serialize(item, ctx, out)
                        .map_err(|e| entry(index, e))?
                    {
                        Serialized::Null => {
                            out.truncate(before);
                            nulls.push(index as i32);
                        }
                        Serialized::Data if out.len() - before != fixed.get() => {
                            return Err(ListError::EntrySize {
                                index,
                                expected: fixed.get(),
                                actual: out.len() - before,
                            }
                            .into());
                        }
                        Serialized::Data => {}
                    }
                }
                let body = out.len() - start;
                let header = 1 + 4 + 4 * nulls.len() + 4;
                out.resize(out.len() + header, 0);
                out.copy_within(start..start + body, start + header);
                let mut head = &mut out[start..start + header];
                head.put_u8(0);
                head.put_i32(nulls.len() as i32);
                for index in nulls {
                    head.put_i32(index);
                }
                head.put_i32(size);
            }
        }
        Ok(Serialized::Data)
    }

    /// Parses the layout and calls `entry(index, range)` for every entry (`None` for null).
    fn parse(
        &self,
        data: &[u8],
        mut on_entry: impl FnMut(usize, Option<Range<usize>>) -> Result<(), Error>,
    ) -> Result<usize, Error> {
        let mut r = Reader { data, pos: 0 };
        let flag = r.take(1, "strategy byte")?[0];
        let size;
        match flag {
            0 => {
                let fixed = match self.strategy {
                    ListStrategy::ConstantSize(n) => n.get(),
                    ListStrategy::VariableSize => return Err(ListError::NoFixedSize.into()),
                };
                let null_count = r.count("null index count", 4)?;
                let mut nulls = Vec::with_capacity(null_count);
                for _ in 0..null_count {
                    nulls.push(r.i32("null index")?);
                }
                let at = r.pos;
                let raw = r.i32("size")?;
                let remaining = r.remaining();
                // Null entries take no bytes here, so the size is bounded by nulls + data / fixed.
                if raw < 0 || raw as usize > null_count + remaining / fixed {
                    return Err(bad("size", raw, at, remaining));
                }
                size = raw as usize;
                nulls.sort_unstable();
                nulls.dedup();
                if let Some(&bad_index) = nulls.iter().find(|&&i| i < 0 || i as usize >= size) {
                    return Err(ListError::NullIndexOutOfRange {
                        index: bad_index,
                        size,
                    }
                    .into());
                }
                for index in 0..size {
                    if nulls.binary_search(&(index as i32)).is_ok() {
                        on_entry(index, None)?;
                    } else {
                        let start = r.pos;
                        r.take(fixed, "entry")?;
                        on_entry(index, Some(start..r.pos))?;
                    }
                }
            }
            1 => {
                size = r.count("size", 4)?;
                for index in 0..size {
                    let length = r.i32("entry length")?;
                    if length == NULL_ENTRY {
                        on_entry(index, None)?;
                    } else if length < 0 {
                        return Err(ListError::BadLength { index, length }.into());
                    } else {
                        let start = r.pos;
                        r.take(length as usize, "entry")?;
                        on_entry(index, Some(start..r.pos))?;
                    }
                }
            }
            other => return Err(ListError::UnknownStrategy(other).into()),
        }
        if r.remaining() > 0 {
            return Err(ListError::TrailingBytes(r.remaining()).into());
        }
        Ok(size)
    }
}

/// An entry's error, with its index; [`Error::Unresolved`] passes through as it is, so the
/// async layer resolves it through the list's `resolve` (which forwards to the entries' codec).
fn entry(index: usize, source: Error) -> Error {
    if let Error::Unresolved(_) = source {
        return source;
    }
    ListError::Entry {
        index,
        source: Box::new(source),
    }
    .into()
}

fn bad(what: &'static str, value: i32, at: usize, remaining: usize) -> Error {
    ListError::BadCount {
        what,
        value,
        at,
        remaining,
    }
    .into()
}

struct Reader<'a> {
    data: &'a [u8],
    pos: usize,
}

impl<'a> Reader<'a> {
    fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    fn take(&mut self, n: usize, what: &'static str) -> Result<&'a [u8], Error> {
        if self.remaining() < n {
            return Err(ListError::Truncated {
                what,
                at: self.pos,
                needed: n,
                available: self.remaining(),
            }
            .into());
        }
        let s = &self.data[self.pos..self.pos + n];
        self.pos += n;
        Ok(s)
    }

    fn i32(&mut self, what: &'static str) -> Result<i32, Error> {
        let b = self.take(4, what)?;
        Ok(i32::from_be_bytes([b[0], b[1], b[2], b[3]]))
    }

    /// A count of items that each take at least `min_bytes`: refused if negative or larger than
    /// the rest of the data could hold, so nothing is allocated from an untrusted count.
    fn count(&mut self, what: &'static str, min_bytes: usize) -> Result<usize, Error> {
        let at = self.pos;
        let value = self.i32(what)?;
        let remaining = self.remaining();
        if value < 0 || (value as usize).saturating_mul(min_bytes) > remaining {
            return Err(bad(what, value, at, remaining));
        }
        Ok(value as usize)
    }
}

impl<T, S: Serializer<T>> Serializer<[T]> for ListSerde<S> {
    fn serialize(
        &self,
        value: &[T],
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        self.write(value, ctx, out)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        self.inner.resolve(need)
    }
}

impl<T, S: Serializer<T>> Serializer<Vec<T>> for ListSerde<S> {
    fn serialize(
        &self,
        value: &Vec<T>,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        self.write(value, ctx, out)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        self.inner.resolve(need)
    }
}

impl<T, S: Serializer<T>> Serializer<Option<Vec<T>>> for ListSerde<S> {
    fn serialize(
        &self,
        value: &Option<Vec<T>>,
        ctx: &mut SerializeContext<'_>,
        out: &mut BytesMut,
    ) -> Result<Serialized, Error> {
        match value {
            Some(items) => self.write(items, ctx, out),
            None => Ok(Serialized::Null),
        }
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        self.inner.resolve(need)
    }
}

impl<T, S: Deserializer<T>> Deserializer<Vec<T>> for ListSerde<S> {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Vec<T>, Error> {
        let data = data.ok_or(Error::UnexpectedNull {
            deserializer: "list",
            target: ctx.target(),
        })?;
        let mut items = Vec::new();
        self.parse(data, |index, range| {
            let item = self
                .inner
                .deserialize(range.map(|r| &data[r]), ctx)
                .map_err(|e| entry(index, e))?;
            items.push(item);
            Ok(())
        })?;
        Ok(items)
    }

    fn deserialize_bytes(
        &self,
        data: Option<&Bytes>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Vec<T>, Error> {
        let data = data.ok_or(Error::UnexpectedNull {
            deserializer: "list",
            target: ctx.target(),
        })?;
        let mut items = Vec::new();
        self.parse(data, |index, range| {
            let slice = range.map(|r| data.slice(r));
            let item = self
                .inner
                .deserialize_bytes(slice.as_ref(), ctx)
                .map_err(|e| entry(index, e))?;
            items.push(item);
            Ok(())
        })?;
        Ok(items)
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        self.inner.resolve(need)
    }
}

impl<T, S: Deserializer<T>> Deserializer<Option<Vec<T>>> for ListSerde<S> {
    fn deserialize(
        &self,
        data: Option<&[u8]>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Option<Vec<T>>, Error> {
        data.map(|d| <Self as Deserializer<Vec<T>>>::deserialize(self, Some(d), ctx))
            .transpose()
    }

    fn deserialize_bytes(
        &self,
        data: Option<&Bytes>,
        ctx: &DeserializeContext<'_>,
    ) -> Result<Option<Vec<T>>, Error> {
        data.map(|d| <Self as Deserializer<Vec<T>>>::deserialize_bytes(self, Some(d), ctx))
            .transpose()
    }

    fn resolve<'a>(&'a self, need: &'a Unresolved) -> ResolveFuture<'a> {
        self.inner.resolve(need)
    }
}

impl<S> ListLayout for ListSerde<S> {
    const FIXED_SIZE: Option<usize> = None;
}
