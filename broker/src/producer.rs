//! The producer: partitioning and appends.

use crate::cluster::{Cluster, Topic};
use crate::error::{BrokerError, Result};
use crate::fault::InjectedErrors;
use crate::log::{Appender, PartitionLog};
use crate::partitioner::{
    DEFAULT_BATCH_SIZE, KeylessPartitioner, PartitionerKind, estimated_record_size,
    partition_for_key,
};
use crate::record::{Header, ProducerRecord, RecordMetadata, StoredRecord, TimestampType};
use crate::sent::SendResults;
use bytes::Bytes;
use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};

/// Producer settings (the subset of `ProducerConfig` that matters in memory).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ProducerConfig {
    /// `client.id`.
    pub client_id: String,
    /// How keyless records are placed.
    pub partitioner: PartitionerKind,
    /// `batch.size` in bytes (sticky switching threshold), default 16384.
    pub batch_size: usize,
    /// `partitioner.ignore.keys`: place keyed records like keyless ones (Kafka ≥ 3.3). With
    /// [`PartitionerKind::RoundRobin`] this reproduces Kafka's `RoundRobinPartitioner`, which
    /// ignores keys.
    pub ignore_keys: bool,
    /// Seed for the sticky partitioners' random choices; `None` seeds from the cluster.
    pub seed: Option<u64>,
    /// `retries`: how often a send that failed with a retriable error (see
    /// [`BrokerError::is_retriable`], e.g. an injected `NotEnoughReplicas`) is tried again,
    /// as Kafka's producer does (default `i32::MAX`, Kafka's). Attempts follow one another at
    /// once in memory; each consumes one injected error.
    pub retries: u32,
    /// `delivery.timeout.ms`: retries stop once this much broker-clock time has passed since
    /// the send began (default 120 s, Kafka's).
    pub delivery_timeout: std::time::Duration,
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            client_id: "producer-1".into(),
            partitioner: PartitionerKind::UniformSticky,
            batch_size: DEFAULT_BATCH_SIZE,
            ignore_keys: false,
            seed: None,
            retries: i32::MAX as u32,
            delivery_timeout: std::time::Duration::from_secs(120),
        }
    }
}

impl ProducerConfig {
    /// Sets the keyless partitioner.
    pub fn partitioner(mut self, kind: PartitionerKind) -> Self {
        self.partitioner = kind;
        self
    }

    /// Sets `batch.size`.
    pub fn batch_size(mut self, bytes: usize) -> Self {
        self.batch_size = bytes;
        self
    }

    /// Sets `client.id`.
    pub fn client_id(mut self, id: impl Into<String>) -> Self {
        self.client_id = id.into();
        self
    }

    /// Sets the partitioner seed (reproducible sticky choices).
    pub fn seed(mut self, seed: u64) -> Self {
        self.seed = Some(seed);
        self
    }

    /// Sets `retries` (0: a retriable error fails the send at once).
    pub fn retries(mut self, n: u32) -> Self {
        self.retries = n;
        self
    }

    /// Sets `delivery.timeout.ms`.
    pub fn delivery_timeout(mut self, d: std::time::Duration) -> Self {
        self.delivery_timeout = d;
        self
    }

    /// Sets `partitioner.ignore.keys`.
    pub fn ignore_keys(mut self, on: bool) -> Self {
        self.ignore_keys = on;
        self
    }
}

/// [`Producer::send_all`] releases the partition locks it holds after this many records, so
/// consumers of those partitions wait at most that long.
const SEND_ALL_RUN: usize = 4096;

struct TopicState {
    topic: Arc<Topic>,
    /// The topic's partition logs; reloaded when the topic's partition count changes, so a
    /// send takes no lock but the partition log's.
    parts: Arc<[Arc<PartitionLog>]>,
    keyless: KeylessPartitioner,
}

impl TopicState {
    fn reload_partitions(&mut self) {
        self.parts = self.topic.partitions.read().iter().cloned().collect();
    }
}

/// Per-topic state, with a fast path for the topic used last (no hashing on repeated sends,
/// and not even a string comparison when records share the name's `Arc`).
#[derive(Default)]
struct State {
    topics: Vec<TopicState>,
    index: HashMap<Arc<str>, usize>,
    last: usize,
    /// The name the topic at `last` was last looked up by (kept alive, so comparing pointers
    /// is sound).
    last_name: Option<Arc<str>>,
}

