//! Kafka's partitioning: `murmur2` for keys, and the three keyless strategies.
//!
//! * Keyed records: `toPositive(murmur2(key)) % numPartitions`, exactly as Kafka's
//!   `BuiltInPartitioner.partitionForKey` (and the Java client's `DefaultPartitioner` before it).
//!   An empty key is a key; only a null key is "keyless".
//! * Keyless records, by [`PartitionerKind`]:
//!   - [`PartitionerKind::UniformSticky`] (default; KIP-794, Kafka 3.3+): stick to one partition
//!     until `batch.size` bytes were produced to it, then pick uniformly at random among all
//!     partitions (possibly the same one again).
//!   - [`PartitionerKind::Sticky`] (KIP-480, Kafka 2.4–3.2): stick to one partition and switch
//!     when a new batch starts, i.e. when the next record no longer fits in `batch.size`.
//!   - [`PartitionerKind::RoundRobin`] (before 2.4, and `RoundRobinPartitioner`): one record per
//!     partition in turn.
//!
//! Record sizes are estimated as Kafka's record format v2 (`DefaultRecord.sizeInBytes`) would
//! encode them with zero timestamp/offset deltas; see [`estimated_record_size`].

use crate::record::Header;

/// Kafka's `Utils.murmur2` (32-bit MurmurHash2, seed `0x9747b28c`), as a signed Java `int`.
///
/// ```
/// use kcodec_broker::partitioner::murmur2;
/// assert_eq!(murmur2(b"21"), -973932308);
/// assert_eq!(murmur2(b"abc"), 479470107);
/// ```
pub fn murmur2(data: &[u8]) -> i32 {
    const SEED: u32 = 0x9747_b28c;
    const M: u32 = 0x5bd1_e995;
    const R: u32 = 24;
    let length = data.len();
    let mut h: u32 = SEED ^ (length as u32);
    let mut chunks = data.chunks_exact(4);
    for c in &mut chunks {
        let mut k = u32::from_le_bytes([c[0], c[1], c[2], c[3]]);
        k = k.wrapping_mul(M);
        k ^= k >> R;
        k = k.wrapping_mul(M);
        h = h.wrapping_mul(M);
        h ^= k;
    }
    let rest = chunks.remainder();
    if rest.len() >= 3 {
        h ^= (rest[2] as u32) << 16;
    }
    if rest.len() >= 2 {
        h ^= (rest[1] as u32) << 8;
    }
    if !rest.is_empty() {
        h ^= rest[0] as u32;
        h = h.wrapping_mul(M);
    }
    h ^= h >> 13;
    h = h.wrapping_mul(M);
    h ^= h >> 15;
    h as i32
}

/// Kafka's `Utils.toPositive`: clears the sign bit (not `abs`, which overflows on `i32::MIN`).
pub fn to_positive(n: i32) -> i32 {
    n & 0x7fff_ffff
}

/// The partition Kafka picks for a non-null key: `toPositive(murmur2(key)) % num_partitions`.
///
/// `num_partitions` must be positive; a non-positive count yields partition 0.
///
/// ```
/// use kcodec_broker::partitioner::partition_for_key;
/// let p: Vec<i32> = (0..10).map(|k| partition_for_key(k.to_string().as_bytes(), 3)).collect();
/// assert_eq!(p, [2, 0, 2, 2, 1, 0, 1, 0, 0, 2]);
/// ```
#[inline]
pub fn partition_for_key(key: &[u8], num_partitions: i32) -> i32 {
    match num_partitions {
        // every key of a one-partition topic lands on 0: no need to read it
        ..=1 => 0,
        // a power of two: the remainder of a non-negative number is its low bits
        n if n & (n - 1) == 0 => to_positive(murmur2(key)) & (n - 1),
        n => to_positive(murmur2(key)) % n,
    }
}

/// Which strategy places keyless records (`partitioner.class` / the client version).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default)]
pub enum PartitionerKind {
    /// KIP-794 uniform sticky partitioner (Kafka ≥ 3.3 default): switch after `batch.size` bytes.
    #[default]
    UniformSticky,
    /// KIP-480 sticky partitioner (Kafka 2.4–3.2 default): switch when a new batch starts.
    Sticky,
    /// Round-robin over partitions (Kafka < 2.4 keyless behaviour, `RoundRobinPartitioner`).
    RoundRobin,
}

/// Kafka's default `batch.size` (bytes).
pub const DEFAULT_BATCH_SIZE: usize = 16_384;

fn varint_len(v: i64) -> usize {
    // zig-zag, then 7 bits per byte
    let mut z = ((v << 1) ^ (v >> 63)) as u64;
    let mut n = 1;
    while z >= 0x80 {
        z >>= 7;
        n += 1;
    }
    n
}

