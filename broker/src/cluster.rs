//! The cluster handle: topics, admin operations, test controls and group administration.

use crate::clock::{Clock, OnMove};
use crate::error::{BrokerError, InvalidValue, Result};
use crate::group::{Coordinator, GroupDescription, GroupListing, OffsetAndMetadata};
use crate::lag::LagRow;
use crate::log::PartitionLog;
use crate::record::{ConsumerRecord, TimestampType, TopicPartition};
use parking_lot::{Mutex, RwLock};
use std::collections::BTreeMap;
use std::sync::atomic::{AtomicBool, AtomicU64, AtomicUsize, Ordering};
use std::sync::{Arc, Weak};
use std::time::Duration;
use tokio::sync::Notify;

/// Kafka's limit on topic name length.
pub const MAX_TOPIC_NAME_LENGTH: usize = 249;

/// Most partitions one topic may have in this broker (a guard against unbounded allocation;
/// Kafka itself has no fixed limit).
pub const MAX_PARTITIONS_PER_TOPIC: i32 = 100_000;

/// Default `offsets.retention.minutes`: 7 days.
pub const DEFAULT_OFFSETS_RETENTION: Duration = Duration::from_secs(7 * 24 * 60 * 60);

/// The topic config the broker applies (the others it only keeps).
const TIMESTAMP_TYPE_CONFIG: &str = "message.timestamp.type";

/// A topic to create (`NewTopic`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewTopic {
    /// Topic name.
    pub name: String,
    /// Number of partitions (> 0).
    pub num_partitions: i32,
    /// Replication factor (1..=brokers).
    pub replication_factor: i16,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// Other topic configurations (`cleanup.policy`, `retention.ms`, …), kept as given and
    /// reported by [`Cluster::describe_topic_configs`]; the broker applies none of them
    /// (`message.timestamp.type` given to [`NewTopic::config`] sets `timestamp_type` instead).
    pub configs: BTreeMap<String, String>,
}

impl NewTopic {
    /// A topic with `num_partitions` partitions replicated `replication_factor` times.
    pub fn new(name: impl Into<String>, num_partitions: i32, replication_factor: i16) -> Self {
        NewTopic {
            name: name.into(),
            num_partitions,
            replication_factor,
            timestamp_type: TimestampType::CreateTime,
            configs: BTreeMap::new(),
        }
    }

    /// Sets a topic configuration (`NewTopic.configs` in Kafka's admin API), kept as a string
    /// and reported by [`Cluster::describe_topic_configs`]; it has no effect on the broker,
    /// except `message.timestamp.type` (`CreateTime` or `LogAppendTime`), which sets
    /// [`NewTopic::timestamp_type`] (another value makes creating the topic fail).
    pub fn config(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        let (name, value) = (name.into(), value.into());
        if name == TIMESTAMP_TYPE_CONFIG {
            match value.as_str() {
                "CreateTime" => return self.timestamp_type(TimestampType::CreateTime),
                "LogAppendTime" => return self.timestamp_type(TimestampType::LogAppendTime),
                _ => {}
            }
        }
        self.configs.insert(name, value);
        self
    }

    /// Sets `message.timestamp.type`.
    pub fn timestamp_type(mut self, t: TimestampType) -> Self {
        self.timestamp_type = t;
        self
    }
}

/// One partition of a [`TopicDescription`] (`TopicPartitionInfo`).
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct PartitionDescription {
    /// Partition number.
    pub partition: i32,
    /// Leader broker id.
    pub leader: i32,
    /// Replica broker ids, leader first.
    pub replicas: Vec<i32>,
    /// In-sync replicas (always all replicas here).
    pub isr: Vec<i32>,
}

/// A topic as `describeTopics` reports it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TopicDescription {
    /// Topic name.
    pub name: String,
    /// Topic id (UUID-shaped, stable for the topic's lifetime).
    pub topic_id: String,
    /// Always false: the broker has no internal topics.
    pub internal: bool,
    /// `message.timestamp.type`.
    pub timestamp_type: TimestampType,
    /// Partitions in order.
    pub partitions: Vec<PartitionDescription>,
}

