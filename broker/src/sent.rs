//! What [`crate::Producer::send_all`] reports: where each record landed, or why it was refused.

use crate::error::{BrokerError, Result};
use crate::record::RecordMetadata;
use std::fmt;
use std::sync::Arc;

/// One record's outcome, without its topic and without its timestamp when that is the call's
/// clock reading (the common case).
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
/// compactly: partition and offset (16 bytes per record), each topic name once per run of
/// records that shared it, the call's one clock reading once, and only the timestamps records
/// brought themselves. A record's [`RecordMetadata`] is built when asked for
/// ([`SendResults::get`], [`SendResults::iter`]); errors are cloned out.
///
/// ```
/// use kcodec_broker::{BrokerError, Bytes, Cluster, NewTopic, ProducerConfig, ProducerRecord};
/// let cluster = Cluster::new();
/// cluster.create_topic(NewTopic::new("orders", 2, 1)).unwrap();
/// let producer = cluster.producer(ProducerConfig::default());
/// let results = producer.send_all([
///     ProducerRecord::new("orders", Bytes::from("a")).partition(1),
///     ProducerRecord::new("orders", Bytes::from("b")).partition(7), // no such partition
///     ProducerRecord::new("orders", Bytes::from("c")).partition(1).timestamp(42),
/// ]);
/// assert_eq!(results.len(), 3);
/// let first = results.get(0).unwrap().unwrap();
/// assert_eq!((&*first.topic, first.partition, first.offset), ("orders", 1, 0));
/// assert!(matches!(results.get(1), Some(Err(BrokerError::InvalidPartition { .. }))));
/// assert_eq!(results.get(2).unwrap().unwrap().timestamp, Some(42));
/// assert_eq!(results.errors().map(|(i, _)| i).collect::<Vec<_>>(), [1]);
/// assert!(!results.all_ok());
/// ```
#[derive(Clone, Default)]
pub struct SendResults {
    entries: Vec<Entry>,
    /// The records' topics, run-length encoded by name handle: a new run starts at a record
    /// whose name is not the previous record's `Arc`.
    topics: Vec<TopicRun>,
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

    /// Sets the clock reading `SentNow` entries were stamped with.
    pub(crate) fn set_now(&mut self, now: i64) {
        self.now = now;
    }

    /// Takes over a record's topic name: released when it is the current run's name, else the
    /// start of a new run.
    #[inline(always)]
    fn push_topic(&mut self, topic: Arc<str>) {
        match self.topics.last() {
            Some(run) if Arc::ptr_eq(&run.name, &topic) => drop(topic),
            _ => self.start_topic_run(topic),
        }
    }

    #[cold]
    #[inline(never)]
    fn start_topic_run(&mut self, name: Arc<str>) {
        self.topics.push(TopicRun {
            first: self.entries.len(),
            name,
        });
    }

    /// A record stamped with the call's clock reading.
    #[inline(always)]
    pub(crate) fn push_sent_now(&mut self, topic: Arc<str>, partition: i32, offset: i64) {
        self.push_topic(topic);
        self.entries.push(Entry {
            offset,
            partition,
            kind: Kind::SentNow,
        });
    }

    /// A record that kept its own timestamp.
    pub(crate) fn push_sent_at(
        &mut self,
        topic: Arc<str>,
        partition: i32,
        offset: i64,
        timestamp: i64,
    ) {
        self.push_topic(topic);
        self.stamps.push((self.entries.len(), timestamp));
        self.entries.push(Entry {
            offset,
            partition,
            kind: Kind::SentAt,
        });
    }

    pub(crate) fn push_err(&mut self, topic: Arc<str>, e: BrokerError) {
        self.push_topic(topic);
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
        let timestamp = match entry.kind {
            Kind::Failed => return Some(Err(self.errors[entry.offset as usize].clone())),
            Kind::SentNow => self.now,
            Kind::SentAt => {
                let k = self
                    .stamps
                    .binary_search_by_key(&i, |(at, _)| *at)
                    .expect("a record sent at its own timestamp has a stamp");
                self.stamps[k].1
            }
        };
        // the run holding record i: the last one starting at or before it
        let run = self.topics.partition_point(|r| r.first <= i) - 1;
        Some(Ok(RecordMetadata {
            topic: self.topics[run].name.clone(),
            partition: entry.partition,
            offset: entry.offset,
            timestamp: Some(timestamp),
        }))
    }