/// Size of a record in Kafka's v2 record format (`DefaultRecord.sizeInBytes` plus its length
/// prefix), with zero timestamp and offset deltas. The sticky partitioners count these bytes
/// against `batch.size`.
pub fn estimated_record_size(
    key: Option<&[u8]>,
    value: Option<&[u8]>,
    headers: &[Header],
) -> usize {
    let mut body = 1 + 1 + 1; // attributes, timestamp delta 0, offset delta 0
    body += match key {
        Some(k) => varint_len(k.len() as i64) + k.len(),
        None => 1,
    };
    body += match value {
        Some(v) => varint_len(v.len() as i64) + v.len(),
        None => 1,
    };
    body += varint_len(headers.len() as i64);
    for h in headers {
        body += varint_len(h.key.len() as i64) + h.key.len();
        body += match &h.value {
            Some(v) => varint_len(v.len() as i64) + v.len(),
            None => 1,
        };
    }
    body + varint_len(body as i64)
}

/// A small deterministic PRNG (SplitMix64) for partition switching; Kafka uses
/// `ThreadLocalRandom`, so any uniform source is faithful.
#[derive(Debug, Clone)]
pub(crate) struct SplitMix(u64);

impl SplitMix {
    pub(crate) fn new(seed: u64) -> Self {
        SplitMix(seed)
    }
    pub(crate) fn next_u64(&mut self) -> u64 {
        self.0 = self.0.wrapping_add(0x9e37_79b9_7f4a_7c15);
        let mut z = self.0;
        z = (z ^ (z >> 30)).wrapping_mul(0xbf58_476d_1ce4_e5b9);
        z = (z ^ (z >> 27)).wrapping_mul(0x94d0_49bb_1331_11eb);
        z ^ (z >> 31)
    }
    pub(crate) fn below(&mut self, n: u32) -> u32 {
        (((self.next_u64() >> 32) * n as u64) >> 32) as u32
    }
}

/// Per-topic state of a keyless partitioner, as a Kafka producer keeps it.
///
/// Call [`KeylessPartitioner::partition`] with the record's size (see
/// [`estimated_record_size`]); it returns the partition and accounts for the bytes.
///
/// ```
/// use kcodec_broker::partitioner::{KeylessPartitioner, PartitionerKind};
/// let mut p = KeylessPartitioner::new(PartitionerKind::UniformSticky, 1000, 42);
/// let first = p.partition(4, 100);
/// // the first 10 records (1000 bytes) stick to one partition; then a new pick among all 4
/// for _ in 0..9 { assert_eq!(p.partition(4, 100), first); }
/// assert!((0..4).contains(&p.partition(4, 100)));
/// ```
#[derive(Debug, Clone)]
pub struct KeylessPartitioner {
    kind: PartitionerKind,
    batch_size: usize,
    current: Option<i32>,
    bytes: usize,
    counter: u32,
    rng: SplitMix,
}

impl KeylessPartitioner {
    /// A partitioner of `kind` with `batch_size` bytes, its random choices seeded with `seed`.
    pub fn new(kind: PartitionerKind, batch_size: usize, seed: u64) -> Self {
        KeylessPartitioner {
            kind,
            batch_size: batch_size.max(1),
            current: None,
            bytes: 0,
            counter: 0,
            rng: SplitMix::new(seed),
        }
    }

    /// The strategy.
    pub fn kind(&self) -> PartitionerKind {
        self.kind
    }

    /// The sticky partition currently in use, if any.
    pub fn current(&self) -> Option<i32> {
        self.current
    }

    /// Picks the next sticky partition. KIP-480's `StickyPartitionCache.nextPartition` picks a
    /// different one when there is more than one (`exclude_current`); KIP-794's
    /// `BuiltInPartitioner.nextPartition` picks uniformly among all, the current one included.
    fn switch(&mut self, num_partitions: i32, exclude_current: bool) -> i32 {
        let n = num_partitions as u32;
        let next = match self.current {
            Some(cur) if exclude_current && n > 1 && (cur as u32) < n => {
                let r = self.rng.below(n - 1) as i32;
                if r >= cur { r + 1 } else { r }
            }
            _ => self.rng.below(n) as i32,
        };
        self.current = Some(next);
        self.bytes = 0;
        next
    }

    /// Chooses the partition for a keyless record of `record_size` bytes among
    /// `num_partitions` (> 0) partitions.
    pub fn partition(&mut self, num_partitions: i32, record_size: usize) -> i32 {
        let num_partitions = num_partitions.max(1);
        match self.kind {
            PartitionerKind::RoundRobin => {
                let p = (self.counter % num_partitions as u32) as i32;
                self.counter = self.counter.wrapping_add(1);
                p
            }
            PartitionerKind::UniformSticky => {
                let p = match self.current {
                    Some(p) if p < num_partitions => p,
                    _ => self.switch(num_partitions, false),
                };
                self.bytes += record_size;
                if self.bytes >= self.batch_size {
                    // the next record goes to a partition chosen anew (maybe this one again)
                    self.current = Some(p);
                    self.switch(num_partitions, false);
                }
                p
            }
            PartitionerKind::Sticky => {
                let p = match self.current {
                    Some(p)
                        if p < num_partitions && self.bytes + record_size <= self.batch_size =>
                    {
                        p
                    }
                    Some(p) if p < num_partitions && self.bytes == 0 => p, // oversized record opens its own batch
                    _ => self.switch(num_partitions, true),
                };
                self.bytes += record_size;
                p
            }
        }
    }
}
