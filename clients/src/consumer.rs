//! The typed consumer.

use crate::transport::{
    ConsumerTransport, ProducerTransport, Queued, RebalanceCommitter, RebalanceEvent,
    TopicPartition,
};
use crate::{ClientError, DeserializationError};
use bytes::Bytes;
use kcodec_codecs::{DeserializeContext, Deserializer, Target, resolve};
use kcodec_record::{ConsumerRecord, ProducerRecord};
use parking_lot::Mutex;
use std::future::Future;
use std::sync::Arc;
use std::time::Duration;

/// Sends raw records to a dead-letter topic (object-safe view of a [`ProducerTransport`]).
trait DeadLetterSink: Send + Sync {
    fn enqueue(&self, record: ProducerRecord) -> Result<Queued, ClientError>;
}

impl<P: ProducerTransport> DeadLetterSink for P {
    fn enqueue(&self, record: ProducerRecord) -> Result<Queued, ClientError> {
        ProducerTransport::enqueue(self, record)
    }
}

/// A dead-letter topic and the transport that writes to it.
///
/// A record that fails to deserialize is forwarded there with its key and value bytes and
/// headers unchanged, plus the headers `kcodec.dlt.topic`, `kcodec.dlt.partition`,
/// `kcodec.dlt.offset` (decimal text) and `kcodec.dlt.error` (the error chain as text).
#[derive(Clone)]
pub struct DeadLetterQueue {
    topic: Arc<str>,
    sink: Arc<dyn DeadLetterSink>,
}

impl std::fmt::Debug for DeadLetterQueue {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("DeadLetterQueue")
            .field("topic", &self.topic)
            .finish_non_exhaustive()
    }
}

impl DeadLetterQueue {
    /// Dead letters go to `topic` through `transport`.
    pub fn new(topic: impl Into<Arc<str>>, transport: impl ProducerTransport) -> Self {
        DeadLetterQueue {
            topic: topic.into(),
            sink: Arc::new(transport),
        }
    }

    /// The dead-letter topic.
    pub fn topic(&self) -> &str {
        &self.topic
    }
}

/// What the consumer does with a record that fails to deserialize.
#[derive(Debug, Clone, Default)]
pub enum OnDeserializeError {
    /// Return [`ClientError::Deserialization`] from `poll`/`recv` and stay at the record, as
    /// Kafka's Java consumer does with its `RecordDeserializationException` (the default).
    ///
    /// The record is not marked consumed, so no commit (explicit, automatic or on close) passes
    /// it: its partition is sought back to it, and later `poll`/`recv` calls fetch it again
    /// through the transport (which keeps serving the group protocol, rebalance callbacks and
    /// `max.poll.interval.ms` included) and fail again (unless the cause was transient, such as
    /// an unreachable registry). No record after it in its partition is returned; records of
    /// other partitions already fetched may be. To go on, skip it with
    /// [`Consumer::skip_failed_record`] (marks it consumed) or [`Consumer::seek`] its partition
    /// elsewhere.
    #[default]
    Fail,
    /// Skip it (marked consumed; counted in [`Consumer::skipped`]).
    Skip,
    /// Forward it to a dead-letter topic, then go on (marked consumed once delivered). If the
    /// forwarding fails, `poll` returns that error and the next `poll` tries again; if the
    /// `poll` is cancelled while the dead letter is in flight, the next `poll` forwards the
    /// record again: dead letters are written at least once.
    DeadLetter(DeadLetterQueue),
}

type BoxDe<T> = Arc<dyn Deserializer<T> + Send + Sync>;

/// A decode that had to await its codec's `resolve` (a registry lookup), kept across
/// cancelled polls so that its progress is not lost.
type DecodeFuture<K, V> = std::pin::Pin<
    Box<dyn Future<Output = Result<ConsumerRecord<K, V>, (Target, kcodec_codecs::Error)>> + Send>,
>;

/// A rebalance callback that may commit (see [`ConsumerBuilder::on_rebalance_with`]).
type ContextCallback = Box<dyn FnMut(&mut RebalanceContext<'_>) + Send>;

/// What a rebalance callback installed with [`ConsumerBuilder::on_rebalance_with`] sees and may
/// do: the event, the positions the application reached on the revoked partitions, and a
/// synchronous commit while the partitions are still owned (Kafka's `commitSync` in
/// `onPartitionsRevoked`).
pub struct RebalanceContext<'a> {
    event: &'a RebalanceEvent,
    committer: &'a mut dyn RebalanceCommitter,
    consumed: Vec<(TopicPartition, i64)>,
}

