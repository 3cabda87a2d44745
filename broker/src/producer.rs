//! The producer: partitioning and appends.

use crate::cluster::{Cluster, Topic};
use crate::error::{BrokerError, Result};
use crate::log::PartitionLog;
use crate::partitioner::{
    DEFAULT_BATCH_SIZE, KeylessPartitioner, PartitionerKind, estimated_record_size,
    partition_for_key,
};
use crate::record::{Headers, ProducerRecord, RecordMetadata, StoredRecord, TimestampType};
use parking_lot::{Mutex, MutexGuard};
use std::collections::HashMap;
use std::sync::Arc;

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
}

impl Default for ProducerConfig {
    fn default() -> Self {
        ProducerConfig {
            client_id: "producer-1".into(),
            partitioner: PartitionerKind::UniformSticky,
            batch_size: DEFAULT_BATCH_SIZE,
            ignore_keys: false,
            seed: None,
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

    /// Sets `partitioner.ignore.keys`.
    pub fn ignore_keys(mut self, on: bool) -> Self {
        self.ignore_keys = on;
        self
    }
}

/// No pending batch for a partition (see [`TopicState::pending`]).
const NO_BATCH: u32 = u32::MAX;

/// [`Producer::send_all`] appends a partition's buffered records once this many records are
/// buffered over all partitions (and at the end of the call), bounding the call's extra memory.
const SEND_ALL_FLUSH: usize = 4096;

struct TopicState {
    topic: Arc<Topic>,
    /// The topic's partition logs; reloaded when the topic's partition count changes, so a
    /// send takes no lock but the partition log's.
    parts: Vec<Arc<PartitionLog>>,
    keyless: KeylessPartitioner,
    /// `send_all` scratch: per partition, the index of its batch in [`Batches::open`], or
    /// [`NO_BATCH`]. All [`NO_BATCH`] between calls.
    pending: Vec<u32>,
}

impl TopicState {
    fn new(topic: Arc<Topic>, keyless: KeylessPartitioner) -> Self {
        let mut st = TopicState {
            topic,
            parts: Vec::new(),
            keyless,
            pending: Vec::new(),
        };
        st.reload_partitions();
        st
    }

    fn reload_partitions(&mut self) {
        self.parts = self.topic.partitions.read().clone();
        self.pending.resize(self.parts.len(), NO_BATCH);
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

/// One partition's records buffered by [`Producer::send_all`].
struct Batch {
    log: Arc<PartitionLog>,
    /// Where the partition's slot is in [`State::topics`] (to reset [`TopicState::pending`]).
    topic: usize,
    partition: usize,
    records: Vec<StoredRecord>,
    /// For each buffered record, its index in the call's results.
    results: Vec<usize>,
}

/// The batches of one [`Producer::send_all`] call, in the order they were opened.
#[derive(Default)]
struct Batches {
    open: Vec<Batch>,
    buffered: usize,
    /// Emptied buffers of flushed batches, reused by later ones.
    spare: Vec<(Vec<StoredRecord>, Vec<usize>)>,
}

impl Batches {
    fn push(
        &mut self,
        st: &mut TopicState,
        topic: usize,
        partition: usize,
        rec: StoredRecord,
        result: usize,
    ) {
        let mut b = st.pending[partition];
        // (a slot left over by a call that panicked mid-way is ignored, not trusted)
        let stale = self
            .open
            .get(b as usize)
            .is_none_or(|o| o.topic != topic || o.partition != partition);
        if stale {
            b = self.open.len() as u32;
            st.pending[partition] = b;
            let (records, results) = self.spare.pop().unwrap_or_default();
            self.open.push(Batch {
                log: st.parts[partition].clone(),
                topic,
                partition,
                records,
                results,
            });
        }
        let batch = &mut self.open[b as usize];
        batch.records.push(rec);
        batch.results.push(result);
        self.buffered += 1;
    }

    /// Appends every open batch (one lock per partition, records in input order) and fills in
    /// the offsets of their results.
    fn flush(&mut self, state: &mut State, results: &mut [Result<RecordMetadata>]) {
        for mut batch in self.open.drain(..) {
            let base = batch.log.append_all(&mut batch.records);
            for (i, &r) in batch.results.iter().enumerate() {
                if let Ok(md) = &mut results[r] {
                    md.offset = base + i as i64;
                }
            }
            if let Some(slot) = state
                .topics
                .get_mut(batch.topic)
                .and_then(|t| t.pending.get_mut(batch.partition))
            {
                *slot = NO_BATCH;
            }
            batch.results.clear();
            self.spare.push((batch.records, batch.results));
        }
        self.buffered = 0;
    }
}

/// A producer (`KafkaProducer`): appends records and keeps per-topic sticky-partitioner state,
/// like Kafka's. `Send + Sync`; [`Producer::send`] takes `&self`, so one producer can be shared
/// by tasks (its state sits behind a small mutex), or each task can have its own.
///
/// Appends are immediate (there is no batching or linger in memory), so `send` returns the
/// record's metadata directly and [`Producer::flush`] has nothing to do.
pub struct Producer {
    cluster: Cluster,
    config: ProducerConfig,
    seed: u64,
    state: Mutex<State>,
}

impl std::fmt::Debug for Producer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Producer")
            .field("config", &self.config)
            .finish()
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
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
    }

    /// Chooses the partition for a record (explicit > key hash > keyless partitioner) and
    /// returns `(topic slot in the state, partition)`, loading the topic into the producer's
    /// state on first use (and again after it was deleted or gained partitions).
    fn route(
        &self,
        state: &mut MutexGuard<'_, State>,
        record: &ProducerRecord,
    ) -> Result<(usize, usize)> {
        let idx = match state.find(&record.topic) {
            Some(i) if !state.topics[i].topic.is_deleted() => i,
            _ => self.load_topic(state, &record.topic)?,
        };
        let st = &mut state.topics[idx];
        if st.topic.partition_count() != st.parts.len() {
            st.reload_partitions();
        }
        let n = st.parts.len() as i32;
        let p = match (record.partition, &record.key) {
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
                    estimated_record_size(key.as_deref(), record.value.as_deref(), &record.headers);
                st.keyless.partition(n, size)
            }
        };
        Ok((idx, p as usize))
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
        let ts = TopicState::new(topic, keyless);
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

    /// Splits a record into its topic name and the record as stored, with its timestamp:
    /// the producer's (or `now`) for `CreateTime` topics, `now` for `LogAppendTime` ones.
    /// `now` is read from the clock only if needed and then kept for the caller's next records.
    fn stored(
        timestamp_type: TimestampType,
        record: ProducerRecord,
        now: &mut Option<i64>,
        clock: &crate::Clock,
    ) -> (Arc<str>, StoredRecord) {
        let mut now_ms = || *now.get_or_insert_with(|| clock.now_ms());
        let timestamp = match timestamp_type {
            TimestampType::LogAppendTime => now_ms(),
            TimestampType::CreateTime => match record.timestamp {
                Some(ts) => ts,
                None => now_ms(),
            },
        };
        let rec = StoredRecord {
            timestamp,
            key: record.key,
            value: record.value,
            headers: Headers::from_vec(record.headers),
        };
        (record.topic, rec)
    }

    /// Sends one record: chooses the partition (explicit > key hash > keyless partitioner),
    /// stamps the timestamp and appends. Errors: an injected error, an unknown topic (unless
    /// auto-creation is on) or an out-of-range explicit partition.
    ///
    /// A record without a timestamp gets the producer's clock at this call, like Kafka's
    /// `send`. The returned metadata's `topic` is the record's own topic name.
    pub fn send(&self, record: ProducerRecord) -> Result<RecordMetadata> {
        let inner = &self.cluster.inner;
        if let Some(e) = inner.take_fault() {
            return Err(e);
        }
        // read outside the lock; LogAppendTime topics read it at append if still unread
        let mut now = record.timestamp.is_none().then(|| inner.clock.now_ms());
        let mut state = self.state.lock();
        let (t, p) = self.route(&mut state, &record)?;
        let log = &state.topics[t].parts[p];
        let (topic, rec) = Self::stored(log.timestamp_type, record, &mut now, &inner.clock);
        let timestamp = rec.timestamp;
        let offset = log.append(rec);
        drop(state);
        Ok(RecordMetadata {
            topic,
            partition: p as i32,
            offset,
            timestamp,
        })
    }

    /// Sends many records in one call, like batches leaving Kafka's record accumulator: the
    /// producer's state is locked once, the clock read once (records without a timestamp share
    /// it, as do `LogAppendTime` stamps) and each partition's log locked once per batch of up
    /// to a few thousand records. Records are partitioned exactly as [`Producer::send`] would
    /// partition them, in input order, and each partition receives its records in input order
    /// (there is no order between partitions, as in Kafka). The result for record *i* is at
    /// index *i*. Injected errors apply per record.
    ///
    /// ```
    /// use kcodec_broker::{Cluster, NewTopic, ProducerConfig, ProducerRecord};
    /// use std::sync::Arc;
    /// let cluster = Cluster::new();
    /// cluster.create_topic(NewTopic::new("orders", 2, 1)).unwrap();
    /// let producer = cluster.producer(ProducerConfig::default());
    /// let topic: Arc<str> = Arc::from("orders");
    /// let results = producer.send_all(
    ///     (0..4).map(|i| ProducerRecord::new(topic.clone(), format!("v{i}")).partition(i % 2)),
    /// );
    /// let offsets: Vec<(i32, i64)> =
    ///     results.iter().map(|r| r.as_ref().map(|m| (m.partition, m.offset)).unwrap()).collect();
    /// assert_eq!(offsets, [(0, 0), (1, 0), (0, 1), (1, 1)]);
    /// ```
    pub fn send_all(
        &self,
        records: impl IntoIterator<Item = ProducerRecord>,
    ) -> Vec<Result<RecordMetadata>> {
        let inner = &self.cluster.inner;
        let mut now = None;
        let records = records.into_iter();
        let mut results = Vec::with_capacity(records.size_hint().0);
        let mut batches = Batches::default();
        let mut state = self.state.lock();
        for record in records {
            if let Some(e) = inner.take_fault() {
                results.push(Err(e));
                continue;
            }
            let (t, p) = match self.route(&mut state, &record) {
                Ok(tp) => tp,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let st = &mut state.topics[t];
            let (topic, rec) =
                Self::stored(st.parts[p].timestamp_type, record, &mut now, &inner.clock);
            results.push(Ok(RecordMetadata {
                topic,
                partition: p as i32,
                offset: -1, // set when the batch is appended
                timestamp: rec.timestamp,
            }));
            batches.push(st, t, p, rec, results.len() - 1);
            if batches.buffered >= SEND_ALL_FLUSH {
                batches.flush(&mut state, &mut results);
            }
        }
        batches.flush(&mut state, &mut results);
        results
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
