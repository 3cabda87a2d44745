//! What [`crate::Producer::send_all`] reports: where each record landed, or why it was refused.

use crate::error::{BrokerError, Result};
use crate::record::RecordMetadata;
use std::fmt;
use std::sync::Arc;

/// One record's outcome, without its topic (kept once per run of records to one topic).
#[derive(Debug, Clone, Copy)]
enum Entry {
    Sent {
        partition: i32,
        offset: i64,
        timestamp: i64,
    },
    /// Index into `SendResults::errors`.
    Failed(u32),
}

/// The outcome of every record of one [`crate::Producer::send_all`] call, in input order.
///
/// Like the response to a Kafka produce request (and the Java client's `FutureRecordMetadata`,
/// which computes each record's metadata from its batch), the results are stored compactly: 24
/// bytes per record, with each topic name stored once per run of records sent to it. A
/// record's [`RecordMetadata`] is built when asked for ([`SendResults::get`],
/// [`SendResults::iter`]); errors are cloned out of the results.
///
/// ```
/// use kcodec_broker::{BrokerError, Cluster, NewTopic, ProducerConfig, ProducerRecord};
/// let cluster = Cluster::new();
/// cluster.create_topic(NewTopic::new("orders", 2, 1)).unwrap();
/// let producer = cluster.producer(ProducerConfig::default());
/// let results = producer.send_all([
///     ProducerRecord::new("orders", "a").partition(1),
///     ProducerRecord::new("orders", "b").partition(7), // no such partition
/// ]);
/// assert_eq!(results.len(), 2);
/// let first = results.get(0).unwrap().unwrap();
/// assert_eq!((&*first.topic, first.partition, first.offset), ("orders", 1, 0));
/// assert!(matches!(results.get(1), Some(Err(BrokerError::InvalidPartition { .. }))));
/// assert_eq!(results.errors().map(|(i, _)| i).collect::<Vec<_>>(), [1]);
/// assert!(!results.all_ok());
/// ```
#[derive(Clone, Default)]
pub struct SendResults {
    entries: Vec<Entry>,
    /// `(index of the run's first entry, topic)`, in entry order: a sent entry belongs to the
    /// last run starting at or before it.
    runs: Vec<(usize, Arc<str>)>,
    errors: Vec<BrokerError>,
}

impl SendResults {
    pub(crate) fn with_capacity(records: usize) -> Self {
        SendResults {
            entries: Vec::with_capacity(records),
            runs: Vec::new(),
            errors: Vec::new(),
        }
    }

    /// Records the next records' topic (a run starts at the next entry).
    pub(crate) fn start_run(&mut self, topic: Arc<str>) {
        self.runs.push((self.entries.len(), topic));
    }

    #[inline(always)]
    pub(crate) fn push_sent(&mut self, partition: i32, offset: i64, timestamp: i64) {
        self.entries.push(Entry::Sent {
            partition,
            offset,
            timestamp,
        });
    }

    pub(crate) fn push_err(&mut self, e: BrokerError) {
        let i = u32::try_from(self.errors.len()).expect("fewer than 2^32 records per call");
        self.errors.push(e);
        self.entries.push(Entry::Failed(i));
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
        Some(self.resolve(entry, run.checked_sub(1)))
    }

    fn resolve(&self, entry: Entry, run: Option<usize>) -> Result<RecordMetadata> {
        match entry {
            Entry::Sent {
                partition,
                offset,
                timestamp,
            } => {
                let run = run.expect("a sent record follows the start of its run");
                Ok(RecordMetadata {
                    topic: self.runs[run].1.clone(),
                    partition,
                    offset,
                    timestamp,
                })
            }
            Entry::Failed(e) => Err(self.errors[e as usize].clone()),
        }
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
            .filter_map(|(i, e)| match e {
                Entry::Failed(k) => Some((i, &self.errors[*k as usize])),
                Entry::Sent { .. } => None,
            })
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
        self.next += 1;
        Some(r.resolve(entry, self.run))
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
        assert_eq!(std::mem::size_of::<Entry>(), 24);
    }

    #[test]
    fn runs_give_topics_and_errors_keep_their_place() {
        let mut r = SendResults::with_capacity(5);
        r.push_err(BrokerError::RequestTimedOut); // before any run
        r.start_run(Arc::from("a"));
        r.push_sent(0, 0, 10);
        r.push_err(BrokerError::NotEnoughReplicas);
        r.push_sent(1, 0, 11);
        r.start_run(Arc::from("b"));
        r.push_sent(0, 5, 12);
        let v = r.clone().into_vec();
        assert_eq!(v.len(), 5);
        assert_eq!(v[0], Err(BrokerError::RequestTimedOut));
        let md = |i: usize| v[i].clone().unwrap();
        assert_eq!(
            (&*md(1).topic, md(1).partition, md(1).timestamp),
            ("a", 0, 10)
        );
        assert_eq!(v[2], Err(BrokerError::NotEnoughReplicas));
        assert_eq!((&*md(3).topic, md(3).partition), ("a", 1));
        assert_eq!((&*md(4).topic, md(4).offset, md(4).timestamp), ("b", 5, 12));
        for (i, expected) in v.iter().enumerate() {
            assert_eq!(r.get(i).as_ref(), Some(expected));
        }
        assert_eq!(r.get(5), None);
        let errs: Vec<usize> = r.errors().map(|(i, _)| i).collect();
        assert_eq!(errs, [0, 2]);
        assert!(!r.all_ok());
        assert_eq!(r.iter().len(), 5);
    }
}
