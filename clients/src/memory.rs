//! The in-memory transport: [`kcodec_broker`]'s producer and consumer under the typed clients.
//!
//! The broker stores the `Bytes` the producer hands it (no copy), partitions keys with Kafka's
//! murmur2 exactly as the Java client does, and runs consumer groups with rebalances and
//! commits. [`broker`] re-exports the whole broker crate for cluster administration (topics,
//! group descriptions, the lag table).
//!
//! # Test controls
//!
//! [`MemoryProducer`] has the controls of Kafka's `MockProducer`: a [history](MemoryProducer::history)
//! of the records it was given, and with [`auto_complete(false)`](MemoryProducer::auto_complete)
//! sends stay in flight until the test [completes](MemoryProducer::complete_next) or
//! [fails](MemoryProducer::error_next) the oldest one (in order, so per-key order holds);
//! `flush` completes them all. [`inject_send_errors`](MemoryProducer::inject_send_errors) fails
//! this producer's next send attempts (each attempt takes one error); retriable errors are
//! retried as Kafka's `Sender` retries them, within the [`ProducerConfig`]'s `retries` and
//! `delivery_timeout`. Injected produce errors for every producer are set on the [`Cluster`].
//!
//! [`MemoryConsumer`] takes consumer-side faults, each for the next `n` calls (1 for a one-shot
//! fault, as `MockConsumer.setPollException`):
//! [`inject_poll_errors`](MemoryConsumer::inject_poll_errors) (a poll fails, losing nothing),
//! [`inject_commit_errors`](MemoryConsumer::inject_commit_errors) (a commit fails, nothing
//! committed) and [`inject_coordinator_errors`](MemoryConsumer::inject_coordinator_errors) (a
//! round of the group protocol fails: skipped when the error is retriable, as Kafka's consumer
//! retries it, else returned by `poll`). Reach them through the typed consumer with
//! [`Consumer::transport_mut`](crate::Consumer::transport_mut).

use crate::ClientError;
use crate::transport::{
    ConsumerTransport, Delivered, ProducerTransport, Queued, RebalanceCallback, RebalanceCommitter,
    RebalanceEvent, TopicPartition, check_record,
};
pub use kcodec_broker as broker;
use kcodec_broker::{
    Cluster, ConsumerConfig, ConsumerRecord, ProducerConfig, ProducerRecord, RebalanceContext,
    RebalanceListener,
};
use parking_lot::Mutex;
use std::collections::VecDeque;
use std::sync::Arc;
use std::time::Duration;

/// A [`ProducerTransport`] over the in-memory broker, with `MockProducer`'s test controls
/// (see the [module documentation](self#test-controls)).
#[derive(Debug)]
pub struct MemoryProducer {
    producer: kcodec_broker::Producer,
    control: Mutex<Control>,
}

type Completion = tokio::sync::oneshot::Sender<Result<Delivered, ClientError>>;

#[derive(Debug)]
struct Control {
    auto_complete: bool,
    history: Vec<ProducerRecord>,
    /// Sends waiting for `complete_next` / `error_next`, oldest first.
    in_flight: VecDeque<(ProducerRecord, Completion)>,
}

impl MemoryProducer {
    /// A producer with the Java client's defaults (murmur2 for keys, uniform sticky without).
    pub fn new(cluster: &Cluster) -> Self {
        Self::with_config(cluster, ProducerConfig::default())
    }

    /// A producer with a broker producer config.
    pub fn with_config(cluster: &Cluster, config: ProducerConfig) -> Self {
        MemoryProducer {
            producer: cluster.producer(config),
            control: Mutex::new(Control {
                auto_complete: true,
                history: Vec::new(),
                in_flight: VecDeque::new(),
            }),
        }
    }

    /// With `false`, a send stays in flight (its future pending, nothing stored) until
    /// [`complete_next`](Self::complete_next) or [`error_next`](Self::error_next) (Kafka's
    /// `MockProducer(autoComplete = false)`). Default `true`.
    pub fn auto_complete(self, on: bool) -> Self {
        self.control.lock().auto_complete = on;
        self
    }

    /// Stores the oldest send in flight in the broker and completes its future with the
    /// outcome (`MockProducer.completeNext`); `false` when none is in flight.
    pub fn complete_next(&self) -> bool {
        let next = self.control.lock().in_flight.pop_front();
        match next {
            Some((rec, done)) => {
                let _ = done.send(self.store(rec));
                true
            }
            None => false,
        }
    }

