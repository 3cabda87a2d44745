//! A transport for kcodec's typed [`Producer`](kcodec_clients::Producer) and
//! [`Consumer`](kcodec_clients::Consumer) over Confluent's pure-Rust client (feature
//! `transport`): [`ConfluentProducer`] over `KafkaProducer`, [`ConfluentConsumer`] over
//! `KafkaConsumer`, configured with confluent-kafka's properties (`HashMap<String, String>`, as
//! Java's `Properties`).
//!
//! - **Partitioning** — confluent-kafka hashes keys with CRC-32 by default (librdkafka's
//!   `consistent_random`), not as the Java client does. The producer sets
//!   `partitioner.type=Murmur2RandomPartitioner` unless the properties name one: Java's
//!   `BuiltInPartitioner`, a key goes to `toPositive(murmur2(key)) % partitions`, as with the
//!   rdkafka transport (`murmur2_random`) and the in-memory broker; keyless records stick to a
//!   partition per batch.
//! - **Back-pressure and order** — a send is accepted in the order of
//!   [`enqueue`](ProducerTransport::enqueue) calls: one task per producer hands the records to
//!   `KafkaProducer::send` oldest first, each waiting (as Java's `send` blocks its caller) for
//!   metadata and for room in `buffer.memory`, up to `max.block.ms`. No record overtakes one
//!   waiting for room, so per-key order holds under back-pressure.
//! - **No blocking on the runtime** — confluent-kafka is asynchronous throughout; the only
//!   synchronous user code, the rebalance callback, runs on a blocking thread (it may commit).
//! - **Offsets** — confluent-kafka's own auto-commit commits its fetch position, which includes
//!   records fetched but not yet handed to the application; the consumer therefore runs with
//!   `enable.auto.commit=false` and commits itself, as configured (`enable.auto.commit`, default
//!   `true`, every `auto.commit.interval.ms`, default 5000), before partitions are revoked and on
//!   close, the offsets the typed consumer stored ([`ConsumerTransport::store_offset`]).
//! - **Groups** — confluent-kafka speaks only KIP-848 (`group.protocol=consumer`, set here when
//!   absent); against a broker without it, use [`assign`](ConsumerTransport::assign).
//! - **Errors** — confluent-kafka's errors become [`ClientError::Transport`] with the
//!   transport-neutral [`ErrorKind`] and the original error (and its cause chain) as source.

use crate::Serde;
use bytes::Bytes;
use confluent_kafka::common::header::{Header as _, Headers as _, RecordHeader, RecordHeaders};
use confluent_kafka::common::record::TimestampType as KTimestampType;
use confluent_kafka::common::serialization::ByteArraySerializer;
use confluent_kafka::common::{Error as KafkaError, TopicPartition as KTopicPartition};
use confluent_kafka::consumer::{
    Consumer as _, ConsumerConfig, ConsumerHandle, ConsumerRebalanceListener, ConsumerRecords,
    KafkaConsumer, OffsetAndMetadata,
};
use confluent_kafka::producer::{
    KafkaProducer, Producer as _, ProducerConfig, ProducerRecord, ProducerRecordOptionsBuilder,
    RecordMetadata,
};
use kcodec_clients::transport::check_record;
use kcodec_clients::transport::{DeliveryFuture, RebalanceCallback};
use kcodec_clients::{
    ClientError, ConsumerRecord, ConsumerTransport, Delivered, ErrorKind, ProducerTransport,
    Queued, RebalanceCommitter, RebalanceEvent, TimestampType, TopicPartition,
};
use kcodec_codecs::builtin::BytesSerde;
use kcodec_codecs::{Header, Headers};
use parking_lot::Mutex;
use std::collections::{HashMap, VecDeque};
use std::future::Future;
use std::pin::Pin;
use std::sync::Arc;
use std::time::{Duration, Instant};
use tokio::sync::{mpsc, oneshot};

/// Properties as confluent-kafka takes them.
pub type Properties = HashMap<String, String>;