impl State {
    #[inline]
    fn find(&mut self, name: &Arc<str>) -> Option<usize> {
        if self
            .last_name
            .as_ref()
            .is_some_and(|l| Arc::ptr_eq(l, name))
            || self
                .topics
                .get(self.last)
                .is_some_and(|t| *t.topic.name == **name)
        {
            return Some(self.last);
        }
        let i = *self.index.get(&**name)?;
        self.last = i;
        self.last_name = Some(name.clone());
        Some(i)
    }
}

/// A producer (`KafkaProducer`): appends records and keeps per-topic sticky-partitioner state,
/// like Kafka's. `Send + Sync`; [`Producer::send`] takes `&self`, so one producer can be shared
/// by tasks (its state sits behind a small mutex), or each task can have its own.
///
/// Appends are immediate (there is no batching or linger in memory), so `send` returns the
/// record's metadata directly and [`Producer::flush`] has nothing to do.
///
/// For throughput, build records from one shared topic name (`Arc<str>`, see
/// [`ProducerRecord`]) and send many at once with [`Producer::send_all`]: it reads the clock
/// once and locks each partition once per run of records, where `send` pays a clock read and
/// two locks per record.
pub struct Producer {
    cluster: Cluster,
    config: ProducerConfig,
    seed: u64,
    state: Mutex<State>,
    /// Errors injected into this producer's sends only ([`Producer::inject_errors`]).
    faults: Mutex<InjectedErrors>,
    /// Whether `faults` may hold any (checked without the lock on every send).
    has_faults: AtomicBool,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("config", &self.config)
            .finish()
    }
}

impl Cluster {
    /// A producer (`KafkaProducer`).
    pub fn producer(&self, config: ProducerConfig) -> Producer {
        Producer::new(self.clone(), config)
    }
}

impl Producer {
    pub(crate) fn new(cluster: Cluster, config: ProducerConfig) -> Self {
        let seed = config.seed.unwrap_or_else(|| {
            cluster.inner.next_seq().wrapping_mul(0x2545_f491_4f6c_dd1d)
                ^ cluster.inner.clock.now_ms() as u64
        });
        Producer {
            cluster,
            config,
            seed,
            state: Mutex::new(State::default()),
            faults: Mutex::new(InjectedErrors::default()),
            has_faults: AtomicBool::new(false),
        }
    }

    /// Makes the next `n` send attempts of this producer fail with `error`, queued after the
    /// errors already injected into it; other producers are not affected. A retriable error
    /// (see [`BrokerError::is_retriable`], e.g. `NotEnoughReplicas`) is retried as Kafka's
    /// `Sender` retries it, within [`ProducerConfig::retries`] and
    /// [`ProducerConfig::delivery_timeout`], each attempt taking the next injected error; a
    /// send whose retries run out, or that meets a non-retriable error, fails with it.
    /// Errors injected here are taken before those injected into the whole cluster
    /// ([`Cluster::inject_produce_errors`]).
    ///
    /// ```
    /// use kcodec_broker::{Bytes, BrokerError, Cluster, NewTopic, ProducerConfig, ProducerRecord};
    /// let cluster = Cluster::builder().build();
    /// cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    /// let producer = cluster.producer(ProducerConfig::default());
    /// producer.inject_errors(2, BrokerError::NotEnoughReplicas);
    /// // retried twice, then stored once
    /// assert_eq!(producer.send(ProducerRecord::new("t", Bytes::from("v"))).unwrap().offset, 0);
    /// producer.inject_errors(1, BrokerError::RecordTooLarge);
    /// assert_eq!(producer.send(ProducerRecord::new("t", Bytes::from("v"))), Err(BrokerError::RecordTooLarge));
    /// ```
    pub fn inject_errors(&self, n: usize, error: BrokerError) {
        let mut faults = self.faults.lock();
        faults.push(n, error);
        self.has_faults
            .store(faults.pending() > 0, Ordering::Relaxed);
    }

    /// How many send attempts of this producer are still to fail with an injected error
    /// (those of [`inject_errors`](Self::inject_errors), not the cluster's).
    pub fn injected_errors(&self) -> usize {
        self.faults.lock().pending()
    }

