//! Record batches, magic v2 (`DefaultRecordBatch`): the producer's batches decoded — CRC
//! checked, decompressed within a bound, every count checked against the bytes left before
//! anything is reserved, repeated header keys kept — and the batches a fetch returns encoded
//! (uncompressed).

use bytes::{Buf, BufMut, Bytes, BytesMut};
use kcodec_broker::{ConsumerRecord, Header, ProducerRecord};
use std::io::Read;
use std::sync::Arc;

/// Bytes of a v2 batch header, from the base offset to the record count.
const HEADER: usize = 61;
/// Offset of the attributes: the CRC covers the batch from here to its end.
const CRC_START: usize = 21;
/// The smallest record: seven one-byte fields (length, attributes, timestamp delta, offset
/// delta, key length, value length, header count).
const MIN_RECORD: usize = 7;
/// Most bytes the compressed batches of one produce request may decompress to, together: bounds
/// what a small request can make the broker allocate and keep (the broker stores records
/// decompressed, where Kafka keeps the client's compressed batch).
pub(crate) const MAX_DECOMPRESSED: usize = 64 * 1024 * 1024;

/// Why a batch was refused.
#[derive(Debug, thiserror::Error)]
pub(crate) enum RecordsError {
    #[error("record batch truncated: {0}")]
    Truncated(&'static str),
    #[error("record batch magic {0} is not supported (only v2)")]
    Magic(i8),
    #[error("record batch CRC mismatch: stored {stored:#010x}, computed {computed:#010x}")]
    Crc { stored: u32, computed: u32 },
    #[error("unknown compression codec {0}")]
    Codec(i16),
    #[error("cannot decompress the {codec} record batch")]
    Decompress {
        codec: &'static str,
        #[source]
        source: std::io::Error,
    },
    #[error(
        "record batches decompress to more than {MAX_DECOMPRESSED} bytes in one produce request"
    )]
    TooLarge,
    #[error("record batch claims {0} records, more than its bytes can hold")]
    Count(i32),
    #[error("invalid record: {0}")]
    Invalid(&'static str),
    #[error("record header key is not UTF-8")]
    HeaderKey(#[source] std::str::Utf8Error),
}

/// One decoded producer batch.
#[derive(Debug)]
pub(crate) struct Batch {
    pub(crate) producer_id: i64,
    pub(crate) producer_epoch: i16,
    pub(crate) base_sequence: i32,
    pub(crate) last_offset_delta: i32,
    pub(crate) records: Vec<ProducerRecord>,
}

impl Batch {
    /// The sequence of the batch's last record (`DefaultRecordBatch.lastSequence`: wraps past
    /// `i32::MAX` to 0).
    pub(crate) fn last_sequence(&self) -> i32 {
        let base = self.base_sequence;
        let delta = self.last_offset_delta;
        if base > i32::MAX - delta {
            delta - (i32::MAX - base) - 1
        } else {
            base + delta
        }
    }
}

/// Decodes every batch of a partition's `records` field, the records addressed to `topic`.
/// Compressed batches may decompress to at most `budget` bytes, which shrinks by what they
/// took: one budget of [`MAX_DECOMPRESSED`] serves a whole produce request.
pub(crate) fn decode(
    mut buf: Bytes,
    topic: &Arc<str>,
    budget: &mut usize,
) -> Result<Vec<Batch>, RecordsError> {
    let mut batches = Vec::new();
    while buf.has_remaining() {
        batches.push(decode_batch(&mut buf, topic, budget)?);
    }
    Ok(batches)
}

fn decode_batch(
    buf: &mut Bytes,
    topic: &Arc<str>,
    budget: &mut usize,
) -> Result<Batch, RecordsError> {
    if buf.len() < 17 {
        return Err(RecordsError::Truncated("batch header"));
    }
    let magic = buf[16] as i8;
    if magic != 2 {
        return Err(RecordsError::Magic(magic));
    }
    let length = i32::from_be_bytes([buf[8], buf[9], buf[10], buf[11]]);
    let total = usize::try_from(length)
        .ok()
        .and_then(|l| l.checked_add(12))
        .filter(|t| *t >= HEADER && *t <= buf.len())
        .ok_or(RecordsError::Truncated("batch length"))?;
    let mut batch = buf.split_to(total);
    let stored = u32::from_be_bytes([batch[17], batch[18], batch[19], batch[20]]);
    let computed = crc32c::crc32c(&batch[CRC_START..]);
    if stored != computed {
        return Err(RecordsError::Crc { stored, computed });
    }
    batch.advance(CRC_START);
    let attributes = batch.get_i16();
    let last_offset_delta = batch.get_i32();
    let base_timestamp = batch.get_i64();
    let _max_timestamp = batch.get_i64();
    let producer_id = batch.get_i64();
    let producer_epoch = batch.get_i16();
    let base_sequence = batch.get_i32();
    let count = batch.get_i32();
    let body = decompress(attributes & 0x7, batch, budget)?;
    let n = usize::try_from(count)
        .ok()
        .filter(|n| n.saturating_mul(MIN_RECORD) <= body.len())
        .ok_or(RecordsError::Count(count))?;
    if n == 0 {
        return Err(RecordsError::Invalid("a batch holds no record"));
    }
    let mut body = body;
    let mut records = Vec::with_capacity(n);
    for _ in 0..n {
        records.push(decode_record(&mut body, base_timestamp, topic)?);
    }
    if body.has_remaining() {
        return Err(RecordsError::Invalid(
            "bytes left after the batch's last record",
        ));
    }
    Ok(Batch {
        producer_id,
        producer_epoch,
        base_sequence,
        last_offset_delta,
        records,
    })
}

fn decode_record(
    buf: &mut Bytes,
    base_timestamp: i64,
    topic: &Arc<str>,
) -> Result<ProducerRecord, RecordsError> {
    let length = varint(buf)?;
    let length = usize::try_from(length)
        .ok()
        .filter(|l| *l <= buf.len())
        .ok_or(RecordsError::Truncated("record"))?;
    let mut r = buf.split_to(length);
    if !r.has_remaining() {
        return Err(RecordsError::Truncated("record attributes"));
    }
    let _attributes = r.get_i8();
    let timestamp_delta = varlong(&mut r)?;
    let _offset_delta = varint(&mut r)?;
    let key = bytes_field(&mut r)?;
    let value = bytes_field(&mut r)?;
    let headers = varint(&mut r)?;
    // a header takes at least two bytes (key length, value length)
    let headers = usize::try_from(headers)
        .ok()
        .filter(|n| n.saturating_mul(2) <= r.len())
        .ok_or(RecordsError::Invalid("header count"))?;
    let mut list = Vec::with_capacity(headers);
    for _ in 0..headers {
        let key = bytes_field(&mut r)?.ok_or(RecordsError::Invalid("null header key"))?;
        let key = std::str::from_utf8(&key).map_err(RecordsError::HeaderKey)?;
        let value = bytes_field(&mut r)?;
        list.push(Header::new(key, value));
    }
    if r.has_remaining() {
        return Err(RecordsError::Invalid("bytes left after a record's headers"));
    }
    Ok(ProducerRecord {
        topic: topic.clone(),
        partition: None,
        key,
        value,
        headers: list.into(),
        timestamp: Some(base_timestamp.wrapping_add(timestamp_delta)),
    })
}

/// A length-prefixed byte field: a varint length (-1 is null) and the bytes.
fn bytes_field(buf: &mut Bytes) -> Result<Option<Bytes>, RecordsError> {
    let len = varint(buf)?;
    if len < 0 {
        return Ok(None);
    }
    let len = len as usize;
    if len > buf.len() {
        return Err(RecordsError::Truncated("key, value or header"));
    }
    Ok(Some(buf.split_to(len)))
}

/// A zigzag varint (`ByteUtils.readVarint`), at most 5 bytes.
fn varint(buf: &mut Bytes) -> Result<i32, RecordsError> {
    let raw = unsigned(buf, 5)?;
    let raw = u32::try_from(raw).map_err(|_| RecordsError::Invalid("varint overflow"))?;
    Ok(((raw >> 1) as i32) ^ -((raw & 1) as i32))
}

/// A zigzag varlong (`ByteUtils.readVarlong`), at most 10 bytes.
fn varlong(buf: &mut Bytes) -> Result<i64, RecordsError> {
    let raw = unsigned(buf, 10)?;
    Ok(((raw >> 1) as i64) ^ -((raw & 1) as i64))
}

fn unsigned(buf: &mut Bytes, max_bytes: usize) -> Result<u64, RecordsError> {
    let mut value = 0u64;
    for i in 0..max_bytes {
        if !buf.has_remaining() {
            return Err(RecordsError::Truncated("varint"));
        }
        let b = buf.get_u8();
        value |= u64::from(b & 0x7f) << (7 * i);
        if b & 0x80 == 0 {
            return Ok(value);
        }
    }
    Err(RecordsError::Invalid("varint longer than its type"))
}

/// The records section, decompressed: at most `budget` bytes, which shrinks by what it took.
fn decompress(codec: i16, data: Bytes, budget: &mut usize) -> Result<Bytes, RecordsError> {
    if codec == 0 {
        return Ok(data);
    }
    let limit = *budget;
    let read = |codec: &'static str, reader: std::io::Result<Box<dyn Read + '_>>| {
        let error = |source| RecordsError::Decompress { codec, source };
        let mut out = Vec::new();
        reader
            .map_err(error)?
            .take(limit as u64 + 1)
            .read_to_end(&mut out)
            .map_err(error)?;
        if out.len() > limit {
            return Err(RecordsError::TooLarge);
        }
        Ok(Bytes::from(out))
    };
    let out = match codec {
        1 => read(
            "gzip",
            Ok(Box::new(flate2::read::MultiGzDecoder::new(&data[..]))),
        ),
        2 => snappy(&data, limit),
        3 => read(
            "lz4",
            lz4::Decoder::new(&data[..]).map(|d| Box::new(d) as Box<dyn Read>),
        ),
        4 => read(
            "zstd",
            zstd::stream::read::Decoder::new(&data[..]).map(|d| Box::new(d) as Box<dyn Read>),
        ),
        other => Err(RecordsError::Codec(other)),
    }?;
    *budget -= out.len();
    Ok(out)
}

/// Snappy as Kafka's Java client writes it (snappy-java's framing: a 16-byte header, then
/// blocks each prefixed by its compressed length), or a raw snappy block, as snappy-java's
/// `SnappyInputStream` falls back to.
fn snappy(data: &[u8], limit: usize) -> Result<Bytes, RecordsError> {
    const MAGIC: &[u8] = b"\x82SNAPPY\x00";
    let error = |e: snap::Error| RecordsError::Decompress {
        codec: "snappy",
        source: std::io::Error::new(std::io::ErrorKind::InvalidData, e),
    };
    let block = |block: &[u8], out: &mut Vec<u8>| -> Result<(), RecordsError> {
        let len = snap::raw::decompress_len(block).map_err(error)?;
        if out.len().saturating_add(len) > limit {
            return Err(RecordsError::TooLarge);
        }
        let start = out.len();
        out.resize(start + len, 0);
        let n = snap::raw::Decoder::new()
            .decompress(block, &mut out[start..])
            .map_err(error)?;
        out.truncate(start + n);
        Ok(())
    };
    let mut out = Vec::new();
    if !data.starts_with(MAGIC) {
        block(data, &mut out)?;
        return Ok(Bytes::from(out));
    }
    let mut rest = data
        .get(16..)
        .ok_or(RecordsError::Truncated("snappy header"))?;
    while !rest.is_empty() {
        if rest.len() < 4 {
            return Err(RecordsError::Truncated("snappy block length"));
        }
        let len = u32::from_be_bytes([rest[0], rest[1], rest[2], rest[3]]) as usize;
        let chunk = rest
            .get(4..4 + len)
            .ok_or(RecordsError::Truncated("snappy block"))?;
        block(chunk, &mut out)?;
        rest = &rest[4 + len..];
    }
    Ok(Bytes::from(out))
}

/// Appends `records` (consecutive offsets of one partition) as uncompressed v2 batches: one
/// batch, or on a `LogAppendTime` topic one per run of records appended at the same time
/// (the batch's max timestamp is then every record's timestamp).
pub(crate) fn encode(buf: &mut BytesMut, records: &[ConsumerRecord], log_append_time: bool) {
    let mut rest = records;
    while let Some(first) = rest.first() {
        let n = if log_append_time {
            rest.iter()
                .take_while(|r| timestamp(r) == timestamp(first))
                .count()
        } else {
            rest.len()
        };
        let (batch, tail) = rest.split_at(n);
        encode_batch(buf, batch, log_append_time);
        rest = tail;
    }
}

/// A record's timestamp in a batch: -1 when it has none (Java's `RecordBatch.NO_TIMESTAMP`;
/// the broker always stamps one).
fn timestamp(r: &ConsumerRecord) -> i64 {
    r.timestamp.unwrap_or(-1)
}

fn encode_batch(buf: &mut BytesMut, records: &[ConsumerRecord], log_append_time: bool) {
    let (Some(first), Some(last)) = (records.first(), records.last()) else {
        return;
    };
    let start = buf.len();
    let base_timestamp = timestamp(first);
    let max_timestamp = records
        .iter()
        .map(timestamp)
        .max()
        .unwrap_or(base_timestamp);
    buf.put_i64(first.offset);
    buf.put_i32(0); // length, set below
    buf.put_i32(0); // partition leader epoch
    buf.put_i8(2);
    buf.put_u32(0); // CRC, set below
    buf.put_i16(if log_append_time { 1 << 3 } else { 0 });
    buf.put_i32((last.offset - first.offset) as i32);
    buf.put_i64(base_timestamp);
    buf.put_i64(max_timestamp);
    buf.put_i64(-1); // producer id
    buf.put_i16(-1); // producer epoch
    buf.put_i32(-1); // base sequence
    buf.put_i32(records.len() as i32);
    let mut body = BytesMut::new();
    for r in records {
        body.clear();
        body.put_i8(0);
        put_varlong(&mut body, timestamp(r).wrapping_sub(base_timestamp));
        put_varint(&mut body, (r.offset - first.offset) as i32);
        put_bytes(&mut body, r.key.as_deref());
        put_bytes(&mut body, r.value.as_deref());
        put_varint(&mut body, r.headers.len() as i32);
        for h in r.headers.iter() {
            put_bytes(&mut body, Some(h.key.as_bytes()));
            put_bytes(&mut body, h.value.as_deref());
        }
        put_varint(buf, body.len() as i32);
        buf.put_slice(&body);
    }
    let length = (buf.len() - start - 12) as i32;
    buf[start + 8..start + 12].copy_from_slice(&length.to_be_bytes());
    let crc = crc32c::crc32c(&buf[start + CRC_START..]);
    buf[start + 17..start + 21].copy_from_slice(&crc.to_be_bytes());
}

fn put_bytes(buf: &mut BytesMut, b: Option<&[u8]>) {
    match b {
        Some(b) => {
            put_varint(buf, b.len() as i32);
            buf.put_slice(b);
        }
        None => put_varint(buf, -1),
    }
}

fn put_varint(buf: &mut BytesMut, v: i32) {
    put_unsigned(buf, ((v << 1) ^ (v >> 31)) as u32 as u64);
}

fn put_varlong(buf: &mut BytesMut, v: i64) {
    put_unsigned(buf, ((v << 1) ^ (v >> 63)) as u64);
}

fn put_unsigned(buf: &mut BytesMut, mut v: u64) {
    while v >= 0x80 {
        buf.put_u8((v as u8) | 0x80);
        v >>= 7;
    }
    buf.put_u8(v as u8);
}

/// The encoded size of one partition's records (what a fetch counts against `max_bytes`).
pub(crate) fn estimated_size(r: &ConsumerRecord) -> usize {
    let headers: usize = r
        .headers
        .iter()
        .map(|h| h.key.len() + h.value.as_ref().map_or(0, Bytes::len) + 4)
        .sum();
    12 + r.key.as_ref().map_or(0, Bytes::len) + r.value.as_ref().map_or(0, Bytes::len) + headers
}

#[cfg(test)]
mod tests {
    use super::*;
    use kcodec_broker::{Headers, TimestampType};
    use std::io::Write;

    fn consumer_record(
        offset: i64,
        timestamp: i64,
        key: Option<&str>,
        value: Option<&str>,
    ) -> ConsumerRecord {
        ConsumerRecord {
            topic: Arc::from("t"),
            partition: 0,
            offset,
            timestamp: Some(timestamp),
            timestamp_type: Some(TimestampType::CreateTime),
            key: key.map(|k| Bytes::copy_from_slice(k.as_bytes())),
            value: value.map(|v| Bytes::copy_from_slice(v.as_bytes())),
            headers: Headers::default(),
        }
    }

    /// A decoded record's key, value and timestamp.
    type KeyValueTime<'a> = (Option<&'a [u8]>, Option<&'a [u8]>, Option<i64>);

    /// One encoded batch: 3 records with a null key, a null value, a timestamp before the
    /// base (a negative delta).
    fn batch() -> BytesMut {
        let records = [
            consumer_record(10, 1_000, Some("a"), Some("one")),
            consumer_record(11, 900, None, Some("two")),
            consumer_record(12, 1_500, Some("c"), None),
        ];
        let mut buf = BytesMut::new();
        encode(&mut buf, &records, false);
        buf
    }

    #[test]
    fn an_encoded_batch_decodes_to_the_same_records() {
        let topic: Arc<str> = Arc::from("t");
        let batches = decode(batch().freeze(), &topic, &mut budget()).unwrap();
        assert_eq!(batches.len(), 1);
        let b = &batches[0];
        assert_eq!(
            (
                b.producer_id,
                b.producer_epoch,
                b.base_sequence,
                b.last_offset_delta
            ),
            (-1, -1, -1, 2)
        );
        let got: Vec<KeyValueTime> = b
            .records
            .iter()
            .map(|r| (r.key.as_deref(), r.value.as_deref(), r.timestamp))
            .collect();
        assert_eq!(
            got,
            vec![
                (Some(&b"a"[..]), Some(&b"one"[..]), Some(1_000)),
                (None, Some(&b"two"[..]), Some(900)),
                (Some(&b"c"[..]), None, Some(1_500)),
            ]
        );
    }

    /// The records section compressed by each codec Kafka has (attributes bits 0–2: gzip 1,
    /// snappy 2 — raw and in snappy-java's framing —, lz4 3, zstd 4) decodes to the same
    /// records.
    #[test]
    fn every_compression_codec_decodes() {
        let plain = batch();
        let section = &plain[HEADER..];
        let gzip = {
            let mut e = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::default());
            e.write_all(section).unwrap();
            e.finish().unwrap()
        };
        let raw_snappy = snap::raw::Encoder::new().compress_vec(section).unwrap();
        let framed_snappy = {
            let mut v = b"\x82SNAPPY\x00\x00\x00\x00\x01\x00\x00\x00\x01".to_vec();
            v.extend_from_slice(&(raw_snappy.len() as u32).to_be_bytes());
            v.extend_from_slice(&raw_snappy);
            v
        };
        let lz4 = {
            let mut e = lz4::EncoderBuilder::new().build(Vec::new()).unwrap();
            e.write_all(section).unwrap();
            let (v, r) = e.finish();
            r.unwrap();
            v
        };
        let zstd = zstd::encode_all(section, 3).unwrap();
        let topic: Arc<str> = Arc::from("t");
        for (codec, body) in [
            (1, gzip),
            (2, raw_snappy),
            (2, framed_snappy),
            (3, lz4),
            (4, zstd),
        ] {
            let mut b = BytesMut::from(&plain[..HEADER]);
            b.extend_from_slice(&body);
            let length = (b.len() - 12) as i32;
            b[8..12].copy_from_slice(&length.to_be_bytes());
            b[21..23].copy_from_slice(&(codec as i16).to_be_bytes());
            let crc = crc32c::crc32c(&b[CRC_START..]);
            b[17..21].copy_from_slice(&crc.to_be_bytes());
            let batches = decode(b.freeze(), &topic, &mut budget())
                .unwrap_or_else(|e| panic!("codec {codec}: {e}"));
            let values: Vec<Option<&[u8]>> = batches[0]
                .records
                .iter()
                .map(|r| r.value.as_deref())
                .collect();
            assert_eq!(
                values,
                vec![Some(&b"one"[..]), Some(&b"two"[..]), None],
                "codec {codec}"
            );
        }
    }

    /// Bad batches are refused with a named error and never allocate from their claims: a
    /// record count of `i32::MAX` in a few bytes, a CRC that does not match, an old magic, a
    /// truncated batch, a zstd bomb beyond the decompression bound.
    #[test]
    fn bad_batches_are_refused_without_allocating_from_their_claims() {
        let topic: Arc<str> = Arc::from("t");
        let fix_crc = |b: &mut BytesMut| {
            let crc = crc32c::crc32c(&b[CRC_START..]);
            b[17..21].copy_from_slice(&crc.to_be_bytes());
        };
        let mut huge_count = batch();
        huge_count[57..61].copy_from_slice(&i32::MAX.to_be_bytes());
        fix_crc(&mut huge_count);
        assert!(matches!(
            decode(huge_count.freeze(), &topic, &mut budget()),
            Err(RecordsError::Count(i32::MAX))
        ));

        let mut bad_crc = batch();
        bad_crc[30] ^= 1;
        assert!(matches!(
            decode(bad_crc.freeze(), &topic, &mut budget()),
            Err(RecordsError::Crc { .. })
        ));

        let mut old = batch();
        old[16] = 1;
        assert!(matches!(
            decode(old.freeze(), &topic, &mut budget()),
            Err(RecordsError::Magic(1))
        ));

        let cut = batch().freeze().slice(..40);
        assert!(matches!(
            decode(cut, &topic, &mut budget()),
            Err(RecordsError::Truncated(_))
        ));

        let bomb = zstd::encode_all(&vec![0u8; MAX_DECOMPRESSED + 1][..], 3).unwrap();
        let mut b = BytesMut::from(&batch()[..HEADER]);
        b.extend_from_slice(&bomb);
        let length = (b.len() - 12) as i32;
        b[8..12].copy_from_slice(&length.to_be_bytes());
        b[21..23].copy_from_slice(&4i16.to_be_bytes());
        fix_crc(&mut b);
        assert!(matches!(
            decode(b.freeze(), &topic, &mut budget()),
            Err(RecordsError::TooLarge)
        ));
    }

    /// A fresh produce request's decompression budget.
    fn budget() -> usize {
        MAX_DECOMPRESSED
    }

    /// The batches of one request share one budget: two that each decompress within the
    /// bound may not together exceed it (the broker stores them decompressed).
    #[test]
    fn one_request_decompresses_to_at_most_the_budget() {
        let forty_mib = zstd::encode_all(&vec![0u8; 40 << 20][..], 3).unwrap();
        let mut budget = budget();
        let first = decompress(4, Bytes::from(forty_mib.clone()), &mut budget).unwrap();
        assert_eq!(first.len(), 40 << 20);
        assert_eq!(budget, MAX_DECOMPRESSED - (40 << 20));
        assert!(matches!(
            decompress(4, Bytes::from(forty_mib), &mut budget),
            Err(RecordsError::TooLarge)
        ));
        // uncompressed records take nothing from it: the request's size bounds them
        let mut budget = 0;
        assert_eq!(
            decompress(0, Bytes::from_static(b"abc"), &mut budget).unwrap(),
            &b"abc"[..]
        );
    }

    /// `DefaultRecordBatch.incrementSequence`: sequences wrap past `i32::MAX` to 0.
    #[test]
    fn the_last_sequence_wraps_like_kafkas() {
        let b = |base, delta| Batch {
            producer_id: 1,
            producer_epoch: 0,
            base_sequence: base,
            last_offset_delta: delta,
            records: Vec::new(),
        };
        assert_eq!(b(5, 3).last_sequence(), 8);
        assert_eq!(b(i32::MAX - 1, 1).last_sequence(), i32::MAX);
        assert_eq!(b(i32::MAX - 1, 2).last_sequence(), 0);
        assert_eq!(b(i32::MAX, 3).last_sequence(), 2);
    }
}