pub(crate) struct Topic {
    pub(crate) name: Arc<str>,
    id: u64,
    replication_factor: i16,
    timestamp_type: TimestampType,
    configs: BTreeMap<String, String>,
    pub(crate) partitions: RwLock<Vec<Arc<PartitionLog>>>,
    /// `partitions.len()`, readable without the lock: producers cache the partition list and
    /// reload it only when this grows (`create_partitions`).
    partition_count: AtomicUsize,
    pub(crate) deleted: Arc<AtomicBool>,
}

impl Topic {
    pub(crate) fn is_deleted(&self) -> bool {
        self.deleted.load(Ordering::Acquire)
    }

    /// The partition count, without taking the partition list's lock.
    pub(crate) fn partition_count(&self) -> usize {
        self.partition_count.load(Ordering::Acquire)
    }
}

pub(crate) struct Inner {
    brokers: i32,
    pub(crate) clock: Clock,
    auto_create: bool,
    default_partitions: i32,
    default_replication: i16,
    topics: RwLock<BTreeMap<String, Arc<Topic>>>,
    pub(crate) coordinator: Mutex<Coordinator>,
    faults: Mutex<crate::fault::InjectedErrors>,
    fault_count: AtomicUsize,
    seq: AtomicU64,
    /// Woken (all waiters) when a topic or partitions are created: a consumer assigned a
    /// partition that does not exist yet waits on it.
    pub(crate) partitions_created: Notify,
    /// Runs the coordinator's timed transitions when a manual clock moves (registered with
    /// the clock, which holds it weakly).
    on_move: Option<Arc<OnMove>>,
}

impl Inner {
    pub(crate) fn partition_count(&self, topic: &str) -> Option<i32> {
        self.topics
            .read()
            .get(topic)
            .map(|t| t.partitions.read().len() as i32)
    }

    pub(crate) fn next_seq(&self) -> u64 {
        self.seq.fetch_add(1, Ordering::Relaxed)
    }

    pub(crate) fn topic(&self, name: &str) -> Option<Arc<Topic>> {
        self.topics.read().get(name).cloned()
    }

    pub(crate) fn log(&self, tp: &TopicPartition) -> Option<Arc<PartitionLog>> {
        let t = self.topic(&tp.topic)?;

        t.partitions
            .read()
            .get(usize::try_from(tp.partition).ok()?)
            .cloned()
    }

    /// Takes one injected produce error, if any are pending.
    pub(crate) fn take_fault(&self) -> Option<BrokerError> {
        if self.fault_count.load(Ordering::Relaxed) == 0 {
            return None;
        }
        let mut q = self.faults.lock();
        let e = q.take();
        self.fault_count.store(q.pending(), Ordering::Relaxed);
        e
    }

    /// The topic for a produce, auto-creating it when enabled.
    pub(crate) fn topic_for_produce(&self, name: &str) -> Result<Arc<Topic>> {
        if let Some(t) = self.topic(name) {
            return Ok(t);
        }
        // a name no topic can have (Kafka's metadata answer: INVALID_TOPIC_EXCEPTION)
        validate_topic_name(name)?;
        if self.auto_create {
            match self.create_topic(NewTopic::new(
                name,
                self.default_partitions,
                self.default_replication,
            )) {
                Ok(()) | Err(BrokerError::TopicExists(_)) => {}
                Err(e) => return Err(e),
            }
            if let Some(t) = self.topic(name) {
                return Ok(t);
            }
        }
        Err(BrokerError::UnknownTopicOrPartition(name.to_string()))
    }

    fn replicas(&self, partition: i32, rf: i16) -> Vec<i32> {
        // Rack-unaware placement with start index 0 and no shift: replica j of partition p on
        // broker (p + j) mod N. Kafka randomises the start; a fixed one keeps tests stable.
        (0..rf as i32)
            .map(|j| (partition + j) % self.brokers)
            .collect()
    }