    /// One attempt's injected error: this producer's first, then the cluster's.
    fn take_attempt_fault(&self) -> Option<BrokerError> {
        if self.has_faults.load(Ordering::Relaxed) {
            let mut faults = self.faults.lock();
            let e = faults.take();
            self.has_faults
                .store(faults.pending() > 0, Ordering::Relaxed);
            if e.is_some() {
                return e;
            }
        }
        self.cluster.inner.take_fault()
    }

    /// The configuration.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// The topic's slot in the producer's state, loading it on first use (and again after it
    /// was deleted), with its partition list current.
    #[inline]
    fn topic_slot(&self, state: &mut MutexGuard<'_, State>, name: &Arc<str>) -> Result<usize> {
        let idx = match state.find(name) {
            Some(i) if !state.topics[i].topic.is_deleted() => i,
            _ => self.load_topic(state, name)?,
        };
        let st = &mut state.topics[idx];
        if st.topic.partition_count() != st.parts.len() {
            st.reload_partitions();
        }
        Ok(idx)
    }

    /// The partition for a record of a loaded topic: explicit > key hash > keyless partitioner.
    /// Always inlined: the caller's record fields then stay in registers (a call would need
    /// them in memory).
    #[inline(always)]
    fn choose_partition(
        &self,
        st: &mut TopicState,
        partition: Option<i32>,
        key: Option<&Bytes>,
        value: Option<&Bytes>,
        headers: &[Header],
    ) -> Result<usize> {
        let n = st.parts.len() as i32;
        let p = match (partition, key) {
            (Some(p), _) => {
                if p < 0 || p >= n {
                    return Err(BrokerError::InvalidPartition {
                        partition: p,
                        partitions: n,
                    });
                }
                p
            }
            (None, Some(k)) if !self.config.ignore_keys => partition_for_key(k, n),
            (None, key) => {
                let size =
                    estimated_record_size(key.map(|k| &k[..]), value.map(|v| &v[..]), headers);
                st.keyless.partition(n, size)
            }
        };
        Ok(p as usize)
    }

    /// Resolves a topic not (or no longer) in the producer's state and stores it there.
    #[cold]
    fn load_topic(&self, state: &mut MutexGuard<'_, State>, name: &Arc<str>) -> Result<usize> {
        let inner = &self.cluster.inner;
        let topic = MutexGuard::unlocked(state, || inner.topic_for_produce(name))?;
        let keyless = KeylessPartitioner::new(
            self.config.partitioner,
            self.config.batch_size,
            self.seed ^ (topic.name.len() as u64).wrapping_mul(0x9e37_79b9),
        );
        let parts = topic.partitions.read().iter().cloned().collect();
        let ts = TopicState {
            topic,
            parts,
            keyless,
        };
        let i = match state.index.get(&**name) {
            Some(&i) => {
                state.topics[i] = ts;
                i
            }
            None => {
                state.topics.push(ts);
                let i = state.topics.len() - 1;
                state.index.insert(name.clone(), i);
                i
            }
        };
        state.last = i;
        state.last_name = Some(name.clone());
        Ok(i)
    }

    /// The injected error that fails this send, if any: retriable ones are retried (each
    /// attempt takes the next injected error) within `retries` and `delivery.timeout.ms`, as
    /// Kafka's `Sender` retries them.
    fn take_fault(&self) -> Option<BrokerError> {
        let inner = &self.cluster.inner;
        let mut start = None;
        let mut retries = 0u32;
        loop {
            let e = self.take_attempt_fault()?;
            let now = inner.clock.now_ms();
            let start = *start.get_or_insert(now);
            let within =
                now.saturating_sub(start) < crate::clock::millis(self.config.delivery_timeout);
            if e.is_retriable() && retries < self.config.retries && within {
                retries += 1;
                continue;
            }
            return Some(e);
        }
    }

