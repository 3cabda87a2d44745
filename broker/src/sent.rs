//! What [`crate::Producer::send_all`] reports: where each record landed, or why it was refused.

use crate::error::{BrokerError, Result};
use crate::record::RecordMetadata;
use std::fmt;
use std::sync::Arc;

/// One record's outcome, without its topic (kept once per run of records to one topic) and
/// without its timestamp when that is the call's clock reading (the common case).
#[derive(Debug, Clone, Copy)]
struct Entry {
    /// The offset, or for a refused record the index of its error.
    offset: i64,
    partition: i32,
    kind: Kind,
}

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
enum Kind {
    /// Stamped with the call's clock reading (`SendResults::now`).
    SentNow,
    /// Stamped with the record's own timestamp, kept in `SendResults::stamps`.
    SentAt,
    Failed,
}

/// The outcome of every record of one [`crate::Producer::send_all`] call, in input order.
///
/// Like the response to a Kafka produce request (and the Java client's `FutureRecordMetadata`,
/// which computes each record's metadata from its batch's result), the results are stored
/// compactly: 16 bytes per record (partition and offset), each topic name once per run of
/// records sent to it, the call's one clock reading once, and only the timestamps records
/// brought themselves. A record's [`RecordMetadata`] is built when asked for
/// ([`SendResults::get`], [`SendResults::iter`]); errors are cloned out.
///
/// ```
/// use kcodec_broker::{BrokerError, Cluster, NewTopic, ProducerConfig, ProducerRecord};
/// let cluster = Cluster::new();
/// cluster.create_topic(NewTopic::new("orders", 2, 1)).unwrap();
/// let producer = cluster.producer(ProducerConfig::default());
/// let results = producer.send_all([
///     ProducerRecord::new("orders", "a").partition(1),
///     ProducerRecord::new("orders", "b").partition(7), // no such partition
///     ProducerRecord::new("orders", "c").partition(1).timestamp(42),
/// ]);
/// assert_eq!(results.len(), 3);
/// let first = results.get(0).unwrap().unwrap();
/// assert_eq!((&*first.topic, first.partition, first.offset), ("orders", 1, 0));
/// assert!(matches!(results.get(1), Some(Err(BrokerError::InvalidPartition { .. }))));
/// assert_eq!(results.get(2).unwrap().unwrap().timestamp, 42);
/// assert_eq!(results.errors().map(|(i, _)| i).collect::<Vec<_>>(), [1]);
/// assert!(!results.all_ok());
/// ```
#[derive(Clone, Default)]
pub struct SendResults {
    entries: Vec<Entry>,
    /// `(index of the run's first entry, topic)`, in entry order: a sent entry belongs to the
    /// last run starting at or before it.
    runs: Vec<(usize, Arc<str>)>,
    /// `(entry index, timestamp)` of records sent with their own timestamp, in entry order.
    stamps: Vec<(usize, i64)>,
    /// The clock reading records without a timestamp (and `LogAppendTime` topics) got.
    now: i64,
    errors: Vec<BrokerError>,
}

impl SendResults {
    pub(crate) fn with_capacity(records: usize) -> Self {
        SendResults {
            entries: Vec::with_capacity(records),
            ..SendResults::default()
        }
    }

    /// Records the next records' topic (a run starts at the next entry).
    pub(crate) fn start_run(&mut self, topic: Arc<str>) {
        self.runs.push((self.entries.len(), topic));
    }

    /// Sets the clock reading `SentNow` entries were stamped with.
    pub(crate) fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    /// A record stamped with the call's clock reading.
    #[inline(always)]
    pub(crate) fn push_sent_now(&mut self, partition: i32, offset: i64) {
        self.entries.push(Entry {
            offset,
            partition,
            kind: Kind::SentNow,
        });
    }

    /// A record that kept its own timestamp.
    pub(crate) fn push_sent_at(&mut self, partition: i32, offset: i64, timestamp: i64) {
        self.stamps.push((self.entries.len(), timestamp));
        self.entries.push(Entry {
            offset,
            partition,
            kind: Kind::SentAt,
        });
    }

    pub(crate) fn push_err(&mut self, e: BrokerError) {
        self.entries.push(Entry {
            offset: self.errors.len() as i64,
            partition: -1,
            kind: Kind::Failed,
        });
        self.errors.push(e);
    }

    /// How many records were given (sent or refused).
    pub fn len(&self) -> usize {
        self.entries.len()
    }

    /// Whether no record was given.
    pub fn is_empty(&self) -> bool {
        self.entries.is_empty()
    }

    /// Whether every record was sent.
    pub fn all_ok(&self) -> bool {
        self.errors.is_empty()
    }

    /// Record `i`'s metadata, or the error that refused it; `None` past the end.
    pub fn get(&self, i: usize) -> Option<Result<RecordMetadata>> {
        let entry = *self.entries.get(i)?;
        let run = self.runs.partition_point(|(start, _)| *start <= i);
        Some(self.resolve(i, entry, run.checked_sub(1)))
    }