impl std::fmt::Debug for RebalanceContext<'_> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RebalanceContext")
            .field("event", self.event)
            .field("lost", &self.committer.lost())
            .field("consumed", &self.consumed)
            .finish()
    }
}

impl RebalanceContext<'_> {
    /// The event.
    pub fn event(&self) -> &RebalanceEvent {
        self.event
    }

    /// Whether revoked partitions were lost (the member was expelled from its group): commits
    /// fail then, since another member may own the partitions already.
    pub fn is_lost(&self) -> bool {
        self.committer.lost()
    }

    /// For a revocation: the next offset after the last record returned (or skipped) from each
    /// revoked partition that returned any; empty for an assignment.
    pub fn consumed_positions(&self) -> &[(TopicPartition, i64)] {
        &self.consumed
    }

    /// Commits [`consumed_positions`](Self::consumed_positions) synchronously (nothing to do
    /// when it is empty).
    pub fn commit(&mut self) -> Result<(), ClientError> {
        if self.consumed.is_empty() {
            return Ok(());
        }
        self.committer.commit(&self.consumed)
    }

    /// Commits explicit offsets (each the next offset to read) synchronously.
    pub fn commit_offsets(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        self.committer.commit(offsets)
    }
}

/// State the typed consumer shares with its rebalance callback: partitions revoked or lost
/// since it last looked (a record it holds of one of them goes). What was consumed is kept by
/// the transport alone ([`ConsumerTransport::stored_offsets`]).
#[derive(Default)]
struct Shared {
    revoked: Vec<TopicPartition>,
}

/// A fetched record not yet handed to the application.
struct Pending<K, V> {
    raw: ConsumerRecord,
    /// The decode in flight, when it had to wait for its codec.
    decoding: Option<DecodeFuture<K, V>>,
    /// It failed to deserialize under [`OnDeserializeError::Fail`].
    failed: bool,
}

/// A typed consumer: fetches with its transport, deserializes keys and values.
///
/// `K`/`V` are the key and value types; a nullable key or value is an `Option<_>` with a
/// deserializer that maps null to `None` (the built-ins do).
///
/// Offsets follow Kafka's Java consumer: [`commit`](Self::commit), auto-commit, the commit
/// before partitions are revoked and [`close`](Self::close) commit the offset after the last
/// record `poll`/`recv` *returned* (or skipped) per partition, never past a record fetched but
/// not yet returned.
pub struct Consumer<K, V, T> {
    transport: T,
    key_de: BoxDe<K>,
    value_de: BoxDe<V>,
    policy: OnDeserializeError,
    shared: Arc<Mutex<Shared>>,
    pending: Option<Pending<K, V>>,
    /// The last record that failed under [`OnDeserializeError::Fail`] and was given back to
    /// the transport (its partition sought back to it).
    failed_at: Option<(TopicPartition, i64)>,
    skipped: u64,
    dead_lettered: u64,
}

impl<K, V, T: std::fmt::Debug> std::fmt::Debug for Consumer<K, V, T> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Consumer")
            .field("transport", &self.transport)
            .field("policy", &self.policy)
            .finish_non_exhaustive()
    }
}

/// Builds a [`Consumer`].
pub struct ConsumerBuilder<K, V, T> {
    transport: T,
    key_de: BoxDe<K>,
    value_de: BoxDe<V>,
    policy: OnDeserializeError,
    callback: Option<ContextCallback>,
}

impl<K: Send + 'static, V: Send + 'static, T: ConsumerTransport> ConsumerBuilder<K, V, T> {
    /// The policy for records that fail to deserialize (default: fail).
    pub fn on_deserialize_error(mut self, policy: OnDeserializeError) -> Self {
        self.policy = policy;
        self
    }