    /// Sends one record: chooses the partition (explicit > key hash > keyless partitioner),
    /// stamps the timestamp and appends. Errors: an injected error, an unknown topic (unless
    /// auto-creation is on) or an out-of-range explicit partition.
    ///
    /// A record without a timestamp gets the producer's clock at this call, like Kafka's
    /// `send`. The returned metadata's `topic` is the record's own topic name.
    pub fn send(&self, record: ProducerRecord) -> Result<RecordMetadata> {
        let inner = &self.cluster.inner;
        if let Some(e) = self.take_fault() {
            return Err(e);
        }
        // taken apart at once, so its fields go from registers into the stored slot
        let ProducerRecord {
            topic,
            partition,
            key,
            value,
            headers,
            timestamp,
        } = record;
        if let Some(ts) = timestamp.filter(|ts| *ts < 0) {
            return Err(BrokerError::InvalidTimestamp(ts));
        }
        // read outside the lock (LogAppendTime topics stamp under the log's lock instead)
        let mut now = timestamp.is_none().then(|| inner.clock.now_ms());
        let mut state = self.state.lock();
        let t = self.topic_slot(&mut state, &topic)?;
        let st = &mut state.topics[t];
        let p = self.choose_partition(st, partition, key.as_ref(), value.as_ref(), &headers)?;
        let log = &st.parts[p];
        let (timestamp, log_append_time) = match (log.timestamp_type, timestamp) {
            (TimestampType::CreateTime, Some(ts)) => (ts, None),
            (TimestampType::CreateTime, None) => {
                (*now.get_or_insert_with(|| inner.clock.now_ms()), None)
            }
            // stamped under the log's lock
            (TimestampType::LogAppendTime, _) => (0, Some(&inner.clock)),
        };
        let (offset, timestamp) = log.append(
            StoredRecord {
                timestamp,
                key,
                value,
                headers,
            },
            log_append_time,
        );
        drop(state);
        Ok(RecordMetadata {
            topic,
            partition: p as i32,
            offset,
            timestamp: Some(timestamp),
        })
    }

    /// Sends many records in one call, like batches leaving Kafka's record accumulator: the
    /// producer's state is locked once, the clock read once (records without a timestamp share
    /// it; `LogAppendTime` stamps are read per record under the log's lock), and each partition's log is locked once for a run of
    /// up to a few thousand records instead of once per record. Records are partitioned exactly
    /// as [`Producer::send`] would partition them and appended in input order. The outcome of
    /// record *i* is [`SendResults::get`]`(i)` (compact: the metadata is built when asked
    /// for). Injected errors apply per record.
    ///
    /// ```
    /// use kcodec_broker::{Bytes, Cluster, NewTopic, ProducerConfig, ProducerRecord};
    /// use std::sync::Arc;
    /// let cluster = Cluster::new();
    /// cluster.create_topic(NewTopic::new("orders", 2, 1)).unwrap();
    /// let producer = cluster.producer(ProducerConfig::default());
    /// let topic: Arc<str> = Arc::from("orders");
    /// let results = producer.send_all(
    ///     (0..4).map(|i| ProducerRecord::new(topic.clone(), Bytes::from(format!("v{i}"))).partition(i % 2)),
    /// );
    /// let offsets: Vec<(i32, i64)> =
    ///     results.iter().map(|r| r.map(|m| (m.partition, m.offset)).unwrap()).collect();
    /// assert_eq!(offsets, [(0, 0), (1, 0), (0, 1), (1, 1)]);
    /// ```
    pub fn send_all(&self, records: impl IntoIterator<Item = ProducerRecord>) -> SendResults {
        let mut records = records.into_iter().fuse();
        let mut results = SendResults::with_capacity(records.size_hint().0);
        let mut now = None;
        let mut state = self.state.lock();
        let mut next = None;
        // Records are routed here, with no partition log locked (loading a topic may create
        // it and take cluster locks); a run routes only records of its own, loaded topic.
        while let Some(record) = next.take().or_else(|| records.next()) {
            let loaded = match self.take_fault() {
                Some(e) => Err(e),
                None => self.topic_slot(&mut state, &record.topic),
            };
            match loaded {
                Ok(t) => {
                    next =
                        self.send_run(&mut state, t, record, &mut records, &mut results, &mut now);
                }
                Err(e) => results.push_err(record.topic, e),
            }
        }
        if let Some(now) = now {
            results.set_now(now);
        }
        results
    }