/// confluent-kafka's error as a [`ClientError::Transport`], classified the way the Java client's
/// exception families are.
pub fn client_error(e: KafkaError) -> ClientError {
    let kind = if e.is_serialization_error() {
        ErrorKind::Serialization
    } else if e.is_record_deserialization_error() {
        ErrorKind::Deserialization
    } else if e.is_retriable_error() || e.is_local_timeout_error() || e.is_timeout_error() {
        ErrorKind::Retriable
    } else if e.is_record_too_large_error()
        || e.is_invalid_topic_error()
        || e.is_invalid_record_error()
        || e.is_invalid_timestamp_error()
        || e.is_local_illegal_argument_error()
    {
        ErrorKind::InvalidRecord
    } else if e.is_consumer_commit_failed_error()
        || e.is_local_illegal_state_error()
        || e.is_unknown_member_id_error()
        || e.is_rebalance_in_progress_error()
        || e.is_illegal_generation_error()
        || e.is_fenced_member_epoch_error()
        || e.is_stale_member_epoch_error()
        || e.is_local_concurrent_modification_error()
    {
        ErrorKind::State
    } else {
        ErrorKind::Other
    };
    ClientError::Transport {
        kind,
        source: Box::new(e),
    }
}

// ---------------------------------------------------------------------------------------------
// Producer

type RawProducer = KafkaProducer<Vec<u8>, Vec<u8>>;

/// A record waiting for its turn in the producer's send task.
struct Pending {
    topic: String,
    partition: Option<i32>,
    key: Option<Bytes>,
    value: Option<Bytes>,
    headers: Option<RecordHeaders>,
    timestamp: Option<i64>,
    accepted: oneshot::Sender<Result<DeliveryFuture, ClientError>>,
}

enum Job {
    Send(Box<Pending>),
    /// Answered once every record before it was handed to `KafkaProducer::send`.
    Barrier(oneshot::Sender<()>),
}

/// A [`ProducerTransport`] over confluent-kafka's `KafkaProducer`.
///
/// Records are handed to `KafkaProducer::send` one at a time, in the order they were
/// enqueued, by a task of the producer's own (see the [module documentation](self)).
pub struct ConfluentProducer {
    producer: Arc<RawProducer>,
    jobs: mpsc::UnboundedSender<Job>,
}

impl std::fmt::Debug for ConfluentProducer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluentProducer").finish_non_exhaustive()
    }
}

impl ConfluentProducer {
    /// Creates the producer from confluent-kafka properties (`bootstrap.servers`, …);
    /// `partitioner.type` defaults to `Murmur2RandomPartitioner` (Java's murmur2 for keys).
    /// Must be called inside a tokio runtime: the producer's send task is spawned on it.
    pub fn new(properties: &Properties) -> Result<Self, ClientError> {
        let mut props = properties.clone();
        props
            .entry(ProducerConfig::PARTITIONER_TYPE_CONFIG.into())
            .or_insert_with(|| ProducerConfig::MURMUR2_RANDOM_PARTITIONER.into());
        let config = ProducerConfig::new(&props).map_err(client_error)?;
        let producer = Arc::new(
            KafkaProducer::new(
                config,
                ByteArraySerializer::new(),
                ByteArraySerializer::new(),
            )
            .map_err(client_error)?,
        );
        let (jobs, rx) = mpsc::unbounded_channel();
        tokio::spawn(send_task(producer.clone(), rx));
        Ok(ConfluentProducer { producer, jobs })
    }

    /// confluent-kafka's producer underneath.
    pub fn inner(&self) -> &KafkaProducer<Vec<u8>, Vec<u8>> {
        &self.producer
    }

    /// Closes confluent-kafka's producer (Java's `close`: sends what is buffered first).
    pub async fn close(self) -> Result<(), ClientError> {
        self.flush(Duration::MAX).await?;
        self.producer.close().await.map_err(client_error)
    }
}

/// Hands records to `KafkaProducer::send`, oldest first; ends when the transport is dropped.
async fn send_task(producer: Arc<RawProducer>, mut jobs: mpsc::UnboundedReceiver<Job>) {
    while let Some(job) = jobs.recv().await {
        match job {
            Job::Barrier(done) => {
                let _ = done.send(());
            }
            Job::Send(p) => {
                // Withdrawn: its `Queued` was dropped before it was sent.
                if p.accepted.is_closed() {
                    continue;
                }
                let accepted = send_one(&producer, &p).await;
                let _ = p.accepted.send(accepted);
            }
        }
    }
}

