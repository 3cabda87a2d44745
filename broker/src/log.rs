//! Per-partition append-only logs.

use crate::record::{ConsumerRecord, StoredRecord, TimestampType};
use parking_lot::{Mutex, MutexGuard};
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use tokio::sync::Notify;

/// Records per segment (80 KiB of slots: below glibc's default mmap threshold, so segments are
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
    /// Makes room for the next record in the last segment, opening one when the last is full. The first
    /// segment grows on demand (8, 128, then all 1024 records: few copies, and a partition
    /// holding few records stays small); later ones are allocated whole.
    #[cold]
    #[inline(never)]
    fn make_room(&mut self) {
        if self.len.is_multiple_of(SEGMENT) {
            let capacity = if self.segments.is_empty() { 0 } else { SEGMENT };
            self.segments.push(Vec::with_capacity(capacity));
        }
        if let Some(seg) = self.segments.last_mut()
            && seg.len() == seg.capacity()
        {
            let capacity = (seg.capacity() * 16).clamp(8, SEGMENT);
            seg.reserve_exact(capacity - seg.len());
        }
    }

    /// Appends one record and returns its offset (a plain `Vec::push` into the open segment,
    /// which has room: `make_room` reserved it).
    #[inline(always)]
    fn push(&mut self, rec: StoredRecord) -> i64 {
        let off = self.len;
        let room = self
            .segments
            .last()
            .is_some_and(|seg| seg.len() < seg.capacity().min(SEGMENT));
        if !room {
            self.make_room();
        }
        if let Some(seg) = self.segments.last_mut() {
            seg.push(rec);
        }
        self.len += 1;
        off as i64
    }
}

/// One partition's log: a lock held only for appends (or a read's copy of `Bytes` handles),
/// and the consumers waiting for new records.
pub(crate) struct PartitionLog {
    pub(crate) topic: Arc<str>,
    pub(crate) partition: i32,
    pub(crate) replicas: Vec<i32>,
    pub(crate) timestamp_type: TimestampType,
    pub(crate) deleted: Arc<AtomicBool>,
    inner: Mutex<LogInner>,
}

/// A partition log locked for appends. Dropping it wakes the consumers that waited for
/// records, then releases the lock.
pub(crate) struct Appender<'a> {
    guard: MutexGuard<'a, LogInner>,
}

impl Appender<'_> {
    /// Appends one record and returns its offset.
    #[inline(always)]
    pub(crate) fn push(&mut self, rec: StoredRecord) -> i64 {
        self.guard.push(rec)
    }
}

impl Drop for Appender<'_> {
    fn drop(&mut self) {
        for w in std::mem::take(&mut self.guard.waiters) {
            w.notify_one();
        }
    }
}

/// Wakes consumers that waited for records (after the log's lock is released).
#[cold]
#[inline(never)]
fn wake(waiters: Vec<Arc<Notify>>) {
    for w in waiters {
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

    /// Appends and returns the offset and the stored timestamp; wakes waiting consumers.
    /// With `log_append_time`, the timestamp is read from that clock under the log's lock,
    /// so `LogAppendTime` stamps follow the offsets of the partition (as Kafka's `Log.append`
    /// assigns them while holding the log lock).
    #[inline(always)]
    pub(crate) fn append(
        &self,
        mut rec: StoredRecord,
        log_append_time: Option<&crate::clock::Clock>,
    ) -> (i64, i64) {
        let mut g = self.inner.lock();
        if let Some(clock) = log_append_time {
            rec.timestamp = clock.now_ms();
        }
        let ts = rec.timestamp;
        let off = g.push(rec);
        if !g.waiters.is_empty() {
            let waiters = std::mem::take(&mut g.waiters);
            drop(g);
            wake(waiters);
        }
        (off, ts)
    }

    /// Locks the log for a run of appends.
    pub(crate) fn appender(&self) -> Appender<'_> {
        Appender {
            guard: self.inner.lock(),
        }
    }

    /// Locks the log for a run of appends if nobody else holds it.
    pub(crate) fn try_appender(&self) -> Option<Appender<'_>> {
        let guard = self.inner.try_lock()?;
        Some(Appender { guard })
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
                timestamp: Some(r.timestamp),
                timestamp_type: Some(self.timestamp_type),
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

    /// Registers `w` to be woken by the next append if the log has no record at or past
    /// `position`; false (nothing registered) when it has.
    pub(crate) fn wait_at(&self, position: i64, w: &Arc<Notify>) -> bool {
        let mut g = self.inner.lock();
        if (g.len as i64) > position {
            return false;
        }
        if !g.waiters.iter().any(|x| Arc::ptr_eq(x, w)) {
            g.waiters.push(w.clone());
        }
        true
    }

    /// Unregisters a waiter (consumer closed or reassigned).
    pub(crate) fn remove_waiter(&self, w: &Arc<Notify>) {
        self.inner.lock().waiters.retain(|x| !Arc::ptr_eq(x, w));
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::record::Headers;
    use bytes::Bytes;

    /// Appends across every growth step of the first segment (8, 128, 1024) and several whole
    /// segments, one by one and in runs, then reads each record back at its offset.
    #[test]
    fn appends_keep_every_record_at_its_offset_across_segment_growth() {
        let log = PartitionLog::new(
            "t".into(),
            0,
            vec![0],
            TimestampType::CreateTime,
            Arc::default(),
        );
        let rec = |i: usize| StoredRecord {
            timestamp: i as i64,
            key: (!i.is_multiple_of(3)).then(|| Bytes::from(format!("k{i}"))),
            value: Some(Bytes::from(i.to_be_bytes().to_vec())),
            headers: Headers::new(),
        };
        let total = 3 * SEGMENT + 7;
        for i in 0..total / 2 {
            assert_eq!(log.append(rec(i), None).0, i as i64);
        }
        {
            let mut a = log.appender();
            for i in total / 2..total {
                assert_eq!(a.push(rec(i)), i as i64);
            }
        }
        assert_eq!(log.end_offset(), total as i64);
        let mut out = Vec::new();
        let mut at = 0;
        while at < total {
            match log.read(at as i64, 500, &mut out, None) {
                Read::Records(n) => at += n,
                Read::OutOfRange { .. } => panic!("offset {at} out of range"),
            }
        }
        assert_eq!(out.len(), total);
        for (i, r) in out.iter().enumerate() {
            assert_eq!(r.offset, i as i64);
            assert_eq!(r.timestamp, Some(i as i64));
            assert_eq!(r.value.as_deref(), Some(&i.to_be_bytes()[..]));
            let key = (!i.is_multiple_of(3)).then(|| format!("k{i}"));
            assert_eq!(r.key.as_deref(), key.as_deref().map(str::as_bytes));
        }
        // the first segment grew to a whole one; later ones were allocated whole
        let g = log.inner.lock();
        assert_eq!(g.segments.len(), 4);
        assert!(g.segments[..3].iter().all(|s| s.len() == SEGMENT));
        assert_eq!(g.segments[3].len(), 7);
    }
}
