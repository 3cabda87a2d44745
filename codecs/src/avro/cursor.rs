//! Avro's binary primitives read from a byte slice with every bound checked: what the direct
//! decoder (`direct`) and the validator (`validate`) both read records with.

use super::AvroError;

/// A position in Avro bytes.
pub(crate) struct Cursor<'d> {
    pub(crate) data: &'d [u8],
    pub(crate) pos: usize,
}

impl<'d> Cursor<'d> {
    /// A cursor at the start of `data`.
    pub(crate) fn new(data: &'d [u8]) -> Self {
        Cursor { data, pos: 0 }
    }

    #[inline]
    pub(crate) fn remaining(&self) -> usize {
        self.data.len() - self.pos
    }

    #[cold]
    fn truncated(&self, what: &'static str, needed: usize) -> AvroError {
        AvroError::Truncated {
            what,
            at: self.pos,
            needed,
            available: self.remaining(),
        }
    }

    #[inline]
    pub(crate) fn take(&mut self, what: &'static str, n: usize) -> Result<&'d [u8], AvroError> {
        if self.remaining() < n {
            return Err(self.truncated(what, n));
        }
        let data: &'d [u8] = self.data;
        let slice = &data[self.pos..self.pos + n];
        self.pos += n;
        Ok(slice)
    }

    #[inline]
    pub(crate) fn long(&mut self, what: &'static str) -> Result<i64, AvroError> {
        // Fast path, inlined: one byte.
        if let Some(&b) = self.data.get(self.pos)
            && b & 0x80 == 0
        {
            self.pos += 1;
            let v = u64::from(b);
            return Ok(((v >> 1) as i64) ^ -((v & 1) as i64));
        }
        self.long_slow(what)
    }

    /// A varint of more than one byte (or none left).
    #[inline(never)]
    fn long_slow(&mut self, what: &'static str) -> Result<i64, AvroError> {
        let start = self.pos;
        let mut value: u64 = 0;
        for i in 0..10 {
            let Some(&byte) = self.data.get(start + i) else {
                return Err(AvroError::Truncated {
                    what,
                    at: start,
                    needed: i + 1,
                    available: i,
                });
            };
            if i == 9 && byte > 0x01 {
                return Err(AvroError::Varint {
                    what: "long",
                    at: start,
                });
            }
            value |= u64::from(byte & 0x7f) << (7 * i);
            if byte & 0x80 == 0 {
                self.pos = start + i + 1;
                return Ok(((value >> 1) as i64) ^ -((value & 1) as i64));
            }
        }
        Err(AvroError::Varint {
            what: "long",
            at: start,
        })
    }

    #[inline]
    pub(crate) fn int(&mut self, what: &'static str) -> Result<i32, AvroError> {
        let start = self.pos;
        let v = self.long(what)?;
        i32::try_from(v).map_err(|_| AvroError::Varint {
            what: "int",
            at: start,
        })
    }

    #[inline]
    pub(crate) fn len(&mut self, what: &'static str) -> Result<usize, AvroError> {
        let at = self.pos;
        let length = self.long(what)?;
        if length < 0 || length as u64 > self.remaining() as u64 {
            return Err(self.bad_length(what, at, length));
        }
        Ok(length as usize)
    }

    #[cold]
    fn bad_length(&self, what: &'static str, at: usize, length: i64) -> AvroError {
        if length < 0 {
            return AvroError::NegativeLength { what, at, length };
        }
        AvroError::LengthTooLarge {
            what,
            at,
            length,
            remaining: self.remaining(),
        }
    }
}