    /// Every record's outcome, in input order.
    pub fn iter(&self) -> SendResultsIter<'_> {
        SendResultsIter {
            results: self,
            next: 0,
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

/// Records `first..` (up to the next run) came with the topic handle `name`: the first of
/// them moved its `Arc` in; the others' handles (the same allocation) are released as they
/// come, so a run stores one handle instead of one per record.
#[derive(Clone)]
struct TopicRun {
    first: usize,
    name: Arc<str>,
}

/// Iterator over [`SendResults`], in input order.
#[derive(Debug, Clone)]
pub struct SendResultsIter<'a> {
    results: &'a SendResults,
    next: usize,
}

impl Iterator for SendResultsIter<'_> {
    type Item = Result<RecordMetadata>;

    fn next(&mut self) -> Option<Self::Item> {
        let r = self.results.get(self.next)?;
        self.next += 1;
        Some(r)
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
    fn topics_stamps_and_errors_keep_their_place() {
        let t = |name: &str| Arc::<str>::from(name);
        let mut r = SendResults::with_capacity(6);
        r.push_err(t("a"), BrokerError::RequestTimedOut);
        r.push_sent_now(t("a"), 0, 0);
        r.push_err(t("a"), BrokerError::NotEnoughReplicas);
        r.push_sent_at(t("a"), 1, 0, 11);
        r.push_sent_now(t("b"), 0, 5);
        r.push_sent_at(t("b"), 0, 6, 7);
        r.set_now(100);
        let v = r.clone().into_vec();
        assert_eq!(v.len(), 6);
        assert_eq!(v[0], Err(BrokerError::RequestTimedOut));
        let row = |i: usize| {
            let m = v[i].clone().unwrap();
            (m.topic.to_string(), m.partition, m.offset, m.timestamp)
        };
        assert_eq!(row(1), ("a".into(), 0, 0, Some(100)));
        assert_eq!(v[2], Err(BrokerError::NotEnoughReplicas));
        assert_eq!(row(3), ("a".into(), 1, 0, Some(11)));
        assert_eq!(row(4), ("b".into(), 0, 5, Some(100)));
        assert_eq!(row(5), ("b".into(), 0, 6, Some(7)));
        for (i, expected) in v.iter().enumerate() {
            assert_eq!(r.get(i).as_ref(), Some(expected));
        }
        assert_eq!(r.get(6), None);
        let errs: Vec<usize> = r.errors().map(|(i, _)| i).collect();
        assert_eq!(errs, [0, 2]);
        assert!(!r.all_ok());
        assert_eq!(r.iter().len(), 6);
    }

    #[test]
    fn held_topic_references_are_released_once() {
        let name: Arc<str> = Arc::from("orders");
        let other: Arc<str> = Arc::from("orders"); // equal name, other allocation
        let mut r = SendResults::with_capacity(8);
        for i in 0..5 {
            r.push_sent_now(name.clone(), 0, i);
        }
        r.push_err(name.clone(), BrokerError::RequestTimedOut);
        r.push_sent_now(other.clone(), 1, 0);
        r.push_sent_now(name.clone(), 0, 5);
        assert_eq!(Arc::strong_count(&name), 3, "one handle per run");
        assert_eq!(Arc::strong_count(&other), 2);
        assert_eq!(r.topics.len(), 3, "runs: name ×6, other, name");
        let copy = r.clone();
        assert_eq!(
            Arc::strong_count(&name),
            5,
            "a copy holds one handle per run"
        );
        for (i, m) in copy.iter().enumerate() {
            if let Ok(m) = m {
                let expected = if i == 6 { &other } else { &name };
                assert!(Arc::ptr_eq(&m.topic, expected), "record {i}");
            }
        }
        drop(r);
        assert_eq!(Arc::strong_count(&name), 3);
        drop(copy);
        assert_eq!(Arc::strong_count(&name), 1);
        assert_eq!(Arc::strong_count(&other), 1);
    }
}