    pub(crate) fn create_topic(&self, t: NewTopic) -> Result<()> {
        validate_topic_name(&t.name)?;
        // a valid value was applied by `NewTopic::config`; what is left is not one
        if let Some(v) = t.configs.get(TIMESTAMP_TYPE_CONFIG) {
            return Err(BrokerError::InvalidConfig(Box::new(InvalidValue {
                name: TIMESTAMP_TYPE_CONFIG,
                value: v.clone(),
                reason: "String must be one of: CreateTime, LogAppendTime",
            })));
        }
        if t.num_partitions <= 0 {
            return Err(BrokerError::InvalidPartitions(
                "Number of partitions must be larger than 0.".into(),
            ));
        }
        if t.num_partitions > MAX_PARTITIONS_PER_TOPIC {
            return Err(BrokerError::InvalidPartitions(format!(
                "Number of partitions {} exceeds this broker's limit of {MAX_PARTITIONS_PER_TOPIC}.",
                t.num_partitions
            )));
        }
        if t.replication_factor <= 0 {
            return Err(BrokerError::InvalidReplicationFactor);
        }
        if t.replication_factor as i32 > self.brokers {
            return Err(BrokerError::ReplicationFactorTooLarge {
                replication_factor: t.replication_factor,
                brokers: self.brokers,
            });
        }
        {
            let mut topics = self.topics.write();
            if topics.contains_key(&t.name) {
                return Err(BrokerError::TopicExists(t.name));
            }
            let canon = t.name.replace('.', "_");
            if let Some(other) = topics.keys().find(|k| k.replace('.', "_") == canon) {
                return Err(BrokerError::InvalidTopic(format!(
                    "Topic '{}' collides with existing topic: {}",
                    t.name, other
                )));
            }
            let name: Arc<str> = Arc::from(t.name.as_str());
            let deleted = Arc::new(AtomicBool::new(false));
            let parts: Vec<_> = (0..t.num_partitions)
                .map(|p| {
                    Arc::new(PartitionLog::new(
                        name.clone(),
                        p,
                        self.replicas(p, t.replication_factor),
                        t.timestamp_type,
                        deleted.clone(),
                    ))
                })
                .collect();
            topics.insert(
                t.name.clone(),
                Arc::new(Topic {
                    name,
                    id: self.next_seq(),
                    replication_factor: t.replication_factor,
                    timestamp_type: t.timestamp_type,
                    configs: t.configs.clone(),
                    partition_count: AtomicUsize::new(parts.len()),
                    partitions: RwLock::new(parts),
                    deleted,
                }),
            );
        }
        let now = self.clock.now_ms();
        self.coordinator.lock().metadata_changed(&t.name, now);
        self.partitions_created.notify_waiters();
        Ok(())
    }

    pub(crate) fn counts(&self) -> impl Fn(&str) -> Option<i32> + '_ {
        move |t| self.partition_count(t)
    }

    /// Runs the coordinator's timed transitions due now.
    pub(crate) fn tick(&self) {
        let now = self.clock.now_ms();
        let counts = self.counts();
        self.coordinator.lock().expire_all(now, &counts);
    }
}

/// Validates a topic name as Kafka's `Topic.validate` does.
pub fn validate_topic_name(name: &str) -> Result<()> {
    if name.is_empty() {
        return Err(BrokerError::InvalidTopic(
            "Topic name is illegal, it can't be empty".into(),
        ));
    }
    if name == "." || name == ".." {
        return Err(BrokerError::InvalidTopic(
            "Topic name cannot be \".\" or \"..\"".into(),
        ));
    }
    if name.len() > MAX_TOPIC_NAME_LENGTH {
        return Err(BrokerError::InvalidTopic(format!(
            "Topic name is illegal, it can't be longer than {MAX_TOPIC_NAME_LENGTH} characters, topic name: {name}"
        )));
    }
    if !name
        .bytes()
        .all(|b| b.is_ascii_alphanumeric() || b == b'.' || b == b'_' || b == b'-')
    {
        return Err(BrokerError::InvalidTopic(format!(
            "Topic name \"{name}\" is illegal, it contains a character other than ASCII alphanumerics, '.', '_' and '-'"
        )));
    }
    Ok(())
}