async fn send_one(producer: &RawProducer, p: &Pending) -> Result<DeliveryFuture, ClientError> {
    let options = ProducerRecordOptionsBuilder::<&[u8], &[u8]>::new()
        .set_topic(p.topic.clone())
        .set_partition(p.partition)
        .set_timestamp(p.timestamp)
        .set_key(p.key.as_deref())
        .set_value(p.value.as_deref())
        .set_headers(p.headers.clone())
        .build()
        .map_err(client_error)?;
    let record = ProducerRecord::with_options(options)
        .map_err(|e| client_error(KafkaError::local_illegal_argument(e.to_string())))?;
    let future = producer.send(record, None).await.map_err(client_error)?;
    Ok(Box::pin(async move {
        let md: RecordMetadata = future.get().await.map_err(client_error)?;
        Ok(Delivered {
            partition: md.partition(),
            offset: md.offset(),
            timestamp: md.has_timestamp().then(|| md.timestamp()),
        })
    }))
}

/// kcodec [`Headers`] as confluent-kafka's (in order, repeated keys kept; `None` when there
/// are none).
pub fn to_record_headers(headers: &Headers) -> Option<RecordHeaders> {
    if headers.is_empty() {
        return None;
    }
    Some(RecordHeaders::with_header_iter(headers.iter().map(|h| {
        RecordHeader::new(h.key.clone(), h.value.as_ref().map(|v| v.to_vec()))
    })))
}

impl ProducerTransport for ConfluentProducer {
    /// Queues the record behind every record enqueued before it; the returned [`Queued`]
    /// resolves once `KafkaProducer::send` accepted it (it waited for metadata and room, up to
    /// `max.block.ms`). Dropping the [`Queued`] before then withdraws the record.
    fn enqueue(&self, record: kcodec_clients::ProducerRecord) -> Result<Queued, ClientError> {
        check_record(&record.topic, record.partition, record.timestamp)?;
        let (accepted, rx) = oneshot::channel();
        let pending = Pending {
            topic: record.topic.to_string(),
            partition: record.partition,
            key: record.key,
            value: record.value,
            headers: to_record_headers(&record.headers),
            timestamp: record.timestamp,
            accepted,
        };
        self.jobs
            .send(Job::Send(Box::new(pending)))
            .map_err(|_| ClientError::Cancelled("the producer's send task ended"))?;
        Ok(Queued::waiting(async move {
            rx.await
                .map_err(|_| ClientError::Cancelled("the producer's send task ended"))?
        }))
    }

    /// Waits until every record enqueued before was handed to `KafkaProducer::send`, then for
    /// confluent-kafka's `flush`, all within `timeout`.
    async fn flush(&self, timeout: Duration) -> Result<(), ClientError> {
        let (done, rx) = oneshot::channel();
        self.jobs
            .send(Job::Barrier(done))
            .map_err(|_| ClientError::Cancelled("the producer's send task ended"))?;
        let all = async {
            rx.await
                .map_err(|_| ClientError::Cancelled("the producer's send task ended"))?;
            self.producer.flush().await.map_err(client_error)
        };
        match tokio::time::timeout(timeout, all).await {
            Ok(r) => r,
            Err(_) => Err(client_error(KafkaError::timeout(format!(
                "flush did not finish within {timeout:?}"
            )))),
        }
    }
}

// ---------------------------------------------------------------------------------------------
// Consumer

type RawConsumer = KafkaConsumer<Bytes, Bytes>;
type PollFuture = Pin<
    Box<
        dyn Future<
                Output = (
                    Box<RawConsumer>,
                    Result<ConsumerRecords<Bytes, Bytes>, KafkaError>,
                ),
            > + Send,
    >,
>;

enum State {
    Idle(Box<RawConsumer>),
    /// A `poll` of confluent-kafka's consumer in flight; kept when the transport's `poll` is
    /// dropped, so no fetched record is lost.
    Polling(PollFuture),
    /// Only while a call moves the consumer between states.
    Moved,
}

/// Calls the transport's synchronous methods make, applied in order before the next
/// asynchronous one (Java's `seek` too only sets the position the next `poll` fetches from).
enum Op {
    Subscribe(Vec<String>),
    Assign(Vec<KTopicPartition>),
    Seek(KTopicPartition, i64),
    SeekToBeginning(Vec<KTopicPartition>),
    SeekToEnd(Vec<KTopicPartition>),
    Pause(Vec<KTopicPartition>),
    Resume(Vec<KTopicPartition>),
}