    /// Fails the oldest send in flight with `error`, storing nothing
    /// (`MockProducer.errorNext`); `false` when none is in flight.
    pub fn error_next(&self, error: kcodec_broker::BrokerError) -> bool {
        let next = self.control.lock().in_flight.pop_front();
        match next {
            Some((_, done)) => {
                let _ = done.send(Err(ClientError::from(error)));
                true
            }
            None => false,
        }
    }

    /// Makes this producer's next `n` send attempts fail with `error` (other producers are not
    /// affected); a send retries a retriable error (`NotEnoughReplicas`, `RequestTimedOut`…)
    /// as Kafka's `Sender` does, each attempt taking the next injected error, until it
    /// succeeds, its `retries` run out or its `delivery_timeout` passes on the broker clock;
    /// it fails at once with a non-retriable one. With
    /// [`auto_complete(false)`](Self::auto_complete) the attempts are made by
    /// [`complete_next`](Self::complete_next).
    ///
    /// ```
    /// use kcodec_clients::memory::{MemoryProducer, broker::{BrokerError, Cluster, NewTopic}};
    /// use kcodec_clients::{ErrorKind, Producer, ProducerRecord};
    /// use kcodec_codecs::builtin::StringSerde;
    /// # tokio::runtime::Builder::new_current_thread().build().unwrap().block_on(async {
    /// let cluster = Cluster::builder().build();
    /// cluster.create_topic(NewTopic::new("t", 1, 1)).unwrap();
    /// let producer = Producer::new(MemoryProducer::new(&cluster), StringSerde, StringSerde);
    /// producer.transport().inject_send_errors(3, BrokerError::NotEnoughReplicas);
    /// let record = ProducerRecord::<String, _>::new("t", "v".to_string());
    /// assert_eq!(producer.send(record.clone()).await.unwrap().offset, 0); // retried 3 times
    /// producer.transport().inject_send_errors(1, BrokerError::RecordTooLarge);
    /// let err = producer.send(record).await.unwrap_err();
    /// assert_eq!(err.error.kind(), ErrorKind::InvalidRecord);
    /// # });
    /// ```
    pub fn inject_send_errors(&self, n: usize, error: kcodec_broker::BrokerError) {
        self.producer.inject_errors(n, error);
    }

    /// How many sends are in flight (always 0 with auto-completion).
    pub fn in_flight(&self) -> usize {
        self.control.lock().in_flight.len()
    }

    /// Every record this producer was given, in order, whatever became of it
    /// (`MockProducer.history()`), as serialized (a clone shares the key, value and header
    /// bytes with the broker's log: no copy).
    pub fn history(&self) -> Vec<ProducerRecord> {
        self.control.lock().history.clone()
    }

    /// Forgets the history (`MockProducer.clear()`; sends in flight stay).
    pub fn clear_history(&self) {
        self.control.lock().history.clear();
    }

    fn store(&self, rec: ProducerRecord) -> Result<Delivered, ClientError> {
        self.producer
            .send(rec)
            .map(|md| Delivered {
                partition: md.partition,
                offset: md.offset,
                timestamp: md.timestamp,
            })
            .map_err(ClientError::from)
    }
}

impl ProducerTransport for MemoryProducer {
    /// The broker has no queue limit: the record is queued at once (stored, or held in flight
    /// behind earlier ones).
    fn enqueue(&self, rec: ProducerRecord) -> Result<Queued, ClientError> {
        check_record(&rec.topic, rec.partition, rec.timestamp)?;
        let mut control = self.control.lock();
        control.history.push(rec.clone());
        if control.auto_complete && control.in_flight.is_empty() {
            drop(control);
            return Ok(Queued::ready(Box::pin(std::future::ready(self.store(rec)))));
        }
        // Behind records in flight (or held for the test): completed in order.
        let (done, delivered) = tokio::sync::oneshot::channel();
        control.in_flight.push_back((rec, done));
        drop(control);
        Ok(Queued::ready(Box::pin(async move {
            delivered
                .await
                .unwrap_or(Err(ClientError::Cancelled("the producer was dropped")))
        })))
    }

    /// Completes every send in flight (as `MockProducer.flush`), then flushes the broker
    /// producer (nothing waits: the broker stores synchronously).
    async fn flush(&self, _timeout: Duration) -> Result<(), ClientError> {
        while self.complete_next() {}
        self.producer.flush();
        Ok(())
    }
}

/// State the transport shares with the broker's rebalance listener.
struct Shared {
    callback: Option<RebalanceCallback>,
    /// Partitions revoked or lost since the transport last looked: their buffered records go.
    revoked: Vec<TopicPartition>,
}

struct Listener {
    shared: Arc<Mutex<Shared>>,
}