/// Builds a [`Cluster`].
#[derive(Debug, Clone)]
pub struct ClusterBuilder {
    brokers: i32,
    clock: Clock,
    auto_create: bool,
    default_partitions: i32,
    default_replication: i16,
    retention: Duration,
}

impl ClusterBuilder {
    /// Number of brokers (ids `0..n`), default 1. Values below 1 are raised to 1.
    pub fn brokers(mut self, n: i32) -> Self {
        self.brokers = n.max(1);
        self
    }

    /// The broker clock (default: system).
    pub fn clock(mut self, clock: impl Into<Clock>) -> Self {
        self.clock = clock.into();
        self
    }

    /// `auto.create.topics.enable` (default false here; Kafka's default is true).
    pub fn auto_create_topics(mut self, on: bool) -> Self {
        self.auto_create = on;
        self
    }

    /// `num.partitions` for auto-created topics (default 1).
    pub fn default_partitions(mut self, n: i32) -> Self {
        self.default_partitions = n;
        self
    }

    /// `default.replication.factor` for auto-created topics (default 1).
    pub fn default_replication_factor(mut self, n: i16) -> Self {
        self.default_replication = n;
        self
    }

    /// `offsets.retention.minutes` (default 7 days).
    pub fn offsets_retention(mut self, d: Duration) -> Self {
        self.retention = d;
        self
    }

    /// Builds the cluster.
    pub fn build(self) -> Cluster {
        let manual = match &self.clock {
            Clock::Manual(m) => Some(m.clone()),
            Clock::System => None,
        };
        let inner = Arc::new_cyclic(|me: &Weak<Inner>| {
            let on_move = manual.as_ref().map(|_| {
                let me = me.clone();
                Arc::new(move || {
                    if let Some(inner) = me.upgrade() {
                        inner.tick();
                    }
                }) as Arc<OnMove>
            });
            Inner {
                brokers: self.brokers,
                clock: self.clock,
                auto_create: self.auto_create,
                default_partitions: self.default_partitions,
                default_replication: self.default_replication,
                topics: RwLock::new(BTreeMap::new()),
                coordinator: Mutex::new(Coordinator::new(crate::clock::millis(self.retention))),
                faults: Mutex::new(Default::default()),
                fault_count: AtomicUsize::new(0),
                seq: AtomicU64::new(1),
                partitions_created: Notify::new(),
                on_move,
            }
        });
        if let (Some(clock), Some(f)) = (&manual, &inner.on_move) {
            clock.on_move(f);
        }
        Cluster { inner }
    }
}

/// A handle on an in-memory Kafka cluster: cheap to clone (an `Arc`), `Send + Sync`.
///
/// Holds topics (per-partition logs, each behind its own lock), the group coordinator, the
/// clock and the test controls. Producers and consumers are made from it.
#[derive(Clone)]
pub struct Cluster {
    pub(crate) inner: Arc<Inner>,
}

impl std::fmt::Debug for Cluster {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Cluster")
            .field("brokers", &self.inner.brokers)
            .field("topics", &self.list_topics())
            .finish()
    }
}

impl Default for Cluster {
    fn default() -> Self {
        Cluster::builder().build()
    }
}

impl Cluster {
    /// A builder with Kafka-like defaults: 1 broker, system clock, no auto-creation.
    pub fn builder() -> ClusterBuilder {
        ClusterBuilder {
            brokers: 1,
            clock: Clock::System,
            auto_create: false,
            default_partitions: 1,
            default_replication: 1,
            retention: DEFAULT_OFFSETS_RETENTION,
        }
    }