/// What the rebalance listener shares with the transport.
struct Shared {
    callback: Mutex<Option<RebalanceCallback>>,
    /// Offsets the typed consumer stored (next offset to read), committed by the transport.
    stored: Mutex<HashMap<TopicPartition, i64>>,
    auto_commit: bool,
    handle: ConsumerHandle,
}

/// A [`ConsumerTransport`] over confluent-kafka's `KafkaConsumer` (see the
/// [module documentation](self)).
///
/// The synchronous calls ([`subscribe`](ConsumerTransport::subscribe),
/// [`assign`](ConsumerTransport::assign), seeks, [`pause`](ConsumerTransport::pause),
/// [`resume`](ConsumerTransport::resume)) are applied, in order, at the start of the next
/// asynchronous one (`poll`, `commit`, `committed`, `close`); an error they meet is reported
/// there.
pub struct ConfluentConsumer {
    state: State,
    shared: Arc<Shared>,
    ops: Vec<Op>,
    /// Records fetched by confluent-kafka but not yet returned.
    buffer: VecDeque<ConsumerRecord>,
    /// The next offset to return per partition, once known.
    positions: HashMap<TopicPartition, i64>,
    /// The partitions of the last `assign` (no group).
    manual: Option<Vec<TopicPartition>>,
    auto_commit_interval: Duration,
    last_auto_commit: Instant,
    /// Set once `close` has started, so dropping the consumer afterwards closes nothing.
    closing: bool,
}

/// Dropping the consumer closes it as [`close`](ConsumerTransport::close) does (commits the
/// stored offsets when auto-commit is on, runs the revocation callback, leaves the group), as
/// the rdkafka transport's drop does. Translation note: Java's `KafkaConsumer` (and
/// confluent-kafka's) keeps its heartbeat running until `close`; a dropped typed consumer
/// leaves instead. On a multi-thread tokio runtime the close runs before the drop returns, in
/// [`block_in_place`](tokio::task::block_in_place) (the worker's other tasks move to another
/// thread); on a current-thread runtime it is spawned on the runtime; outside a runtime the
/// consumer is dropped unclosed.
impl Drop for ConfluentConsumer {
    fn drop(&mut self) {
        if self.closing {
            return;
        }
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return;
        };
        let orphan = ConfluentConsumer {
            state: std::mem::replace(&mut self.state, State::Moved),
            shared: self.shared.clone(),
            ops: std::mem::take(&mut self.ops),
            buffer: std::mem::take(&mut self.buffer),
            positions: std::mem::take(&mut self.positions),
            manual: self.manual.take(),
            auto_commit_interval: self.auto_commit_interval,
            last_auto_commit: self.last_auto_commit,
            closing: false,
        };
        self.closing = true;
        if runtime.runtime_flavor() == tokio::runtime::RuntimeFlavor::MultiThread {
            // The result has nowhere to go: a failed close leaves the group by session timeout.
            let _ = tokio::task::block_in_place(|| runtime.block_on(orphan.close()));
        } else {
            runtime.spawn(async move {
                let _ = orphan.close().await;
            });
        }
    }
}

impl std::fmt::Debug for ConfluentConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("ConfluentConsumer").finish_non_exhaustive()
    }
}

fn ktp(tp: &TopicPartition) -> KTopicPartition {
    KTopicPartition::new(tp.topic.as_str(), tp.partition)
}

fn tp_of(k: &KTopicPartition) -> TopicPartition {
    TopicPartition::new(k.topic(), k.partition())
}

fn ktps(tps: &[TopicPartition]) -> Vec<KTopicPartition> {
    tps.iter().map(ktp).collect()
}

fn offsets_map(
    offsets: &[(TopicPartition, i64)],
) -> Result<HashMap<KTopicPartition, OffsetAndMetadata>, ClientError> {
    offsets
        .iter()
        .map(|(tp, o)| Ok((ktp(tp), OffsetAndMetadata::new(*o).map_err(client_error)?)))
        .collect()
}