    /// A callback for partitions assigned and revoked in group rebalances (replaces one set
    /// with [`on_rebalance_with`](Self::on_rebalance_with)).
    pub fn on_rebalance(
        mut self,
        mut callback: impl FnMut(&RebalanceEvent) + Send + 'static,
    ) -> Self {
        self.callback = Some(Box::new(move |ctx: &mut RebalanceContext<'_>| {
            callback(ctx.event())
        }));
        self
    }

    /// A rebalance callback with a [`RebalanceContext`]: it may commit what was consumed from
    /// the revoked partitions before they go (Kafka's `onPartitionsRevoked` → `commitSync`).
    /// Replaces one set with [`on_rebalance`](Self::on_rebalance).
    ///
    /// ```
    /// # #[cfg(feature = "memory")] {
    /// use kcodec_clients::memory::{MemoryConsumer, broker::{Cluster, ConsumerConfig}};
    /// use kcodec_clients::{Consumer, RebalanceEvent};
    /// use kcodec_codecs::builtin::StringSerde;
    ///
    /// let cluster = Cluster::builder().build();
    /// let config = ConsumerConfig::new("billing").enable_auto_commit(false);
    /// let consumer: Consumer<String, String, _> =
    ///     Consumer::builder(MemoryConsumer::new(&cluster, config).unwrap(), StringSerde, StringSerde)
    ///         .on_rebalance_with(|ctx| {
    ///             if matches!(ctx.event(), RebalanceEvent::Revoked(_)) && !ctx.is_lost() {
    ///                 ctx.commit().expect("commit before the partitions go");
    ///             }
    ///         })
    ///         .build();
    /// # drop(consumer);
    /// # }
    /// ```
    pub fn on_rebalance_with(
        mut self,
        callback: impl FnMut(&mut RebalanceContext<'_>) + Send + 'static,
    ) -> Self {
        self.callback = Some(Box::new(callback));
        self
    }

    /// Builds the consumer (not yet subscribed or assigned).
    pub fn build(self) -> Consumer<K, V, T> {
        let mut transport = self.transport;
        let shared = Arc::new(Mutex::new(Shared::default()));
        let sink = shared.clone();
        let mut user = self.callback;
        transport.set_rebalance_callback(Box::new(
            move |event: &RebalanceEvent, committer: &mut dyn RebalanceCommitter| {
                let consumed = match event {
                    RebalanceEvent::Revoked(tps) => tps
                        .iter()
                        .filter_map(|tp| committer.stored_offset(tp).map(|o| (tp.clone(), o)))
                        .collect(),
                    RebalanceEvent::Assigned(_) => Vec::new(),
                };
                if let Some(cb) = user.as_mut() {
                    cb(&mut RebalanceContext {
                        event,
                        committer,
                        consumed,
                    });
                }
                if let RebalanceEvent::Revoked(tps) = event {
                    sink.lock().revoked.extend(tps.iter().cloned());
                }
            },
        ));
        Consumer {
            transport,
            key_de: self.key_de,
            value_de: self.value_de,
            policy: self.policy,
            shared,
            pending: None,
            failed_at: None,
            skipped: 0,
            dead_lettered: 0,
        }
    }
}

impl<K: Send + 'static, V: Send + 'static, T: ConsumerTransport> Consumer<K, V, T> {
    /// A builder over `transport` with a key and a value deserializer.
    pub fn builder(
        transport: T,
        key_deserializer: impl Deserializer<K> + Send + Sync + 'static,
        value_deserializer: impl Deserializer<V> + Send + Sync + 'static,
    ) -> ConsumerBuilder<K, V, T> {
        ConsumerBuilder {
            transport,
            key_de: Arc::new(key_deserializer),
            value_de: Arc::new(value_deserializer),
            policy: OnDeserializeError::Fail,
            callback: None,
        }
    }

    /// A consumer with the default policy and no rebalance callback.
    pub fn new(
        transport: T,
        key_deserializer: impl Deserializer<K> + Send + Sync + 'static,
        value_deserializer: impl Deserializer<V> + Send + Sync + 'static,
    ) -> Self {
        Self::builder(transport, key_deserializer, value_deserializer).build()
    }

    /// Joins the group with a subscription.
    pub fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError> {
        self.transport.subscribe(topics)
    }