    /// A single-broker cluster on the system clock.
    pub fn new() -> Self {
        Cluster::default()
    }

    /// Number of brokers.
    pub fn brokers(&self) -> i32 {
        self.inner.brokers
    }

    /// The broker clock.
    pub fn clock(&self) -> &Clock {
        &self.inner.clock
    }

    /// Creates a topic. Errors: [`BrokerError::InvalidTopic`], [`BrokerError::InvalidPartitions`],
    /// [`BrokerError::InvalidReplicationFactor`], [`BrokerError::ReplicationFactorTooLarge`],
    /// [`BrokerError::TopicExists`].
    pub fn create_topic(&self, topic: NewTopic) -> Result<()> {
        self.inner.create_topic(topic)
    }

    /// Creates several topics; one result per topic, in order (like `CreateTopicsResult`).
    pub fn create_topics(&self, topics: impl IntoIterator<Item = NewTopic>) -> Vec<Result<()>> {
        topics.into_iter().map(|t| self.create_topic(t)).collect()
    }

    /// Deletes a topic and its records; consumers assigned to it stop receiving from it and
    /// subscribed groups rebalance. Its committed offsets go too, from every group (as Kafka's
    /// coordinator drops them); a group left with no members and no offsets is gone.
    pub fn delete_topic(&self, name: &str) -> Result<()> {
        let t = self
            .inner
            .topics
            .write()
            .remove(name)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
        t.deleted.store(true, Ordering::Release);
        for p in t.partitions.read().iter() {
            p.wake_all();
        }
        let now = self.inner.clock.now_ms();
        self.inner.coordinator.lock().topic_deleted(name, now);
        Ok(())
    }

    /// Creates `name` with the auto-creation defaults (`num.partitions`,
    /// `default.replication.factor`) if it does not exist and the cluster auto-creates topics,
    /// as a produce to it or a metadata request for it does in Kafka. Ok when the topic exists.
    /// Errors: [`BrokerError::InvalidTopic`] for a name no topic can have,
    /// [`BrokerError::UnknownTopicOrPartition`] when auto-creation is off.
    pub fn auto_create_topic(&self, name: &str) -> Result<()> {
        self.inner.topic_for_produce(name).map(|_| ())
    }

    /// Whether topics are auto-created (`auto.create.topics.enable`).
    pub fn auto_creates_topics(&self) -> bool {
        self.inner.auto_create
    }

    /// `num.partitions` and `default.replication.factor`: what auto-created topics get (and
    /// what a `CreateTopics` request asking for `-1` gets).
    pub fn topic_defaults(&self) -> (i32, i16) {
        (
            self.inner.default_partitions,
            self.inner.default_replication,
        )
    }

