//! Per-partition append-only logs.

use crate::record::{ConsumerRecord, StoredRecord, TimestampType};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Records per segment (88 KiB of slots: below glibc's default mmap threshold, so segments are
/// recycled heap memory rather than fresh mappings). Full segments never move, so appends
/// never copy old records.
const SEGMENT: usize = 1024;

#[derive(Default)]
struct LogInner {
    segments: Vec<Vec<StoredRecord>>,
    len: usize,
    waiters: Vec<Arc<Notify>>,
}

impl LogInner {
    /// The segment the next records go to and how many of `want` fit in it, opening a segment
    /// when the last is full. The first segment grows on demand (doubling, up to a whole
    /// segment), so a partition holding few records stays small; later ones are allocated whole.
    fn tail(&mut self, want: usize) -> (&mut Vec<StoredRecord>, usize) {
        if self.len.is_multiple_of(SEGMENT) {
            let capacity = if self.segments.is_empty() { 0 } else { SEGMENT };
            self.segments.push(Vec::with_capacity(capacity));
        }
        let seg = self.segments.last_mut().expect("a segment");
        let n = want.min(SEGMENT - seg.len());
        if seg.capacity() - seg.len() < n {
            let capacity = (seg.capacity() * 2).max(seg.len() + n).clamp(8, SEGMENT);
            seg.reserve_exact(capacity - seg.len());
        }
        (seg, n)
    }
}

/// One partition's log: a lock held only for the push (or a read's copy of `Bytes` handles),
/// and the consumers waiting for new records.
pub(crate) struct PartitionLog {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    pub(crate) replicas: Vec<i32>,
    pub(crate) timestamp_type: TimestampType,
    pub(crate) deleted: Arc<AtomicBool>,
    inner: Mutex<LogInner>,
}

/// Wakes consumers that waited for an append (called after the log's lock is released).
fn wake(waiters: Vec<Arc<Notify>>) {
    for w in &waiters {
        w.notify_one();
    }
}

/// What one read found.
pub(crate) enum Read {
    /// Records copied (possibly none when `position == end` and no waiter registered).
    Records(usize),
    /// Position is past the end of the log.
    OutOfRange { end: i64 },
}

impl PartitionLog {
    pub(crate) fn new(
        topic: Arc<str>,
        partition: i32,
        replicas: Vec<i32>,
        timestamp_type: TimestampType,
        deleted: Arc<AtomicBool>,
    ) -> Self {
        PartitionLog {
            topic,
            partition,
            replicas,
            timestamp_type,
            deleted,
            inner: Mutex::new(LogInner::default()),
        }
    }

    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// Appends and returns the offset; wakes waiting consumers.
    pub(crate) fn append(&self, rec: StoredRecord) -> i64 {
        let (off, waiters) = {
            let mut g = self.inner.lock();
            let off = g.len;
            g.tail(1).0.push(rec);
            g.len += 1;
            if g.waiters.is_empty() {
                return off as i64;
            }
            (off as i64, std::mem::take(&mut g.waiters))
        };
        wake(waiters);
        off
    }

    /// Appends all of `recs` in order under one lock (leaving `recs` empty) and returns the
    /// first one's offset; wakes waiting consumers once.
    pub(crate) fn append_all(&self, recs: &mut Vec<StoredRecord>) -> i64 {
        let (base, waiters) = {
            let mut guard = self.inner.lock();
            let g = &mut *guard;
            let base = g.len as i64;
            let mut rest = recs.drain(..);
            while rest.len() > 0 {
                let (seg, n) = g.tail(rest.len());
                seg.extend(rest.by_ref().take(n));
                g.len += n;
            }
            if g.waiters.is_empty() {
                return base;
            }
            (base, std::mem::take(&mut g.waiters))
        };
        wake(waiters);
        base
    }

    /// Wakes every waiter (topic deleted).
    pub(crate) fn wake_all(&self) {
        let w = std::mem::take(&mut self.inner.lock().waiters);
        for n in w {
            n.notify_one();
        }
    }

    /// Log end offset (the next offset to be written).
    pub(crate) fn end_offset(&self) -> i64 {
        self.inner.lock().len as i64
    }

    /// Copies up to `max` records from `position` into `out`. When nothing is available and
    /// `waiter` is given, registers it to be woken by the next append.
    pub(crate) fn read(
        &self,
        position: i64,
        max: usize,
        out: &mut Vec<ConsumerRecord>,
        waiter: Option<&Arc<Notify>>,
    ) -> Read {
        let mut g = self.inner.lock();
        let end = g.len as i64;
        if position > end || position < 0 {
            return Read::OutOfRange { end };
        }
        if position == end {
            if let Some(w) = waiter
                && !g.waiters.iter().any(|x| Arc::ptr_eq(x, w))
            {
                g.waiters.push(w.clone());
            }
            return Read::Records(0);
        }
        let n = ((end - position) as usize).min(max);
        let first = position as usize;
        out.reserve(n);
        for off in first..first + n {
            let r = &g.segments[off / SEGMENT][off % SEGMENT];
            out.push(ConsumerRecord {
                topic: self.topic.clone(),
                partition: self.partition,
                offset: off as i64,
                timestamp: r.timestamp,
                timestamp_type: self.timestamp_type,
                key: r.key.clone(),
                value: r.value.clone(),
                headers: r.headers.clone(),
            });
        }
        Read::Records(n)
    }

    /// First offset whose timestamp is ≥ `ts` (`offsetsForTimes`), if any.
    pub(crate) fn offset_for_time(&self, ts: i64) -> Option<i64> {
        let g = self.inner.lock();
        let mut off = 0usize;
        for seg in &g.segments {
            for r in seg {
                if r.timestamp >= ts {
                    return Some(off as i64);
                }
                off += 1;
            }
        }
        None
    }

    /// Unregisters a waiter (consumer closed or reassigned).
    pub(crate) fn remove_waiter(&self, w: &Arc<Notify>) {
        self.inner.lock().waiters.retain(|x| !Arc::ptr_eq(x, w));
    }
}