/// The broker's rebalance context is the transport's [`RebalanceCommitter`]: the typed
/// consumer's [`RebalanceContext`](crate::RebalanceContext) is built on it.
impl RebalanceCommitter for RebalanceContext<'_> {
    fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        if self.is_lost() {
            return Err(ClientError::IllegalState(
                "cannot commit: the partitions were lost (the member left its group)".into(),
            ));
        }
        Ok(self.commit_offsets(offsets)?)
    }

    fn lost(&self) -> bool {
        self.is_lost()
    }

    fn stored_offset(&self, tp: &TopicPartition) -> Option<i64> {
        RebalanceContext::stored_offset(self, tp)
    }
}

impl Listener {
    fn call(&self, ctx: &mut RebalanceContext<'_>, event: RebalanceEvent) {
        // The callback runs without the lock held.
        let cb = self.shared.lock().callback.take();
        if let Some(mut cb) = cb {
            cb(&event, ctx);
            let mut s = self.shared.lock();
            if s.callback.is_none() {
                s.callback = Some(cb);
            }
        }
    }
}

impl RebalanceListener for Listener {
    /// The broker consumer auto-commits the stored offsets of `partitions` before this runs
    /// (unless they were lost), as Kafka's consumer commits before `onPartitionsRevoked`.
    fn on_partitions_revoked(
        &mut self,
        ctx: &mut RebalanceContext<'_>,
        partitions: &[TopicPartition],
    ) {
        let revoked = partitions.to_vec();
        self.call(ctx, RebalanceEvent::Revoked(revoked.clone()));
        self.shared.lock().revoked.extend(revoked);
    }

    fn on_partitions_assigned(
        &mut self,
        ctx: &mut RebalanceContext<'_>,
        partitions: &[TopicPartition],
    ) {
        self.call(ctx, RebalanceEvent::Assigned(partitions.to_vec()));
    }

    // `on_partitions_lost`: the default forwards to `on_partitions_revoked`, the context
    // tells them apart (`is_lost`).
}

/// A [`ConsumerTransport`] over the in-memory broker.
///
/// The broker's `poll` returns up to `max.poll.records` records; this transport buffers them
/// and hands them out one by one. Offsets therefore follow the records handed out, not the
/// broker's fetch position: the broker consumer underneath runs with
/// `enable_auto_offset_store(false)`, each record handed to the application stores its offset
/// there ([`ConsumerTransport::store_offset`]), and the broker consumer alone decides what
/// auto-commit (every `auto.commit.interval.ms` of the broker clock), the commit before
/// partitions are revoked, and close or drop commit: the stored offsets, as Kafka's Java
/// consumer commits what `poll` returned. While records are buffered it still runs the group
/// protocol on every poll, so a partition revoked or lost meanwhile (the member expelled after
/// a session timeout) has its buffered records dropped at once instead of handed out.
pub struct MemoryConsumer {
    consumer: kcodec_broker::Consumer,
    buffered: VecDeque<ConsumerRecord>,
    shared: Arc<Mutex<Shared>>,
    /// `enable.auto.commit` with a group.
    auto_commit: bool,
    closed: bool,
    /// Injected poll errors (here, not in the broker consumer: a poll served from the buffer
    /// does not reach it).
    poll_faults: kcodec_broker::InjectedErrors,
}

impl std::fmt::Debug for MemoryConsumer {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MemoryConsumer")
            .field("client_id", &self.consumer.client_id())
            .field("buffered", &self.buffered.len())
            .finish_non_exhaustive()
    }
}

impl MemoryConsumer {
    /// A consumer with a broker consumer config (`ConsumerConfig::new(group)` for a group;
    /// Kafka's defaults: auto-commit on, `auto.offset.reset=latest`).
    ///
    /// The broker consumer underneath runs with `enable_auto_offset_store(false)`: it commits
    /// the offsets of records this transport returned (see the type's documentation).
    pub fn new(cluster: &Cluster, config: ConsumerConfig) -> Result<Self, ClientError> {
        // An empty group id is no group, as the broker treats it.
        let auto_commit =
            config.enable_auto_commit && config.group_id.as_deref().is_some_and(|g| !g.is_empty());
        Ok(MemoryConsumer {
            consumer: cluster.consumer(config.enable_auto_offset_store(false))?,
            buffered: VecDeque::new(),
            shared: Arc::new(Mutex::new(Shared {
                callback: None,
                revoked: Vec::new(),
            })),
            auto_commit,
            closed: false,
            poll_faults: Default::default(),
        })
    }