    /// Appends records to one partition as one batch, as Kafka's log appends a producer's
    /// record batch: under one hold of the partition's lock, at consecutive offsets, all or none.
    /// The records' own topic and partition are not read. A record without a timestamp gets
    /// the broker clock's; on a `LogAppendTime` topic every record gets the clock's time at
    /// the append. Returns the first record's metadata (its offset is the batch's base
    /// offset; its timestamp the append time on a `LogAppendTime` topic).
    ///
    /// Errors: an injected produce error (one is taken per batch,
    /// [`Cluster::inject_produce_errors`]), [`BrokerError::UnknownTopicOrPartition`],
    /// [`BrokerError::InvalidTimestamp`] for a negative timestamp, and
    /// [`BrokerError::IllegalState`] for an empty batch.
    pub fn append_batch(
        &self,
        tp: &TopicPartition,
        records: Vec<crate::record::ProducerRecord>,
    ) -> Result<crate::record::RecordMetadata> {
        let log = self
            .inner
            .log(tp)
            .filter(|l| !l.is_deleted())
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(tp.to_string()))?;
        if records.is_empty() {
            return Err(BrokerError::IllegalState(
                "A record batch must hold at least one record.".into(),
            ));
        }
        if let Some(ts) = records
            .iter()
            .filter_map(|r| r.timestamp)
            .find(|ts| *ts < 0)
        {
            return Err(BrokerError::InvalidTimestamp(ts));
        }
        if let Some(e) = self.inner.take_fault() {
            return Err(e);
        }
        let log_append_time = log.timestamp_type == TimestampType::LogAppendTime;
        let mut appender = log.appender();
        // read under the log's lock, so LogAppendTime stamps follow the offsets
        let now = self.inner.clock.now_ms();
        let mut first = None;
        for r in records {
            let timestamp = match r.timestamp {
                Some(ts) if !log_append_time => ts,
                _ => now,
            };
            let offset = appender.push(crate::record::StoredRecord {
                timestamp,
                key: r.key,
                value: r.value,
                headers: r.headers,
            });
            first.get_or_insert((offset, timestamp));
        }
        drop(appender);
        let (offset, timestamp) = first.unwrap_or((0, now));
        Ok(crate::record::RecordMetadata {
            topic: log.topic.clone(),
            partition: log.partition,
            offset,
            timestamp: Some(timestamp),
        })
    }

    /// Up to `max` records of a partition from `offset` (a fetch), in offset order; none when
    /// `offset` is the log end. Errors: [`BrokerError::UnknownTopicOrPartition`], and
    /// [`BrokerError::OffsetOutOfRange`] for an offset below 0 or past the log end.
    pub fn read(
        &self,
        tp: &TopicPartition,
        offset: i64,
        max: usize,
    ) -> Result<Vec<ConsumerRecord>> {
        let log = self
            .inner
            .log(tp)
            .filter(|l| !l.is_deleted())
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(tp.to_string()))?;
        let mut out = Vec::new();
        match log.read(offset, max, &mut out, None) {
            crate::log::Read::Records(_) => Ok(out),
            crate::log::Read::OutOfRange { .. } => {
                Err(BrokerError::OffsetOutOfRange(vec![(tp.clone(), offset)]))
            }
        }
    }

    /// Waits until one of the partitions has a record at or past its position, or is gone
    /// (deleted or never there): a fetch's long poll, woken by the append itself (no polling).
    /// Returns at once if that is already so. Bound the wait with a timeout.
    pub async fn wait_for_records(&self, positions: &[(TopicPartition, i64)]) {
        struct Unregister(Vec<Arc<PartitionLog>>, Arc<Notify>);
        impl Drop for Unregister {
            fn drop(&mut self) {
                for log in &self.0 {
                    log.remove_waiter(&self.1);
                }
            }
        }
        let notify = Arc::new(Notify::new());
        let notified = notify.notified();
        tokio::pin!(notified);
        notified.as_mut().enable();
        let mut registered = Unregister(Vec::with_capacity(positions.len()), notify.clone());
        for (tp, position) in positions {
            let Some(log) = self.inner.log(tp).filter(|l| !l.is_deleted()) else {
                return;
            };
            if !log.wait_at(*position, &notify) {
                return;
            }
            registered.0.push(log);
        }
        notified.await;
        drop(registered);
    }

    /// Topic names, sorted.
    pub fn list_topics(&self) -> Vec<String> {
        self.inner.topics.read().keys().cloned().collect()
    }

    /// Describes a topic.
    pub fn describe_topic(&self, name: &str) -> Result<TopicDescription> {
        let t = self
            .inner
            .topic(name)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
        let id = crate::partitioner::SplitMix::new(t.id).next_u64();
        let id2 = crate::partitioner::SplitMix::new(!t.id).next_u64();
        Ok(TopicDescription {
            name: name.to_string(),
            topic_id: format!(
                "{:08x}-{:04x}-{:04x}-{:04x}-{:012x}",
                id >> 32,
                (id >> 16) & 0xffff,
                id & 0xffff,
                id2 >> 48,
                id2 & 0xffff_ffff_ffff
            ),
            internal: false,
            timestamp_type: t.timestamp_type,
            partitions: t
                .partitions
                .read()
                .iter()
                .map(|p| PartitionDescription {
                    partition: p.partition,
                    leader: p.replicas[0],
                    replicas: p.replicas.clone(),
                    isr: p.replicas.clone(),
                })
                .collect(),
        })
    }

    /// The configurations a topic was created with ([`NewTopic::config`]), by name: what
    /// `describeConfigs` reports as non-default (`kafka-topics --describe` prints them after
    /// `Configs:`). `message.timestamp.type` is among them when it is `LogAppendTime`.
    pub fn describe_topic_configs(&self, name: &str) -> Result<BTreeMap<String, String>> {
        let t = self
            .inner
            .topic(name)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
        let mut configs = t.configs.clone();
        if t.timestamp_type == TimestampType::LogAppendTime {
            configs.insert(TIMESTAMP_TYPE_CONFIG.to_owned(), "LogAppendTime".to_owned());
        }
        Ok(configs)
    }

    /// Raises a topic's partition count to `total` (`createPartitions`). Keyed records then
    /// hash over the new count, as in Kafka; subscribed groups rebalance.
    pub fn create_partitions(&self, name: &str, total: i32) -> Result<()> {
        let t = self
            .inner
            .topic(name)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(name.to_string()))?;
        {
            let mut parts = t.partitions.write();
            let cur = parts.len() as i32;
            if total < cur {
                return Err(BrokerError::InvalidPartitions(format!(
                    "Topic currently has {cur} partitions, which is higher than the requested {total}."
                )));
            }
            if total > MAX_PARTITIONS_PER_TOPIC {
                return Err(BrokerError::InvalidPartitions(format!(
                    "Number of partitions {total} exceeds this broker's limit of {MAX_PARTITIONS_PER_TOPIC}."
                )));
            }
            if total == cur {
                return Err(BrokerError::InvalidPartitions(format!(
                    "Topic already has {cur} partitions."
                )));
            }
            for p in cur..total {
                parts.push(Arc::new(PartitionLog::new(
                    t.name.clone(),
                    p,
                    self.inner.replicas(p, t.replication_factor),
                    t.timestamp_type,
                    t.deleted.clone(),
                )));
            }
            t.partition_count.store(parts.len(), Ordering::Release);
        }
        let now = self.inner.clock.now_ms();
        self.inner.coordinator.lock().metadata_changed(name, now);
        self.inner.partitions_created.notify_waiters();
        Ok(())
    }

    /// Partition count of a topic.
    pub fn partition_count(&self, topic: &str) -> Result<i32> {
        self.inner
            .partition_count(topic)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(topic.to_string()))
    }

    /// Log end offset (next offset to be written) of a partition.
    pub fn end_offset(&self, tp: &TopicPartition) -> Result<i64> {
        self.inner
            .log(tp)
            .map(|l| l.end_offset())
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(tp.to_string()))
    }

    /// Earliest offset of a partition (always 0: the broker never deletes records).
    pub fn beginning_offset(&self, tp: &TopicPartition) -> Result<i64> {
        self.end_offset(tp).map(|_| 0)
    }

    /// First offset with a timestamp ≥ `timestamp` (`offsetsForTimes`), `None` if there is none.
    pub fn offset_for_time(&self, tp: &TopicPartition, timestamp: i64) -> Result<Option<i64>> {
        self.inner
            .log(tp)
            .map(|l| l.offset_for_time(timestamp))
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(tp.to_string()))
    }

    /// Every record of a partition, in offset order (test inspection).
    pub fn records(&self, tp: &TopicPartition) -> Result<Vec<ConsumerRecord>> {
        let log = self
            .inner
            .log(tp)
            .ok_or_else(|| BrokerError::UnknownTopicOrPartition(tp.to_string()))?;
        let mut out = Vec::new();
        let end = log.end_offset();
        log.read(0, end as usize, &mut out, None);
        Ok(out)
    }

    /// Makes the next `n` produce attempts of any producer fail with `error` (like
    /// `MockProducer.errorNext`), queued after any errors already injected; retriable ones are
    /// retried by the producer (see [`Producer::inject_errors`](crate::Producer::inject_errors)
    /// for one producer's own errors, taken before these).
    pub fn inject_produce_errors(&self, n: usize, error: BrokerError) {
        let mut q = self.inner.faults.lock();
        q.push(n, error);
        self.inner.fault_count.store(q.pending(), Ordering::Relaxed);
    }

    /// Runs the coordinator's timed transitions now (session timeouts, rebalance timeouts,
    /// offset expiry). They also run whenever a group is touched.
    pub fn tick(&self) {
        self.inner.tick();
    }

    /// Lists consumer groups (`listConsumerGroups`), sorted by id.
    pub fn list_groups(&self) -> Vec<GroupListing> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        self.inner.coordinator.lock().list(now, &counts)
    }

    /// Describes a group; an unknown group is reported `Dead` with no members, as Kafka does.
    pub fn describe_group(&self, group_id: &str) -> GroupDescription {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        self.inner
            .coordinator
            .lock()
            .describe(group_id, now, &counts)
    }

    /// Deletes a group and its offsets (`deleteConsumerGroups`); refused while it has members.
    pub fn delete_group(&self, group_id: &str) -> Result<()> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        self.inner.coordinator.lock().delete(group_id, now, &counts)
    }

    /// Sets a group's committed offsets from outside the group (`alterConsumerGroupOffsets`,
    /// what `kafka-consumer-groups --reset-offsets --execute` sends). Kafka accepts it only while
    /// the group has no members: otherwise [`BrokerError::UnknownMemberId`]. A group that does
    /// not exist is created with just these offsets. Also refused: a negative offset
    /// ([`BrokerError::NegativeOffset`]) and a partition that does not exist
    /// ([`BrokerError::UnknownTopicOrPartition`]); then nothing is committed.
    pub fn alter_group_offsets(
        &self,
        group_id: &str,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<()> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let offsets: Vec<(TopicPartition, i64, String)> = offsets
            .iter()
            .map(|(tp, o)| (tp.clone(), *o, String::new()))
            .collect();
        match self
            .inner
            .coordinator
            .lock()
            .commit(group_id, None, &offsets, now, &counts)
        {
            Err(BrokerError::CommitFailed(group)) => Err(BrokerError::UnknownMemberId(group)),
            other => other,
        }
    }

    /// A group's committed offsets (`listConsumerGroupOffsets`).
    pub fn group_offsets(
        &self,
        group_id: &str,
    ) -> Result<BTreeMap<TopicPartition, OffsetAndMetadata>> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let mut c = self.inner.coordinator.lock();
        c.expire_all(now, &counts);
        if !c.exists(group_id) {
            return Err(BrokerError::GroupIdNotFound(group_id.to_string()));
        }
        Ok(c.all_committed(group_id))
    }

    /// Forces a rebalance of a group (every member rejoins on its next poll).
    pub fn force_rebalance(&self, group_id: &str) -> Result<()> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        self.inner
            .coordinator
            .lock()
            .force_rebalance(group_id, now, &counts)
    }

    /// The rows `kafka-consumer-groups --describe --group <id>` prints: one per partition that is
    /// assigned or has a committed offset, sorted by topic and partition, plus one `-` row per
    /// member without partitions. Format them with [`crate::lag::format_lag_table`].
    pub fn describe_group_offsets(&self, group_id: &str) -> Result<Vec<LagRow>> {
        let now = self.inner.clock.now_ms();
        let counts = self.inner.counts();
        let snap = self
            .inner
            .coordinator
            .lock()
            .lag_snapshot(group_id, now, &counts);
        let (members, offsets) =
            snap.ok_or_else(|| BrokerError::GroupIdNotFound(group_id.to_string()))?;
        Ok(crate::lag::rows(group_id, &members, &offsets, |tp| {
            self.inner.log(tp).map(|l| l.end_offset())
        }))
    }
}
