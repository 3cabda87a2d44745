//! The producer: partitioning and appends.

use crate::cluster::{Cluster, Topic};
use crate::error::{BrokerError, Result};
use crate::partitioner::{
    DEFAULT_BATCH_SIZE, KeylessPartitioner, PartitionerKind, estimated_record_size,
    partition_for_key,
};
use crate::record::{Headers, ProducerRecord, RecordMetadata, StoredRecord, TimestampType};
use parking_lot::Mutex;
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
    state: Mutex<HashMap<String, TopicState>>,
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
            state: Mutex::new(HashMap::new()),
        }
    }

    /// The configuration.
    pub fn config(&self) -> &ProducerConfig {
        &self.config
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
            if state
                .get(&record.topic)
                .is_none_or(|s| s.topic.is_deleted())
            {
                drop(state);
                let topic = inner.topic_for_produce(&record.topic)?;
                let keyless = KeylessPartitioner::new(
                    self.config.partitioner,
                    self.config.batch_size,
                    self.seed ^ (topic.name.len() as u64).wrapping_mul(0x9e37_79b9),
                );
                state = self.state.lock();
                state.insert(record.topic.clone(), TopicState { topic, keyless });
            }
            let st = state.get_mut(&record.topic).expect("topic state present");
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
                    let size = estimated_record_size(
                        key.as_deref(),
                        record.value.as_deref(),
                        &record.headers,
                    );
                    st.keyless.partition(n, size)
                }
            };
            parts[p as usize].clone()
        };
        let timestamp = match log.timestamp_type {
            TimestampType::LogAppendTime => inner.clock.now_ms(),
            TimestampType::CreateTime => match record.timestamp {
                Some(ts) => ts,
                None => inner.clock.now_ms(),
            },
        };
        let offset = log.append(StoredRecord {
            timestamp,
            key: record.key,
            value: record.value,
            headers: Headers::from_vec(record.headers),
        });
        Ok(RecordMetadata {
            topic: log.topic.clone(),
            partition: log.partition,
            offset,
            timestamp,
        })
    }

    /// The partition a record would go to right now, without sending it or touching the
    /// sticky state (for keyless records: the current sticky partition, if one is chosen).
    pub fn partition_for(&self, record: &ProducerRecord) -> Result<Option<i32>> {
        let n = self.cluster.partition_count(&record.topic)?;
        Ok(match (record.partition, &record.key) {
            (Some(p), _) => Some(p),
            (None, Some(k)) if !self.config.ignore_keys => Some(partition_for_key(k, n)),
            _ => self
                .state
                .lock()
                .get(&record.topic)
                .and_then(|s| s.keyless.current()),
        })
    }

    /// Nothing is buffered: returns immediately (kept for API parity with Kafka).
    pub fn flush(&self) {}
}