    fn resolve(&self, i: usize, entry: Entry, run: Option<usize>) -> Result<RecordMetadata> {
        let timestamp = match entry.kind {
            Kind::Failed => return Err(self.errors[entry.offset as usize].clone()),
            Kind::SentNow => self.now,
            Kind::SentAt => {
                let k = self
                    .stamps
                    .binary_search_by_key(&i, |(at, _)| *at)
                    .expect("a record sent at its own timestamp has a stamp");
                self.stamps[k].1
            }
        };
        let run = run.expect("a sent record follows the start of its run");
        Ok(RecordMetadata {
            topic: self.runs[run].1.clone(),
            partition: entry.partition,
            offset: entry.offset,
            timestamp,
        })
    }

    /// Every record's outcome, in input order.
    pub fn iter(&self) -> SendResultsIter<'_> {
        SendResultsIter {
            results: self,
            next: 0,
            run: None,
        }
    }

    /// The refused records: `(input index, error)`, in input order.
    pub fn errors(&self) -> impl Iterator<Item = (usize, &BrokerError)> + '_ {
        self.entries
            .iter()
            .enumerate()
            .filter(|(_, e)| e.kind == Kind::Failed)
            .map(|(i, e)| (i, &self.errors[e.offset as usize]))
    }

    /// The outcomes as a `Vec`, one per record in input order.
    pub fn into_vec(self) -> Vec<Result<RecordMetadata>> {
        self.iter().collect()
    }
}

impl fmt::Debug for SendResults {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.debug_list().entries(self.iter()).finish()
    }
}

impl<'a> IntoIterator for &'a SendResults {
    type Item = Result<RecordMetadata>;
    type IntoIter = SendResultsIter<'a>;
    fn into_iter(self) -> SendResultsIter<'a> {
        self.iter()
    }
}

impl IntoIterator for SendResults {
    type Item = Result<RecordMetadata>;
    type IntoIter = std::vec::IntoIter<Result<RecordMetadata>>;
    fn into_iter(self) -> Self::IntoIter {
        self.into_vec().into_iter()
    }
}

impl From<SendResults> for Vec<Result<RecordMetadata>> {
    fn from(r: SendResults) -> Self {
        r.into_vec()
    }
}

/// Iterator over [`SendResults`], in input order.
#[derive(Debug, Clone)]
pub struct SendResultsIter<'a> {
    results: &'a SendResults,
    next: usize,
    /// The run the last entry belonged to.
    run: Option<usize>,
}

impl Iterator for SendResultsIter<'_> {
    type Item = Result<RecordMetadata>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.results;
        let entry = *r.entries.get(self.next)?;
        // advance to the last run starting at or before this entry
        let mut run = self.run.map_or(0, |x| x + 1);
        while run < r.runs.len() && r.runs[run].0 <= self.next {
            self.run = Some(run);
            run += 1;
        }
        let i = self.next;
        self.next += 1;
        Some(r.resolve(i, entry, self.run))
    }

    fn size_hint(&self) -> (usize, Option<usize>) {
        let n = self.results.entries.len() - self.next;
        (n, Some(n))
    }
}

impl ExactSizeIterator for SendResultsIter<'_> {}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn entries_stay_small() {
        assert_eq!(std::mem::size_of::<Entry>(), 16);
    }

    #[test]
    fn runs_give_topics_stamps_and_errors_keep_their_place() {
        let mut r = SendResults::with_capacity(6);
        r.push_err(BrokerError::RequestTimedOut); // before any run
        r.start_run(Arc::from("a"));
        r.push_sent_now(0, 0);
        r.push_err(BrokerError::NotEnoughReplicas);
        r.push_sent_at(1, 0, 11);
        r.start_run(Arc::from("b"));
        r.push_sent_now(0, 5);
        r.push_sent_at(0, 6, 7);
        r.set_now(100);
        let v = r.clone().into_vec();
        assert_eq!(v.len(), 6);
        assert_eq!(v[0], Err(BrokerError::RequestTimedOut));
        let md = |i: usize| v[i].clone().unwrap();
        let row = |i: usize| {
            let m = md(i);
            (m.topic.to_string(), m.partition, m.offset, m.timestamp)
        };
        assert_eq!(row(1), ("a".into(), 0, 0, 100));
        assert_eq!(v[2], Err(BrokerError::NotEnoughReplicas));
        assert_eq!(row(3), ("a".into(), 1, 0, 11));
        assert_eq!(row(4), ("b".into(), 0, 5, 100));
        assert_eq!(row(5), ("b".into(), 0, 6, 7));
        for (i, expected) in v.iter().enumerate() {
            assert_eq!(r.get(i).as_ref(), Some(expected));
        }
        assert_eq!(r.get(6), None);
        let errs: Vec<usize> = r.errors().map(|(i, _)| i).collect();
        assert_eq!(errs, [0, 2]);
        assert!(!r.all_ok());
        assert_eq!(r.iter().len(), 6);
    }
}