    /// Makes the next `n` polls fail with `error` before anything is fetched or handed out
    /// (Kafka's `MockConsumer.setPollException`, for `n` polls): the next successful poll
    /// returns the record this one would have. Queued after errors already injected.
    pub fn inject_poll_errors(&mut self, n: usize, error: kcodec_broker::BrokerError) {
        self.poll_faults.push(n, error);
    }

    /// Makes the next `n` commits fail with `error`, nothing committed: explicit ones (which
    /// return it), auto-commits (which ignore it, as Kafka's consumer logs a failed
    /// auto-commit) and commits in rebalance callbacks.
    pub fn inject_commit_errors(&mut self, n: usize, error: kcodec_broker::BrokerError) {
        self.consumer.inject_commit_errors(n, error);
    }

    /// Makes the next `n` rounds of the group protocol (one per poll, one each time a waiting
    /// poll wakes) fail with `error`: a retriable one (`CoordinatorNotAvailable`) skips the
    /// round (no heartbeat, no join, no new assignment; records of the current assignment
    /// still come), any other is returned by `poll`. See
    /// [`kcodec_broker::Consumer::inject_coordinator_errors`].
    pub fn inject_coordinator_errors(&mut self, n: usize, error: kcodec_broker::BrokerError) {
        self.consumer.inject_coordinator_errors(n, error);
    }

    /// The broker's consumer underneath (its config shows `enable_auto_offset_store` off).
    pub fn inner(&self) -> &kcodec_broker::Consumer {
        &self.consumer
    }

    /// Closes the consumer: with auto-commit on, commits the offsets of records returned to
    /// the application; then leaves its group (revoking its partitions) at once. The error is
    /// the auto-commit's, if it failed (the consumer has left all the same).
    pub fn close(mut self) -> Result<(), ClientError> {
        self.shutdown()
    }

    fn shutdown(&mut self) -> Result<(), ClientError> {
        if self.closed {
            return Ok(());
        }
        self.closed = true;
        // Commit here to report a failure (the broker's close ignores it, as Kafka's
        // auto-commit on close logs it); what is committed here is not committed again.
        let committed = if self.auto_commit {
            self.consumer.commit_sync().map_err(ClientError::from)
        } else {
            Ok(())
        };
        self.buffered.clear();
        // Leaves the group (or the assignment) and runs the revocation callback.
        self.consumer.unsubscribe();
        committed
    }

    /// Drops buffered records of partitions revoked or lost in the last broker call.
    fn apply_revocations(&mut self) {
        let revoked = std::mem::take(&mut self.shared.lock().revoked);
        if !revoked.is_empty() && !self.buffered.is_empty() {
            self.buffered.retain(|r| {
                !revoked
                    .iter()
                    .any(|tp| *tp.topic == *r.topic && tp.partition == r.partition)
            });
        }
    }

    /// Takes the buffered records of `partitions` out; with `rewind`, seeks each partition
    /// back to its first such record so that they are fetched again.
    fn unbuffer(&mut self, partitions: &[TopicPartition], rewind: bool) -> Result<(), ClientError> {
        for tp in partitions {
            let first = self
                .buffered
                .iter()
                .find(|r| *tp.topic == *r.topic && tp.partition == r.partition)
                .map(|r| r.offset);
            if let Some(first) = first {
                self.buffered
                    .retain(|r| !(*tp.topic == *r.topic && tp.partition == r.partition));
                if rewind {
                    self.consumer.seek(tp, first)?;
                }
            }
        }
        Ok(())
    }

    /// Fails, before anything changes, when one of `partitions` is not assigned (the broker's
    /// calls over several partitions would apply to those before it).
    fn check_assigned(&self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let assigned = self.consumer.assignment();
        match partitions.iter().find(|tp| !assigned.contains(tp)) {
            Some(tp) => Err(ClientError::Broker(
                kcodec_broker::BrokerError::IllegalState(format!(
                    "No current assignment for partition {tp}"
                )),
            )),
            None => Ok(()),
        }
    }

    fn buffered_partitions(&self) -> Vec<TopicPartition> {
        let mut v: Vec<_> = self
            .buffered
            .iter()
            .map(|r| TopicPartition::new(&*r.topic, r.partition))
            .collect();
        v.sort();
        v.dedup();
        v
    }
}

impl Drop for MemoryConsumer {
    /// Closes the consumer; while the thread panics (the application failed inside its
    /// processing), it leaves the group without committing anything: the record being
    /// processed was stored when it was returned, and committing it would skip it.
    fn drop(&mut self) {
        if std::thread::panicking() {
            // The broker consumer's own drop leaves without committing.
            self.closed = true;
            return;
        }
        let _ = self.shutdown();
    }
}