impl ConfluentConsumer {
    /// Creates the consumer from confluent-kafka properties (`bootstrap.servers`, `group.id`,
    /// …). `group.protocol` defaults to `consumer` (KIP-848, the only one confluent-kafka
    /// speaks); `enable.auto.commit` (default `true`) and `auto.commit.interval.ms` (default
    /// 5000) are the transport's own (see the [module documentation](self)).
    pub fn new(properties: &Properties) -> Result<Self, ClientError> {
        let mut props = properties.clone();
        let flag = |v: Option<String>| v.map(|v| v.trim().eq_ignore_ascii_case("true"));
        let auto_commit = flag(props.remove("enable.auto.commit")).unwrap_or(true);
        let interval = match props.remove("auto.commit.interval.ms") {
            None => Duration::from_secs(5),
            Some(ms) => Duration::from_millis(ms.trim().parse().map_err(|_| {
                client_error(KafkaError::config_name_value_message(
                    "auto.commit.interval.ms",
                    &ms,
                    "must be a number of milliseconds",
                ))
            })?),
        };
        props.insert("enable.auto.commit".into(), "false".into());
        props
            .entry("group.protocol".into())
            .or_insert_with(|| "consumer".into());
        let config = ConsumerConfig::new(&props).map_err(client_error)?;
        let consumer = RawConsumer::new(config, Serde::key(BytesSerde), Serde::value(BytesSerde))
            .map_err(client_error)?;
        let handle = consumer.handle();
        Ok(ConfluentConsumer {
            state: State::Idle(Box::new(consumer)),
            shared: Arc::new(Shared {
                callback: Mutex::new(None),
                stored: Mutex::new(HashMap::new()),
                auto_commit,
                handle,
            }),
            ops: Vec::new(),
            buffer: VecDeque::new(),
            positions: HashMap::new(),
            manual: None,
            auto_commit_interval: interval,
            last_auto_commit: Instant::now(),
            closing: false,
        })
    }

    /// Finishes a `poll` in flight (keeping its records) and applies the queued calls; returns
    /// the consumer.
    async fn settle(&mut self) -> Result<&mut RawConsumer, ClientError> {
        if let State::Polling(f) = &mut self.state {
            let (consumer, got) = f.as_mut().await;
            self.state = State::Idle(consumer);
            self.take_records(got)?;
        }
        let State::Idle(consumer) = &mut self.state else {
            return Err(ClientError::IllegalState(
                "the consumer was lost by a cancelled call".into(),
            ));
        };
        // One at a time, removed once applied: a cancelled call leaves the rest queued.
        while let Some(op) = self.ops.first() {
            let r = match op {
                Op::Subscribe(topics) => {
                    let listener = Arc::new(Listener(self.shared.clone()));
                    consumer
                        .subscribe_with_topics_listener(topics.clone(), listener)
                        .await
                }
                Op::Assign(tps) => consumer.assign(tps.clone()).await,
                Op::Seek(tp, o) => consumer.seek_with_offset(tp.clone(), *o).await,
                Op::SeekToBeginning(tps) => consumer.seek_to_beginning(tps).await,
                Op::SeekToEnd(tps) => consumer.seek_to_end(tps).await,
                Op::Pause(tps) => consumer.pause(tps).await,
                Op::Resume(tps) => consumer.resume(tps).await,
            };
            self.ops.remove(0);
            r.map_err(client_error)?;
        }
        Ok(consumer)
    }

