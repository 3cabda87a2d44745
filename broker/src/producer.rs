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

struct TopicState {
    topic: Arc<Topic>,
    keyless: KeylessPartitioner,
}

/// Per-topic state, with a fast path for the topic used last (no hashing on repeated sends).
#[derive(Default)]
struct State {
    topics: Vec<TopicState>,
    index: HashMap<String, usize>,
    last: usize,
}

impl State {
    fn find(&mut self, topic: &str) -> Option<usize> {
        if self
            .topics
            .get(self.last)
            .is_some_and(|t| &*t.topic.name == topic)
        {
            return Some(self.last);
        }
        let i = *self.index.get(topic)?;
        self.last = i;
        Some(i)
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

    /// Chooses the partition log for a record (explicit > key hash > keyless partitioner),
    /// loading the topic into the producer's state on first use.
    fn route(
        &self,
        state: &mut MutexGuard<'_, State>,
        record: &ProducerRecord,
    ) -> Result<Arc<PartitionLog>> {
        let inner = &self.cluster.inner;
        let idx = match state.find(&record.topic) {
            Some(i) if !state.topics[i].topic.is_deleted() => i,
            _ => {
                let topic = MutexGuard::unlocked(state, || inner.topic_for_produce(&record.topic))?;
                let keyless = KeylessPartitioner::new(
                    self.config.partitioner,
                    self.config.batch_size,
                    self.seed ^ (topic.name.len() as u64).wrapping_mul(0x9e37_79b9),
                );
                let ts = TopicState { topic, keyless };
                let i = match state.index.get(&record.topic) {
                    Some(&i) => {
                        state.topics[i] = ts;
                        i
                    }
                    None => {
                        state.topics.push(ts);
                        let i = state.topics.len() - 1;
                        state.index.insert(record.topic.clone(), i);
                        i
                    }
                };
                state.last = i;
                i
            }
        };
        let st = &mut state.topics[idx];
        let parts = st.topic.partitions.read();
        let n = parts.len() as i32;
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
        Ok(parts[p as usize].clone())
    }

    fn stored(
        log: &PartitionLog,
        record: ProducerRecord,
        now: &mut Option<i64>,
        clock: &crate::Clock,
    ) -> StoredRecord {
        let mut now_ms = || *now.get_or_insert_with(|| clock.now_ms());
        let timestamp = match log.timestamp_type {
            TimestampType::LogAppendTime => now_ms(),
            TimestampType::CreateTime => match record.timestamp {
                Some(ts) => ts,
                None => now_ms(),
            },
        };
        StoredRecord {
            timestamp,
            key: record.key,
            value: record.value,
            headers: Headers::from_vec(record.headers),
        }
    }

    /// Sends one record: chooses the partition (explicit > key hash > keyless partitioner),
    /// stamps the timestamp and appends. Errors: an injected error, an unknown topic (unless
    /// auto-creation is on) or an out-of-range explicit partition.
    pub fn send(&self, record: ProducerRecord) -> Result<RecordMetadata> {
        let inner = &self.cluster.inner;
        if let Some(e) = inner.take_fault() {
            return Err(e);
        }
        let log = {
            let mut state = self.state.lock();
            self.route(&mut state, &record)?
        };
        let rec = Self::stored(&log, record, &mut None, &inner.clock);
        let timestamp = rec.timestamp;
        let offset = log.append(rec);
        Ok(RecordMetadata {
            topic: log.topic.clone(),
            partition: log.partition,
            offset,
            timestamp,
        })
    }

    /// Sends many records in one call, like a batch leaving Kafka's record accumulator: the
    /// producer's state is locked once and the clock read once (records without a timestamp
    /// share it). Records are partitioned exactly as [`Producer::send`] would and appended in
    /// input order; the result for record *i* is at index *i*. Injected errors apply per record.
    pub fn send_all(
        &self,
        records: impl IntoIterator<Item = ProducerRecord>,
    ) -> Vec<Result<RecordMetadata>> {
        let inner = &self.cluster.inner;
        let mut now = None;
        let records = records.into_iter();
        let mut results = Vec::with_capacity(records.size_hint().0);
        let mut state = self.state.lock();
        for record in records {
            if let Some(e) = inner.take_fault() {
                results.push(Err(e));
                continue;
            }
            let log = match self.route(&mut state, &record) {
                Ok(log) => log,
                Err(e) => {
                    results.push(Err(e));
                    continue;
                }
            };
            let rec = Self::stored(&log, record, &mut now, &inner.clock);
            let timestamp = rec.timestamp;
            let offset = log.append(rec);
            results.push(Ok(RecordMetadata {
                topic: log.topic.clone(),
                partition: log.partition,
                offset,
                timestamp,
            }));
        }
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