impl ConsumerTransport for MemoryConsumer {
    fn subscribe(&mut self, topics: &[&str]) -> Result<(), ClientError> {
        // Records fetched but not returned are fetched again (the subscription may keep
        // their partitions).
        let buffered = self.buffered_partitions();
        self.unbuffer(&buffered, true)?;
        let listener = Listener {
            shared: self.shared.clone(),
        };
        Ok(self
            .consumer
            .subscribe_with_listener(topics.iter().copied(), Box::new(listener))?)
    }

    fn assign(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        let buffered = self.buffered_partitions();
        self.unbuffer(&buffered, true)?;
        Ok(self.consumer.assign(partitions.iter().cloned())?)
    }

    async fn poll(&mut self, timeout: Duration) -> Result<Option<ConsumerRecord>, ClientError> {
        if let Some(e) = self.poll_faults.take() {
            return Err(e.into());
        }
        if !self.buffered.is_empty() {
            // Kafka's consumer runs the group protocol on every poll: learn of revoked or lost
            // partitions before handing out more of their buffered records.
            self.coordinate()?;
        }
        if self.buffered.is_empty() {
            // Cancel-safe: the broker's poll fetches only after its last await.
            let got = self.consumer.poll(timeout).await;
            self.apply_revocations();
            self.buffered.extend(got?);
        }
        Ok(self.buffered.pop_front())
    }

    /// The broker's group protocol and auto-commit, on every poll (as Kafka's consumer runs
    /// its coordinator on every `poll`, whatever the clock says).
    fn coordinate(&mut self) -> Result<(), ClientError> {
        let r = self.consumer.poll_group();
        self.apply_revocations();
        Ok(r?)
    }

    fn store_offset(&mut self, topic: &Arc<str>, partition: i32, next_offset: i64) {
        // A partition no longer assigned is ignored (the trait's contract).
        let _ = self.consumer.store_offset(topic, partition, next_offset);
    }

    /// The broker consumer's stored offsets: the one place they are kept.
    fn stored_offsets(&self) -> Vec<(TopicPartition, i64)> {
        let mut v: Vec<_> = self
            .consumer
            .assignment()
            .into_iter()
            .filter_map(|tp| self.consumer.stored_offset(&tp).map(|o| (tp, o)))
            .collect();
        v.sort();
        v
    }

    async fn commit(&mut self, offsets: &[(TopicPartition, i64)]) -> Result<(), ClientError> {
        Ok(self.consumer.commit_offsets(offsets)?)
    }

    async fn committed(
        &mut self,
        partitions: &[TopicPartition],
    ) -> Result<Vec<(TopicPartition, Option<i64>)>, ClientError> {
        partitions
            .iter()
            .map(|tp| {
                let c = self.consumer.committed(tp)?;
                Ok((tp.clone(), c.map(|c| c.offset)))
            })
            .collect()
    }

    fn seek(&mut self, tp: &TopicPartition, offset: i64) -> Result<(), ClientError> {
        self.consumer.seek(tp, offset)?;
        self.unbuffer(std::slice::from_ref(tp), false)
    }

    fn seek_to_beginning(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.check_assigned(partitions)?;
        self.consumer.seek_to_beginning(partitions)?;
        self.unbuffer(partitions, false)
    }

    fn seek_to_end(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.check_assigned(partitions)?;
        self.consumer.seek_to_end(partitions)?;
        self.unbuffer(partitions, false)
    }

    fn position(&mut self, tp: &TopicPartition) -> Result<Option<i64>, ClientError> {
        if let Some(r) = self
            .buffered
            .iter()
            .find(|r| *tp.topic == *r.topic && tp.partition == r.partition)
        {
            return Ok(Some(r.offset));
        }
        Ok(Some(self.consumer.position(tp)?))
    }

    fn pause(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        self.check_assigned(partitions)?;
        self.consumer.pause(partitions)?;
        self.unbuffer(partitions, true)
    }

    fn resume(&mut self, partitions: &[TopicPartition]) -> Result<(), ClientError> {
        Ok(self.consumer.resume(partitions)?)
    }

    fn assignment(&self) -> Result<Vec<TopicPartition>, ClientError> {
        Ok(self.consumer.assignment())
    }

    fn set_rebalance_callback(&mut self, callback: RebalanceCallback) {
        self.shared.lock().callback = Some(callback);
    }

    async fn close(self) -> Result<(), ClientError> {
        MemoryConsumer::close(self)
    }
}