    fn take_records(
        &mut self,
        got: Result<ConsumerRecords<Bytes, Bytes>, KafkaError>,
    ) -> Result<(), ClientError> {
        let records = got.map_err(client_error)?;
        let assigned = self.shared.handle.assignment();
        // The queued calls were all made after this poll started: records of a partition
        // sought or reassigned since are dropped, and those of a partition paused since are
        // fetched again after the resume (confluent-kafka's position moves back to them).
        let mut moved = std::collections::HashSet::new();
        let mut paused = std::collections::HashSet::new();
        for op in &self.ops {
            match op {
                Op::Seek(tp, _) => {
                    moved.insert(tp.clone());
                }
                Op::SeekToBeginning(tps) | Op::SeekToEnd(tps) | Op::Assign(tps) => {
                    moved.extend(tps.iter().cloned())
                }
                Op::Pause(tps) => paused.extend(tps.iter().cloned()),
                Op::Subscribe(_) | Op::Resume(_) => {}
            }
        }
        let mut refetch: HashMap<KTopicPartition, i64> = HashMap::new();
        for r in records {
            let tp = KTopicPartition::new(r.topic(), r.partition());
            // Fetched before the partition was revoked, or moved since.
            if !assigned.contains(&tp) || moved.contains(&tp) {
                continue;
            }
            if paused.contains(&tp) {
                refetch.entry(tp).or_insert(r.offset());
                continue;
            }
            let headers: Headers = r
                .headers()
                .iter()
                .map(|h| Header::new(h.key(), h.value().map(Bytes::copy_from_slice)))
                .collect();
            let ts = r.timestamp();
            let timestamp_type = match r.timestamp_type() {
                _ if ts < 0 => None,
                KTimestampType::CreateTime => Some(TimestampType::CreateTime),
                KTimestampType::LogAppendTime => Some(TimestampType::LogAppendTime),
                // `NoTimestampType` (magic v0) and any later one
                _ => None,
            };
            self.buffer.push_back(ConsumerRecord {
                topic: Arc::from(r.topic()),
                partition: r.partition(),
                offset: r.offset(),
                timestamp: timestamp_type.and(Some(ts)),
                timestamp_type,
                key: r.key().cloned(),
                value: r.value().cloned(),
                headers,
            });
        }
        for (tp, first) in refetch {
            self.ops.insert(0, Op::Seek(tp, first));
        }
        Ok(())
    }

    /// Drops buffered records of `partitions`; returns the first dropped offset of each.
    fn unbuffer(&mut self, partitions: &[TopicPartition]) -> HashMap<TopicPartition, i64> {
        let mut first = HashMap::new();
        self.buffer.retain(|r| {
            let hit = partitions
                .iter()
                .any(|tp| tp.partition == r.partition && tp.topic == *r.topic);
            if hit {
                first
                    .entry(TopicPartition::new(&*r.topic, r.partition))
                    .or_insert(r.offset);
            }
            !hit
        });
        first
    }

    async fn auto_commit(&mut self) -> Result<(), ClientError> {
        if !self.shared.auto_commit || self.last_auto_commit.elapsed() < self.auto_commit_interval {
            return Ok(());
        }
        self.last_auto_commit = Instant::now();
        let offsets = offsets_map(&self.stored_offsets())?;
        if offsets.is_empty() {
            return Ok(());
        }
        let consumer = self.settle().await?;
        // Java's auto-commit is asynchronous; a failure is retried at the next interval.
        let _ = consumer
            .commit_async_with_offsets_callback(offsets, Arc::new(IgnoreCommit))
            .await;
        Ok(())
    }

    /// Commits `offsets` without waiting for the outcome (Java's `commitAsync`); a failure is
    /// not reported.
    pub async fn commit_async(
        &mut self,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), ClientError> {
        let offsets = offsets_map(offsets)?;
        let consumer = self.settle().await?;
        consumer
            .commit_async_with_offsets_callback(offsets, Arc::new(IgnoreCommit))
            .await
            .map_err(client_error)
    }
}

struct IgnoreCommit;

#[async_trait::async_trait]
impl confluent_kafka::consumer::OffsetCommitCallback for IgnoreCommit {
    async fn on_complete(
        &self,
        _offsets: &HashMap<KTopicPartition, OffsetAndMetadata>,
        _error: Option<&KafkaError>,
    ) -> Result<(), KafkaError> {
        Ok(())
    }
}

/// The rebalance listener: runs the typed consumer's callback on a blocking thread, where it
/// may commit synchronously through the consumer's handle.
struct Listener(Arc<Shared>);