    /// Reads `partitions` without a group subscription. A record fetched but not yet returned
    /// is fetched again when its partition stays assigned; what was consumed from partitions
    /// that stay is kept for commits. On error (e.g. while subscribed) nothing changes.
    pub fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        if let Some(p) = self.pending.as_ref() {
            // Give the record back first (as `pause` does): a partition that stays assigned
            // keeps its position, which is past the record.
            let tp = TopicPartition::new(&*p.raw.topic, p.raw.partition);
            self.transport.seek(&tp, p.raw.offset)?;
            self.pending = None;
        }
        self.transport.assign(partitions)?;
        if self
            .failed_at
            .as_ref()
            .is_some_and(|(tp, _)| !partitions.contains(tp))
        {
            self.failed_at = None;
        }
        Ok(())
    }

    /// The next record, waiting as long as it takes.
    ///
    /// Cancel-safe, like [`poll`](Self::poll): dropping the future (in `select!` or a
    /// timeout) loses no record.
    pub async fn recv(&mut self) -> Result<ConsumerRecord<K, V>, ClientError> {
        loop {
            if let Some(r) = self.poll(Duration::from_secs(1)).await? {
                return Ok(r);
            }
        }
    }

    /// The next record, or `None` when none came within `timeout`.
    ///
    /// Cancel-safe: a record is handed over (and marked consumed) only when this future
    /// completes with it. When the future is dropped earlier (in `select!` or a timeout, e.g.
    /// while a schema is being looked up in the registry), the record is kept and the next
    /// call returns it; a decode waiting for the registry is kept too and goes on where it
    /// was, so a poll that is cancelled again and again still makes progress.
    ///
    /// A record that fails to deserialize is handled by the [`OnDeserializeError`] policy;
    /// with [`OnDeserializeError::Fail`] every call returns the same error until the record
    /// is skipped or its partition sought elsewhere.
    pub async fn poll(
        &mut self,
        timeout: Duration,
    ) -> Result<Option<ConsumerRecord<K, V>>, ClientError> {
        // A timeout too large to represent (`Duration::MAX`) waits without a deadline.
        let deadline = tokio::time::Instant::now().checked_add(timeout);
        loop {
            if self.pending.as_ref().is_some_and(|p| p.failed) {
                // Staying at a failed record: keep the group membership alive, and let a
                // rebalance that takes the partition away release it.
                let r = self.transport.coordinate();
                self.apply_rebalances();
                r?;
            }
            if self.pending.is_none() {
                let left = deadline.map_or(timeout, |d| {
                    d.saturating_duration_since(tokio::time::Instant::now())
                });
                let raw = self.transport.poll(left).await;
                self.apply_rebalances();
                let Some(raw) = raw? else { return Ok(None) };
                self.pending = Some(Pending {
                    raw,
                    decoding: None,
                    failed: false,
                });
            }
            let Some(pending) = self.pending.as_mut() else {
                continue;
            };
            let result = match pending.decoding.as_mut() {
                // A decode that a cancelled poll left waiting for its codec goes on.
                Some(fut) => fut.as_mut().await,
                None => match decode_now(&*self.key_de, &*self.value_de, &pending.raw) {
                    Some(done) => done,
                    None => {
                        let fut = pending.decoding.insert(Box::pin(decode(
                            self.key_de.clone(),
                            self.value_de.clone(),
                            pending.raw.clone(),
                        )));
                        fut.as_mut().await
                    }
                },
            };
            let Some(pending) = self.pending.as_mut() else {
                continue;
            };
            pending.decoding = None;
            let raw = &pending.raw;
            match result {
                Ok(rec) => {
                    self.consume_pending();
                    return Ok(Some(rec));
                }
                Err((target, source)) => {
                    let err = DeserializationError {
                        topic: raw.topic.to_string(),
                        partition: raw.partition,
                        offset: raw.offset,
                        target,
                        key: raw.key.clone(),
                        value: raw.value.clone(),
                        headers: raw.headers.clone(),
                        source,
                    };
                    match &self.policy {
                        OnDeserializeError::Fail => {
                            // Give the record back: the next poll fetches it again through
                            // the transport (serving the group protocol meanwhile) and fails
                            // again. Only when the seek fails is it held here.
                            let tp = TopicPartition::new(&*raw.topic, raw.partition);
                            let offset = raw.offset;
                            if self.transport.seek(&tp, offset).is_ok() {
                                self.pending = None;
                                self.failed_at = Some((tp, offset));
                            } else if let Some(p) = self.pending.as_mut() {
                                p.failed = true;
                            }
                            return Err(ClientError::Deserialization(Box::new(err)));
                        }
                        OnDeserializeError::Skip => {
                            self.skipped += 1;
                            self.consume_pending();
                        }
                        OnDeserializeError::DeadLetter(dlq) => {
                            dead_letter(dlq, raw, &err).await?;
                            self.dead_lettered += 1;
                            self.consume_pending();
                        }
                    }
                }
            }
            if deadline.is_some_and(|d| tokio::time::Instant::now() >= d) {
                return Ok(None);
            }
        }
    }

    /// The records as a `Stream` (each item as [`recv`](Self::recv) returns it; the stream
    /// never ends). The stream is `Unpin` (boxed once per call), so `stream().next()` works
    /// without pinning; dropping a pending `next()` loses no record.
    pub fn stream(
        &mut self,
    ) -> futures_util::stream::BoxStream<'_, Result<ConsumerRecord<K, V>, ClientError>>
    where
        K: Send,
        V: Send,
    {
        Box::pin(futures_util::stream::unfold(self, |c| async move {
            let r = c.recv().await;
            Some((r, c))
        }))
    }

    /// Skips the record that failed to deserialize under [`OnDeserializeError::Fail`]: marks
    /// it consumed (commits pass it; counted in [`skipped`](Self::skipped)) so that the next
    /// `poll` goes on after it. Returns its partition and offset, or `None` when no failed
    /// record is pending.
    pub fn skip_failed_record(&mut self) -> Option<(TopicPartition, i64)> {
        self.apply_rebalances();
        if let Some((tp, offset)) = self.failed_at.take() {
            if self.transport.seek(&tp, offset + 1).is_err() {
                self.failed_at = Some((tp, offset));
                return None;
            }
            self.drop_pending_of(std::slice::from_ref(&tp));
            let topic: Arc<str> = Arc::from(tp.topic.as_str());
            self.transport
                .store_offset(&topic, tp.partition, offset + 1);
            self.skipped += 1;
            return Some((tp, offset));
        }
        if !self.pending.as_ref().is_some_and(|p| p.failed) {
            return None;
        }
        let p = self.consume_pending()?;
        self.skipped += 1;
        Some((TopicPartition::new(&*p.topic, p.partition), p.offset))
    }

    /// Marks the pending record consumed and returns it.
    fn consume_pending(&mut self) -> Option<ConsumerRecord> {
        let raw = self.pending.take()?.raw;
        if self
            .failed_at
            .as_ref()
            .is_some_and(|(tp, _)| *tp.topic == *raw.topic && tp.partition == raw.partition)
        {
            // The failed record was fetched again and decoded this time (a transient cause).
            self.failed_at = None;
        }
        self.transport
            .store_offset(&raw.topic, raw.partition, raw.offset + 1);
        Some(raw)
    }

    /// Drops the pending record when its partition was revoked or lost.
    fn apply_rebalances(&mut self) {
        let revoked = std::mem::take(&mut self.shared.lock().revoked);
        if self
            .failed_at
            .as_ref()
            .is_some_and(|(tp, _)| revoked.contains(tp))
        {
            self.failed_at = None;
        }
        if let Some(p) = &self.pending
            && revoked
                .iter()
                .any(|tp| *tp.topic == *p.raw.topic && tp.partition == p.raw.partition)
        {
            self.pending = None;
        }
    }

    fn drop_pending_of(&mut self, tps: &[TopicPartition]) -> Option<ConsumerRecord> {
        if self
            .failed_at
            .as_ref()
            .is_some_and(|(tp, _)| tps.contains(tp))
        {
            self.failed_at = None;
        }
        let p = self.pending.as_ref()?;
        if tps
            .iter()
            .any(|tp| *tp.topic == *p.raw.topic && tp.partition == p.raw.partition)
        {
            self.pending.take().map(|p| p.raw)
        } else {
            None
        }
    }

    /// Commits, for each partition, the offset after the last record `poll`/`recv` returned
    /// (or skipped / dead-lettered) from it, or the offset it was sought to since.
    ///
    /// Waits for the outcome (Kafka's `commitSync`), off the runtime's worker threads.
    pub async fn commit(&mut self) -> Result<(), ClientError> {
        self.apply_rebalances();
        let offsets = self.transport.stored_offsets();
        if offsets.is_empty() {
            return Ok(());
        }
        self.transport.commit(&offsets).await
    }

    /// Commits the offset after `record` (as [`commit`](Self::commit), waits for the outcome).
    pub async fn commit_record(
        &mut self,
        record: &ConsumerRecord<K, V>,
    ) -> Result<(), ClientError> {
        self.transport
            .commit(&[(record.topic_partition(), record.offset + 1)])
            .await
    }

    /// Commits explicit offsets (each the next offset to read) and waits for the outcome.
    pub async fn commit_offsets(
        &mut self,
        offsets: &[(TopicPartition, i64)],
    ) -> Result<(), ClientError> {
        self.transport.commit(offsets).await
    }

    /// The group's committed offsets (Kafka's `committed`), off the runtime's worker threads.
    pub async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError> {
        self.transport.committed(partitions).await
    }

    /// What [`commit`](Self::commit) would commit: the next offset per assigned partition that
    /// returned records (or was sought), sorted, as the transport stored it
    /// ([`ConsumerTransport::stored_offsets`]).
    pub fn consumed_positions(&self) -> Vec<(TopicPartition, i64)> {
        self.transport.stored_offsets()
    }

    /// Moves a partition's position: the next record returned from it is at `offset`, and
    /// commits of this partition commit `offset` until a record of it is returned (as Kafka's
    /// `commitSync()` commits the position). Also how to go past a record that failed under
    /// [`OnDeserializeError::Fail`].
    pub fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        self.transport.seek(tp, offset)?;
        self.drop_pending_of(std::slice::from_ref(tp));
        let topic: Arc<str> = Arc::from(tp.topic.as_str());
        self.transport.store_offset(&topic, tp.partition, offset);
        Ok(())
    }

    /// Moves partitions (every assigned one when `partitions` is empty, as Kafka's
    /// `seekToBeginning`) to their first offset, resolved at the next fetch. Until a record of
    /// them is returned, commits (explicit, automatic, before they are revoked, on `close`)
    /// commit the offset after the last record returned from them before the seek, if any,
    /// as the transport stored it.
    pub fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let partitions = self.or_all_assigned(partitions)?;
        self.transport.seek_to_beginning(&partitions)?;
        self.drop_pending_of(&partitions);
        Ok(())
    }

    /// Moves partitions (every assigned one when `partitions` is empty, as Kafka's
    /// `seekToEnd`) to their end, resolved at the next fetch. Until a record of them is
    /// returned, commits (explicit, automatic, before they are revoked, on `close`) commit
    /// the offset after the last record returned from them before the seek, if any, as the
    /// transport stored it.
    pub fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let partitions = self.or_all_assigned(partitions)?;
        self.transport.seek_to_end(&partitions)?;
        self.drop_pending_of(&partitions);
        Ok(())
    }

    /// `partitions`, or every assigned partition when empty (Kafka's `seekToBeginning` and
    /// `seekToEnd` of an empty collection).
    fn or_all_assigned(
        &self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<TopicPartition>, ClientError> {
        if partitions.is_empty() {
            self.transport.assignment()
        } else {
            Ok(partitions.to_vec())
        }
    }

    /// The offset of the next record `poll` returns from an assigned partition (a record
    /// fetched but not yet returned counts as not consumed); `None` while unknown.
    pub fn position(&mut self, tp: &TopicPartition) -> Result<Option<i64>, ClientError> {
        if let Some(p) = &self.pending
            && *p.raw.topic == *tp.topic
            && p.raw.partition == tp.partition
        {
            return Ok(Some(p.raw.offset));
        }
        if let Some((failed, offset)) = &self.failed_at
            && failed == tp
        {
            // Sought back to the failed record (some transports know no position until the
            // next fetch).
            return Ok(Some(*offset));
        }
        self.transport.position(tp)
    }

    /// Stops returning records of `partitions` until [`resume`](Self::resume) (Kafka's
    /// `pause`); the group membership is kept.
    pub fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        if let Some(p) = self.pending.as_ref()
            && partitions
                .iter()
                .any(|tp| *tp.topic == *p.raw.topic && tp.partition == p.raw.partition)
        {
            // Give the record back: it is fetched again after the resume.
            let tp = TopicPartition::new(&*p.raw.topic, p.raw.partition);
            let offset = p.raw.offset;
            self.transport.seek(&tp, offset)?;
            self.pending = None;
        }
        self.transport.pause(partitions)
    }

    /// Resumes paused partitions.
    pub fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.transport.resume(partitions)
    }

    /// The current assignment, sorted.
    pub fn assignment(&self) -> Result<Vec<TopicPartition>, ClientError> {
        let mut v = self.transport.assignment()?;
        v.sort();
        Ok(v)
    }

    /// Closes the consumer (Kafka's `close`): with auto-commit on, commits what was returned;
    /// runs the revocation callback; leaves the group at once so that its partitions move
    /// without waiting for a session timeout. Off the runtime's worker threads. Dropping the
    /// consumer does the same without reporting errors.
    pub async fn close(self) -> Result<(), ClientError> {
        self.transport.close().await
    }

    /// How many records were skipped (the `Skip` policy and
    /// [`skip_failed_record`](Self::skip_failed_record)).
    pub fn skipped(&self) -> u64 {
        self.skipped
    }

    /// How many records went to the dead-letter topic.
    pub fn dead_lettered(&self) -> u64 {
        self.dead_lettered
    }

    /// The transport.
    pub fn transport(&self) -> &T {
        &self.transport
    }

    /// The transport, mutably.
    pub fn transport_mut(&mut self) -> &mut T {
        &mut self.transport
    }

    /// The transport back.
    pub fn into_transport(self) -> T {
        self.transport
    }
}

