//! Per-partition append-only logs.

use crate::record::{ConsumerRecord, StoredRecord, TimestampType};
use parking_lot::Mutex;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Records per segment. Segments never move once allocated, so appends never copy old records.
const SEGMENT: usize = 4096;

#[derive(Default)]
struct LogInner {
    segments: Vec<Vec<StoredRecord>>,
    len: usize,
    waiters: Vec<Arc<Notify>>,
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
        let waiters = {
            let mut g = self.inner.lock();
            let off = g.len;
            if off.is_multiple_of(SEGMENT) {
                g.segments.push(Vec::with_capacity(SEGMENT));
            }
            g.segments.last_mut().expect("segment").push(rec);
            g.len += 1;
            if g.waiters.is_empty() {
                return off as i64;
            }
            (std::mem::take(&mut g.waiters), off as i64)
        };
        for w in &waiters.0 {
            w.notify_one();
        }
        waiters.1
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