    /// Appends `first` (its topic loaded at slot `t` of the state, its injected-error check
    /// done) and the records after it while they go to the same topic (at most [`SEND_ALL_RUN`] records), keeping each
    /// partition's log locked until the run ends. Returns the (unrouted) record of another
    /// topic that ended the run, if any.
    ///
    /// A run is one produce request: the topic's metadata (partition list, deletion) is
    /// checked once at its start, as a Kafka producer works from cached metadata.
    /// Deadlock-free: while holding logs, a run only `try_lock`s more logs and takes no other
    /// lock; when a `try_lock` fails it releases all its logs before blocking on the one it
    /// needs.
    ///
    /// Each record is taken apart as it leaves the iterator and its fields go straight into
    /// the stored slot (no copy of the whole record on the stack in between: re-reading such
    /// a copy in wider loads than it was written with stalls the CPU's store forwarding).
    fn send_run(
        &self,
        state: &mut MutexGuard<'_, State>,
        t: usize,
        first: ProducerRecord,
        records: &mut impl Iterator<Item = ProducerRecord>,
        results: &mut SendResults,
        now: &mut Option<i64>,
    ) -> Option<ProducerRecord> {
        let inner = &*self.cluster.inner;
        let parts = state.topics[t].parts.clone();
        let name = first.topic.clone();
        // a topic's, the same for all its partitions
        let timestamp_type = parts
            .first()
            .map_or(TimestampType::CreateTime, |l| l.timestamp_type);
        let mut held: Vec<Option<Appender<'_>>> = Vec::new();
        held.resize_with(parts.len(), || None);
        let run = std::iter::once(first).chain(&mut *records);
        for (n, record) in run.take(SEND_ALL_RUN).enumerate() {
            let ProducerRecord {
                topic,
                partition,
                key,
                value,
                headers,
                timestamp,
            } = record;
            // the first record was checked by the caller
            if n > 0 {
                if !(Arc::ptr_eq(&topic, &name) || *topic == *name) {
                    return Some(ProducerRecord {
                        topic,
                        partition,
                        key,
                        value,
                        headers,
                        timestamp,
                    });
                }
                if let Some(e) = self.take_fault() {
                    results.push_err(topic, e);
                    continue;
                }
            }
            if let Some(ts) = timestamp.filter(|ts| *ts < 0) {
                results.push_err(topic, BrokerError::InvalidTimestamp(ts));
                continue;
            }
            let st = &mut state.topics[t];
            let p = match self.choose_partition(
                st,
                partition,
                key.as_ref(),
                value.as_ref(),
                &headers,
            ) {
                Ok(p) => p,
                Err(e) => {
                    results.push_err(topic, e);
                    continue;
                }
            };
            let appender = match held[p] {
                Some(ref mut a) => a,
                None => {
                    let log = &parts[p];
                    let a = log.try_appender().unwrap_or_else(|| {
                        held.iter_mut().for_each(|h| *h = None);
                        log.appender()
                    });
                    held[p].insert(a)
                }
            };
            let (timestamp, own) = match (timestamp_type, timestamp) {
                (TimestampType::CreateTime, Some(ts)) => (ts, true),
                (TimestampType::CreateTime, None) => {
                    (*now.get_or_insert_with(|| inner.clock.now_ms()), false)
                }
                // read while the log's lock is held: stamps follow offsets
                (TimestampType::LogAppendTime, _) => (inner.clock.now_ms(), true),
            };
            let offset = appender.push(StoredRecord {
                timestamp,
                key,
                value,
                headers,
            });
            if own {
                results.push_sent_at(topic, p as i32, offset, timestamp);
            } else {
                results.push_sent_now(topic, p as i32, offset);
            }
        }
        None
    }

    /// The partition a record would go to right now, without sending it or touching the
    /// sticky state (for keyless records: the current sticky partition, if one is chosen).
    pub fn partition_for(&self, record: &ProducerRecord) -> Result<Option<i32>> {
        let n = self.cluster.partition_count(&record.topic)?;
        Ok(match (record.partition, &record.key) {
            (Some(p), _) => Some(p),
            (None, Some(k)) if !self.config.ignore_keys => Some(partition_for_key(k, n)),
            _ => {
                let mut st = self.state.lock();
                st.find(&record.topic)
                    .and_then(|i| st.topics[i].keyless.current())
            }
        })
    }

    /// Nothing is buffered: returns immediately (kept for API parity with Kafka).
    pub fn flush(&self) {}
}