fn record<K, V>(raw: &ConsumerRecord, key: K, value: V) -> ConsumerRecord<K, V> {
    ConsumerRecord {
        topic: raw.topic.clone(),
        partition: raw.partition,
        offset: raw.offset,
        timestamp: raw.timestamp,
        timestamp_type: raw.timestamp_type,
        key,
        value,
        headers: raw.headers.clone(),
    }
}

/// Decodes on the synchronous path; `None` when a codec must first resolve something (await
/// [`decode`] then).
#[allow(clippy::type_complexity)]
fn decode_now<K, V>(
    key_de: &(dyn Deserializer<K> + Send + Sync),
    value_de: &(dyn Deserializer<V> + Send + Sync),
    raw: &ConsumerRecord,
) -> Option<Result<ConsumerRecord<K, V>, (Target, kcodec_codecs::Error)>> {
    let ctx = DeserializeContext::new(&raw.topic, Target::Key, &raw.headers);
    let key = match key_de.deserialize_bytes(raw.key.as_ref(), &ctx) {
        Ok(k) => k,
        Err(kcodec_codecs::Error::Unresolved(_)) => return None,
        Err(e) => return Some(Err((Target::Key, e))),
    };
    let ctx = DeserializeContext::new(&raw.topic, Target::Value, &raw.headers);
    let value = match value_de.deserialize_bytes(raw.value.as_ref(), &ctx) {
        Ok(v) => v,
        Err(kcodec_codecs::Error::Unresolved(_)) => return None,
        Err(e) => return Some(Err((Target::Value, e))),
    };
    Some(Ok(record(raw, key, value)))
}