impl Listener {
    async fn call(&self, event: RebalanceEvent, lost: bool) -> Result<(), KafkaError> {
        let shared = self.0.clone();
        let partitions = match &event {
            RebalanceEvent::Revoked(p) | RebalanceEvent::Assigned(p) => p.clone(),
        };
        let revoked = matches!(event, RebalanceEvent::Revoked(_));
        // The transport's own commit before partitions go (auto-commit on, not lost).
        if revoked && !lost && shared.auto_commit {
            let stored: Vec<_> = {
                let s = shared.stored.lock();
                partitions
                    .iter()
                    .filter_map(|tp| s.get(tp).map(|o| (tp.clone(), *o)))
                    .collect()
            };
            if let Ok(offsets) = offsets_map(&stored)
                && !offsets.is_empty()
            {
                shared.handle.commit_sync_with_offsets(offsets).await?;
            }
        }
        let cb = shared.callback.lock().take();
        if let Some(mut cb) = cb {
            let runtime = tokio::runtime::Handle::current();
            let committer_shared = shared.clone();
            let cb = tokio::task::spawn_blocking(move || {
                cb(
                    &event,
                    &mut Committer {
                        runtime,
                        shared: committer_shared,
                        lost,
                    },
                );
                cb
            })
            .await
            .map_err(|e| {
                KafkaError::kafka_message(format!("the rebalance callback panicked: {e}"))
            })?;
            let mut slot = shared.callback.lock();
            if slot.is_none() {
                *slot = Some(cb);
            }
        }
        if revoked {
            let mut s = shared.stored.lock();
            for tp in &partitions {
                s.remove(tp);
            }
        }
        Ok(())
    }
}

#[async_trait::async_trait]
impl ConsumerRebalanceListener for Listener {
    async fn on_partitions_revoked(
        &self,
        partitions: &[KTopicPartition],
    ) -> Result<(), KafkaError> {
        let p = partitions.iter().map(tp_of).collect();
        self.call(RebalanceEvent::Revoked(p), false).await
    }

    async fn on_partitions_assigned(
        &self,
        partitions: &[KTopicPartition],
    ) -> Result<(), KafkaError> {
        let p = partitions.iter().map(tp_of).collect();
        self.call(RebalanceEvent::Assigned(p), false).await
    }

    async fn on_partitions_lost(&self, partitions: &[KTopicPartition]) -> Result<(), KafkaError> {
        let p = partitions.iter().map(tp_of).collect();
        self.call(RebalanceEvent::Revoked(p), true).await
    }
}

/// A synchronous commit from the rebalance callback's blocking thread.
struct Committer {
    runtime: tokio::runtime::Handle,
    shared: Arc<Shared>,
    lost: bool,
}

impl RebalanceCommitter for Committer {
    fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        if self.lost {
            return Err(ClientError::IllegalState(
                "cannot commit: the partitions were lost (the member left its group)".into(),
            ));
        }
        let offsets = offsets_map(offsets)?;
        self.runtime
            .block_on(self.shared.handle.commit_sync_with_offsets(offsets))
            .map_err(client_error)
    }

    fn lost(&self) -> bool {
        self.lost
    }

    fn stored_offset(&self, tp: &TopicPartition) -> Option<i64> {
        self.shared.stored.lock().get(tp).copied()
    }
}

impl ConsumerTransport for ConfluentConsumer {
    fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError> {
        self.manual = None;
        self.ops.push(Op::Subscribe(
            topics.iter().map(|t| (*t).to_owned()).collect(),
        ));
        Ok(())
    }

    fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.buffer.retain(|r| {
            partitions
                .iter()
                .any(|tp| tp.partition == r.partition && tp.topic == *r.topic)
        });
        self.positions.retain(|tp, _| partitions.contains(tp));
        self.shared
            .stored
            .lock()
            .retain(|tp, _| partitions.contains(tp));
        self.manual = Some(partitions.to_vec());
        self.ops.push(Op::Assign(ktps(partitions)));
        Ok(())
    }

    /// Cancel-safe: a `poll` of confluent-kafka's consumer in flight when this future is
    /// dropped is finished by the next call, and its records kept.
    async fn poll(&mut self, timeout: Duration) -> Result<Option<ConsumerRecord>, ClientError> {
        let deadline = Instant::now().checked_add(timeout);
        self.settle().await?;
        self.auto_commit().await?;
        loop {
            if let Some(r) = self.buffer.pop_front() {
                self.positions
                    .insert(TopicPartition::new(&*r.topic, r.partition), r.offset + 1);
                return Ok(Some(r));
            }
            let left = deadline.map_or(timeout, |d| d.saturating_duration_since(Instant::now()));
            if let State::Idle(_) = self.state {
                let State::Idle(mut consumer) = std::mem::replace(&mut self.state, State::Moved)
                else {
                    unreachable!("checked above")
                };
                self.state = State::Polling(Box::pin(async move {
                    let got = consumer.poll(left).await;
                    (consumer, got)
                }));
            }
            self.settle().await?;
            if self.buffer.is_empty() && deadline.is_some_and(|d| Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    fn store_offset(&mut self, topic: &Arc<str>, partition: i32, next_offset: i64) {
        let tp = TopicPartition::new(&**topic, partition);
        let owned = match &self.manual {
            Some(m) => m.contains(&tp),
            None => self.shared.handle.assignment().contains(&ktp(&tp)),
        };
        if owned {
            self.shared.stored.lock().insert(tp, next_offset);
        }
    }

    fn stored_offsets(&self) -> Vec<(TopicPartition, i64)> {
        let mut v: Vec<_> = self
            .shared
            .stored
            .lock()
            .iter()
            .map(|(tp, o)| (tp.clone(), *o))
            .collect();
        v.sort();
        v
    }

    /// confluent-kafka's `commit_sync_with_offsets`.
    async fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        let offsets = offsets_map(offsets)?;
        let consumer = self.settle().await?;
        consumer
            .commit_sync_with_offsets(offsets)
            .await
            .map_err(client_error)
    }

    async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError> {
        let k = ktps(partitions);
        let consumer = self.settle().await?;
        let got = consumer.committed(&k).await.map_err(client_error)?;
        Ok(partitions
            .iter()
            .zip(&k)
            .map(|(tp, k)| {
                let o = got.get(k).and_then(|o| o.as_ref()).map(|o| o.offset());
                (tp.clone(), o)
            })
            .collect())
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        if offset < 0 {
            return Err(client_error(KafkaError::local_illegal_argument(format!(
                "seek offset must not be a negative number: {offset}"
            ))));
        }
        self.unbuffer(std::slice::from_ref(tp));
        self.positions.insert(tp.clone(), offset);
        self.ops.push(Op::Seek(ktp(tp), offset));
        Ok(())
    }

    fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.unbuffer(partitions);
        self.positions.retain(|tp, _| !partitions.contains(tp));
        self.ops.push(Op::SeekToBeginning(ktps(partitions)));
        Ok(())
    }

    fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.unbuffer(partitions);
        self.positions.retain(|tp, _| !partitions.contains(tp));
        self.ops.push(Op::SeekToEnd(ktps(partitions)));
        Ok(())
    }

    fn position(&mut self, tp: &TopicPartition) -> Result<Option<i64>, ClientError> {
        let buffered = self
            .buffer
            .iter()
            .find(|r| r.partition == tp.partition && *r.topic == *tp.topic)
            .map(|r| r.offset);
        Ok(buffered.or_else(|| self.positions.get(tp).copied()))
    }

    /// Buffered records of the paused partitions are dropped and confluent-kafka's position
    /// moved back to the first of them, so they are fetched again after the resume.
    fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        for (tp, first) in self.unbuffer(partitions) {
            self.ops.push(Op::Seek(ktp(&tp), first));
        }
        self.ops.push(Op::Pause(ktps(partitions)));
        Ok(())
    }

    fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.ops.push(Op::Resume(ktps(partitions)));
        Ok(())
    }

    fn assignment(&self) -> Result<Vec<TopicPartition>, ClientError> {
        if let Some(m) = &self.manual {
            return Ok(m.clone());
        }
        let mut v: Vec<_> = self.shared.handle.assignment().iter().map(tp_of).collect();
        v.sort();
        Ok(v)
    }

    fn set_rebalance_callback(&mut self, callback: RebalanceCallback) {
        *self.shared.callback.lock() = Some(callback);
    }

    /// Commits the stored offsets when auto-commit is on, then closes confluent-kafka's
    /// consumer (which runs the revocation callback and leaves the group).
    async fn close(mut self) -> Result<(), ClientError> {
        self.closing = true;
        let stored = self.stored_offsets();
        let auto = self.shared.auto_commit;
        let consumer = self.settle().await?;
        if auto && !stored.is_empty() {
            consumer
                .commit_sync_with_offsets(offsets_map(&stored)?)
                .await
                .map_err(client_error)?;
        }
        consumer.close().await.map_err(client_error)
    }
}