/// Decodes, awaiting what the codecs must resolve (registry lookups).
async fn decode<K, V>(
    key_de: BoxDe<K>,
    value_de: BoxDe<V>,
    raw: ConsumerRecord,
) -> Result<ConsumerRecord<K, V>, (Target, kcodec_codecs::Error)> {
    let ctx = DeserializeContext::new(&raw.topic, Target::Key, &raw.headers);
    let key = resolve::deserialize(&*key_de, raw.key.as_ref(), &ctx)
        .await
        .map_err(|e| (Target::Key, e))?;
    let ctx = DeserializeContext::new(&raw.topic, Target::Value, &raw.headers);
    let value = resolve::deserialize(&*value_de, raw.value.as_ref(), &ctx)
        .await
        .map_err(|e| (Target::Value, e))?;
    Ok(record(&raw, key, value))
}

async fn dead_letter(
    dlq: &DeadLetterQueue,
    raw: &ConsumerRecord,
    err: &DeserializationError,
) -> Result<(), ClientError> {
    let mut headers = raw.headers.clone();
    headers.add("kcodec.dlt.topic", Bytes::from(raw.topic.to_string()));
    headers.add(
        "kcodec.dlt.partition",
        Bytes::from(raw.partition.to_string()),
    );
    headers.add("kcodec.dlt.offset", Bytes::from(raw.offset.to_string()));
    headers.add("kcodec.dlt.error", Bytes::from(error_chain(err)));
    let delivery = dlq.sink.enqueue(ProducerRecord {
        topic: dlq.topic.clone(),
        partition: None,
        key: raw.key.clone(),
        value: raw.value.clone(),
        headers,
        timestamp: raw.timestamp,
    })?;
    delivery.await?.await.map(|_| ())
}

fn error_chain(err: &dyn std::error::Error) -> String {
    let mut s = err.to_string();
    let mut cur = err.source();
    while let Some(e) = cur {
        s.push_str(": ");
        s.push_str(&e.to_string());
        cur = e.source();
    }
    s
}
